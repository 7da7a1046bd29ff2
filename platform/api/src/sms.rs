//! Where the SMS gateway reports members' replies to texts (`POST /sms/replies`). The HTTP
//! edge only: the signature is checked against the raw body (the gateway's shared key,
//! `PATRON_SMS_GATEWAY_KEY`, as Patron signs what it posts to the gateway), then
//! `patron_app::sms::member_replied` does the rest.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::raw_body::RawBody;
use crate::edge::state::ApiState;
use chrono::Duration;
use patron_core::access::Permission;
use poem::http::HeaderMap;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

#[derive(Tags)]
enum Tag {
    /// The SMS gateway's callbacks.
    Sms,
}

/// How far a callback's timestamp may be from now.
fn tolerance() -> Duration {
    Duration::minutes(5)
}

/// A member's reply, as the gateway posts it (signed; see docs/messages.md).
#[derive(Debug, Deserialize)]
struct ReplyBody {
    /// The provider's id of the incoming message.
    id: String,
    /// The business's slug (as in the portal's address).
    tenant: String,
    /// The member's number.
    from: String,
    /// What the member wrote.
    #[serde(default)]
    text: String,
}

/// What a reply did.
#[derive(Debug, Object)]
pub struct SmsReplyAck {
    /// The provider's id, as sent.
    pub id: String,
    /// `opted_out` (the member with that number gets no more marketing texts) or `ignored`.
    pub action: String,
    /// Whether a member of the business has that number.
    pub member_found: bool,
    /// The id was reported before with the same body: nothing was done again.
    pub duplicate: bool,
}

/// How the business's texts leave, and the month's count.
#[derive(Debug, Object)]
pub struct SmsStatusView {
    /// `gateway` (the HTTP gateway is configured) or `development_outbox` (texts stay in
    /// the SMS outbox table, for development).
    pub provider: String,
    /// Texts counted this month: codes, member texts, campaigns and tests.
    pub used_this_month: i64,
    /// The plan's texts a month; absent: unlimited.
    pub quota: Option<i64>,
    /// Beyond the quota texts are billed rather than refused.
    pub overage: bool,
}

/// A number to send a test text to.
#[derive(Debug, Object)]
pub struct SmsTestInput {
    /// The number, as staff type it (read in the business's region).
    #[oai(validator(min_length = 1, max_length = 40))]
    pub phone: String,
}

#[derive(ApiResponse)]
pub enum TestQueued {
    /// The test text is on its way (with a gateway, the job runner sends it within a
    /// minute; without, it is in the SMS outbox).
    #[oai(status = 202)]
    Accepted,
}

pub struct SmsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Sms")]
impl SmsApi {
    /// The SMS gateway's callback for a member's reply to a text. Signed like the calls
    /// Patron makes to the gateway: `X-Patron-Timestamp` (seconds) and `X-Patron-Signature:
    /// v1=<hex HMAC-SHA256 under PATRON_SMS_GATEWAY_KEY of "<timestamp>.<body>">`; a missing
    /// or wrong signature, or a timestamp more than 5 minutes off, is 401. A reply `R`, `TD`,
    /// `T`, `N`, `STOP`, `UNSUBSCRIBE` or `退订` turns marketing texts off for the member
    /// with that number in the business named by `tenant`. Applied once per provider id
    /// (`id`): the same id again answers what it did; with another body, 409.
    #[oai(path = "/sms/replies", method = "post", operation_id = "smsReply")]
    async fn reply(
        &self,
        headers: &HeaderMap,
        body: RawBody,
    ) -> Result<Json<SmsReplyAck>, ApiError> {
        let Some(key) = self.state.messages.sms_key.as_deref() else {
            // Without a gateway there is nobody to call back: no such endpoint here.
            return Err(ApiError::not_found("sms_gateway"));
        };
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        patron_core::messages::verify_sms_callback(
            key,
            &header("x-patron-timestamp"),
            &header("x-patron-signature"),
            &body.0,
            self.state.now(),
            tolerance(),
        )
        .map_err(|reason| {
            ApiError::unauthorized("bad_signature", format!("callback refused: {reason}"))
        })?;
        let reply: ReplyBody = serde_json::from_slice(&body.0).map_err(|e| {
            ApiError::field(
                "body",
                patron_core::Issue::new(
                    patron_core::FieldCode::InvalidFormat,
                    format!("not a reply the gateway sends: {e}"),
                )
                .with("format", "sms_reply"),
            )
        })?;
        let Some(tenant) = patron_db::tenants::find_by_slug(&self.state.db, &reply.tenant).await?
        else {
            return Err(ApiError::not_found("business"));
        };
        let outcome = patron_app::sms::member_replied(
            &self.state.db,
            &self.state.config.pii,
            &tenant,
            &patron_app::sms::Reply {
                id: reply.id.clone(),
                from: reply.from,
                text: reply.text,
            },
            &body.0,
            self.state.now(),
        )
        .await?;
        Ok(Json(SmsReplyAck {
            id: reply.id,
            action: outcome.action,
            member_found: outcome.member_found,
            duplicate: outcome.duplicate,
        }))
    }

    /// How the business's texts leave (the gateway, or the development outbox) and how many
    /// of the month's it has used against the plan's quota.
    #[oai(path = "/sms/status", method = "get", operation_id = "smsStatus")]
    async fn status(&self, auth: TenantAuth) -> Result<Json<SmsStatusView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let s = patron_app::sms::status(
            tx,
            &me.plan,
            self.state.messages.sms.is_some(),
            self.state.now(),
        )
        .await?;
        Ok(Json(SmsStatusView {
            provider: s.provider.into(),
            used_this_month: s.used_this_month,
            quota: s.quota,
            overage: s.overage,
        }))
    }

    /// Send a test text to a number staff type. It counts against the number's limits (as
    /// codes: one a minute, five an hour, ten a day; 429 `too_many_codes` with
    /// `Retry-After`) and the plan's `sms_per_month` (402 `limit_reached`).
    #[oai(path = "/sms/test", method = "post", operation_id = "sendTestSms")]
    async fn test(
        &self,
        auth: TenantAuth,
        body: Json<SmsTestInput>,
    ) -> Result<TestQueued, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        patron_app::sms::send_test(
            tx,
            &self.state.config.pii,
            self.state.sms.as_ref(),
            &me.tenant,
            &body.0.phone,
            self.state.now(),
        )
        .await?;
        self.state.send_texts_now(&me.tenant);
        Ok(TestQueued::Accepted)
    }
}
