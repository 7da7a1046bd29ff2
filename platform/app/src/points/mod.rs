//! A member's points: the earn pipeline ([`earn`]) and its pure decisions ([`decide`]), the
//! ledger's reads and changes by hand ([`ledger`]), redemptions, check-ins and custom events
//! ([`events`]), the business's point settings, and the jobs (expiry, birthdays, the ledger
//! check of `patron verify`).

pub mod decide;
pub mod earn;
pub mod events;
pub mod jobs;
pub mod ledger;
pub mod redemptions;
pub mod settings;

pub use crate::engine::{PointReason, RuleFailure};
pub use decide::Expiring;
pub use earn::{Ctx, RuleRun};
pub use events::{check_in, record_event, CheckInResult, EventResult, NewEvent};
pub use ledger::{adjust, entries, summary, EntryPage, NewAdjustment, PointsChange, PointsSummary};
pub use redemptions::{redeem_once, Confirmation, NewRedemption};
pub use settings::{get as get_settings, set as set_settings};

use crate::{AppError, NotFoundAs};
use patron_db::members::{self, Member};
use patron_db::TenantTx;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The largest amount accepted, in minor units (10 billion in major units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// SHA-256 of a request's JSON (the caller's own values, defaults not filled in).
pub fn request_hash<T: Serialize>(req: &T) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(req).expect("serialisable")).to_vec()
}

/// An external id or idempotency key: not empty, no control characters.
pub fn check_external_id(v: &mut patron_core::Validation, field: &str, id: &str) {
    let id = id.trim();
    if id.is_empty() {
        v.check::<()>(field, Err(patron_core::Issue::required()));
    } else if id.chars().any(char::is_control) {
        v.check::<()>(field, Err(patron_core::Issue::control_characters()));
    }
}

/// 409: the idempotency key (`field`) came before with another body.
pub fn key_reused(field: &str) -> AppError {
    AppError::conflict(
        "idempotency_key_reused",
        Some(field),
        "this key was used before with a different request",
    )
}

/// 409: the external id came before with another body.
pub fn external_id_reused() -> AppError {
    AppError::conflict(
        "external_id_reused",
        Some("external_id"),
        "this external_id was used before with a different request",
    )
}

/// A stored answer, read back.
pub(crate) fn stored<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(v).map_err(AppError::internal)
}

/// The member a staff request names by id: 404 when there is none, 409 when erased.
pub async fn member_of(tx: &mut TenantTx, id: Uuid) -> Result<Member, AppError> {
    not_erased(members::get(tx, id).await.not_found_as("member")?)
}

/// The member, unless erased (409).
pub(crate) fn not_erased(m: Member) -> Result<Member, AppError> {
    if m.status == "erased" {
        return Err(AppError::conflict(
            "member_erased",
            None,
            "this member was erased",
        ));
    }
    Ok(m)
}
