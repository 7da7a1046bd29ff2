//! Where a payment provider tells us an invoice is paid. Taking payment is the provider's
//! business; Patron only needs a verified "invoice X is paid" to mark it and, when nothing
//! else is overdue, lift a billing suspension.
//!
//! The HTTP edge only: the provider named in the path reads the raw body (a
//! `patron_core::ports::PaymentProvider`, wired by the server), and
//! `patron_app::billing::invoice_paid` does the rest.

use crate::edge::error::ApiError;
use crate::edge::raw_body::RawBody;
use crate::edge::state::ApiState;
use patron_core::ports::PaymentEvent;
use poem::http::HeaderMap;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Payment providers' webhooks.
    Billing,
}

#[derive(Debug, Object)]
pub struct WebhookAck {
    /// `paid`, `already_paid` or `ignored`.
    pub outcome: String,
    #[oai(skip_serializing_if_is_none)]
    pub invoice_id: Option<Uuid>,
}

pub struct BillingApi {
    pub state: ApiState,
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
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let event = p.parse(&header, &body.0).map_err(|reason| {
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
        let applied = patron_app::billing::invoice_paid(
            &self.state.db,
            p.name(),
            invoice_id,
            &reference,
            self.state.now(),
        )
        .await?;
        if applied.hold_lifted {
            self.state.forget_tenant(applied.tenant_id).await;
        }
        Ok(Json(WebhookAck {
            outcome: if applied.newly_paid {
                "paid"
            } else {
                "already_paid"
            }
            .into(),
            invoice_id: Some(applied.invoice_id),
        }))
    }
}
