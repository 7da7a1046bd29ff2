//! Point views that both staff (`points`) and the member portal return: a member's points
//! summary, their ledger entries and a check-in. Each is the JSON shape of an application
//! type from `patron_app::points`, converted here.

use crate::edge::views::{PointReasonView, RuleFailureView};
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::points as app;
use patron_db::points::Entry;
use poem_openapi::Object;
use serde_json::Value;
use uuid::Uuid;

/// Points that expire on one date.
#[derive(Debug, Object)]
pub struct Expiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member's points at a glance.
#[derive(Debug, Object)]
pub struct PointsSummary {
    pub member_id: Uuid,
    /// Spendable points (negative when a refund took back more than was left and the
    /// business allows it).
    pub balance: i64,
    /// Points owed after refunds, settled by the next earnings.
    pub debt: i64,
    /// What the balance is worth at checkout, in minor units.
    pub balance_value: i64,
    pub earned_total: i64,
    pub redeemed_total: i64,
    pub expired_total: i64,
    pub spend_total: i64,
    pub visits: i64,
    pub streak: i32,
    pub last_check_in: Option<NaiveDate>,
    /// The soonest expiries, grouped by instant.
    pub expiring: Vec<Expiring>,
}

impl From<app::PointsSummary> for PointsSummary {
    fn from(s: app::PointsSummary) -> Self {
        Self {
            member_id: s.member_id,
            balance: s.balance,
            debt: s.debt,
            balance_value: s.balance_value,
            earned_total: s.earned_total,
            redeemed_total: s.redeemed_total,
            expired_total: s.expired_total,
            spend_total: s.spend_total,
            visits: s.visits,
            streak: s.streak,
            last_check_in: s.last_check_in,
            expiring: s
                .expiring
                .into_iter()
                .map(|e| Expiring {
                    points: e.points,
                    expires_at: e.expires_at,
                })
                .collect(),
        }
    }
}

/// One ledger entry.
#[derive(Debug, Object)]
pub struct EntryView {
    pub id: i64,
    /// `earn`, `redeem`, `expire`, `adjust` or `reverse`.
    pub kind: String,
    /// Signed: positive adds to the balance.
    pub points: i64,
    /// The balance after this entry.
    pub balance: i64,
    /// What produced it: `purchase`, `refund`, `check_in`, `referral`, `event`,
    /// `redemption`, `adjustment`, `expiry`, `debt`.
    pub source: String,
    pub source_id: String,
    pub rule_version: Option<i32>,
    /// The words: a person's, or the English of a reason the system wrote.
    pub reason: String,
    /// For a reason the system wrote (`earn_rate`, `welcome_bonus`, `redeem_off`,
    /// `points_expired`, `refund`, `several` ...): its stable code, to be said in the reader's
    /// language with `reason_params`. Absent for a person's words.
    pub reason_code: Option<String>,
    pub reason_params: Option<Value>,
    pub detail: Option<Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            points: e.points,
            balance: e.balance,
            source: e.source,
            source_id: e.source_id,
            rule_version: e.rule_version,
            reason: e.reason,
            reason_code: e.reason_code,
            reason_params: e.reason_params,
            detail: e.detail,
            actor: e.actor,
            at: e.at,
        }
    }
}

#[derive(Debug, Object)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    /// Pass as `before` for older entries.
    pub next_cursor: Option<i64>,
}

impl From<app::EntryPage> for EntryPage {
    fn from(p: app::EntryPage) -> Self {
        Self {
            items: p.items.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// A daily check-in.
#[derive(Debug, Object)]
pub struct CheckInResult {
    pub member_id: Uuid,
    pub day: NaiveDate,
    /// Consecutive days including today.
    pub streak: i32,
    pub points: i64,
    /// Of `points`, the streak bonus.
    pub streak_bonus: i64,
    pub reasons: Vec<PointReasonView>,
    pub rule_error: Option<RuleFailureView>,
    pub balance: i64,
    /// True when the member had already checked in today (nothing was earned again).
    pub already: bool,
}

impl From<app::CheckInResult> for CheckInResult {
    fn from(r: app::CheckInResult) -> Self {
        Self {
            member_id: r.member_id,
            day: r.day,
            streak: r.streak,
            points: r.points,
            streak_bonus: r.streak_bonus,
            reasons: r.reasons.into_iter().map(Into::into).collect(),
            rule_error: r.rule_error.map(Into::into),
            balance: r.balance,
            already: r.already,
        }
    }
}
