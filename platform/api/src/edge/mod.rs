//! Shared edge pieces every capability module uses: credentials and the principal
//! (`auth`), Casbin (`access`), plan gates and rate limits (`gate`), the shared state
//! (`state`), the one error mapping (`error`), exports (`exports`) and metrics. Capability
//! modules import from here and never from one another.

pub mod access;
pub mod account_views;
pub mod auth;
pub mod body_check;
pub mod console;
pub mod error;
pub mod exports;
pub mod gate;
pub mod limits;
pub mod member_views;
pub mod metrics;
pub mod point_views;
pub mod raw_body;
pub mod responses;
pub mod security;
pub mod state;
pub mod text_guard;
pub mod tier_views;
pub mod views;
