//! Where a payment provider tells us an invoice is paid. Taking payment is the provider's
//! business; Patron only needs a verified "invoice X is paid" to mark it and, when nothing
//! else is overdue, lift a billing suspension.
//!
//! The HTTP edge only: the provider named in the path reads the raw body (a
//! `patron_core::ports::PaymentProvider`, wired by the server), and
//! `patron_app::billing::invoice_paid` does the rest.

use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_core::ports::PaymentEvent;
use poem::http::HeaderMap;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Payment providers' webhooks.
    Billing,
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
