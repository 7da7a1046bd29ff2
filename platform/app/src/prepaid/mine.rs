//! What a member sees of their own prepaid in the portal: their memberships with the last
//! day covered, their stored value by sub-ledger with its history, and their passes with
//! the visits left. Read-only; the member is the one the portal session names (the caller
//! passes it, never a parameter of the request). Staff details (who sold or took what,
//! receipts, reasons) are left out.

use super::passes::member_passes;
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::Zone;
use patron_db::prepaid::{self as db, memberships as memberships_db};
use patron_db::TenantTx;
use uuid::Uuid;

/// A membership as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyMembership {
    pub plan_name: String,
    pub starts_on: NaiveDate,
    /// The last day covered (the day before the stored end).
    pub last_day: NaiveDate,
    /// `active`, `ended` (its last day has passed) or `cancelled`.
    pub status: &'static str,
    pub frozen_days: i64,
}

/// The member's memberships, latest ending first.
pub async fn my_memberships(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<MyMembership>, AppError> {
    let today = zone.today(now);
    Ok(memberships_db::memberships(tx, member_id)
        .await?
        .into_iter()
        .map(|m| MyMembership {
            status: match m.status.as_str() {
                "cancelled" => "cancelled",
                _ if m.ends_on <= today => "ended",
                _ => "active",
            },
            plan_name: m.plan_name,
            starts_on: m.starts_on,
            last_day: m.ends_on - Duration::days(1),
            frozen_days: m.frozen_days,
        })
        .collect())
}

/// One change of the member's stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyEntry {
    /// `principal` or `bonus`.
    pub ledger: String,
    /// `top_up`, `spend`, `refund`, `top_up_refund` or `included`.
    pub kind: String,
    pub amount: i64,
    /// The sub-ledger's balance after it.
    pub balance: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyStoredValue {
    pub principal: i64,
    pub bonus: i64,
    /// The latest changes, newest first.
    pub entries: Vec<MyEntry>,
}

/// The member's balance by sub-ledger and its latest `limit` changes.
pub async fn my_stored_value(
    tx: &mut TenantTx,
    member_id: Uuid,
    limit: i64,
) -> Result<MyStoredValue, AppError> {
    let balance = db::balance(tx, member_id).await?;
    let entries = db::entries(tx, member_id, None, limit.clamp(1, 200)).await?;
    Ok(MyStoredValue {
        principal: balance.principal,
        bonus: balance.bonus,
        entries: entries
            .into_iter()
            .map(|e| MyEntry {
                ledger: e.ledger,
                kind: e.kind,
                amount: e.amount,
                balance: e.balance,
                at: e.at,
            })
            .collect(),
    })
}

/// A pass as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPass {
    pub product_name: String,
    pub categories: Vec<String>,
    pub visits_total: i32,
    pub visits_left: i32,
    /// The last usable day; none for a pass that never expires.
    pub expires_on: Option<NaiveDate>,
    /// `active`, `expired` or `used_up`.
    pub status: &'static str,
}

/// The member's passes, newest first.
pub async fn my_passes(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<MyPass>, AppError> {
    Ok(member_passes(tx, zone, member_id, now)
        .await?
        .into_iter()
        .map(|v| MyPass {
            product_name: v.pass.product_name,
            categories: v.pass.categories,
            visits_total: v.pass.visits_total,
            visits_left: v.pass.visits_left,
            expires_on: v.pass.expires_on,
            status: v.status,
        })
        .collect())
}
