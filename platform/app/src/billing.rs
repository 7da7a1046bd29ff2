//! Billing: payment providers' webhooks mark invoices paid and lift billing holds.
//!
//! A provider is a [`PaymentProvider`] (a port in `patron_core::ports`): it checks that a
//! webhook really came from it and reads the event out. [`SignedWebhook`] is the adapter
//! Patron ships: the body signed with HMAC-SHA256 under a shared secret, sent as
//! `X-Patron-Signature: sha256=<hex>`. A real provider's adapter implements the same trait.

use crate::AppError;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use patron_core::ports::{PaymentEvent, PaymentProvider};
use patron_core::tenants::TenantStatus;
use patron_db::plans::{self as db_plans, StatusChange};
use patron_db::{billing, Db};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

/// Patron's own signed format: `{"type": "invoice.paid", "invoice_id": "...", "reference": "..."}`
/// with `X-Patron-Signature: sha256=<hex of HMAC-SHA256(secret, body)>`.
pub struct SignedWebhook {
    secret: SecretString,
}

impl SignedWebhook {
    pub const NAME: &'static str = "signed";

    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    /// The signature header value for `body` (for providers' test tools and our tests).
    pub fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

#[derive(serde::Deserialize)]
struct SignedEvent {
    #[serde(rename = "type")]
    kind: String,
    invoice_id: Option<Uuid>,
    reference: Option<String>,
}

impl PaymentProvider for SignedWebhook {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn parse(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<PaymentEvent, String> {
        let given = header("x-patron-signature");
        let given = given
            .as_deref()
            .and_then(|v| v.strip_prefix("sha256="))
            .ok_or("missing X-Patron-Signature: sha256=<hex>")?;
        let given = hex::decode(given).map_err(|_| "the signature is not hex")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(body);
        // Constant-time comparison.
        mac.verify_slice(&given)
            .map_err(|_| "the signature does not match")?;
        let event: SignedEvent =
            serde_json::from_slice(body).map_err(|e| format!("the body is not an event: {e}"))?;
        match event.kind.as_str() {
            "invoice.paid" => Ok(PaymentEvent::InvoicePaid {
                invoice_id: event.invoice_id.ok_or("invoice_id is missing")?,
                reference: event.reference.unwrap_or_default(),
            }),
            other => Ok(PaymentEvent::Other(other.to_owned())),
        }
    }
}

/// What a paid-invoice report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentApplied {
    pub invoice_id: Uuid,
    pub tenant_id: i64,
    /// False when the invoice was already paid (a provider's retry).
    pub newly_paid: bool,
    /// A billing suspension or past-due state was lifted: cached tenants must be dropped.
    pub hold_lifted: bool,
}

/// Marks the invoice paid (once, however often the provider reports it) and, when the
/// account has nothing else overdue, lifts a billing suspension or past-due state.
pub async fn invoice_paid(
    db: &Db,
    provider: &str,
    invoice_id: Uuid,
    reference: &str,
    now: DateTime<Utc>,
) -> Result<PaymentApplied, AppError> {
    let mut tx = db.platform_tx().await?;
    let (invoice, newly) = billing::mark_paid(&mut tx, invoice_id, now, reference)
        .await
        .map_err(|e| match e {
            patron_db::DbError::NotFound => AppError::not_found("invoice"),
            other => other.into(),
        })?;
    let actor = format!("payments:{provider}");
    let mut lifted = false;
    if newly {
        let tenant = db_plans::lock_tenant(&mut tx, invoice.tenant_id).await?;
        db_plans::record_platform_audit(
                &mut tx,
                now,
                &actor,
                "invoice.paid",
                Some(tenant.id),
                serde_json::json!({ "invoice": invoice.id, "reference": reference, "total_minor": invoice.total_minor }),
            )
            .await?;
        let billing_hold = tenant.status == TenantStatus::PastDue
            || (tenant.status == TenantStatus::Suspended
                && tenant.suspended_reason == Some(patron_core::plans::SuspendReason::Billing));
        if billing_hold && !billing::has_overdue(&mut tx, tenant.id, now).await? {
            db_plans::apply_change(
                    &mut tx,
                    tenant.id,
                    &StatusChange {
                        status: Some(TenantStatus::Active),
                        ..Default::default()
                    },
                    now,
                    &actor,
                    "tenant.active",
                    serde_json::json!({ "from": tenant.status.as_str(), "to": "active", "invoice": invoice.id }),
                )
                .await?;
            lifted = true;
        }
    }
    tx.commit().await?;
    Ok(PaymentApplied {
        invoice_id: invoice.id,
        tenant_id: invoice.tenant_id,
        newly_paid: newly,
        hold_lifted: lifted,
    })
}

/// Invoices of every account, or of one, newest first.
pub async fn invoices(db: &Db, tenant_id: Option<i64>) -> Result<Vec<billing::Invoice>, AppError> {
    Ok(billing::list(db, tenant_id).await?)
}
