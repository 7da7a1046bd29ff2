//! What a tenant has bought: plans with features and limits, the lifecycle of an account,
//! usage against limits, and the arithmetic of an invoice. Pure rules; the database and the
//! API only carry them out.

use crate::tenants::TenantStatus;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

// A word may have older names (`Campaigns => "campaigns" | "old_name", ...`): they are read
// (from stored plans and from operators' input) as the word, and never written.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $( $variant:ident => $text:literal $(| $alias:literal)*, $doc:literal; )* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( #[doc = $doc] $(#[serde(alias = $alias)])* $variant, )*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $($name::$variant => $doc,)* }
            }

            pub fn parse(raw: &str) -> Result<Self, crate::Issue> {
                match raw {
                    $($text $(| $alias)* => Ok($name::$variant),)*
                    _ => Err(crate::Issue::not_one_of(raw, &[$($text),*])),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// A capability a plan switches on.
    Feature {
        CustomFields => "custom_fields", "Tenant-designed member fields beyond the built-in ones.";
        RuleScripts => "rule_scripts", "Point rules written as Rhai scripts, beyond the templates.";
        Tiers => "tiers", "A tier ladder with benefits.";
        Coupons => "coupons", "Rewards and coupons.";
        Events => "events", "Custom events that earn points (check-ins, referrals...).";
        Sms => "sms", "Text messages to members.";
        Campaigns => "campaigns" | "email_campaigns", "Campaigns to members: e-mail, text messages and the portal's inbox, to segments.";
        ApiKeys => "api_keys", "Integration API keys for a POS or a website.";
        Webhooks => "webhooks", "Webhooks to the business's own systems.";
        Exports => "exports", "Exports of members and reports to CSV and XLSX.";
        MultiStore => "multi_store", "More than one store.";
        ReportsAdvanced => "reports_advanced", "Advanced reports.";
        Memberships => "memberships", "Membership plans and fees: sell, renew, freeze and cancel memberships.";
        StoredValue => "stored_value", "Stored value: top-ups with bonus, paying purchases from the balance.";
        VisitPasses => "visit_passes", "Visit passes: N visits, consumed at check-in.";
        Promotions => "promotions", "Promotions: offers for a period with points, coupons or mall prices.";
        PointsMall => "points_mall", "The points mall: rewards with stock, ordered for points.";
        Activities => "activities", "Activities: sign-up, waitlist, check-in, ratings and photos.";
        Notices => "notices", "Notices on the member portal and scheduled notices (birthday, expiring points, ending memberships and visit passes, activity reminders).";
        Conversations => "conversations", "Conversations with members: members ask in the portal, staff answer, assign and follow up in the console.";
    }
}

vocabulary! {
    /// A quantity a plan caps.
    Limit {
        Members => "members", "Members on the register.";
        Staff => "staff", "Active staff accounts.";
        Stores => "stores", "Stores.";
        ActiveRules => "active_rules", "Published point rules in force at once.";
        SmsPerMonth => "sms_per_month", "Text messages sent per calendar month.";
        EmailsPerMonth => "emails_per_month", "E-mails sent per calendar month.";
        StorageMb => "storage_mb", "Uploaded files, in megabytes.";
        CouponTemplates => "coupon_templates", "Coupon templates in use (not archived).";
        CouponsPerMonth => "coupons_per_month", "Coupons issued per calendar month.";
        ApiRequestsPerMinute => "api_requests_per_minute", "API requests per minute.";
    }
}

impl Limit {
    /// Whether usage of this limit is counted per calendar month (and so can be billed as
    /// overage) rather than being a standing count.
    pub fn is_monthly(self) -> bool {
        matches!(
            self,
            Limit::SmsPerMonth | Limit::EmailsPerMonth | Limit::CouponsPerMonth
        )
    }
}

/// A plan as operators define it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Stable identifier (`free`, `starter`...).
    pub code: String,
    pub name: String,
    /// Monthly price in minor units of `currency`.
    pub monthly_price_minor: i64,
    pub currency: String,
    pub features: BTreeSet<Feature>,
    /// Missing limit = unlimited.
    pub limits: BTreeMap<Limit, i64>,
    /// Price per unit beyond a monthly limit; a limit with an overage price is billed instead
    /// of refused.
    pub overage_minor: BTreeMap<Limit, i64>,
    pub trial_days: i32,
    /// Archived plans keep their tenants but cannot be chosen.
    pub archived: bool,
}

impl Plan {
    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    /// The cap, or `None` for unlimited.
    pub fn limit(&self, limit: Limit) -> Option<i64> {
        self.limits.get(&limit).copied()
    }

    /// Whether going past `limit` is billed rather than refused.
    pub fn allows_overage(&self, limit: Limit) -> bool {
        limit.is_monthly() && self.overage_minor.contains_key(&limit)
    }
}

/// Checks an operator's plan definition.
pub fn parse_plan_code(raw: &str) -> Result<String, crate::Issue> {
    let ok = (2..=40).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(crate::Issue::invalid_format(
            "plan_code",
            "2-40 characters: lowercase letters, digits, '-' or '_', starting with a letter",
        ))
    }
}

/// Plans that could be offered as an upgrade: not archived, cheapest first.
fn offerable<P: Borrow<Plan>>(plans: &[P]) -> impl Iterator<Item = &Plan> {
    let mut sorted: Vec<&Plan> = plans
        .iter()
        .map(Borrow::borrow)
        .filter(|p: &&Plan| !p.archived)
        .collect();
    sorted.sort_by(|a, b| {
        a.monthly_price_minor
            .cmp(&b.monthly_price_minor)
            .then(a.code.cmp(&b.code))
    });
    sorted.into_iter()
}

/// The cheapest plan that has `feature`, and every plan that does (cheapest first).
pub fn plans_with<P: Borrow<Plan>>(feature: Feature, plans: &[P]) -> Vec<&Plan> {
    offerable(plans).filter(|p| p.has(feature)).collect()
}

/// Plans whose `limit` allows at least `needed` (cheapest first).
pub fn plans_lifting<P: Borrow<Plan>>(limit: Limit, needed: i64, plans: &[P]) -> Vec<&Plan> {
    offerable(plans)
        .filter(|p| p.limit(limit).is_none_or(|cap| cap >= needed))
        .collect()
}

/// Why creating one more of something is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverLimit {
    pub limit: Limit,
    pub allowed: i64,
    pub usage: i64,
}

/// Whether adding `adding` to `usage` stays within the plan (monthly limits with overage
/// always do: the excess is billed).
pub fn check_limit(plan: &Plan, limit: Limit, usage: i64, adding: i64) -> Result<(), OverLimit> {
    match plan.limit(limit) {
        Some(cap) if usage + adding > cap && !plan.allows_overage(limit) => Err(OverLimit {
            limit,
            allowed: cap,
            usage,
        }),
        _ => Ok(()),
    }
}

/// How close a usage is to its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// At or past 80%.
    Near,
    /// At or past 100%.
    Reached,
}

pub fn warning(usage: i64, cap: Option<i64>) -> Option<Warning> {
    let cap = cap?;
    if cap <= 0 {
        return (usage > 0 || cap == 0).then_some(Warning::Reached);
    }
    if usage >= cap {
        Some(Warning::Reached)
    } else if usage * 10 >= cap * 8 {
        Some(Warning::Near)
    } else {
        None
    }
}

/// Everything a downgrade to `target` would leave over its limits (standing counts only:
/// monthly counts start again next month). Empty means the change is allowed.
pub fn over_after_change(target: &Plan, usage: &BTreeMap<Limit, i64>) -> Vec<OverLimit> {
    usage
        .iter()
        .filter(|(limit, _)| !limit.is_monthly() && **limit != Limit::ApiRequestsPerMinute)
        .filter_map(|(limit, used)| {
            let cap = target.limit(*limit)?;
            (*used > cap).then_some(OverLimit {
                limit: *limit,
                allowed: cap,
                usage: *used,
            })
        })
        .collect()
}

/// How a tenant in a given state may use its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    /// Reads work; writes are refused with this reason.
    ReadOnly(ReadOnlyReason),
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnlyReason {
    /// Unpaid: writes get 402.
    Billing,
    /// Suspended by an operator: writes get 403.
    Operator,
    /// The account is closed; its data can still be read and exported until it is purged.
    Closed,
}

/// Why a tenant is suspended, which decides how its writes are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspendReason {
    Billing,
    Operator,
}

impl SuspendReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Billing => "billing",
            Self::Operator => "operator",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "billing" => Some(Self::Billing),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

pub fn access(status: TenantStatus, suspended: Option<SuspendReason>, purged: bool) -> Access {
    match status {
        TenantStatus::Trial | TenantStatus::Active | TenantStatus::PastDue => Access::Full,
        TenantStatus::Suspended => Access::ReadOnly(match suspended {
            Some(SuspendReason::Operator) => ReadOnlyReason::Operator,
            _ => ReadOnlyReason::Billing,
        }),
        TenantStatus::Closed if purged => Access::None,
        TenantStatus::Closed => Access::ReadOnly(ReadOnlyReason::Closed),
    }
}

/// The lifecycle's allowed moves. `from == to` is never a move.
pub fn can_move(from: TenantStatus, to: TenantStatus) -> bool {
    use TenantStatus::*;
    matches!(
        (from, to),
        (Trial, Active)
            | (Trial, Suspended)
            | (Trial, Closed)
            | (Active, PastDue)
            | (Active, Suspended)
            | (Active, Closed)
            | (PastDue, Active)
            | (PastDue, Suspended)
            | (PastDue, Closed)
            | (Suspended, Active)
            | (Suspended, Closed)
    )
}

/// The first instant of the calendar month holding `at` (UTC), and of the month after.
pub fn month_bounds(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = NaiveDate::from_ymd_opt(at.year(), at.month(), 1).expect("valid month start");
    let next = start
        .checked_add_months(chrono::Months::new(1))
        .expect("month in range");
    (
        Utc.from_utc_datetime(&start.and_hms_opt(0, 0, 0).expect("midnight")),
        Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight")),
    )
}

/// The billing period that begins at `start`: it runs to the end of that calendar month
/// (UTC), so that a period's overage is the metered usage of one month.
pub fn period_from(start: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (start, month_bounds(start).1)
}

/// How long a closed account's data is kept before the purge job drops it.
pub fn retention() -> chrono::Duration {
    chrono::Duration::days(30)
}

/// How long an invoice may stay unpaid past its due date before the account is suspended.
pub fn past_due_grace() -> chrono::Duration {
    chrono::Duration::days(14)
}

/// Days to pay an invoice.
pub fn payment_terms() -> chrono::Duration {
    chrono::Duration::days(7)
}

/// When an invoice issued at `issued_at` falls due.
pub fn invoice_due(issued_at: DateTime<Utc>) -> DateTime<Utc> {
    issued_at + payment_terms()
}

/// Dunning: where an account with an overdue invoice (the oldest due at `oldest_due`) goes
/// next. An active account becomes past due at once; a past-due one is suspended (for
/// billing) once the grace has run out; anything else stays as it is (`None`).
pub fn dunning_step(
    status: TenantStatus,
    oldest_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<TenantStatus> {
    match status {
        TenantStatus::Active => Some(TenantStatus::PastDue),
        TenantStatus::PastDue if oldest_due + past_due_grace() <= now => {
            Some(TenantStatus::Suspended)
        }
        _ => None,
    }
}

/// Why a write is refused on an account that is not fully open, if it is: a read, or a
/// write that stays allowed while read-only (logging out, paying), is never refused here.
pub fn write_refusal(
    access: Access,
    is_read: bool,
    read_only_safe: bool,
) -> Option<ReadOnlyReason> {
    if is_read || read_only_safe {
        return None;
    }
    match access {
        Access::ReadOnly(reason) => Some(reason),
        Access::Full | Access::None => None,
    }
}

/// Whether a route's plan feature is checked: a closed account may still read (and
/// export) everything it has, whatever its plan includes, until its data is deleted.
pub fn feature_checked(access: Access, is_read: bool) -> bool {
    !(access == Access::ReadOnly(ReadOnlyReason::Closed) && is_read)
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

/// The lines of the invoice for the period `[start, end)` (within one calendar month) on
/// `plan`, given that month's metered usage. A period shorter than its month pays its share
/// of the price, by the second, rounded to the nearest minor unit. Empty when there is
/// nothing to charge (a free plan with no overage).
pub fn invoice_lines(
    plan: &Plan,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    monthly_usage: &BTreeMap<Limit, i64>,
) -> Vec<InvoiceLine> {
    let mut lines = Vec::new();
    if plan.monthly_price_minor > 0 {
        let (m_start, m_end) = month_bounds(start);
        let month = i128::from((m_end - m_start).num_seconds());
        let part = i128::from((end.min(m_end) - start.max(m_start)).num_seconds().max(0));
        let amount = if part >= month {
            plan.monthly_price_minor
        } else {
            ((i128::from(plan.monthly_price_minor) * part + month / 2) / month) as i64
        };
        lines.push(InvoiceLine {
            description: if part >= month {
                format!("{} plan, {}", plan.name, start.format("%Y-%m"))
            } else {
                format!(
                    "{} plan, {} to {} (part of the month)",
                    plan.name,
                    start.format("%Y-%m-%d"),
                    end.format("%Y-%m-%d")
                )
            },
            quantity: 1,
            unit_price_minor: amount,
            amount_minor: amount,
        });
    }
    for (limit, unit) in &plan.overage_minor {
        let (Some(cap), Some(used)) = (plan.limit(*limit), monthly_usage.get(limit)) else {
            continue;
        };
        let over = used - cap;
        if over > 0 {
            lines.push(InvoiceLine {
                description: format!("{} beyond {cap}", limit.description()),
                quantity: over,
                unit_price_minor: *unit,
                amount_minor: over * unit,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests;
