//! The member register: members with their personal data sealed (encrypted, plus a blind
//! index to find them), the per-member audit log, search and erasure.
//!
//! [`create`] is the one way a member comes into being, whatever the channel (counter,
//! portal, import), so limits and side effects hooked there apply everywhere.

use crate::{cards, DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

mod files;
mod search;

pub use files::*;
pub use search::*;

/// An encrypted value with the id of the key that sealed it and its blind index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub key_id: i16,
    pub index: Vec<u8>,
}

/// Everything about a member that can be written.
#[derive(Debug, Clone)]
pub struct MemberData {
    pub name: String,
    pub phone: Option<Sealed>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub email: Option<Sealed>,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub join_date: NaiveDate,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    pub custom: Value,
}

/// A member as stored, with the number of the card in use.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub id: Uuid,
    pub status: String,
    pub name: String,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_key: Option<i16>,
    pub phone_index: Option<Vec<u8>>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub email_enc: Option<Vec<u8>>,
    pub email_key: Option<i16>,
    pub email_index: Option<Vec<u8>>,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub join_date: NaiveDate,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    pub custom: Value,
    pub channel: String,
    pub password_hash: Option<String>,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub card_number: Option<String>,
    /// The point balance, read only by searches sorted by points (for their cursor).
    #[sqlx(default)]
    pub sort_balance: Option<i64>,
}

impl Member {
    pub fn phone(&self) -> Option<Sealed> {
        sealed(&self.phone_enc, self.phone_key, &self.phone_index)
    }

    pub fn email(&self) -> Option<Sealed> {
        sealed(&self.email_enc, self.email_key, &self.email_index)
    }
}

fn sealed(c: &Option<Vec<u8>>, k: Option<i16>, i: &Option<Vec<u8>>) -> Option<Sealed> {
    match (c, k, i) {
        (Some(c), Some(k), Some(i)) => Some(Sealed {
            ciphertext: c.clone(),
            key_id: k,
            index: i.clone(),
        }),
        _ => None,
    }
}

pub(crate) const COLUMNS: &str = "m.id, m.status, m.name, m.phone_enc, m.phone_key, m.phone_index, \
    m.phone_verified_at, m.email_enc, m.email_key, m.email_index, m.gender, m.birthday, \
    m.join_date, m.home_store, m.tags, m.notes, m.referrer_id, m.custom, m.channel, \
    m.password_hash, m.failed_logins, m.locked_until, m.erased_at, m.created_at, m.updated_at, \
    (SELECT c.number FROM member_cards c WHERE c.member_id = m.id AND c.status = 'active') AS card_number";

/// Who made a change and through which channel.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub subject: &'a str,
    pub channel: patron_core::members::Channel,
    pub at: DateTime<Utc>,
}

/// Members not erased: what plan limits count.
pub async fn count_active(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM members WHERE status = 'active'")
            .fetch_one(tx.conn())
            .await?,
    )
}

/// One member to register: their data, a portal password hash, and optionally the card
/// number they already carry (imports); otherwise one is issued from the tenant's format.
#[derive(Debug, Clone)]
pub struct NewMemberRow {
    pub data: MemberData,
    pub password_hash: Option<String>,
    pub card_number: Option<String>,
}

/// Ciphertexts, key ids and blind indexes of one sealed column, row by row.
type SealedColumns = (Vec<Option<Vec<u8>>>, Vec<Option<i16>>, Vec<Option<Vec<u8>>>);

/// Registers one member and issues their card. A taken phone or e-mail is
/// `Conflict("members_phone_key" | "members_email_key")`.
pub async fn create(
    tx: &mut TenantTx,
    data: &MemberData,
    password_hash: Option<&str>,
    by: &Actor<'_>,
) -> Result<Member, DbError> {
    let row = NewMemberRow {
        data: data.clone(),
        password_hash: password_hash.map(str::to_owned),
        card_number: None,
    };
    let ids = create_many(tx, std::slice::from_ref(&row), by).await?;
    get(tx, ids[0]).await
}

/// Registers members in bulk, each with a card and an audit entry, in a handful of
/// statements whatever the count. The single creation path for every channel (counter,
/// portal, import): limits and side effects hooked here apply everywhere.
pub async fn create_many(
    tx: &mut TenantTx,
    rows: &[NewMemberRow],
    by: &Actor<'_>,
) -> Result<Vec<Uuid>, DbError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let col = |f: fn(&MemberData) -> Option<&Sealed>| -> SealedColumns {
        let mut c = Vec::with_capacity(rows.len());
        let mut k = Vec::with_capacity(rows.len());
        let mut i = Vec::with_capacity(rows.len());
        for r in rows {
            let s = f(&r.data);
            c.push(s.map(|s| s.ciphertext.clone()));
            k.push(s.map(|s| s.key_id));
            i.push(s.map(|s| s.index.clone()));
        }
        (c, k, i)
    };
    let (pc, pk, pi) = col(|d| d.phone.as_ref());
    let (ec, ek, ei) = col(|d| d.email.as_ref());
    let names: Vec<&str> = rows.iter().map(|r| r.data.name.as_str()).collect();
    let verified: Vec<Option<DateTime<Utc>>> =
        rows.iter().map(|r| r.data.phone_verified_at).collect();
    let genders: Vec<Option<&str>> = rows.iter().map(|r| r.data.gender.as_deref()).collect();
    let birthdays: Vec<Option<NaiveDate>> = rows.iter().map(|r| r.data.birthday).collect();
    let joins: Vec<NaiveDate> = rows.iter().map(|r| r.data.join_date).collect();
    let stores: Vec<Option<&str>> = rows.iter().map(|r| r.data.home_store.as_deref()).collect();
    let tags: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::json!(r.data.tags))
        .collect();
    let notes: Vec<Option<&str>> = rows.iter().map(|r| r.data.notes.as_deref()).collect();
    let referrers: Vec<Option<Uuid>> = rows.iter().map(|r| r.data.referrer_id).collect();
    let customs: Vec<Value> = rows.iter().map(|r| r.data.custom.clone()).collect();
    let hashes: Vec<Option<&str>> = rows.iter().map(|r| r.password_hash.as_deref()).collect();
    sqlx::query(
        "INSERT INTO members (id, name, phone_enc, phone_key, phone_index, phone_verified_at,
            email_enc, email_key, email_index, gender, birthday, join_date, home_store, tags, notes,
            referrer_id, custom, channel, password_hash, created_at, updated_at)
         SELECT u.id, u.name, u.pc, u.pk, u.pi, u.pv, u.ec, u.ek, u.ei, u.gender, u.birthday,
            u.join_date, u.store, ARRAY(SELECT jsonb_array_elements_text(u.tags)), u.notes,
            u.referrer, u.custom, $18, u.hash, $19, $19
         FROM UNNEST($1::uuid[], $2::text[], $3::bytea[], $4::smallint[], $5::bytea[],
            $6::timestamptz[], $7::bytea[], $8::smallint[], $9::bytea[], $10::text[], $11::date[],
            $12::date[], $13::text[], $14::jsonb[], $15::text[], $16::uuid[], $17::jsonb[], $20::text[])
         AS u(id, name, pc, pk, pi, pv, ec, ek, ei, gender, birthday, join_date, store, tags, notes,
            referrer, custom, hash)",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&pc)
    .bind(&pk)
    .bind(&pi)
    .bind(&verified)
    .bind(&ec)
    .bind(&ek)
    .bind(&ei)
    .bind(&genders)
    .bind(&birthdays)
    .bind(&joins)
    .bind(&stores)
    .bind(&tags)
    .bind(&notes)
    .bind(&referrers)
    .bind(&customs)
    .bind(by.channel.as_str())
    .bind(by.at)
    .bind(&hashes)
    .execute(tx.conn())
    .await?;
    let given: Vec<(Uuid, String)> = ids
        .iter()
        .zip(rows)
        .filter_map(|(id, r)| r.card_number.clone().map(|n| (*id, n)))
        .collect();
    let needing: Vec<Uuid> = ids
        .iter()
        .zip(rows)
        .filter(|(_, r)| r.card_number.is_none())
        .map(|(id, _)| *id)
        .collect();
    cards::issue_given(tx, &given, by).await?;
    cards::issue_many(tx, &needing, by).await?;
    sqlx::query(
        "INSERT INTO member_audit (member_id, at, actor, channel, action)
         SELECT id, $2, $3, $4, 'member.created' FROM UNNEST($1::uuid[]) AS u(id)",
    )
    .bind(&ids)
    .bind(by.at)
    .bind(by.subject)
    .bind(by.channel.as_str())
    .execute(tx.conn())
    .await?;
    Ok(ids)
}

/// Which of these blind indexes already belong to a member (phone or e-mail).
pub async fn existing_indexes(
    tx: &mut TenantTx,
    phones: &[Vec<u8>],
    emails: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT phone_index FROM members WHERE phone_index = ANY($1)
         UNION ALL SELECT email_index FROM members WHERE email_index = ANY($2)",
    )
    .bind(phones)
    .bind(emails)
    .fetch_all(tx.conn())
    .await?)
}

/// A member of this tenant; `NotFound` otherwise.
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Member, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM members m WHERE m.id = $1"))
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// The member locked for an edit.
pub async fn get_for_update(tx: &mut TenantTx, id: Uuid) -> Result<Member, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM members m WHERE m.id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn find_by_phone_index(
    tx: &mut TenantTx,
    index: &[u8],
) -> Result<Option<Member>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM members m WHERE m.phone_index = $1"
    ))
    .bind(index)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn find_by_email_index(
    tx: &mut TenantTx,
    index: &[u8],
) -> Result<Option<Member>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM members m WHERE m.email_index = $1"
    ))
    .bind(index)
    .fetch_optional(tx.conn())
    .await?)
}

/// Writes a member's data as given (the caller merged and checked it).
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    data: &MemberData,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE members SET name = $2, phone_enc = $3, phone_key = $4, phone_index = $5,
            phone_verified_at = $6, email_enc = $7, email_key = $8, email_index = $9, gender = $10,
            birthday = $11, join_date = $12, home_store = $13, tags = $14, notes = $15,
            referrer_id = $16, custom = $17, updated_at = $18
         WHERE id = $1",
    )
    .bind(id)
    .bind(&data.name)
    .bind(data.phone.as_ref().map(|s| &s.ciphertext))
    .bind(data.phone.as_ref().map(|s| s.key_id))
    .bind(data.phone.as_ref().map(|s| &s.index))
    .bind(data.phone_verified_at)
    .bind(data.email.as_ref().map(|s| &s.ciphertext))
    .bind(data.email.as_ref().map(|s| s.key_id))
    .bind(data.email.as_ref().map(|s| &s.index))
    .bind(&data.gender)
    .bind(data.birthday)
    .bind(data.join_date)
    .bind(&data.home_store)
    .bind(&data.tags)
    .bind(&data.notes)
    .bind(data.referrer_id)
    .bind(&data.custom)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn set_password(tx: &mut TenantTx, id: Uuid, hash: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE members SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Counts a failed portal login and locks until `lock_until` when given.
pub async fn login_failed(
    tx: &mut TenantTx,
    id: Uuid,
    lock_until: Option<DateTime<Utc>>,
) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE members SET failed_logins = failed_logins + 1, locked_until = coalesce($2, locked_until)
         WHERE id = $1 RETURNING failed_logins",
    )
    .bind(id)
    .bind(lock_until)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn login_succeeded(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    sqlx::query("UPDATE members SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Removes a member's personal data for good. The row, its id, cards and everything that
/// refers to it stay, so ledgers and aggregates still add up; the name becomes anonymous.
pub async fn erase(tx: &mut TenantTx, id: Uuid, by: &Actor<'_>) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE members SET status = 'erased', name = '', phone_enc = NULL, phone_key = NULL,
            phone_index = NULL, phone_verified_at = NULL, email_enc = NULL, email_key = NULL,
            email_index = NULL, gender = NULL, birthday = NULL, home_store = NULL, tags = '{}',
            notes = NULL, custom = '{}', password_hash = NULL, erased_at = $2, updated_at = $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(by.at)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE member_sessions SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(by.at)
    .execute(tx.conn())
    .await?;
    audit(tx, id, by, "member.erased", None, None, None).await?;
    Ok(())
}

/// Appends one entry to the member's audit log.
pub async fn audit(
    tx: &mut TenantTx,
    member_id: Uuid,
    by: &Actor<'_>,
    action: &str,
    field: Option<&str>,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_audit (member_id, at, actor, channel, action, field, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(member_id)
    .bind(by.at)
    .bind(by.subject)
    .bind(by.channel.as_str())
    .bind(action)
    .bind(field)
    .bind(before)
    .bind(after)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub channel: String,
    pub action: String,
    pub field: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A member's audit log, oldest first, `after` an id for paging.
pub async fn audit_log(
    tx: &mut TenantTx,
    member_id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, channel, action, field, before, after FROM member_audit
         WHERE member_id = $1 AND ($2::bigint IS NULL OR id > $2) ORDER BY id LIMIT $3",
    )
    .bind(member_id)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
