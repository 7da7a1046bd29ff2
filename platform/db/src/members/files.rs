//! Imports' progress rows, and the re-sealing of phones and e-mails after a key rotation
//! (`patron pii rekey`).

use super::*;

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
    pub message_code: Option<String>,
    pub message_params: Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const IMPORT_COLUMNS: &str = "id, format, mode, status, rows_read, rows_valid, rows_imported, \
    error_count, errors, message, message_code, message_params, created_by, created_at, \
    finished_at";

pub async fn import_start(
    tx: &mut TenantTx,
    id: Uuid,
    format: &str,
    mode: &str,
    mapping: &Value,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Import, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO member_imports (id, format, mode, mapping, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING {IMPORT_COLUMNS}"
    ))
    .bind(id)
    .bind(format)
    .bind(mode)
    .bind(mapping)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?)
}

/// Stores part `part` of an import's file.
pub async fn import_file_put(
    tx: &mut TenantTx,
    id: Uuid,
    part: i32,
    data: &[u8],
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO member_import_files (import_id, part, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(part)
        .bind(data)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Part `part` of an import's file (`None` past the last).
pub async fn import_file_part(
    tx: &mut TenantTx,
    id: Uuid,
    part: i32,
) -> Result<Option<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT data FROM member_import_files WHERE import_id = $1 AND part = $2",
    )
    .bind(id)
    .bind(part)
    .fetch_optional(tx.conn())
    .await?)
}

/// What a run of an import needs from its row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRun {
    pub format: String,
    pub mode: String,
    pub mapping: Value,
    pub created_by: String,
}

/// Makes run `attempt` the one that may record the import's progress and outcome, its
/// counts starting again from nothing. `None` when the import has ended, or a later run
/// has taken it over: this run has nothing to do.
pub async fn import_take_over(
    tx: &mut TenantTx,
    id: Uuid,
    attempt: i32,
) -> Result<Option<ImportRun>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE member_imports SET attempt = $2, rows_read = 0, rows_valid = 0,
             rows_imported = 0, error_count = 0, errors = '[]'
         WHERE id = $1 AND status = 'running' AND attempt <= $2
         RETURNING format, mode, mapping, created_by",
    )
    .bind(id)
    .bind(attempt)
    .fetch_optional(tx.conn())
    .await?)
}

/// Drops an import's file (its import has ended).
pub async fn import_file_drop(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    sqlx::query("DELETE FROM member_import_files WHERE import_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// An import's counts and report as they stand.
#[derive(Debug, Clone, Default)]
pub struct ImportCounts<'a> {
    pub rows_read: i64,
    pub rows_valid: i64,
    pub rows_imported: i64,
    pub error_count: i64,
    pub errors: Option<&'a Value>,
}

/// Why an import failed: English words, a stable code and its values.
#[derive(Debug, Clone, Copy)]
pub struct ImportMessage<'a> {
    pub text: &'a str,
    pub code: &'a str,
    pub params: &'a Value,
}

/// Records run `attempt`'s progress, or its outcome when `status` is `done` or `failed`.
/// `false` (nothing written) when a later run has taken the import over.
pub async fn import_progress(
    tx: &mut TenantTx,
    id: Uuid,
    attempt: i32,
    status: &str,
    counts: &ImportCounts<'_>,
    message: Option<ImportMessage<'_>>,
    finished_at: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE member_imports SET status = $3, rows_read = $4, rows_valid = $5,
            rows_imported = $6, error_count = $7, errors = COALESCE($8, errors), message = $9,
            finished_at = $10, message_code = $11, message_params = COALESCE($12, '{}')
         WHERE id = $1 AND attempt = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(status)
    .bind(counts.rows_read)
    .bind(counts.rows_valid)
    .bind(counts.rows_imported)
    .bind(counts.error_count)
    .bind(counts.errors)
    .bind(message.map(|m| m.text))
    .bind(finished_at)
    .bind(message.map(|m| m.code))
    .bind(message.map(|m| m.params))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
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
