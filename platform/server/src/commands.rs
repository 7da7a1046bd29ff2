//! Operator commands: `migrate`, `tenant list|show|create`.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use patron_app::plans::PlanCatalog;
use patron_app::signup::{create_account, SignupInput};
use patron_app::AppError;
use patron_db::migrate::{
    latest_tenant_version, migrate_all_tenants, migrate_platform, MigrationReport,
};
use patron_db::{tenants, Db, Tenant};

/// Migrates the platform schema, then every tenant schema that is behind, `concurrency`
/// at a time, with a progress bar. A tenant that fails is reported; the others go on.
///
/// Then seals, with the personal-data key when `keys` are given, every two-factor secret
/// stored as is (from before secrets were sealed) or under a retired key.
pub async fn migrate(
    db: &Db,
    concurrency: usize,
    keys: Option<&patron_core::pii::PiiKeys>,
) -> anyhow::Result<MigrationReport> {
    migrate_platform(db)
        .await
        .context("platform migration failed")?;
    eprintln!("platform schema is up to date");
    let bar = ProgressBar::hidden();
    let report = migrate_all_tenants(
        db,
        concurrency,
        |n| {
            bar.set_length(n as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "tenant schemas {bar:40} {pos}/{len} [{elapsed_precise}] {msg}",
                )
                .expect("valid template"),
            );
        },
        |outcome| {
            bar.inc(1);
            if let Err(e) = &outcome.result {
                bar.println(format!(
                    "tenant {} ({}) failed: {e}",
                    outcome.slug, outcome.tenant_id
                ));
            }
        },
    )
    .await?;
    bar.finish_and_clear();
    eprintln!(
        "tenant schemas: {} behind, {} upgraded to version {}, {} failed",
        report.pending,
        report.upgraded,
        latest_tenant_version(),
        report.failed.len()
    );
    match keys {
        Some(keys) => {
            let n = patron_app::security::seal_two_factor_secrets(db, keys, concurrency)
                .await
                .context("sealing two-factor secrets failed")?;
            eprintln!("two-factor secrets: {n} sealed with the current personal-data key");
        }
        None => eprintln!(
            "two-factor secrets: not sealed (PATRON_PII_KEY is not set); run `patron migrate` again with it"
        ),
    }
    for f in &report.failed {
        eprintln!(
            "  FAILED {} (id {}): {}",
            f.slug,
            f.tenant_id,
            f.result.as_ref().err().map_or("", String::as_str)
        );
    }
    Ok(report)
}

fn describe(t: &Tenant) -> String {
    format!(
        "id:           {}\nslug:         {}\nname:         {}\nstatus:       {}\nplan:         {}\nschema:       {} (version {})\ntime zone:    {}\ncurrency:     {}\nlocale:       {}\nphone region: {}\ncreated:      {}",
        t.id,
        t.slug,
        t.name,
        t.status.as_str(),
        t.plan_code,
        t.schema(),
        t.schema_version,
        t.settings.time_zone,
        t.settings.currency,
        t.settings.locale,
        t.settings.phone_region,
        t.created_at.to_rfc3339()
    )
}

pub async fn tenant_list(db: &Db, json: bool) -> anyhow::Result<()> {
    let all = tenants::list(db).await?;
    if json {
        let rows: Vec<_> = all
            .iter()
            .map(|t| serde_json::json!({ "id": t.id, "slug": t.slug, "name": t.name, "status": t.status.as_str(), "plan": t.plan_code, "schema_version": t.schema_version }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<6} {:<24} {:<10} {:<10} {:<8} NAME",
        "ID", "SLUG", "STATUS", "PLAN", "SCHEMA"
    );
    for t in &all {
        println!(
            "{:<6} {:<24} {:<10} {:<10} v{:<7} {}",
            t.id,
            t.slug,
            t.status.as_str(),
            t.plan_code,
            t.schema_version,
            t.name
        );
    }
    println!("{} tenants", all.len());
    Ok(())
}

pub async fn tenant_show(db: &Db, slug: &str) -> anyhow::Result<()> {
    let t = tenants::find_by_slug(db, slug)
        .await?
        .with_context(|| format!("no tenant with slug {slug}"))?;
    println!("{}", describe(&t));
    Ok(())
}

/// Creates a tenant with its owner, through the same code as `POST /signup`; the owner's
/// first session lasts `session_ttl`.
pub async fn tenant_create(
    db: &Db,
    req: SignupInput,
    session_ttl: chrono::Duration,
    if_missing: bool,
) -> anyhow::Result<()> {
    if let Some(t) = tenants::find_by_slug(db, &req.slug).await? {
        if if_missing {
            println!(
                "tenant {} already exists (id {}); kept as it is",
                t.slug, t.id
            );
            return Ok(());
        }
        anyhow::bail!("a tenant with slug {} already exists", t.slug);
    }
    let plans = PlanCatalog::new(db.clone());
    let created = create_account(
        db,
        &plans,
        req,
        chrono::Utc::now(),
        session_ttl,
        Some("patron-cli".into()),
    )
    .await;
    match created {
        Ok((t, session)) => {
            println!(
                "created tenant {} (id {}), owner {}",
                t.slug, t.id, session.staff.email
            );
            Ok(())
        }
        Err(e) => anyhow::bail!("cannot create tenant ({}): {}", e.code(), detail(&e)),
    }
}

/// The bad fields of a refused signup, for the terminal.
fn detail(e: &AppError) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.problem))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict {
            field: Some(field),
            message,
            ..
        } => format!("{field}: {message}"),
        _ => String::new(),
    }
}

/// Creates a platform operator.
pub async fn operator_create(
    db: &Db,
    email: &str,
    name: &str,
    password: &str,
    if_missing: bool,
) -> anyhow::Result<()> {
    let email =
        patron_core::auth::Email::parse(email).map_err(|p| anyhow::anyhow!("--email: {p}"))?;
    let name = patron_core::tenants::parse_display_name(name, 120)
        .map_err(|p| anyhow::anyhow!("--name: {p}"))?;
    let password = patron_core::auth::Password::parse(password)
        .map_err(|p| anyhow::anyhow!("password: {p}"))?;
    if let Some(existing) = patron_db::operators::credentials(db, email.as_str()).await? {
        if if_missing {
            println!("operator {} already exists; kept as it is", existing.email);
            return Ok(());
        }
        anyhow::bail!("an operator with e-mail {} already exists", existing.email);
    }
    let hash = tokio::task::spawn_blocking(move || password.hash()).await?;
    let op =
        patron_db::operators::create(db, email.as_str(), &name, &hash, chrono::Utc::now()).await?;
    println!("created operator {} ({})", op.email, op.id);
    Ok(())
}

/// Writes one business to `file` (see `patron_db::transfer`).
pub async fn tenant_export(db: &Db, slug: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let out =
        std::fs::File::create(file).with_context(|| format!("cannot create {}", file.display()))?;
    let mut out = std::io::BufWriter::new(out);
    let summary = match patron_db::transfer::export(db, slug, &mut out).await {
        Err(patron_db::DbError::NotFound) => anyhow::bail!("no tenant with slug {slug}"),
        other => other?,
    };
    let rows: u64 = summary.rows.values().sum();
    println!(
        "exported {slug}: {} tables, {rows} rows, to {}",
        summary.rows.len(),
        file.display()
    );
    Ok(())
}

/// Restores a business from a file written by `tenant export`.
pub async fn tenant_import(db: &Db, file: &std::path::Path, replace: bool) -> anyhow::Result<()> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut input = std::io::BufReader::new(input);
    let summary = patron_db::transfer::import(db, &mut input, replace).await?;
    let h = summary.header.expect("a header");
    let rows: u64 = summary.rows.values().sum();
    println!(
        "imported {} (id {}, schema {}): {} tables, {rows} rows",
        h.slug,
        h.tenant_id,
        h.schema,
        summary.rows.len()
    );
    Ok(())
}
