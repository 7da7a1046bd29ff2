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
    issue_many(tx, &[member_id], by).await?;
    active_of(tx, member_id).await?.ok_or(DbError::NotFound)
}

/// Issues a card to each member, numbered from the tenant's format, in a few statements.
pub async fn issue_many(
    tx: &mut TenantTx,
    members: &[Uuid],
    by: &Actor<'_>,
) -> Result<(), DbError> {
    if members.is_empty() {
        return Ok(());
    }
    let f = format(tx).await?;
    let mut pending: Vec<Uuid> = members.to_vec();
    for _ in 0..20 {
        let numbers: Vec<String> = match f.mode {
            CardMode::Sequence => {
                let last: i64 = sqlx::query_scalar(
                    "UPDATE member_settings SET card_seq = card_seq + $1 RETURNING card_seq",
                )
                .bind(pending.len() as i64)
                .fetch_one(tx.conn())
                .await?;
                let first = last - pending.len() as i64 + 1;
                (first..=last)
                    .map(|s| f.number(s as u64))
                    .collect::<Result<_, _>>()
                    .map_err(DbError::Aborted)?
            }
            CardMode::Random => pending
                .iter()
                .map(|_| f.number(0))
                .collect::<Result<_, _>>()
                .map_err(DbError::Aborted)?,
        };
        let done: Vec<Uuid> = sqlx::query_scalar(
            "WITH ins AS (
                INSERT INTO member_cards (number, member_id, status, issued_at, changed_at)
                SELECT n, m, 'active', $3, $3 FROM UNNEST($1::text[], $2::uuid[]) AS u(n, m)
                ON CONFLICT (number) DO NOTHING RETURNING number, member_id
             ), ev AS (
                INSERT INTO card_events (number, member_id, at, actor, event)
                SELECT number, member_id, $3, $4, 'issued' FROM ins RETURNING member_id
             )
             SELECT member_id FROM ev",
        )
        .bind(&numbers)
        .bind(&pending)
        .bind(by.at)
        .bind(by.subject)
        .fetch_all(tx.conn())
        .await?;
        pending.retain(|m| !done.contains(m));
        if pending.is_empty() {
            return Ok(());
        }
    }
    Err(DbError::Aborted(
        "could not find free card numbers; widen the card format".into(),
    ))
}

/// Gives members the card numbers they already carry (imports). A number in use is
/// `Conflict("member_cards_pkey")`.
pub async fn issue_given(
    tx: &mut TenantTx,
    cards: &[(Uuid, String)],
    by: &Actor<'_>,
) -> Result<(), DbError> {
    if cards.is_empty() {
        return Ok(());
    }
    let members: Vec<Uuid> = cards.iter().map(|c| c.0).collect();
    let numbers: Vec<&str> = cards.iter().map(|c| c.1.as_str()).collect();
    sqlx::query(
        "WITH ins AS (
            INSERT INTO member_cards (number, member_id, status, issued_at, changed_at)
            SELECT n, m, 'active', $3, $3 FROM UNNEST($1::text[], $2::uuid[]) AS u(n, m)
            RETURNING number, member_id
         )
         INSERT INTO card_events (number, member_id, at, actor, event, detail)
         SELECT number, member_id, $3, $4, 'issued', '{\"imported\": true}' FROM ins",
    )
    .bind(&numbers)
    .bind(&members)
    .bind(by.at)
    .bind(by.subject)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which of these card numbers exist already.
pub async fn existing_numbers(
    tx: &mut TenantTx,
    numbers: &[String],
) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT number FROM member_cards WHERE number = ANY($1)")
            .bind(numbers)
            .fetch_all(tx.conn())
            .await?,
    )
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
