//! Where a payment provider tells us an invoice is paid. Taking payment is the provider's
//! business; Patron only needs a verified "invoice X is paid" to mark it and, when nothing
//! else is overdue, lift a billing suspension.
//!
//! A provider is a [`PaymentProvider`]: it checks that a webhook really came from it and
//! reads the event out. [`SignedWebhook`] is the one Patron ships: the body signed with
//! HMAC-SHA256 under a shared secret, sent as `X-Patron-Signature: sha256=<hex>`. A real
//! provider's adapter implements the same trait.

use crate::error::ApiError;
use crate::state::AppState;
use hmac::{Hmac, Mac};
use patron_core::tenants::TenantStatus;
use patron_db::billing;
use patron_db::plans::{self as db_plans, StatusChange};
use poem::http::HeaderMap;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi, Tags};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Payment providers' webhooks.
    Billing,
}

/// What a provider reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    InvoicePaid {
        invoice_id: Uuid,
        reference: String,
    },
    /// Anything else the provider sends; acknowledged and ignored.
    Other(String),
}

/// A payment provider's webhook format.
pub trait PaymentProvider: Send + Sync {
    /// The name in the webhook's path: `/billing/webhooks/<name>`.
    fn name(&self) -> &str;
    /// Verifies the request came from the provider and reads the event. `Err` is a reason
    /// to refuse it.
    fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<PaymentEvent, String>;
}

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

    fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<PaymentEvent, String> {
        let given = headers
            .get("x-patron-signature")
            .and_then(|v| v.to_str().ok())
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

/// A webhook's body exactly as sent, whatever its content type: the signature covers the
/// raw bytes, so they must not be parsed and re-encoded before checking it.
pub struct RawBody(pub Vec<u8>);

impl Payload for RawBody {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(_content_type: &str) -> bool {
        true
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
    }
}

impl ParsePayload for RawBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(
        request: &poem::Request,
        body: &mut poem::RequestBody,
    ) -> poem::Result<Self> {
        use poem::FromRequest;
        Ok(Self(<Vec<u8>>::from_request(request, body).await?))
    }
}

impl<'a> poem_openapi::ApiExtractor<'a> for RawBody {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        Some(poem_openapi::registry::MetaRequest {
            description: Some("The provider's event, exactly as sent."),
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: Self::CONTENT_TYPE,
                schema: Self::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a poem::Request,
        body: &mut poem::RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        <Self as ParsePayload>::from_request(request, body).await
    }
}

#[derive(Debug, Object)]
pub struct WebhookAck {
    /// `paid`, `already_paid` or `ignored`.
    pub outcome: String,
    #[oai(skip_serializing_if_is_none)]
    pub invoice_id: Option<Uuid>,
}

pub struct BillingApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Billing")]
impl BillingApi {
    /// A payment provider's webhook. Marks the invoice paid (once, however often it is sent)
    /// and, when the account has nothing else overdue, lifts a billing suspension or
    /// past-due state.
    #[oai(
        path = "/billing/webhooks/:provider",
        method = "post",
        operation_id = "paymentWebhook"
    )]
    async fn webhook(
        &self,
        provider: Path<String>,
        headers: &HeaderMap,
        body: RawBody,
    ) -> Result<Json<WebhookAck>, ApiError> {
        let Some(p) = self
            .state
            .payment_providers
            .iter()
            .find(|p| p.name() == provider.0)
        else {
            return Err(ApiError::not_found("payment provider"));
        };
        let event = p.parse(headers, &body.0).map_err(|reason| {
            ApiError::unauthorized("bad_signature", format!("webhook refused: {reason}"))
        })?;
        let PaymentEvent::InvoicePaid {
            invoice_id,
            reference,
        } = event
        else {
            return Ok(Json(WebhookAck {
                outcome: "ignored".into(),
                invoice_id: None,
            }));
        };
        let now = self.state.now();
        let mut tx = self.state.db.platform_tx().await?;
        let (invoice, newly) = billing::mark_paid(&mut tx, invoice_id, now, &reference)
            .await
            .map_err(|e| match e {
                patron_db::DbError::NotFound => ApiError::not_found("invoice"),
                other => other.into(),
            })?;
        let actor = format!("payments:{}", p.name());
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
        if lifted {
            self.state.forget_tenant(invoice.tenant_id).await;
        }
        Ok(Json(WebhookAck {
            outcome: if newly { "paid" } else { "already_paid" }.into(),
            invoice_id: Some(invoice.id),
        }))
    }
}
