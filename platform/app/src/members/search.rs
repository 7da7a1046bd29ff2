//! Member search: a request's conditions checked and turned into the storage query, keyset
//! pages with opaque cursors, and the `tier` condition against the ladder in force.

use super::input::parse_date;
use crate::engine::RuleEngine;
use crate::AppError;
use base64::Engine as _;
use patron_core::fields::FieldSet;
use patron_core::members::{self as core_members, Phone};
use patron_core::pii::PiiKeys;
use patron_core::{FieldCode, Issue};
use patron_db::members::{self, CustomCondition, Member, SortKey, TierFilter};
use patron_db::{cards, TenantTx};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// What a search is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Created,
    JoinDate,
    Birthday,
    Name,
    /// The point balance.
    Points,
}

/// One condition on a custom field: `eq`, or a range with `min`/`max` (numbers) or
/// `from`/`to` (dates).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CustomFilter {
    pub field: String,
    pub eq: Option<Value>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A member search as asked; every condition given must hold. Stored as JSON where a
/// search is kept as a segment (an activity's audience).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Substring of the name.
    pub name: Option<String>,
    /// Members carrying all of these tags.
    pub tags: Vec<String>,
    pub custom: Vec<CustomFilter>,
    pub joined_from: Option<String>,
    pub joined_to: Option<String>,
    pub birthday_from: Option<String>,
    pub birthday_to: Option<String>,
    /// Members on this tier (its code in the ladder in force).
    pub tier: Option<String>,
    /// Only these members (a selection in a list), at most [`MAX_IDS`].
    pub ids: Vec<Uuid>,
    pub sort: SortBy,
    pub descending: bool,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// The most members a search may name by id.
pub const MAX_IDS: usize = 1000;

/// Searches count their matches up to this many; beyond it the count says "more than".
pub const COUNT_CAP: i64 = 10_000;

/// A page of members; `next_cursor` is absent on the last page.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// Turns a search request into the storage query (without its tier condition, which needs
/// the ladder: [`tier_filter`]); every bad value is reported with its path.
pub fn build_search(
    req: &SearchRequest,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
) -> Result<members::Search, AppError> {
    let mut v = patron_core::Validation::new();
    let card_number = req
        .card_number
        .as_deref()
        .and_then(|c| v.check("card_number", core_members::normalise_card_number(c)));
    let phone_index = req
        .phone
        .as_deref()
        .and_then(|p| v.check("phone", Phone::parse(p, region)))
        .map(|p| keys.blind_index("phone", p.e164()));
    let email_index = req
        .email
        .as_deref()
        .map(|e| keys.blind_index("email", &core_members::email_lookup_key(e)));
    let name = req
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let date = |v: &mut patron_core::Validation, f: &str, d: &Option<String>| {
        d.as_deref().and_then(|s| v.check(f, parse_date(s)))
    };
    let joined_from = date(&mut v, "joined_from", &req.joined_from);
    let joined_to = date(&mut v, "joined_to", &req.joined_to);
    let birthday_from = date(&mut v, "birthday_from", &req.birthday_from);
    let birthday_to = date(&mut v, "birthday_to", &req.birthday_to);
    let limit = req.limit.unwrap_or(50);
    if !(1..=patron_core::PAGE_MAX).contains(&limit) {
        v.check::<()>("limit", Err(Issue::out_of_range(1, patron_core::PAGE_MAX)));
    }
    let mut custom = Vec::new();
    for (i, c) in req.custom.iter().enumerate() {
        let Some(f) = set.get(&c.field) else {
            v.check::<()>(
                &format!("custom.{i}.field"),
                Err(Issue::unknown(
                    &c.field,
                    format!("\"{}\" is not a field", c.field),
                )),
            );
            continue;
        };
        if let Some(eq) = &c.eq {
            custom.push(CustomCondition::Equals(f.key.clone(), eq.clone()));
        }
        if c.min.is_some() || c.max.is_some() {
            custom.push(CustomCondition::NumberRange(f.key.clone(), c.min, c.max));
        }
        if c.from.is_some() || c.to.is_some() {
            custom.push(CustomCondition::TextRange(
                f.key.clone(),
                c.from.clone(),
                c.to.clone(),
            ));
        }
    }
    if req.ids.len() > MAX_IDS {
        v.check::<()>(
            "ids",
            Err(Issue::too_many(MAX_IDS, "members")
                .words(format!("name at most {MAX_IDS} members"))),
        );
    }
    let after = match &req.after {
        None => None,
        Some(c) => v.check("after", decode_cursor(c)),
    };
    v.finish().map_err(AppError::invalid)?;
    Ok(members::Search {
        card_number,
        phone_index,
        email_index,
        name,
        tags: req.tags.iter().map(|t| t.trim().to_owned()).collect(),
        custom,
        joined_from,
        joined_to,
        birthday_from,
        birthday_to,
        tier: None,
        ids: req.ids.clone(),
        include_erased: false,
        sort: match req.sort {
            SortBy::Created => SortKey::Created,
            SortBy::JoinDate => SortKey::JoinDate,
            SortBy::Birthday => SortKey::Birthday,
            SortBy::Name => SortKey::Name,
            SortBy::Points => SortKey::Points,
        },
        descending: req.descending,
        after,
        limit,
    })
}

/// The cursor after a row: its sort value and id, opaque to clients.
pub fn encode_cursor(value: Option<String>, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::json!([value, id]).to_string())
}

/// Reads a cursor [`encode_cursor`] made.
pub fn decode_cursor(raw: &str) -> Result<(Option<String>, Uuid), Issue> {
    let bad = || {
        Issue::new(
            FieldCode::NotACursor,
            "is not a cursor from a previous page",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    serde_json::from_slice::<(Option<String>, Uuid)>(&bytes).map_err(|_| bad())
}

/// Where the position of `code` in a ladder of `codes` puts the tier condition: `first`
/// because members with no tier row are on the first tier.
pub fn tier_condition<'a>(
    code: &str,
    mut codes: impl Iterator<Item = &'a str>,
) -> Result<TierFilter, AppError> {
    match codes.position(|c| c == code) {
        Some(i) => Ok(TierFilter {
            code: code.to_owned(),
            first: i == 0,
        }),
        None => Err(AppError::field(
            "tier",
            Issue::new(FieldCode::NoSuchTier, "the ladder has no such tier").with("value", code),
        )),
    }
}

/// The `tier` search condition, checked against the ladder in force.
pub async fn tier_filter(
    rules: &RuleEngine,
    tx: &mut TenantTx,
    tier: Option<&str>,
) -> Result<Option<TierFilter>, AppError> {
    let Some(code) = tier.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let rules = rules.tenant(tx).await?;
    let Some(l) = &rules.ladder else {
        return Err(AppError::field(
            "tier",
            Issue::new(FieldCode::NotAllowed, "the business has no tier ladder")
                .with("reason", "no_ladder"),
        ));
    };
    tier_condition(code, l.ladder.tiers.iter().map(|t| t.code.as_str())).map(Some)
}

/// Checks a search kept as a segment, as [`search`] would: every bad value at once, each
/// path under `at` (`segment.tier`).
pub async fn check_segment(
    tx: &mut TenantTx,
    rules: &RuleEngine,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
    req: &SearchRequest,
    at: &str,
) -> Result<(), AppError> {
    let prefixed = |e: AppError| match e {
        AppError::Invalid(fields) => AppError::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    f.field = format!("{at}.{}", f.field);
                    f
                })
                .collect(),
        ),
        other => other,
    };
    build_search(req, set, keys, region).map_err(prefixed)?;
    tier_filter(rules, tx, req.tier.as_deref())
        .await
        .map_err(prefixed)?;
    Ok(())
}

/// Whether `member` is in the segment `req` (the same conditions the member search uses;
/// its sort, paging and ids are ignored). A segment that no longer reads (a field or tier
/// since removed) holds nobody.
pub async fn in_segment(
    tx: &mut TenantTx,
    rules: &RuleEngine,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
    req: &SearchRequest,
    member: Uuid,
) -> Result<bool, AppError> {
    let mut one = req.clone();
    one.ids = vec![member];
    one.after = None;
    one.limit = Some(1);
    let mut search = match build_search(&one, set, keys, region) {
        Ok(s) => s,
        Err(AppError::Invalid(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    search.tier = match tier_filter(rules, tx, one.tier.as_deref()).await {
        Ok(t) => t,
        Err(AppError::Invalid(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(!members::search(tx, &search).await?.is_empty())
}

/// Runs a search a page at a time; refuses lookups by a lost or blocked card with a clear
/// error.
pub async fn run_search(tx: &mut TenantTx, search: &members::Search) -> Result<Page, AppError> {
    if let Some(n) = &search.card_number {
        if let Some(card) = cards::find(tx, n).await? {
            super::cards::refuse_unusable(&card)?;
        }
    }
    let mut page = search.clone();
    page.limit = search.limit + 1;
    let rows = members::search(tx, &page).await?;
    Ok(paginate(rows, search.limit, search.sort))
}

/// Cuts the `limit + 1` rows fetched to a page, with a cursor when there are more.
fn paginate(mut rows: Vec<Member>, limit: i64, sort: SortKey) -> Page {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|m| encode_cursor(members::sort_value(m, sort), m.id))
    } else {
        None
    };
    Page { rows, next_cursor }
}

/// The search use case: the request checked, its tier condition, one page.
pub async fn search(
    tx: &mut TenantTx,
    rules: &RuleEngine,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
    req: &SearchRequest,
) -> Result<Page, AppError> {
    let mut search = build_search(req, set, keys, region)?;
    search.tier = tier_filter(rules, tx, req.tier.as_deref()).await?;
    run_search(tx, &search).await
}

/// A member's standing as a list shows it: balance, tier (code and names; the ladder's first
/// tier for members without a tier row) and last visit.
#[derive(Debug, Clone, PartialEq)]
pub struct RowStanding {
    pub balance: i64,
    pub tier: Option<String>,
    pub tier_name: Option<patron_core::tiers::Names>,
    pub last_visit_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of a member list: the members, each one's standing, and how many match.
#[derive(Debug)]
pub struct ListPage {
    pub page: Page,
    pub standings: HashMap<Uuid, RowStanding>,
    pub total: i64,
    /// More than [`COUNT_CAP`] match; `total` stops there.
    pub total_capped: bool,
}

/// Names each stored standing's tier from the ladder in force (`None` without a ladder).
pub fn name_standings(
    rows: Vec<members::Standing>,
    ladder: Option<&patron_core::tiers::Ladder>,
) -> HashMap<Uuid, RowStanding> {
    rows.into_iter()
        .map(|s| {
            let tier = ladder.and_then(|l| {
                let code = s.tier.as_deref();
                l.tiers
                    .iter()
                    .find(|t| Some(t.code.as_str()) == code)
                    .or_else(|| l.tiers.first())
            });
            (
                s.member_id,
                RowStanding {
                    balance: s.balance,
                    tier: tier.map(|t| t.code.clone()),
                    tier_name: tier.map(|t| t.name.clone()),
                    last_visit_at: s.last_visit_at,
                },
            )
        })
        .collect()
}

/// The list use case: one page of a search, each member's standing, and the count.
pub async fn list(
    tx: &mut TenantTx,
    rules: &RuleEngine,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
    req: &SearchRequest,
) -> Result<ListPage, AppError> {
    let mut search = build_search(req, set, keys, region)?;
    search.tier = tier_filter(rules, tx, req.tier.as_deref()).await?;
    let page = run_search(tx, &search).await?;
    let (total, total_capped) = members::count(tx, &search, COUNT_CAP).await?;
    let ids: Vec<Uuid> = page.rows.iter().map(|m| m.id).collect();
    let stored = members::standings(tx, &ids).await?;
    let tenant_rules = rules.tenant(tx).await?;
    let ladder = tenant_rules.ladder.as_ref().map(|l| &l.ladder);
    Ok(ListPage {
        standings: name_standings(stored, ladder),
        page,
        total,
        total_capped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::input::blank_member;
    use chrono::Utc;

    #[test]
    fn a_cursor_reads_back_as_the_row_it_was_made_after() {
        let id = Uuid::now_v7();
        let c = encode_cursor(Some("2024-05-31".into()), id);
        assert_eq!(decode_cursor(&c).unwrap(), (Some("2024-05-31".into()), id));
        let c = encode_cursor(None, id);
        assert_eq!(decode_cursor(&c).unwrap(), (None, id));
        assert!(decode_cursor("not a cursor!").is_err());
        let junk = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("[1,2]");
        assert!(decode_cursor(&junk).is_err());
    }

    #[test]
    fn a_search_reports_each_bad_condition_with_its_path() {
        let keys = PiiKeys::development();
        let req = SearchRequest {
            phone: Some("12".into()),
            joined_from: Some("yesterday".into()),
            limit: Some(500),
            custom: vec![CustomFilter {
                field: "nope".into(),
                ..Default::default()
            }],
            after: Some("%%".into()),
            ..Default::default()
        };
        let e = build_search(&req, &FieldSet::default(), &keys, "CN").unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["phone", "joined_from", "limit", "custom.0.field", "after"]
        );
    }

    #[test]
    fn a_search_finds_by_blind_index_and_keeps_its_paging() {
        let keys = PiiKeys::development();
        let id = Uuid::now_v7();
        let req = SearchRequest {
            phone: Some("138 1234 5678".into()),
            email: Some("A@B.com".into()),
            name: Some("  ".into()),
            tags: vec![" vip ".into()],
            sort: SortBy::Name,
            descending: true,
            after: Some(encode_cursor(Some("Li".into()), id)),
            ..Default::default()
        };
        let s = build_search(&req, &FieldSet::default(), &keys, "CN").unwrap();
        assert_eq!(
            s.phone_index,
            Some(keys.blind_index("phone", "+8613812345678"))
        );
        assert_eq!(
            s.email_index,
            Some(keys.blind_index("email", &core_members::email_lookup_key("A@B.com")))
        );
        assert_eq!(s.name, None);
        assert_eq!(s.tags, ["vip"]);
        assert_eq!(s.limit, 50);
        assert!(matches!(s.sort, SortKey::Name));
        assert!(s.descending);
        assert_eq!(s.after, Some((Some("Li".into()), id)));
    }

    #[test]
    fn a_page_has_a_cursor_only_when_more_rows_follow() {
        let now = Utc::now();
        let rows: Vec<Member> = (0..3).map(|_| blank_member(now)).collect();
        let last_of_page = rows[1].id;
        let p = paginate(rows.clone(), 2, SortKey::Created);
        assert_eq!(p.rows.len(), 2);
        let (_, id) = decode_cursor(&p.next_cursor.unwrap()).unwrap();
        assert_eq!(id, last_of_page);
        let p = paginate(rows, 3, SortKey::Created);
        assert_eq!(p.rows.len(), 3);
        assert!(p.next_cursor.is_none());
    }

    #[test]
    fn the_first_tier_of_the_ladder_also_matches_members_without_one() {
        let ladder = ["silver", "gold"];
        let t = tier_condition("silver", ladder.iter().copied()).unwrap();
        assert!(t.first);
        let t = tier_condition("gold", ladder.iter().copied()).unwrap();
        assert!(!t.first);
        let e = tier_condition("iron", ladder.iter().copied()).unwrap_err();
        assert_eq!(e.fields()[0].field, "tier");
    }

    #[test]
    fn a_list_names_each_members_tier_and_puts_members_without_one_on_the_first() {
        use patron_core::tiers::Ladder;
        let ladder = Ladder::from_thresholds(&[("silver", 0), ("gold", 1000)]);
        let id = |n: u128| Uuid::from_u128(n);
        let stored = |n, tier: Option<&str>| members::Standing {
            member_id: id(n),
            balance: n as i64 * 10,
            tier: tier.map(str::to_owned),
            last_visit_at: None,
        };
        let named = name_standings(
            vec![
                stored(1, Some("gold")),
                stored(2, None),
                stored(3, Some("gone")),
            ],
            Some(&ladder),
        );
        assert_eq!(named[&id(1)].tier.as_deref(), Some("gold"));
        assert_eq!(named[&id(1)].balance, 10);
        assert_eq!(
            named[&id(1)].tier_name,
            Some(ladder.tiers[1].name.clone()),
            "the name comes from the ladder"
        );
        assert_eq!(named[&id(2)].tier.as_deref(), Some("silver"));
        // A tier code no longer on the ladder reads as the first tier, as evaluation would.
        assert_eq!(named[&id(3)].tier.as_deref(), Some("silver"));
        let without = name_standings(vec![stored(1, Some("gold"))], None);
        assert_eq!(without[&id(1)].tier, None, "no ladder, no tier");
    }
}
