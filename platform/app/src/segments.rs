//! Saved segments: a named member search (the same request `POST /members/search` takes)
//! staff save, rename, edit and delete, count live, open in the member list and send a
//! campaign to. Names are unique per business (409 `segment_name_taken` on `name`);
//! creating is idempotent under a key (the same key with another body: 409).
//!
//! A segment keeps the request as given, without its paging (`after`, `limit`) and order
//! (`sort`, `descending`); it is checked as the search checks it whenever it is saved, and
//! read again when used, so a segment naming a field or tier since removed answers 422
//! naming that condition under `filter.`.

use crate::engine::RuleEngine;
use crate::error::OnConstraint;
use crate::fields::current_fields;
use crate::members::search::{build_search, tier_filter, SearchRequest, COUNT_CAP};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::pii::PiiKeys;
use patron_core::segments::{check_name, LIST_MAX};
use patron_db::members::{self as members, Search};
use patron_db::segments::{self as db, Segment};
use patron_db::{audit, constraints, TenantTx};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What turning a member search request into the storage query needs.
pub struct SearchContext<'a> {
    pub rules: &'a RuleEngine,
    pub keys: &'a PiiKeys,
    /// The business's phone region.
    pub region: &'a str,
}

/// The request kept: its conditions only.
pub fn conditions(mut req: SearchRequest) -> SearchRequest {
    req.after = None;
    req.limit = None;
    req.sort = Default::default();
    req.descending = false;
    req
}

/// The storage query of `req`, every bad condition named under `at` (`filter.tier`).
pub async fn to_search(
    tx: &mut TenantTx,
    ctx: &SearchContext<'_>,
    req: &SearchRequest,
    at: &str,
) -> Result<Search, AppError> {
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
    let (_, set) = current_fields(tx).await?;
    let mut req = req.clone();
    (req.after, req.limit) = (None, None);
    let mut search = build_search(&req, &set, ctx.keys, ctx.region).map_err(prefixed)?;
    search.tier = tier_filter(ctx.rules, tx, req.tier.as_deref())
        .await
        .map_err(prefixed)?;
    Ok(search)
}

/// The request a segment keeps.
pub fn request_of(s: &Segment) -> Result<SearchRequest, AppError> {
    serde_json::from_value(s.filter.clone()).map_err(AppError::internal)
}

/// A segment as staff write it.
pub struct NewSegment {
    pub name: String,
    pub filter: SearchRequest,
    pub idempotency_key: Option<String>,
}

fn request_hash(name: &str, filter: &SearchRequest) -> String {
    let body = json!({ "name": name, "filter": filter });
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

fn name_taken() -> AppError {
    AppError::conflict(
        "segment_name_taken",
        Some("name"),
        "another segment already has this name",
    )
}

fn checked_name(raw: &str) -> Result<String, AppError> {
    check_name(raw).map_err(AppError::invalid)
}

/// Saves a segment. The same idempotency key again answers the segment written then; with
/// another body, 409 `idempotency_key_reused`.
pub async fn create(
    tx: &mut TenantTx,
    ctx: &SearchContext<'_>,
    new: NewSegment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Segment, AppError> {
    let name = checked_name(&new.name)?;
    let filter = conditions(new.filter);
    to_search(tx, ctx, &filter, "filter").await?;
    let hash = request_hash(&name, &filter);
    if let Some(key) = &new.idempotency_key {
        if let Some(s) = db::by_key(tx, key).await? {
            if s.request_hash == hash {
                return Ok(s);
            }
            return Err(crate::points::key_reused("idempotency_key"));
        }
    }
    let s = Segment {
        id: Uuid::now_v7(),
        name,
        filter: serde_json::to_value(&filter).map_err(AppError::internal)?,
        idempotency_key: new.idempotency_key,
        request_hash: hash,
        created_at: now,
        created_by: actor.to_owned(),
        updated_at: now,
        updated_by: actor.to_owned(),
    };
    let Some(written) = db::insert(tx, &s).await? else {
        // The key or the name is taken (perhaps by a request running at the same time, now
        // committed): the same key and body answer that segment; otherwise the name is taken.
        let Some(key) = s.idempotency_key.as_deref() else {
            return Err(name_taken());
        };
        return match db::by_key(tx, key).await? {
            Some(other) if other.request_hash == s.request_hash => Ok(other),
            Some(_) => Err(crate::points::key_reused("idempotency_key")),
            None => Err(name_taken()),
        };
    };
    audit::record(
        tx,
        now,
        actor,
        "segment.created",
        &written.id.to_string(),
        json!({ "name": written.name }),
    )
    .await?;
    Ok(written)
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Segment>, AppError> {
    Ok(db::list(tx, LIST_MAX).await?)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Segment, AppError> {
    db::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("segment"))
}

/// Renames a segment and replaces its filter (campaigns already sent keep theirs).
pub async fn update(
    tx: &mut TenantTx,
    ctx: &SearchContext<'_>,
    id: Uuid,
    name: &str,
    filter: SearchRequest,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Segment, AppError> {
    let name = checked_name(name)?;
    let filter = conditions(filter);
    to_search(tx, ctx, &filter, "filter").await?;
    let value = serde_json::to_value(&filter).map_err(AppError::internal)?;
    let s = db::update(tx, id, &name, &value, actor, now)
        .await
        .on_constraint(constraints::SEGMENTS_NAME, name_taken)?
        .ok_or_else(|| AppError::not_found("segment"))?;
    audit::record(
        tx,
        now,
        actor,
        "segment.updated",
        &id.to_string(),
        json!({ "name": s.name }),
    )
    .await?;
    Ok(s)
}

pub async fn delete(
    tx: &mut TenantTx,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !db::delete(tx, id).await? {
        return Err(AppError::not_found("segment"));
    }
    audit::record(
        tx,
        now,
        actor,
        "segment.deleted",
        &id.to_string(),
        json!({}),
    )
    .await?;
    Ok(())
}

/// The members a segment finds now, counted up to [`COUNT_CAP`] (`more`: beyond it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub members: i64,
    pub more: bool,
}

pub async fn count(
    tx: &mut TenantTx,
    ctx: &SearchContext<'_>,
    id: Uuid,
) -> Result<Count, AppError> {
    let s = get(tx, id).await?;
    let mut search = to_search(tx, ctx, &request_of(&s)?, "filter").await?;
    search.include_erased = false;
    let (members, more) = members::count(tx, &search, COUNT_CAP).await?;
    Ok(Count { members, more })
}
