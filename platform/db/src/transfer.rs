//! One business to a file and back: its schema (every table, in one consistent snapshot)
//! and its rows in the `platform` schema, so that it can move to another database (another
//! cluster) or be restored from a backup without touching the other businesses.
//!
//! The file is text: a first line naming the format, a JSON header, then for each table a
//! `TABLE {json}` line (where, which columns, the sequences' values) followed by the rows in
//! PostgreSQL's COPY text format and a `\.` line. COPY escapes line breaks and backslashes
//! inside values, so a `\.` line only ever ends a table.

use crate::migrate;
use crate::tenancy::TenantTx;
use crate::{Db, DbError};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};

/// The first line of every export.
pub const FORMAT: &str = "PATRON-TENANT-EXPORT 1";

/// Platform tables whose rows are not part of a business's data: queued work (the job runner
/// fans it out again), live support sessions and rate windows.
const PLATFORM_SKIPPED: &[&str] = &["jobs", "support_sessions", "rate_windows"];

/// What an export holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub slug: String,
    pub tenant_id: i64,
    pub schema: String,
    pub schema_version: i64,
    pub exported_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableHeader {
    /// `platform`, or `tenant` for the business's own schema.
    area: String,
    table: String,
    columns: Vec<String>,
    /// The schema's sequences and their last values (on the first tenant table only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sequences: Vec<(String, i64)>,
}

/// How many rows went into or came out of each table.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub header: Option<Header>,
    pub rows: BTreeMap<String, u64>,
}

fn bad(text: impl Into<String>) -> DbError {
    DbError::Aborted(text.into())
}

fn io(e: std::io::Error) -> DbError {
    bad(format!("file: {e}"))
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns COPY reads and writes (not dropped, not generated), in order.
async fn columns(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = ''
         ORDER BY a.attnum",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(&mut *conn)
    .await?)
}

/// The schema's tables (partitioned parents, not their partitions), each after the tables
/// its foreign keys point to.
async fn tables_in_order(conn: &mut PgConnection, schema: &str) -> Result<Vec<String>, DbError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, r.relname::text FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_namespace rn ON rn.oid = r.relnamespace
         WHERE k.contype = 'f' AND n.nspname = $1 AND rn.nspname = $1 AND c.oid <> r.oid",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let mut ordered = Vec::with_capacity(tables.len());
    let mut placed = BTreeSet::new();
    while ordered.len() < tables.len() {
        let before = ordered.len();
        for t in &tables {
            if placed.contains(t) {
                continue;
            }
            let ready = edges
                .iter()
                .filter(|(from, _)| from == t)
                .all(|(_, to)| placed.contains(to) || !tables.contains(to));
            if ready {
                placed.insert(t.clone());
                ordered.push(t.clone());
            }
        }
        if ordered.len() == before {
            return Err(bad(format!("foreign keys in {schema} form a cycle")));
        }
    }
    Ok(ordered)
}

/// Platform tables holding rows of one business (a `tenant_id` column), but `tenants` itself.
async fn platform_tables(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE n.nspname = 'platform' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(names
        .into_iter()
        .filter(|n| !PLATFORM_SKIPPED.contains(&n.as_str()))
        .collect())
}

async fn copy_out(
    conn: &mut PgConnection,
    out: &mut impl Write,
    header: &TableHeader,
    select: String,
) -> Result<u64, DbError> {
    writeln!(
        out,
        "TABLE {}",
        serde_json::to_string(header).expect("a header")
    )
    .map_err(io)?;
    let mut rows = 0u64;
    let mut stream = conn
        .copy_out_raw(&format!("COPY ({select}) TO STDOUT"))
        .await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        out.write_all(&chunk).map_err(io)?;
    }
    writeln!(out, "\\.").map_err(io)?;
    Ok(rows)
}

/// Writes the business `slug` to `out`, from one snapshot of the database.
pub async fn export(db: &Db, slug: &str, out: &mut impl Write) -> Result<Summary, DbError> {
    let mut tx = db
        .pool()
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, schema_name, schema_version FROM platform.tenants WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(&mut *tx)
    .await?;
    let (tenant_id, schema, schema_version) = row.ok_or(DbError::NotFound)?;
    let header = Header {
        slug: slug.to_owned(),
        tenant_id,
        schema: schema.clone(),
        schema_version,
        exported_at: Utc::now(),
    };
    writeln!(out, "{FORMAT}").map_err(io)?;
    writeln!(out, "{}", serde_json::to_string(&header).expect("a header")).map_err(io)?;
    let mut summary = Summary {
        header: Some(header),
        rows: BTreeMap::new(),
    };

    // The platform's row of the business first, then its other platform rows.
    let mut platform = vec!["tenants".to_owned()];
    platform.extend(platform_tables(&mut tx).await?);
    for table in &platform {
        let cols = columns(&mut tx, "platform", table).await?;
        let key = if table == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let list = cols
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!(
            "SELECT {list} FROM platform.{} WHERE {key} = {tenant_id}",
            quoted(table)
        );
        let h = TableHeader {
            area: "platform".into(),
            table: table.clone(),
            columns: cols,
            sequences: vec![],
        };
        let n = copy_out(&mut tx, out, &h, select).await?;
        summary.rows.insert(format!("platform.{table}"), n);
    }

    let sequences: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT sequencename::text, last_value FROM pg_sequences WHERE schemaname = $1",
    )
    .bind(&schema)
    .fetch_all(&mut *tx)
    .await?;
    let mut sequences: Vec<(String, i64)> = sequences
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect();
    for table in tables_in_order(&mut tx, &schema).await? {
        let cols = columns(&mut tx, &schema, &table).await?;
        let list = cols
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!("SELECT {list} FROM {}.{}", quoted(&schema), quoted(&table));
        let h = TableHeader {
            area: "tenant".into(),
            table: table.clone(),
            columns: cols,
            sequences: std::mem::take(&mut sequences),
        };
        let n = copy_out(&mut tx, out, &h, select).await?;
        summary.rows.insert(table, n);
    }
    out.flush().map_err(io)?;
    tx.commit().await?;
    Ok(summary)
}

/// Reads one table's rows (up to the `\.` line) and sends them to `COPY ... FROM STDIN`.
async fn copy_in(
    conn: &mut PgConnection,
    input: &mut impl BufRead,
    target: &str,
    columns: &[String],
) -> Result<u64, DbError> {
    let list = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let mut copy = conn
        .copy_in_raw(&format!("COPY {target} ({list}) FROM STDIN"))
        .await?;
    let mut rows = 0u64;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(io)? == 0 {
            let _ = copy.abort("truncated").await;
            return Err(bad(format!("the file ends inside {target}")));
        }
        if line == b"\\.\n" {
            break;
        }
        rows += 1;
        buf.extend_from_slice(&line);
        if buf.len() >= 1 << 16 {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(rows)
}

/// Restores an export into this database, in one transaction: the business's platform rows
/// with their ids, and its schema, made by this version's migrations and then filled. The
/// export must come from the same tenant schema version. With `replace`, a business with the
/// same id or slug is deleted first (restoring one business from a backup); without it, one
/// is refused.
pub async fn import(db: &Db, input: &mut impl BufRead, replace: bool) -> Result<Summary, DbError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(io)?;
    if line.trim_end() != FORMAT {
        return Err(bad(format!(
            "not a Patron tenant export (first line {:?})",
            line.trim_end()
        )));
    }
    line.clear();
    input.read_line(&mut line).map_err(io)?;
    let header: Header =
        serde_json::from_str(&line).map_err(|e| bad(format!("export header: {e}")))?;
    let latest = migrate::latest_tenant_version();
    if header.schema_version != latest {
        return Err(bad(format!(
            "the export's tenant schema is at version {}, this server's at {latest}: import it with the same version of Patron, then migrate",
            header.schema_version
        )));
    }
    let mut tx = db.begin("BEGIN").await?;
    let existing: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, schema_name FROM platform.tenants WHERE id = $1 OR slug = $2")
            .bind(header.tenant_id)
            .bind(&header.slug)
            .fetch_all(&mut *tx)
            .await?;
    if !existing.is_empty() {
        if !replace {
            return Err(bad(format!(
                "this database already has a business with id {} or slug {} (use --replace to overwrite it)",
                header.tenant_id, header.slug
            )));
        }
        for (id, schema) in existing {
            sqlx::query(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quoted(&schema)
            ))
            .execute(&mut *tx)
            .await?;
            for table in platform_tables(&mut tx).await? {
                sqlx::query(&format!(
                    "DELETE FROM platform.{} WHERE tenant_id = $1",
                    quoted(&table)
                ))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("DELETE FROM platform.tenants WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut summary = Summary {
        header: Some(header.clone()),
        rows: BTreeMap::new(),
    };
    let schema = header.schema.clone();
    // The plain transaction until the schema exists, then the same one scoped to it.
    let mut plain = Some(tx);
    let mut ttx: Option<TenantTx> = None;
    let mut tenant_tables: Vec<String> = Vec::new();
    loop {
        line.clear();
        if input.read_line(&mut line).map_err(io)? == 0 {
            break;
        }
        let Some(json) = line.trim_end().strip_prefix("TABLE ") else {
            return Err(bad(format!("unexpected line {:?}", line.trim_end())));
        };
        let h: TableHeader =
            serde_json::from_str(json).map_err(|e| bad(format!("table header: {e}")))?;
        match h.area.as_str() {
            "platform" => {
                let conn: &mut PgConnection = match (ttx.as_mut(), plain.as_mut()) {
                    (Some(t), _) => t.conn(),
                    (None, Some(p)) => p,
                    (None, None) => unreachable!("one transaction is open"),
                };
                let target = format!("platform.{}", quoted(&h.table));
                let n = copy_in(conn, input, &target, &h.columns).await?;
                summary.rows.insert(format!("platform.{}", h.table), n);
            }
            "tenant" => {
                if ttx.is_none() {
                    // The platform row is in: make the schema as signup does, then empty it
                    // (the export holds everything, also what the migrations seed).
                    let mut tx = plain.take().expect("the plain transaction");
                    // A spare schema this database made under the same id gives way (it
                    // is no business's; another is made in its place).
                    let spare: Option<i64> = sqlx::query_scalar(
                        "DELETE FROM platform.spare_schemas WHERE id = $1 RETURNING id",
                    )
                    .bind(header.tenant_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if spare.is_some() {
                        sqlx::query(&format!("DROP SCHEMA {} CASCADE", quoted(&schema)))
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query(&format!("CREATE SCHEMA {}", quoted(&schema)))
                        .execute(&mut *tx)
                        .await?;
                    let mut scoped = TenantTx::scope(tx, header.tenant_id, schema.clone()).await?;
                    migrate::apply_tenant_migrations(&mut scoped).await?;
                    tenant_tables = tables_in_order(scoped.conn(), &schema).await?;
                    let all = tenant_tables
                        .iter()
                        .map(|t| format!("{}.{}", quoted(&schema), quoted(t)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if !all.is_empty() {
                        sqlx::query(&format!("TRUNCATE {all}"))
                            .execute(scoped.conn())
                            .await?;
                    }
                    for t in &tenant_tables {
                        sqlx::query(&format!(
                            "ALTER TABLE {}.{} DISABLE TRIGGER USER",
                            quoted(&schema),
                            quoted(t)
                        ))
                        .execute(scoped.conn())
                        .await?;
                    }
                    ttx = Some(scoped);
                }
                let scoped = ttx.as_mut().expect("scoped");
                if !tenant_tables.contains(&h.table) {
                    return Err(bad(format!(
                        "the export has a table {} this version does not",
                        h.table
                    )));
                }
                for (seq, value) in &h.sequences {
                    sqlx::query("SELECT setval($1::regclass, $2)")
                        .bind(format!("{}.{}", quoted(&schema), quoted(seq)))
                        .bind(value)
                        .execute(scoped.conn())
                        .await?;
                }
                let target = format!("{}.{}", quoted(&schema), quoted(&h.table));
                let n = copy_in(scoped.conn(), input, &target, &h.columns).await?;
                summary.rows.insert(h.table.clone(), n);
            }
            other => return Err(bad(format!("unknown table area {other:?}"))),
        }
    }
    let Some(mut scoped) = ttx else {
        return Err(bad("the export has no tables of the business"));
    };
    for t in &tenant_tables {
        sqlx::query(&format!(
            "ALTER TABLE {}.{} ENABLE TRIGGER USER",
            quoted(&schema),
            quoted(t)
        ))
        .execute(scoped.conn())
        .await?;
    }
    // Serial ids of the platform rows brought in: the sequences must not hand them out again.
    let serials: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'platform' AND c.relkind = 'r'
           AND pg_get_serial_sequence('platform.' || quote_ident(c.relname), a.attname) IS NOT NULL",
    )
    .fetch_all(scoped.conn())
    .await?;
    for (table, column) in serials {
        sqlx::query(&format!(
            "SELECT setval(q.seq, m) FROM
               (SELECT pg_get_serial_sequence($1, $2)::regclass AS seq,
                       (SELECT max({c}) FROM platform.{t}) AS m) q
             WHERE m IS NOT NULL AND m > COALESCE((SELECT last_value FROM pg_sequences
                   WHERE format('%I.%I', schemaname, sequencename)::regclass = q.seq), 0)",
            c = quoted(&column),
            t = quoted(&table),
        ))
        .bind(format!("platform.{}", quoted(&table)))
        .bind(&column)
        .execute(scoped.conn())
        .await?;
    }
    scoped.commit().await?;
    Ok(summary)
}
