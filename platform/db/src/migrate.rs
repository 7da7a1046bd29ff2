//! Migrations: the shared `platform` schema first, then every tenant schema.
//!
//! Tenant migrations are applied per schema inside one transaction per tenant, with that
//! tenant's row locked, so two migrators never apply the same step twice and a failure leaves
//! that tenant exactly where it was. Tenants already at the latest version are skipped, so a
//! run that stopped half way simply resumes.

use crate::tenancy::{TenantRow, TENANT_COLUMNS};
use crate::{Db, DbError, Tenant, TenantTx};
use futures::StreamExt;
use sqlx::migrate::Migrator;

static PLATFORM: Migrator = sqlx::migrate!("../../migrations/platform");
static TENANT: Migrator = sqlx::migrate!("../../migrations/tenant");

/// The version every tenant schema should reach.
pub fn latest_tenant_version() -> i64 {
    TENANT.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Applies pending platform migrations.
pub async fn migrate_platform(db: &Db) -> Result<(), DbError> {
    PLATFORM.run(db.pool()).await?;
    Ok(())
}

/// Whether the database can be served as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Platform migrations missing (count), or tenant schemas behind (count).
    NotMigrated {
        platform_pending: usize,
        tenants_behind: i64,
    },
}

pub async fn readiness(db: &Db) -> Result<Readiness, DbError> {
    let has_table: bool =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations') IS NOT NULL")
            .fetch_one(db.pool())
            .await?;
    let applied: Vec<i64> = if has_table {
        sqlx::query_scalar("SELECT version FROM public._sqlx_migrations WHERE success")
            .fetch_all(db.pool())
            .await?
    } else {
        Vec::new()
    };
    let platform_pending = PLATFORM
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .count();
    if platform_pending > 0 {
        return Ok(Readiness::NotMigrated {
            platform_pending,
            tenants_behind: 0,
        });
    }
    let tenants_behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.tenants WHERE schema_version < $1 AND purged_at IS NULL",
    )
    .bind(latest_tenant_version())
    .fetch_one(db.pool())
    .await?;
    Ok(if tenants_behind > 0 {
        Readiness::NotMigrated {
            platform_pending: 0,
            tenants_behind,
        }
    } else {
        Readiness::Ready
    })
}

/// Applies the pending tenant migrations to the schema `tx` is scoped to, and records the
/// new version on the tenant's platform row in the same transaction. Returns how many ran.
pub(crate) async fn apply_tenant_migrations(tx: &mut TenantTx) -> Result<usize, DbError> {
    // raw_sql runs through the simple-query protocol, which allows several statements.
    let ddl = String::from(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     bigint PRIMARY KEY,
            description text NOT NULL,
            checksum    bytea NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )",
    );
    run_script(tx, ddl).await?;
    let applied: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(tx.conn())
            .await?;
    // Work out what to run up front, as owned values: holding references into the static
    // migrator across awaits makes the future not provably `Send` (a compiler limitation
    // with sqlx's higher-ranked executor lifetimes).
    let mut pending: Vec<(i64, String, String, Vec<u8>)> = Vec::new();
    for m in TENANT.iter() {
        match applied.iter().find(|(v, _)| *v == m.version) {
            Some((_, checksum)) if checksum.as_slice() != &*m.checksum => {
                return Err(DbError::Migration(format!(
                    "tenant migration {} was changed after it was applied",
                    m.version
                )));
            }
            Some(_) => {}
            None => pending.push((
                m.version,
                m.description.to_string(),
                m.sql.to_string(),
                m.checksum.to_vec(),
            )),
        }
    }
    let ran = pending.len();
    // Citus propagates a distributed schema's DDL to its worker with the statement's text,
    // and refuses a text holding several statements: there, one statement at a time.
    let one_by_one = ran > 0
        && sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
        )
        .fetch_one(tx.conn())
        .await?;
    for (version, description, sql, checksum) in pending {
        let result = if one_by_one {
            let mut result = Ok(());
            for statement in split_statements(&sql) {
                result = run_script(tx, statement).await;
                if result.is_err() {
                    break;
                }
            }
            result
        } else {
            run_script(tx, sql).await
        };
        if let Err(e) = result {
            return Err(DbError::Migration(format!(
                "tenant migration {version} ({description}): {e}"
            )));
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, description, checksum) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(description)
        .bind(checksum)
        .execute(tx.conn())
        .await?;
    }
    if one_by_one {
        for statement in split_statements(CITUS_ROW_TRIGGERS) {
            run_script(tx, statement)
                .await
                .map_err(|e| DbError::Migration(format!("row triggers for Citus: {e}")))?;
        }
    }
    sqlx::query(
        "UPDATE platform.tenants SET schema_version = $2, updated_at = now() WHERE id = $1",
    )
    .bind(tx.tenant_id())
    .bind(latest_tenant_version())
    .execute(tx.conn())
    .await?;
    Ok(ran)
}

/// On Citus, in place of the member-name statement triggers of migration 7: Citus cannot
/// run a trigger's query over a transition table (`REFERENCING NEW TABLE`) on a distributed
/// table ("could not find named tuplestore"), while row triggers writing a table of the same
/// schema work (the schema's tables live together on one worker). Same effect, one row at a
/// time; applied after the migrations whenever they run on Citus (idempotent).
const CITUS_ROW_TRIGGERS: &str = r#"
CREATE OR REPLACE FUNCTION member_name_grams_row() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.name IS NOT DISTINCT FROM NEW.name
       AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM member_name_grams WHERE member_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO member_name_grams (gram, created_at, member_id)
        SELECT g, NEW.created_at, NEW.id FROM unnest(member_name_grams(NEW.name)) AS g;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS members_name_grams_insert ON members;
DROP TRIGGER IF EXISTS members_name_grams_update ON members;
DROP TRIGGER IF EXISTS members_name_grams_delete ON members;
DROP TRIGGER IF EXISTS members_name_grams_row ON members;
CREATE TRIGGER members_name_grams_row AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION member_name_grams_row();
"#;

/// The statements of a script, split at the semicolons outside quotes, comments and
/// dollar-quoted bodies (function bodies keep theirs); empty ones are left out.
pub fn split_statements(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut meaningful = false;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            q @ (b'\'' | b'"') => {
                meaningful = true;
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'$' => {
                meaningful = true;
                // A dollar quote: $tag$ ... $tag$ (tag of letters, digits and underscores).
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let is_tag = j < b.len()
                    && b[j] == b'$'
                    && !b[i + 1..j].first().is_some_and(u8::is_ascii_digit);
                if is_tag {
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(end) => i = j + 1 + end + tag.len(),
                        None => i = b.len(),
                    }
                    continue;
                }
            }
            b';' => {
                if meaningful {
                    out.push(sql[start..i].trim().to_owned());
                }
                start = i + 1;
                meaningful = false;
            }
            c if !c.is_ascii_whitespace() => meaningful = true,
            _ => {}
        }
        i += 1;
    }
    if meaningful && !sql[start..].trim().is_empty() {
        out.push(sql[start..].trim().to_owned());
    }
    out
}

/// Runs a script of several statements (simple-query protocol). Kept in its own function
/// taking owned text: inlined into the loop above, the future stops being provably `Send`
/// (a compiler limitation with sqlx's higher-ranked executor lifetimes).
async fn run_script(tx: &mut TenantTx, sql: String) -> Result<(), sqlx::Error> {
    // `Executor::execute` hands back a boxed `Send` future; `RawSql::execute` (an async fn
    // generic over the executor) is not provably `Send` and would poison every caller.
    sqlx::Executor::execute(tx.conn(), sqlx::raw_sql(&sql)).await?;
    Ok(())
}

/// Brings one tenant's schema to the latest version. Returns how many migrations ran.
pub async fn migrate_tenant(db: &Db, tenant_id: i64) -> Result<usize, DbError> {
    let mut tx = db.begin("BEGIN").await?;
    // The row lock makes concurrent migrators of the same tenant take turns.
    let row: TenantRow = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants WHERE id = $1 FOR UPDATE"
    ))
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    let tenant = Tenant::from(row);
    let mut ttx = TenantTx::scope(tx, tenant.id, tenant.schema().to_owned()).await?;
    let ran = apply_tenant_migrations(&mut ttx).await?;
    ttx.commit().await?;
    Ok(ran)
}

/// How one tenant's migration went.
#[derive(Debug, Clone)]
pub struct TenantOutcome {
    pub tenant_id: i64,
    pub slug: String,
    pub result: Result<usize, String>,
}

/// The summary of a run over every tenant.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    /// Tenants that were behind when the run started.
    pub pending: usize,
    pub upgraded: usize,
    pub failed: Vec<TenantOutcome>,
}

/// Upgrades every tenant that is behind, `concurrency` at a time. One tenant's failure is
/// reported and does not stop the others. `on_start` hears the number of tenants to do;
/// `on_done` hears each outcome as it lands (for a progress bar).
pub async fn migrate_all_tenants(
    db: &Db,
    concurrency: usize,
    on_start: impl FnOnce(usize),
    on_done: impl Fn(&TenantOutcome),
) -> Result<MigrationReport, DbError> {
    let behind: Vec<(i64, String)> = sqlx::query_as(
        // A purged account has no schema left to migrate.
        "SELECT id, slug FROM platform.tenants WHERE schema_version < $1 AND purged_at IS NULL ORDER BY id",
    )
    .bind(latest_tenant_version())
    .fetch_all(db.pool())
    .await?;
    on_start(behind.len());
    let mut report = MigrationReport {
        pending: behind.len(),
        ..Default::default()
    };
    let mut outcomes = futures::stream::iter(behind)
        .map(|(tenant_id, slug)| async move {
            let result = migrate_tenant(db, tenant_id)
                .await
                .map_err(|e| e.to_string());
            TenantOutcome {
                tenant_id,
                slug,
                result,
            }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(outcome) = outcomes.next().await {
        on_done(&outcome);
        match outcome.result {
            Ok(_) => report.upgraded += 1,
            Err(_) => report.failed.push(outcome),
        }
    }
    report.failed.sort_by_key(|o| o.tenant_id);
    Ok(report)
}

#[cfg(test)]
mod split_tests {
    use super::split_statements;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_comments_and_bodies() {
        let sql = "-- a comment; not a split\nCREATE TABLE a (x text DEFAULT 'a;b');\n\
                   /* also; not */ CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN x := 1; RETURN NEW; END $$ LANGUAGE plpgsql;\n\
                   CREATE TABLE \"we;ird\" (y int);\n-- trailing comment\n";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[0].ends_with("DEFAULT 'a;b')"), "{parts:?}");
        assert!(
            parts[1].contains("RETURN NEW; END $$ LANGUAGE plpgsql"),
            "{parts:?}"
        );
        assert_eq!(parts[2], "CREATE TABLE \"we;ird\" (y int)");
    }

    #[test]
    fn every_tenant_migration_splits_into_whole_statements() {
        for m in super::TENANT.iter() {
            for part in split_statements(&m.sql) {
                let dollars = part.matches("$$").count();
                assert_eq!(dollars % 2, 0, "migration {}: {part}", m.version);
            }
        }
    }
}
