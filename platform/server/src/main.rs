//! `patron`: the server and its operator commands.

use anyhow::Context;
use clap::{Parser, Subcommand};
use patron_api::{ApiConfig, ApiState};
use patron_app::signup::SignupInput;
use patron_core::clock::SystemClock;
use patron_db::Db;
use patron_server::config::Settings;
use patron_server::{commands, shutdown_signal, Application, Options};
use std::sync::Arc;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// values (JSON, headers, rows), and glibc's malloc spent a sixth of the server's CPU per
/// purchase on it (`_int_malloc`, `malloc_consolidate`, `unlink_chunk` in scripts/bench-cpu;
/// docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "patron",
    version,
    about = "Patron membership and loyalty platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and console (refuses an unmigrated database).
    Serve,
    /// Bring the platform schema and every tenant schema to the latest version.
    Migrate,
    /// Print the OpenAPI document (JSON) without touching the database.
    Openapi,
    /// Operator commands for tenants.
    Tenant {
        #[command(subcommand)]
        command: Box<TenantCommand>,
    },
    /// Check every tenant's points ledger: balances against entries, open lots and debts,
    /// and purchases against their entries. Fails when anything differs.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Members' personal data: re-sealing after a key rotation.
    Pii {
        #[command(subcommand)]
        command: PiiCommand,
    },
    /// Platform operator accounts.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
}

#[derive(Subcommand)]
enum PiiCommand {
    /// Re-seal every phone and e-mail still under a retired key (PATRON_PII_RETIRED_KEYS)
    /// with the current one (PATRON_PII_KEY, PATRON_PII_KEY_ID), tenant by tenant, in
    /// batches. Safe to interrupt (Ctrl-C finishes the batch in hand) and to run again.
    Rekey {
        /// Members per transaction.
        #[arg(long, default_value_t = patron_server::pii::DEFAULT_BATCH)]
        batch: i64,
        /// Only this tenant (slug).
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON instead of progress.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create a platform operator (the first one is made this way).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The operator's password (or PATRON_OPERATOR_PASSWORD).
        #[arg(long, env = "PATRON_OPERATOR_PASSWORD", hide_env_values = true)]
        password: String,
        /// Succeed without change when the e-mail already has an operator.
        #[arg(long)]
        if_missing: bool,
    },
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum TenantCommand {
    /// List every tenant.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant.
    Show { slug: String },
    /// Create a tenant and its owner login.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_name: String,
        #[arg(long)]
        owner_email: String,
        /// The owner's password (or PATRON_OWNER_PASSWORD).
        #[arg(long, env = "PATRON_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: String,
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        locale: Option<String>,
        #[arg(long)]
        phone_region: Option<String>,
        /// The plan to start on (default: the platform's default plan).
        #[arg(long)]
        plan: Option<String>,
        /// Succeed without change when the slug already exists.
        #[arg(long)]
        if_missing: bool,
    },
    /// Write one business (its schema and its platform rows) to FILE, from one snapshot.
    Export {
        slug: String,
        file: std::path::PathBuf,
    },
    /// Restore a business written by `tenant export` into this database.
    Import {
        file: std::path::PathBuf,
        /// Replace a business with the same id or slug (restoring it from a backup).
        #[arg(long)]
        replace: bool,
    },
}

/// Log lines are formatted where they happen and written to stderr by a thread of their own
/// (a request never waits on the write); none is dropped: a full queue makes the writer
/// wait. The guard flushes what is queued when `main` returns.
fn init_tracing(settings: &Settings) -> tracing_appender::non_blocking::WorkerGuard {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&settings.log).unwrap_or_else(|_| "info".into());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if settings.log_format == "json" {
        // The span list puts the enclosing request span (request id, tenant) on every line.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init();
    } else {
        builder.init();
    }
    guard
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    let _log_writer = init_tracing(&settings);
    if let Command::Openapi = cli.command {
        // The document needs the state's types, never a connection: the pool stays unused.
        let db = Db::connect_lazy("postgres://127.0.0.1/unused", 1)?;
        let state = ApiState::new(db, Arc::new(SystemClock), ApiConfig::default());
        println!("{}", patron_api::openapi(&state));
        return Ok(());
    }
    let db = Db::connect(settings.database_url(), settings.db_max_connections)
        .await
        .context("cannot connect to the database (PATRON_DATABASE_URL)")?
        .with_borrowing(settings.db_borrow)
        .with_borrow_after(std::time::Duration::from_millis(
            settings.db_borrow_after_ms,
        ));
    match cli.command {
        Command::Serve => {
            let pii_keys = settings.pii_keys()?;
            let app = Application::build(
                db,
                Arc::new(SystemClock),
                Options {
                    listen: settings.listen.clone(),
                    session_ttl: chrono::Duration::hours(settings.session_ttl_hours),
                    console_dir: Some(settings.console_dir.clone()),
                    run_jobs: settings.jobs,
                    spare_schemas: settings.spare_schemas,
                    pii_keys,
                    payment_webhook_secret: settings.payment_webhook_secret.clone(),
                    sandbox: Some(settings.sandbox()),
                    messages: settings.messages()?,
                    trust_proxy: settings.trust_proxy,
                    storage: settings.storage()?,
                    console_url: settings
                        .console_url
                        .clone()
                        .filter(|u| !u.trim().is_empty()),
                },
            )
            .await?;
            tracing::info!(addr = %app.addr(), "serving");
            eprintln!("patron is serving on http://{}", app.addr());
            app.run_until(shutdown_signal()).await?;
        }
        Command::Openapi => unreachable!("handled before connecting"),
        Command::Migrate => {
            // Sealing two-factor secrets needs the personal-data key; without one the schemas
            // are still migrated (and a later run with the key seals them).
            let keys = match settings.pii_key {
                Some(_) => Some(settings.pii_keys()?),
                None => None,
            };
            let report =
                commands::migrate(&db, settings.migrate_concurrency, keys.as_ref()).await?;
            anyhow::ensure!(
                report.failed.is_empty(),
                "{} tenant schemas failed to migrate; fix them and run `patron migrate` again",
                report.failed.len()
            );
        }
        Command::Verify { json } => patron_server::points::verify_command(&db, json).await?,
        Command::Pii {
            command:
                PiiCommand::Rekey {
                    batch,
                    tenant,
                    json,
                },
        } => {
            let keys = settings.pii_keys()?;
            patron_server::pii::rekey_command(&db, &keys, batch, tenant.as_deref(), json).await?
        }
        Command::Operator {
            command:
                OperatorCommand::Create {
                    email,
                    name,
                    password,
                    if_missing,
                },
        } => commands::operator_create(&db, &email, &name, &password, if_missing).await?,
        Command::Tenant { command } => match *command {
            TenantCommand::List { json } => commands::tenant_list(&db, json).await?,
            TenantCommand::Show { slug } => commands::tenant_show(&db, &slug).await?,
            TenantCommand::Create {
                slug,
                name,
                owner_name,
                owner_email,
                owner_password,
                time_zone,
                currency,
                locale,
                phone_region,
                plan,
                if_missing,
            } => {
                let req = SignupInput {
                    business_name: name,
                    slug,
                    owner_name,
                    email: owner_email,
                    password: owner_password,
                    time_zone,
                    currency,
                    locale,
                    phone_region,
                    plan,
                };
                let ttl = ApiConfig::default().session_ttl;
                commands::tenant_create(&db, req, ttl, if_missing).await?;
            }
            TenantCommand::Export { slug, file } => {
                commands::tenant_export(&db, &slug, &file).await?
            }
            TenantCommand::Import { file, replace } => {
                commands::tenant_import(&db, &file, replace).await?
            }
        },
    }
    Ok(())
}
