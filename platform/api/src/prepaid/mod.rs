//! Prepaid over HTTP: stored value ([`stored_value`]), visit passes ([`passes`]) and
//! membership plans with their charge records ([`memberships`]). The use cases are
//! `patron_app::prepaid`.

pub mod memberships;
pub mod passes;
pub mod stored_value;

use poem_openapi::Tags;

#[derive(Tags)]
pub(crate) enum Tag {
    /// Memberships, stored value and visit passes.
    Prepaid,
}
