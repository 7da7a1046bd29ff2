//! The test client: [`TestApp`] starts the real server and, through [`Api`], offers one
//! typed method per API operation, each answering a [`Reply`] of the operation's body. One
//! module per capability adds its operations, the response types tests read, and the few
//! helpers that set things up (`signup`, `member`, `purchase` ...).

mod accounts;
mod activities;
mod app;
mod campaigns;
mod conversations;
mod coupons;
mod desk;
mod documented;
mod fields;
pub mod internals;
mod mall;
mod member_files;
mod members;
mod messages;
mod notices;
mod ops;
mod plans;
mod points;
mod portal;
mod prepaid;
mod promotions;
mod reply;
mod rules;
mod security;
mod segments;
mod service;
mod sms;
mod tiers;
mod uploads;

pub use accounts::*;
pub use activities::*;
pub use app::*;
pub use campaigns::*;
pub use conversations::*;
pub use desk::*;
pub use fields::*;
pub use mall::*;
pub use member_files::*;
pub use members::*;
pub use messages::*;
pub use notices::*;
pub use ops::*;
pub use plans::*;
pub use points::*;
pub use portal::*;
pub use prepaid::*;
pub use reply::*;
pub use rules::*;
pub use security::*;
pub use segments::*;
pub use service::*;
pub use sms::*;
pub use tiers::*;
pub use uploads::*;
