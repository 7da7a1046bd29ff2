//! The server's internals that tests drive directly, rather than over HTTP: the rule engine
//! and the jobs it runs (tier evaluation, birthdays, expiry), the ledger check of
//! `patron verify`, and the payment webhook's signature. Everything that names the server's
//! crates for that lives here, so a move of those items is repointed in one place.

use super::accounts::TestTenant;
use super::app::{TestApp, PAYMENT_SECRET};
use chrono::{DateTime, Utc};
use patron_app::engine::RuleEngine;
use patron_core::clock::Clock;
use serde_json::Value;

/// A rule engine with sandbox workers of its own, as the job runner has, for scripts.
pub fn sandboxed_engine() -> RuleEngine {
    let pool = patron_rules::SandboxPool::start(patron_rules::SandboxConfig::default())
        .expect("the sandbox is built");
    RuleEngine::new(Some(std::sync::Arc::new(pool)))
}

/// A rule engine without a sandbox (jobs that run no scripts).
pub fn engine_without_sandbox() -> RuleEngine {
    RuleEngine::new(None)
}

/// The tenant's row.
pub async fn tenant_row(app: &TestApp, tenant_id: i64) -> patron_db::Tenant {
    patron_db::tenants::find_by_id(&app.db, tenant_id)
        .await
        .unwrap()
        .expect("the tenant exists")
}

/// Runs the re-evaluation `run` (started by a ladder publish or rollback), as the job would.
pub async fn reevaluate_tiers(app: &TestApp, t: &TestTenant, run: &str) {
    let tenant = tenant_row(app, t.id).await;
    let run = run.parse().expect("a run id");
    patron_app::tiers::reevaluate(&app.db, &sandboxed_engine(), &tenant, run, app.clock.now())
        .await
        .unwrap();
}

/// Runs the segment issue `run` to its end, as the job would; returns its report.
pub async fn run_segment_issue(app: &TestApp, t: &TestTenant, run: &str) -> Value {
    let tenant = tenant_row(app, t.id).await;
    let run = run.parse().expect("a run id");
    patron_app::coupons::segment::run(&app.db, &tenant, run, app.clock.now())
        .await
        .unwrap()
}

/// The scheduled tier evaluation of one tenant, now; returns its report.
pub async fn evaluate_tiers(app: &TestApp, t: &TestTenant) -> Value {
    let tenant = tenant_row(app, t.id).await;
    patron_app::tiers::evaluate_tenant(&app.db, &tenant, &sandboxed_engine(), app.clock.now())
        .await
        .unwrap()
}

/// The birthday job for one tenant at `at`; returns its report.
pub async fn run_birthdays(
    app: &TestApp,
    tenant_id: i64,
    engine: &RuleEngine,
    at: DateTime<Utc>,
) -> Value {
    let tenant = tenant_row(app, tenant_id).await;
    patron_server::points::birthdays_tenant(&app.db, &tenant, engine, at)
        .await
        .unwrap()
}

/// The expiry job for one tenant, now; returns its report.
pub async fn expire_points(app: &TestApp, tenant_id: i64) -> Value {
    let tenant = tenant_row(app, tenant_id).await;
    patron_server::points::expire_tenant(&app.db, &tenant, app.clock.now())
        .await
        .unwrap()
}

/// The job that cancels one tenant's pending mall orders past its limit, now.
pub async fn cancel_overdue_mall_orders(app: &TestApp, tenant_id: i64) -> Value {
    let tenant = tenant_row(app, tenant_id).await;
    patron_app::mall::cancel_overdue(&app.db, &tenant, app.clock.now())
        .await
        .unwrap()
}

/// The activities' job for one tenant, now: offers that ran out pass on. Its report.
pub async fn lapse_activity_offers(app: &TestApp, tenant_id: i64) -> Value {
    let tenant = tenant_row(app, tenant_id).await;
    patron_app::activities::jobs::lapse_offers(
        &app.db,
        &tenant,
        &engine_without_sandbox(),
        app.clock.now(),
    )
    .await
    .unwrap()
}

/// `patron verify`'s check of every tenant in the database.
pub async fn verify_ledgers(app: &TestApp) -> Vec<patron_server::points::TenantCheck> {
    patron_server::points::verify_all(&app.db).await.unwrap()
}

/// `patron verify`'s check for one tenant: no differences, no purchase without its entry.
pub async fn assert_ledger_agrees(app: &TestApp, slug: &str) {
    let report = verify_ledgers(app).await;
    let t = report
        .iter()
        .find(|t| t.tenant == slug)
        .expect("tenant checked");
    assert!(t.differences.is_empty(), "{:?}", t.differences);
    assert_eq!(t.purchases_without_entry, 0);
    assert!(
        t.stored_value_differences.is_empty(),
        "{:?}",
        t.stored_value_differences
    );
}

/// The payment webhook's body as bytes and their signature under the test secret.
pub fn signed_webhook(body: &Value) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(body).unwrap();
    let signature = patron_app::billing::SignedWebhook::sign(PAYMENT_SECRET, &bytes);
    (bytes, signature)
}

/// The adapters the server would use: webhooks over HTTP (private addresses allowed, for
/// receivers on 127.0.0.1) and, with a URL, e-mail over SMTP.
pub fn message_senders(smtp_url: Option<String>) -> patron_app::messages::Senders {
    message_senders_with(smtp_url, None)
}

/// [`message_senders`], with an SMS gateway.
pub fn message_senders_with(
    smtp_url: Option<String>,
    sms: Option<patron_outbound::SmsGatewayConfig>,
) -> patron_app::messages::Senders {
    patron_server::MessagesConfig {
        smtp: smtp_url.map(|url| patron_outbound::SmtpConfig {
            url,
            from: "星光咖啡 <hello@starlight.example>".into(),
        }),
        sms,
        webhooks_allow_private: true,
    }
    .senders(std::sync::Arc::new(patron_core::pii::PiiKeys::development()))
    .expect("senders")
}

/// One run of the message job for a tenant at `at` (dispatch, then delivery).
pub async fn deliver_messages(
    app: &TestApp,
    tenant_id: i64,
    senders: &patron_app::messages::Senders,
    at: DateTime<Utc>,
) -> patron_app::messages::Report {
    let tenant = tenant_row(app, tenant_id).await;
    patron_app::messages::run_tenant(&app.db, &tenant, senders, at)
        .await
        .unwrap()
}

/// A change that records its event and then rolls back.
pub async fn record_then_roll_back(app: &TestApp, tenant_id: i64, member_id: &str) {
    let tenant = tenant_row(app, tenant_id).await;
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    patron_app::messages::record(
        &mut tx,
        patron_core::messages::Event::PointsEarned,
        member_id.parse().unwrap(),
        "rolled-back",
        serde_json::json!({ "points": 1 }),
        app.clock.now(),
    )
    .await
    .unwrap();
    // Dropped without a commit: rolled back.
    drop(tx);
}

/// A runner that dispatches and claims every due delivery at `at`, then dies before
/// sending any (its lease is left to run out).
pub async fn claim_and_die(
    app: &TestApp,
    tenant_id: i64,
    senders: &patron_app::messages::Senders,
    at: DateTime<Utc>,
) -> usize {
    let tenant = tenant_row(app, tenant_id).await;
    patron_app::messages::dispatch(&app.db, &tenant, senders, at)
        .await
        .unwrap();
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    let claimed =
        patron_db::messages::claim_deliveries(&mut tx, at, chrono::Duration::minutes(2), 1000)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    claimed.len()
}

/// The outbox rows of a tenant, newest first: (event, member id).
pub async fn outbox_events(app: &TestApp, tenant_id: i64) -> Vec<(String, Option<String>)> {
    let tenant = tenant_row(app, tenant_id).await;
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    let rows = patron_db::messages::recent(&mut tx, 1000).await.unwrap();
    tx.commit().await.unwrap();
    rows.into_iter()
        .map(|r| (r.event, r.member_id.map(|m| m.to_string())))
        .collect()
}

/// E-mails queued for `occasion` to `recipient` in a tenant's outbox (staff notices have no
/// member, so no API lists them).
pub async fn count_deliveries(
    db: &patron_db::Db,
    tenant_id: i64,
    occasion: &str,
    recipient: &str,
) -> i64 {
    let tenant = patron_db::tenants::find_by_id(db, tenant_id)
        .await
        .unwrap()
        .expect("the tenant exists");
    let mut tx = db.tenant_tx(&tenant).await.unwrap();
    let rows = patron_db::messages::deliveries(&mut tx, None, Some("email"), 500)
        .await
        .unwrap();
    rows.iter()
        .filter(|d| d.occasion.as_deref() == Some(occasion) && d.recipient == recipient)
        .count() as i64
}

/// One run of the scheduled-notices job for a tenant at `at`; returns its report.
pub async fn run_scheduled_notices(
    app: &TestApp,
    tenant_id: i64,
    senders: &patron_app::messages::Senders,
    at: DateTime<Utc>,
) -> Value {
    let tenant = tenant_row(app, tenant_id).await;
    let report = patron_app::notices::scheduled::run_tenant(&app.db, &tenant, senders, at)
        .await
        .unwrap();
    serde_json::to_value(report).unwrap()
}

/// Sets a tenant's metered `metric` (`sms_per_month`...) of the month holding `at` to `used`.
pub async fn set_used(app: &TestApp, tenant_id: i64, metric: &str, at: DateTime<Utc>, used: i64) {
    let now = patron_db::plans::monthly_usage(&app.db, tenant_id, at)
        .await
        .unwrap()
        .get(metric)
        .copied()
        .unwrap_or(0);
    patron_db::plans::meter(&app.db, tenant_id, metric, at, used - now)
        .await
        .unwrap();
}

/// Sets a tenant's metered e-mails of the month holding `at` to `used`.
pub async fn set_emails_used(app: &TestApp, tenant_id: i64, at: DateTime<Utc>, used: i64) {
    let now = patron_db::plans::monthly_usage(&app.db, tenant_id, at)
        .await
        .unwrap()
        .get("emails_per_month")
        .copied()
        .unwrap_or(0);
    patron_db::plans::meter(&app.db, tenant_id, "emails_per_month", at, used - now)
        .await
        .unwrap();
}
