//! Member cards: numbers from the tenant's format, physical cards, loss and reissue, and
//! each card's history.

use crate::members::Actor;
use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use patron_core::members::{CardFormat, CardMode};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Card {
    pub number: String,
    pub member_id: Uuid,
    pub status: String,
    pub physical_code: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub replaced_by: Option<String>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardEvent {
    pub id: i64,
    pub number: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: String,
    pub detail: serde_json::Value,
}

const COLUMNS: &str =
    "number, member_id, status, physical_code, issued_at, replaced_by, changed_at";

pub async fn format(tx: &mut TenantTx) -> Result<CardFormat, DbError> {
    let v: serde_json::Value = sqlx::query_scalar("SELECT card_format FROM member_settings")
        .fetch_one(tx.conn())
        .await?;
    serde_json::from_value(v).map_err(|e| DbError::Aborted(format!("card format: {e}")))
}

pub async fn set_format(tx: &mut TenantTx, f: &CardFormat) -> Result<(), DbError> {
    sqlx::query("UPDATE member_settings SET card_format = $1")
        .bind(serde_json::to_value(f).expect("serialisable"))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Issues a new active card to a member, numbered from the tenant's format.
pub async fn issue(tx: &mut TenantTx, member_id: Uuid, by: &Actor<'_>) -> Result<Card, DbError> {
    let f = format(tx).await?;
    for _ in 0..20 {
        let seq: i64 = match f.mode {
            CardMode::Sequence => {
                sqlx::query_scalar(
                    "UPDATE member_settings SET card_seq = card_seq + 1 RETURNING card_seq",
                )
                .fetch_one(tx.conn())
                .await?
            }
            CardMode::Random => 0,
        };
        let number = f.number(seq as u64).map_err(DbError::Aborted)?;
        let card: Option<Card> = sqlx::query_as(&format!(
            "INSERT INTO member_cards (number, member_id, status, issued_at, changed_at)
             VALUES ($1, $2, 'active', $3, $3) ON CONFLICT (number) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(&number)
        .bind(member_id)
        .bind(by.at)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(card) = card {
            event(tx, &card, by, "issued", serde_json::json!({})).await?;
            return Ok(card);
        }
    }
    Err(DbError::Aborted(
        "could not find a free card number; widen the card format".into(),
    ))
}

async fn event(
    tx: &mut TenantTx,
    card: &Card,
    by: &Actor<'_>,
    what: &str,
    detail: serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO card_events (number, member_id, at, actor, event, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&card.number)
    .bind(card.member_id)
    .bind(by.at)
    .bind(by.subject)
    .bind(what)
    .bind(detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn find(tx: &mut TenantTx, number: &str) -> Result<Option<Card>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM member_cards WHERE number = $1"
    ))
    .bind(number)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn find_by_physical(tx: &mut TenantTx, code: &str) -> Result<Option<Card>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM member_cards WHERE physical_code = $1"
    ))
    .bind(code)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn of_member(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Card>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM member_cards WHERE member_id = $1 ORDER BY issued_at, number"
    ))
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn history(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<CardEvent>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, number, at, actor, event, detail FROM card_events WHERE member_id = $1 ORDER BY id",
    )
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The member's card in use, locked.
pub async fn active_of(tx: &mut TenantTx, member_id: Uuid) -> Result<Option<Card>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM member_cards WHERE member_id = $1 AND status = 'active' FOR UPDATE"
    ))
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Ties a physical card to the member's card; a code already used is `Conflict`.
pub async fn bind_physical(
    tx: &mut TenantTx,
    card: &Card,
    code: &str,
    by: &Actor<'_>,
) -> Result<Card, DbError> {
    let c: Card = sqlx::query_as(&format!(
        "UPDATE member_cards SET physical_code = $2, changed_at = $3 WHERE number = $1 RETURNING {COLUMNS}"
    ))
    .bind(&card.number)
    .bind(code)
    .bind(by.at)
    .fetch_one(tx.conn())
    .await?;
    event(
        tx,
        &c,
        by,
        "physical_bound",
        serde_json::json!({ "physical_code": code }),
    )
    .await?;
    Ok(c)
}

/// Freezes a card at once.
pub async fn report_lost(tx: &mut TenantTx, card: &Card, by: &Actor<'_>) -> Result<Card, DbError> {
    let c: Card = sqlx::query_as(&format!(
        "UPDATE member_cards SET status = 'lost', changed_at = $2 WHERE number = $1 RETURNING {COLUMNS}"
    ))
    .bind(&card.number)
    .bind(by.at)
    .fetch_one(tx.conn())
    .await?;
    event(tx, &c, by, "reported_lost", serde_json::json!({})).await?;
    Ok(c)
}

/// Blocks `old` for good and issues the member a new number. Everything hangs off the
/// member, not the card, so balances, tier and history carry over by construction.
pub async fn reissue(tx: &mut TenantTx, old: &Card, by: &Actor<'_>) -> Result<Card, DbError> {
    sqlx::query("UPDATE member_cards SET status = 'blocked', physical_code = NULL, changed_at = $2 WHERE number = $1")
        .bind(&old.number)
        .bind(by.at)
        .execute(tx.conn())
        .await?;
    let new = issue(tx, old.member_id, by).await?;
    sqlx::query("UPDATE member_cards SET replaced_by = $2 WHERE number = $1")
        .bind(&old.number)
        .bind(&new.number)
        .execute(tx.conn())
        .await?;
    event(
        tx,
        old,
        by,
        "blocked",
        serde_json::json!({ "replaced_by": new.number }),
    )
    .await?;
    Ok(new)
}
