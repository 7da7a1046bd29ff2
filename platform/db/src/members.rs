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

/// A range condition on a custom field.
#[derive(Debug, Clone)]
pub enum CustomCondition {
    /// The value equals (JSON containment, GIN-indexed).
    Equals(String, Value),
    /// A number at least / at most.
    NumberRange(String, Option<f64>, Option<f64>),
    /// A date (or any ISO text) from / to, inclusive.
    TextRange(String, Option<String>, Option<String>),
}

/// How to order a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    JoinDate,
    Birthday,
    Name,
}

/// A member search: every condition given must hold.
#[derive(Debug, Clone)]
pub struct Search {
    pub card_number: Option<String>,
    pub phone_index: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub custom: Vec<CustomCondition>,
    pub joined_from: Option<NaiveDate>,
    pub joined_to: Option<NaiveDate>,
    pub birthday_from: Option<NaiveDate>,
    pub birthday_to: Option<NaiveDate>,
    /// Members standing on this tier.
    pub tier: Option<TierFilter>,
    pub include_erased: bool,
    pub sort: SortKey,
    pub descending: bool,
    /// Keyset: the sort value (as text) and id of the last row of the previous page.
    pub after: Option<(Option<String>, Uuid)>,
    pub limit: i64,
}

/// A tier to search by: its code, and whether it is the ladder's first tier (where members
/// without a standing are).
#[derive(Debug, Clone)]
pub struct TierFilter {
    pub code: String,
    pub first: bool,
}

/// A custom field key as SQL text: only the characters field keys may hold.
fn safe_key(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}

/// Per-field indexes for range searches on numbers and dates (idempotent).
pub async fn index_custom_field(
    tx: &mut TenantTx,
    key: &str,
    numeric: bool,
) -> Result<(), DbError> {
    let k = safe_key(key);
    let sql = if numeric {
        format!("CREATE INDEX IF NOT EXISTS members_cf_{k}_num ON members (member_cf_num(custom -> '{k}'))")
    } else {
        format!("CREATE INDEX IF NOT EXISTS members_cf_{k}_txt ON members ((custom ->> '{k}'))")
    };
    sqlx::query(&sql).execute(tx.conn()).await?;
    Ok(())
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL expression a sort key orders by, as text for the keyset cursor.
fn sort_expr(k: SortKey) -> &'static str {
    match k {
        SortKey::Created => "m.created_at",
        SortKey::JoinDate => "m.join_date",
        SortKey::Birthday => "m.birthday",
        SortKey::Name => "m.name",
    }
}

/// The sort value of a row, as the cursor carries it.
pub fn sort_value(m: &Member, k: SortKey) -> Option<String> {
    match k {
        SortKey::Created => Some(m.created_at.to_rfc3339()),
        SortKey::JoinDate => Some(m.join_date.to_string()),
        SortKey::Birthday => m.birthday.map(|d| d.to_string()),
        SortKey::Name => Some(m.name.clone()),
    }
}

fn push_conditions(q: &mut QueryBuilder<'_, Postgres>, s: &Search) {
    q.push(" WHERE true");
    if !s.include_erased {
        q.push(" AND m.status = 'active'");
    }
    if let Some(n) = &s.card_number {
        q.push(" AND m.id = (SELECT member_id FROM member_cards WHERE number = ")
            .push_bind(n.clone())
            .push(")");
    }
    if let Some(i) = &s.phone_index {
        q.push(" AND m.phone_index = ").push_bind(i.clone());
    }
    if let Some(i) = &s.email_index {
        q.push(" AND m.email_index = ").push_bind(i.clone());
    }
    if let Some(n) = &s.name {
        // One or two characters: trigrams cannot help, the name's pieces can. A piece match
        // is exact (the pieces are every lower-cased 1- and 2-character substring), so no
        // ILIKE is added: the planner would count the same condition twice, think matches
        // rare, and read every one of them instead of walking the piece's index.
        if by_piece(s) {
            // Walking one piece's members in order: the piece is the join's own condition.
            q.push(" AND g.gram = lower(")
                .push_bind(n.clone())
                .push(")");
        } else if short_name(s).is_some() {
            q.push(
                " AND EXISTS (SELECT 1 FROM member_name_grams g \
                 WHERE g.member_id = m.id AND g.gram = lower(",
            )
            .push_bind(n.clone())
            .push("))");
        } else {
            q.push(" AND m.name ILIKE ")
                .push_bind(format!("%{}%", like_escape(n)));
        }
    }
    if !s.tags.is_empty() {
        q.push(" AND m.tags @> ").push_bind(s.tags.clone());
    }
    if let Some(t) = &s.tier {
        if t.first {
            q.push(
                " AND NOT EXISTS (SELECT 1 FROM member_tiers t WHERE t.member_id = m.id \
                 AND t.tier <> ",
            )
            .push_bind(t.code.clone())
            .push(")");
        } else {
            q.push(
                " AND EXISTS (SELECT 1 FROM member_tiers t WHERE t.member_id = m.id AND t.tier = ",
            )
            .push_bind(t.code.clone())
            .push(")");
        }
    }
    for c in &s.custom {
        match c {
            CustomCondition::Equals(k, v) => {
                q.push(" AND m.custom @> ")
                    .push_bind(serde_json::json!({ k.clone(): v.clone() }));
            }
            // Keys are checked field keys (lowercase letters, digits, underscores), written
            // literally so the per-field expression indexes match.
            CustomCondition::NumberRange(k, lo, hi) => {
                let k = safe_key(k);
                if let Some(lo) = lo {
                    q.push(format!(" AND member_cf_num(m.custom -> '{k}') >= "))
                        .push_bind(*lo)
                        .push("::float8::numeric");
                }
                if let Some(hi) = hi {
                    q.push(format!(" AND member_cf_num(m.custom -> '{k}') <= "))
                        .push_bind(*hi)
                        .push("::float8::numeric");
                }
            }
            CustomCondition::TextRange(k, lo, hi) => {
                let k = safe_key(k);
                if let Some(lo) = lo {
                    q.push(format!(" AND (m.custom ->> '{k}') >= "))
                        .push_bind(lo.clone());
                }
                if let Some(hi) = hi {
                    q.push(format!(" AND (m.custom ->> '{k}') <= "))
                        .push_bind(hi.clone());
                }
            }
        }
    }
    if let Some(d) = s.joined_from {
        q.push(" AND m.join_date >= ").push_bind(d);
    }
    if let Some(d) = s.joined_to {
        q.push(" AND m.join_date <= ").push_bind(d);
    }
    if let Some(d) = s.birthday_from {
        q.push(" AND m.birthday >= ").push_bind(d);
    }
    if let Some(d) = s.birthday_to {
        q.push(" AND m.birthday <= ").push_bind(d);
    }
}

/// The name searched for when it is one or two characters: too short for trigrams, found
/// through the name's pieces (`member_name_grams`).
fn short_name(s: &Search) -> Option<&str> {
    s.name
        .as_deref()
        .filter(|n| (1..=2).contains(&n.chars().count()))
}

/// Whether the search walks one name piece's members newest (or oldest) first: a short
/// name in creation order. The piece index is ordered by (piece, created_at, member_id), so
/// the first page is read without looking at later matches, however many there are.
fn by_piece(s: &Search) -> bool {
    short_name(s).is_some() && s.sort == SortKey::Created
}

/// Finds members, one page at a time (keyset: pass the last row's sort value and id).
pub async fn search(tx: &mut TenantTx, s: &Search) -> Result<Vec<Member>, DbError> {
    let piece = by_piece(s);
    let mut q = QueryBuilder::<Postgres>::new(if piece {
        format!("SELECT {COLUMNS} FROM member_name_grams g JOIN members m ON m.id = g.member_id")
    } else {
        format!("SELECT {COLUMNS} FROM members m")
    });
    push_conditions(&mut q, s);
    // In piece order the piece's copy of (created_at, id) is what its index is sorted by.
    let (expr, id_col) = if piece {
        ("g.created_at", "g.member_id")
    } else {
        (sort_expr(s.sort), "m.id")
    };
    let cast = match s.sort {
        SortKey::Created => "timestamptz",
        SortKey::JoinDate | SortKey::Birthday => "date",
        SortKey::Name => "text",
    };
    let (cmp, dir) = if s.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let nullable = s.sort == SortKey::Birthday;
    if let Some((value, id)) = &s.after {
        match value {
            Some(v) => {
                q.push(format!(" AND (({expr}, {id_col}) {cmp} ("))
                    .push_bind(v.clone())
                    .push(format!("::{cast}, "))
                    .push_bind(*id)
                    .push(")");
                if nullable {
                    // Rows without a value sort last, after every cursor with one.
                    q.push(format!(" OR {expr} IS NULL"));
                }
                q.push(")");
            }
            // The cursor is among the rows without a value.
            None => {
                q.push(format!(" AND {expr} IS NULL AND {id_col} {cmp} "))
                    .push_bind(*id);
            }
        }
    }
    let nulls = if nullable { " NULLS LAST" } else { "" };
    q.push(format!(
        " ORDER BY {expr} {dir}{nulls}, {id_col} {dir} LIMIT "
    ))
    .push_bind(s.limit);
    // A page stops early along an ordered index; parallel workers only add their start-up
    // (tens of milliseconds on a busy machine) to it. For this transaction only.
    sqlx::query("SELECT set_config('max_parallel_workers_per_gather', '0', true)")
        .execute(tx.conn())
        .await?;
    // Planned afresh with the actual values every time: a cached generic plan cannot tell a
    // rare name from a common one and picks scans that are slow for one or the other.
    Ok(q.build_query_as()
        .persistent(false)
        .fetch_all(tx.conn())
        .await?)
}

/// An import's progress and report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Import {
    pub id: Uuid,
    pub format: String,
    pub mode: String,
    pub status: String,
    pub rows_read: i64,
    pub rows_valid: i64,
    pub rows_imported: i64,
    pub error_count: i64,
    pub errors: Value,
    pub message: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const IMPORT_COLUMNS: &str = "id, format, mode, status, rows_read, rows_valid, rows_imported, \
    error_count, errors, message, created_by, created_at, finished_at";

pub async fn import_start(
    tx: &mut TenantTx,
    id: Uuid,
    format: &str,
    mode: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Import, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO member_imports (id, format, mode, status, created_by, created_at)
         VALUES ($1, $2, $3, 'running', $4, $5) RETURNING {IMPORT_COLUMNS}"
    ))
    .bind(id)
    .bind(format)
    .bind(mode)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?)
}

/// Records progress, or the outcome when `status` is `done` or `failed`.
#[allow(clippy::too_many_arguments)]
pub async fn import_progress(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    rows_read: i64,
    rows_valid: i64,
    rows_imported: i64,
    error_count: i64,
    errors: &Value,
    message: Option<&str>,
    finished_at: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE member_imports SET status = $2, rows_read = $3, rows_valid = $4, rows_imported = $5,
            error_count = $6, errors = $7, message = $8, finished_at = $9 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(rows_read)
    .bind(rows_valid)
    .bind(rows_imported)
    .bind(error_count)
    .bind(errors)
    .bind(message)
    .bind(finished_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn import_get(tx: &mut TenantTx, id: Uuid) -> Result<Import, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {IMPORT_COLUMNS} FROM member_imports WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// A member's sealed phone and e-mail as stored, for re-sealing under the current key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedPii {
    pub id: Uuid,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_key: Option<i16>,
    pub phone_index: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub email_key: Option<i16>,
    pub email_index: Option<Vec<u8>>,
}

/// How many members hold a phone or e-mail sealed under a key other than `current`.
pub async fn count_sealed_under_other_keys(
    tx: &mut TenantTx,
    current: i16,
) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM members WHERE phone_key <> $1 OR email_key <> $1")
            .bind(current)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// The next `limit` members, in id order after `after`, holding a phone or e-mail sealed
/// under a key other than `current`.
pub async fn sealed_under_other_keys(
    tx: &mut TenantTx,
    current: i16,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SealedPii>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, phone_enc, phone_key, phone_index, email_enc, email_key, email_index
         FROM members
         WHERE (phone_key <> $1 OR email_key <> $1) AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3",
    )
    .bind(current)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// One sealed value re-sealed: the member, the ciphertext it replaces, and the new one.
#[derive(Debug, Clone)]
pub struct Resealed {
    pub id: Uuid,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Writes re-sealed phones (`column` = `phone`) or e-mails (`email`) under `key_id`. Each
/// row is written only if it still holds the ciphertext that was re-sealed: a value changed
/// in the meantime was written under the current key already and is left alone. The
/// member's `updated_at` stays: the member did not change. Returns how many were written.
pub async fn write_resealed(
    tx: &mut TenantTx,
    column: &str,
    key_id: i16,
    rows: &[Resealed],
) -> Result<u64, DbError> {
    let column = match column {
        "phone" => "phone",
        "email" => "email",
        other => unreachable!("no sealed column {other}"),
    };
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let old: Vec<&[u8]> = rows.iter().map(|r| r.old.as_slice()).collect();
    let new: Vec<&[u8]> = rows.iter().map(|r| r.new.as_slice()).collect();
    let done = sqlx::query(&format!(
        "UPDATE members m SET {column}_enc = u.new, {column}_key = $4
         FROM UNNEST($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, old, new)
         WHERE m.id = u.id AND m.{column}_enc = u.old"
    ))
    .bind(&ids)
    .bind(&old)
    .bind(&new)
    .bind(key_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
