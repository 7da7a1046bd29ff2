//! The front desk: one box that finds a member by whatever the clerk has (a phone, its last
//! four digits, a card, the member's code from their portal, a name), the summary a clerk
//! reads before serving them, the member's one-minute code, and the SMS code that confirms
//! a large redemption.

use crate::engine::RuleEngine;
use crate::members::input::open;
use crate::members::search::run_search;
use crate::members::PlanCheck;
use crate::points::ledger::summary_of;
use crate::portal::codes::{self, CodePurpose};
use crate::sms::SmsSender;
use crate::tiers::member::{member_tier, MemberTierData};
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::desk::{self as core_desk, Alert, Facts};
use patron_core::member_code::{self, CodeError};
use patron_core::members::{self as core_members, Phone};
use patron_core::pii::PiiKeys;
use patron_core::tiers::Tier;
use patron_core::{MemberId, TenantId};
use patron_db::members::{self, Member, Search, SortKey};
use patron_db::{desk, points, Tenant, TenantTx};
use std::collections::HashMap;
use uuid::Uuid;

/// What the front desk looks up by: 1 to this many characters.
pub const LOOKUP_MAX: usize = 100;

/// The most members a lookup answers.
pub const MAX_MATCHES: usize = 20;
/// Members whose last-four index one fill writes at a time.
const FILL_BATCH: i64 = 2_000;

/// What the text typed or scanned was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    Phone,
    PhoneLast4,
    Card,
    MemberCode,
    Name,
}

impl LookupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::PhoneLast4 => "phone_last4",
            Self::Card => "card",
            Self::MemberCode => "member_code",
            Self::Name => "name",
        }
    }
}

/// Reads the text in the lookup box: a member code by its prefix, four digits as the end of
/// a phone, a number that reads as a phone in the business's region as a phone, other
/// digits as a card, anything else as a name.
pub fn classify(q: &str, region: &str) -> LookupKind {
    let q = q.trim();
    if member_code::looks_like(q) {
        return LookupKind::MemberCode;
    }
    let digits: String = q
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '+' | '(' | ')'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return LookupKind::Name;
    }
    if digits.len() == 4 && !q.starts_with('+') {
        return LookupKind::PhoneLast4;
    }
    if Phone::parse(q, region).is_ok() {
        LookupKind::Phone
    } else {
        LookupKind::Card
    }
}

/// One member a lookup found, with what a pick list shows.
#[derive(Debug, Clone)]
pub struct Match {
    pub member: Member,
    /// The phone with its middle hidden (`136 **** 6666`).
    pub phone_masked: Option<String>,
    pub tier: Option<Tier>,
    pub balance: i64,
}

#[derive(Debug, Clone)]
pub struct Lookup {
    pub kind: LookupKind,
    pub matches: Vec<Match>,
}

/// A member whose last-four index is written: their id, their phone (E.164) if any, and
/// the phone index it was read with.
pub type PhoneRow = (Uuid, Option<String>, Option<Vec<u8>>);

/// The phone index's companion for the last four digits.
pub fn last_four_index(keys: &PiiKeys, digits: &str) -> Vec<u8> {
    keys.blind_index("phone_last4", digits)
}

/// Writes the last-four index of these members from their current phone.
pub async fn index_last_four(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    rows: &[PhoneRow],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let last: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|r| {
            r.1.as_deref()
                .map(|p| last_four_index(keys, &core_desk::last_four(p)))
        })
        .collect();
    let of: Vec<Option<Vec<u8>>> = rows.iter().map(|r| r.2.clone()).collect();
    desk::set_last_four(tx, &ids, &last, &of).await?;
    Ok(())
}

/// Keeps one member's last-four index in step with their phone (after a create or an edit).
pub async fn keep_last_four(tx: &mut TenantTx, keys: &PiiKeys, m: &Member) -> Result<(), AppError> {
    let phone = m.phone().and_then(|s| open(keys, &s));
    index_last_four(tx, keys, &[(m.id, phone, m.phone_index.clone())]).await
}

/// Fills the last-four index of every member whose index is missing or stale (members
/// registered before it existed, imports, phones changed elsewhere), in batches.
pub async fn fill_last_four(tx: &mut TenantTx, keys: &PiiKeys) -> Result<usize, AppError> {
    let mut filled = 0;
    loop {
        let due = desk::last_four_due(tx, FILL_BATCH).await?;
        if due.is_empty() {
            return Ok(filled);
        }
        let n = due.len();
        let rows: Vec<PhoneRow> = due
            .into_iter()
            .map(|d| {
                let phone = match (d.phone_enc, d.phone_key) {
                    (Some(c), Some(k)) => keys.decrypt(k, &c).ok(),
                    _ => None,
                };
                (d.id, phone, d.phone_index)
            })
            .collect();
        index_last_four(tx, keys, &rows).await?;
        filled += n;
        if (n as i64) < FILL_BATCH {
            return Ok(filled);
        }
    }
}

fn search_of(card_number: Option<String>, name: Option<String>) -> Search {
    Search {
        card_number,
        name,
        sort: SortKey::Created,
        descending: true,
        limit: MAX_MATCHES as i64,
        ..Search::default()
    }
}

async fn by_card(tx: &mut TenantTx, q: &str) -> Result<Vec<Member>, AppError> {
    let Ok(n) = core_members::normalise_card_number(q) else {
        return Ok(Vec::new());
    };
    Ok(run_search(tx, &search_of(Some(n), None)).await?.rows)
}

/// Finds members by what the clerk typed or scanned (at most [`MAX_MATCHES`], erased
/// members never). An expired member code is `member_code_expired`, a forged one
/// `member_code_invalid`, both on `q`.
pub async fn lookup(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    keys: &PiiKeys,
    q: &str,
    now: DateTime<Utc>,
) -> Result<Lookup, AppError> {
    let q = q.trim();
    if q.is_empty() || q.chars().count() > LOOKUP_MAX {
        return Err(AppError::field(
            "q",
            patron_core::Issue::length_between(1, LOOKUP_MAX)
                .words(format!("must be 1 to {LOOKUP_MAX} characters")),
        ));
    }
    let region = &tenant.settings.phone_region;
    let mut kind = classify(q, region);
    let rows: Vec<Member> = match kind {
        LookupKind::MemberCode => {
            let id =
                member_code::verify(keys, TenantId::new(tenant.id), q, now).map_err(
                    |e| match e {
                        CodeError::Expired => AppError::refused(
                            "member_code_expired",
                            "q",
                            "has expired; ask the member to refresh their code",
                        ),
                        CodeError::Invalid => AppError::refused(
                            "member_code_invalid",
                            "q",
                            "is not a member code of this business",
                        ),
                    },
                )?;
            match members::get(tx, id.get()).await {
                Ok(m) if m.status == "active" => vec![m],
                Ok(_) | Err(patron_db::DbError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            }
        }
        LookupKind::PhoneLast4 => {
            fill_last_four(tx, keys).await?;
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            let ids =
                desk::by_last_four(tx, &last_four_index(keys, &digits), MAX_MATCHES as i64).await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(members::get(tx, id).await?);
            }
            rows
        }
        LookupKind::Phone => {
            let p = Phone::parse(q, region).map_err(|e| AppError::field("q", e))?;
            let found = members::find_by_phone_index(tx, &keys.blind_index("phone", p.e164()))
                .await?
                .filter(|m| m.status == "active");
            match found {
                Some(m) => vec![m],
                None => {
                    // A card number can read as a phone too.
                    let cards = by_card(tx, q).await?;
                    if !cards.is_empty() {
                        kind = LookupKind::Card;
                    }
                    cards
                }
            }
        }
        LookupKind::Card => by_card(tx, q).await?,
        LookupKind::Name => {
            run_search(tx, &search_of(None, Some(q.to_owned())))
                .await?
                .rows
        }
    };
    let matches = with_figures(tx, engine, keys, rows).await?;
    Ok(Lookup { kind, matches })
}

/// The tier and balance of each member, for the pick list.
async fn with_figures(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    keys: &PiiKeys,
    mut rows: Vec<Member>,
) -> Result<Vec<Match>, AppError> {
    rows.truncate(MAX_MATCHES);
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let figures: HashMap<Uuid, desk::Figures> = desk::figures(tx, &ids)
        .await?
        .into_iter()
        .map(|f| (f.member_id, f))
        .collect();
    let rules = engine.tenant(tx).await?;
    let tiers: Vec<Tier> = rules
        .ladder
        .as_ref()
        .map(|l| l.ladder.tiers.clone())
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|m| {
            let f = figures.get(&m.id);
            let code = f.and_then(|f| f.tier.clone());
            let tier = match code {
                Some(c) => tiers.iter().find(|t| t.code == c).cloned(),
                None => tiers.first().cloned(),
            };
            let phone_masked = m
                .phone()
                .and_then(|s| open(keys, &s))
                .map(|p| core_desk::mask_phone(&p));
            Match {
                phone_masked,
                tier,
                balance: f.map_or(0, |f| f.balance),
                member: m,
            }
        })
        .collect())
}

/// What the clerk reads about a member before serving them.
#[derive(Debug, Clone)]
pub struct Summary {
    pub member: Member,
    /// `136 5555 6666`, or `136 **** 6666` for staff who may not see phones.
    pub phone: Option<String>,
    pub balance: i64,
    pub debt: i64,
    /// What the balance is worth at checkout, in minor units.
    pub balance_value: i64,
    pub tier: MemberTierData,
    /// The soonest points to expire, and when.
    pub expiring: Option<(i64, DateTime<Utc>)>,
    /// The latest day the member checked in or bought something (local day).
    pub last_visit: Option<NaiveDate>,
    pub alerts: Vec<Alert>,
}

/// A member's summary for the desk (erased members are not found).
pub async fn summary(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    keys: &PiiKeys,
    member_id: Uuid,
    show_pii: bool,
    now: DateTime<Utc>,
) -> Result<Summary, AppError> {
    let m = members::get(tx, member_id).await.not_found_as("member")?;
    if m.status != "active" {
        return Err(AppError::not_found("member"));
    }
    let rules = engine.tenant(tx).await?;
    let account = points::account(tx, m.id).await?;
    let pts = summary_of(tx, &account, &rules.settings, now).await?;
    let tier = member_tier(tx, &rules, tenant, MemberId::new(m.id), now, false).await?;
    let zone = tenant.settings.zone();
    let last_purchase = desk::last_purchase_at(tx, m.id)
        .await?
        .map(|at| zone.today(at));
    let last_visit = last_purchase.max(pts.last_check_in);
    let expiring = pts.expiring.first().map(|e| (e.points, e.expires_at));
    let alerts = core_desk::alerts(
        &Facts {
            birthday: m.birthday,
            debt: pts.debt,
            soonest_expiry: expiring,
        },
        zone,
        now,
    );
    let phone = m.phone().and_then(|s| open(keys, &s)).map(|p| {
        if show_pii {
            core_desk::format_phone(&p)
        } else {
            core_desk::mask_phone(&p)
        }
    });
    Ok(Summary {
        member: m,
        phone,
        balance: pts.balance,
        debt: pts.debt,
        balance_value: pts.balance_value,
        tier,
        expiring,
        last_visit,
        alerts,
    })
}

/// A member's code for the counter: the text, when it stops working, and when to fetch the
/// next one (seconds).
pub fn my_code(
    keys: &PiiKeys,
    tenant: &Tenant,
    member: &Member,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>, i64) {
    let (code, expires_at) = member_code::issue(
        keys,
        TenantId::new(tenant.id),
        MemberId::new(member.id),
        now,
    );
    (code, expires_at, member_code::REFRESH_SECS)
}

/// Sends the member a code by SMS that confirms a redemption above the business's check
/// threshold (the portal's one-time codes, purpose `redemption`).
#[allow(clippy::too_many_arguments)]
pub async fn send_redemption_code(
    tx: &mut TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    sms: &dyn SmsSender,
    plan: &dyn PlanCheck,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let m = crate::points::member_of(tx, member_id).await?;
    let phone = m
        .phone()
        .and_then(|s| open(keys, &s))
        .and_then(|p| Phone::parse(&p, &tenant.settings.phone_region).ok())
        .ok_or_else(|| {
            AppError::conflict(
                "member_without_phone",
                None,
                "the member has no phone to send a code to",
            )
        })?;
    codes::send_code(
        tx,
        keys,
        sms,
        plan,
        &phone,
        CodePurpose::Redemption,
        tenant,
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_reads_codes_last_fours_phones_cards_and_names() {
        let code = member_code::issue(
            &PiiKeys::development(),
            TenantId::new(1),
            MemberId::new(Uuid::now_v7()),
            Utc::now(),
        )
        .0;
        assert_eq!(classify(&code, "CN"), LookupKind::MemberCode);
        assert_eq!(classify(" 6666 ", "CN"), LookupKind::PhoneLast4);
        assert_eq!(classify("136 5555 6666", "CN"), LookupKind::Phone);
        assert_eq!(classify("+86 136-5555-6666", "CN"), LookupKind::Phone);
        assert_eq!(classify("8000000000000016", "CN"), LookupKind::Card);
        // Twelve digits read as a (landline) phone: the lookup tries cards when no phone
        // matches.
        assert_eq!(classify("800000000016", "CN"), LookupKind::Phone);
        assert_eq!(classify("123", "CN"), LookupKind::Card);
        assert_eq!(classify("王小明", "CN"), LookupKind::Name);
        assert_eq!(classify("Pmasha", "CN"), LookupKind::Name);
        assert_eq!(classify("Li 3", "CN"), LookupKind::Name);
    }

    #[test]
    fn the_last_four_index_is_keyed_and_apart_from_the_phone_index() {
        let keys = PiiKeys::development();
        assert_eq!(
            last_four_index(&keys, "6666"),
            last_four_index(&keys, "6666")
        );
        assert_ne!(
            last_four_index(&keys, "6666"),
            last_four_index(&keys, "6667")
        );
        assert_ne!(
            last_four_index(&keys, "6666"),
            keys.blind_index("phone", "6666")
        );
    }
}

/// The most item suggestions one call answers, and the default.
pub const ITEMS_MAX: i64 = 50;
pub const ITEMS_DEFAULT: i64 = 20;
/// The most categories the item lines offer.
const CATEGORIES_MAX: i64 = 500;

/// What the desk's item lines offer: items sold lately that match what the clerk typed,
/// and the business's categories.
#[derive(Debug, Clone)]
pub struct Items {
    pub items: Vec<desk::SoldItem>,
    pub categories: Vec<String>,
}

/// Items the business sold lately whose name or SKU contains `q` (any case; blank: the
/// latest), at most `limit` (1 to [`ITEMS_MAX`]), and every category it uses.
pub async fn items(tx: &mut TenantTx, q: &str, limit: Option<i64>) -> Result<Items, AppError> {
    let q = q.trim();
    if q.chars().count() > LOOKUP_MAX {
        return Err(AppError::field(
            "q",
            patron_core::Issue::too_long(LOOKUP_MAX),
        ));
    }
    let limit = limit.unwrap_or(ITEMS_DEFAULT);
    if !(1..=ITEMS_MAX).contains(&limit) {
        return Err(AppError::field(
            "limit",
            patron_core::Issue::out_of_range(1, ITEMS_MAX),
        ));
    }
    Ok(Items {
        items: desk::sold_items(tx, &q.to_lowercase(), limit).await?,
        categories: desk::item_categories(tx, CATEGORIES_MAX).await?,
    })
}
