//! Campaigns over HTTP: a message to the members a search finds by e-mail, SMS and the
//! portal's inbox, its preview (audience per channel, cost against the plan's monthly
//! quotas), sending now or at a time, cancelling a scheduled one, the results, the
//! business's contact budget, and the image in campaign e-mails that counts their opens (no
//! login). The use cases are `patron_app::campaigns`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_campaigns;
use crate::edge::member_views::MemberSearch;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::campaigns as app;
use patron_app::members::SearchRequest;
use patron_app::segments::{self, SearchContext};
use patron_app::AppError;
use patron_core::access::Permission;
use patron_core::campaigns::{Draft, Message};
use patron_core::Issue;
use patron_db::members::Search;
use patron_db::TenantTx;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Campaigns: one message to many members, by e-mail, SMS and the portal's inbox.
    Campaigns,
}

pub struct CampaignsApi {
    pub state: ApiState,
}

/// One message of a campaign: for a channel, in a language.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CampaignMessage {
    /// `email`, `sms` or `inbox` (one of the campaign's channels).
    #[oai(validator(max_length = 20))]
    pub channel: String,
    /// `zh-CN` or `en`. A member is written in the business's language, else the other.
    #[oai(validator(max_length = 10))]
    pub locale: String,
    /// The e-mail's subject or the inbox message's title (up to 200 characters); text
    /// messages have none. `{{member.name}}`, `{{member.card}}`, `{{business.name}}` are
    /// filled in.
    #[oai(validator(max_length = 1000))]
    pub subject: Option<String>,
    /// The text (e-mail and inbox up to 20,000 characters, SMS up to about 480: the opt-out
    /// words are added).
    #[oai(validator(max_length = 20000))]
    pub body: String,
}

impl From<CampaignMessage> for Message {
    fn from(m: CampaignMessage) -> Self {
        Self {
            channel: m.channel,
            locale: m.locale,
            subject: m.subject,
            body: m.body,
        }
    }
}

impl From<Message> for CampaignMessage {
    fn from(m: Message) -> Self {
        Self {
            channel: m.channel,
            locale: m.locale,
            subject: m.subject,
            body: m.body,
        }
    }
}

/// A campaign to send now or at a time.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewCampaign {
    /// Up to 200 characters.
    #[oai(validator(max_length = 1000))]
    pub name: String,
    /// The members: any condition `POST /members/search` takes (its `sort`, `descending`,
    /// `after` and `limit` do not apply here). Either this or `segment_id`.
    pub filter: Option<MemberSearch>,
    /// The members of a saved segment, its filter as it is now (the campaign keeps it:
    /// editing the segment later changes neither its record nor, when scheduled, its
    /// audience). Either this or `filter`.
    pub segment_id: Option<Uuid>,
    /// `email`, `sms`, `inbox`: one or several, each once.
    #[oai(validator(max_items = 3, min_items = 1))]
    pub channels: Vec<String>,
    /// A message per channel in zh-CN, en or both.
    #[oai(validator(max_items = 6))]
    pub messages: Vec<CampaignMessage>,
    /// When to send (absent: now). Not in the past.
    pub send_at: Option<DateTime<Utc>>,
    /// The same key again answers with the same campaign; with another body, 409.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// An audience to count before sending.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CampaignPreviewRequest {
    /// The members (either this or `segment_id`).
    pub filter: Option<MemberSearch>,
    /// The members of a saved segment (either this or `filter`).
    pub segment_id: Option<Uuid>,
    #[oai(validator(max_items = 3, min_items = 1))]
    pub channels: Vec<String>,
}

/// How many members each channel reaches.
#[derive(Debug, Object)]
pub struct CampaignReach {
    /// Members the search finds.
    pub members: i64,
    /// At their contact budget already: reached by no channel.
    pub over_budget: i64,
    /// With an e-mail address and marketing e-mail on.
    pub email: i64,
    pub email_missing: i64,
    pub email_opted_out: i64,
    /// With a phone and marketing text messages on.
    pub sms: i64,
    pub sms_missing: i64,
    pub sms_opted_out: i64,
    /// Every member within the budget has the portal's inbox.
    pub inbox: i64,
}

impl From<patron_db::campaigns::Reach> for CampaignReach {
    fn from(r: patron_db::campaigns::Reach) -> Self {
        Self {
            members: r.members,
            over_budget: r.over_budget,
            email: r.email,
            email_missing: r.email_missing,
            email_opted_out: r.email_opted_out,
            sms: r.sms,
            sms_missing: r.sms_missing,
            sms_opted_out: r.sms_opted_out,
            inbox: r.inbox,
        }
    }
}

/// What a campaign costs against one of the plan's monthly quotas.
#[derive(Debug, Object)]
pub struct CampaignQuota {
    /// `emails_per_month` or `sms_per_month`.
    pub limit: String,
    /// Used this month so far.
    pub used: i64,
    /// The plan's cap; absent: unlimited (or billed beyond).
    pub allowed: Option<i64>,
    /// What this campaign would use.
    pub campaign: i64,
    /// What would remain after it; negative: it does not fit (sending answers 402).
    pub remaining: Option<i64>,
}

/// The audience per channel and the cost against the quotas.
#[derive(Debug, Object)]
pub struct CampaignPreview {
    pub reach: CampaignReach,
    /// Marketing messages per member per 7 days; absent: no budget.
    pub contact_budget: Option<i32>,
    pub quotas: Vec<CampaignQuota>,
}

/// A campaign's results on one channel.
#[derive(Debug, Object)]
pub struct CampaignChannelResult {
    pub channel: String,
    /// Messages written (e-mails queued, texts sent, inbox messages shown).
    pub sent: i64,
    /// E-mails the mail server accepted; texts handed to the SMS provider; inbox messages.
    pub delivered: i64,
    /// E-mails that failed for good.
    pub failed: i64,
    /// Members who opened it: inbox messages read; e-mails whose image loaded (an estimate:
    /// mail apps that block images never count, those that fetch them ahead count unread).
    /// Text messages: 0 (not tracked).
    pub opened: Option<i64>,
    pub skipped_no_contact: i64,
    pub skipped_opted_out: i64,
    pub skipped_over_budget: i64,
    pub skipped_quota: i64,
}

/// A campaign and how it went.
#[derive(Debug, Object)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    /// The audience as given (for a segment: its filter when the campaign was created).
    pub filter: serde_json::Value,
    /// The saved segment it was sent to.
    pub segment_id: Option<Uuid>,
    pub channels: Vec<String>,
    pub messages: Vec<CampaignMessage>,
    pub send_at: Option<DateTime<Utc>>,
    /// `scheduled`, `sending`, `done`, `stopped` or `cancelled`.
    pub status: String,
    /// Why it stopped: the quota it would pass (`emails_per_month`, `sms_per_month`).
    pub stop_reason: Option<String>,
    /// Members the search found when sending started.
    pub matched: i64,
    /// Members walked so far.
    pub done: i64,
    pub results: Vec<CampaignChannelResult>,
    /// Members it reached who turned marketing e-mail or texts off since it started.
    pub unsubscribed: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<app::Report> for Campaign {
    fn from(r: app::Report) -> Self {
        let c = r.campaign;
        Self {
            id: c.id,
            name: c.name,
            filter: c.filter,
            segment_id: c.segment_id,
            channels: c.channels,
            messages: serde_json::from_value::<Vec<Message>>(c.messages)
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            send_at: c.send_at,
            status: c.status,
            stop_reason: c.stop_reason,
            matched: c.matched,
            done: c.done,
            results: r
                .results
                .into_iter()
                .map(|x| CampaignChannelResult {
                    opened: Some(x.opened),
                    channel: x.channel,
                    sent: x.sent,
                    delivered: x.delivered,
                    failed: x.failed,
                    skipped_no_contact: x.no_contact,
                    skipped_opted_out: x.opted_out,
                    skipped_over_budget: x.over_budget,
                    skipped_quota: x.quota,
                })
                .collect(),
            unsubscribed: r.unsubscribed,
            created_at: c.created_at,
            created_by: c.created_by,
            started_at: c.started_at,
            finished_at: c.finished_at,
        }
    }
}

/// The business's campaign settings.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CampaignSettings {
    /// At most this many marketing messages (campaign messages, every channel counted) per
    /// member per 7 days, 1–100; absent: no budget. Members over it are skipped.
    #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
    pub contact_budget: Option<i32>,
}

/// A 1×1 transparent GIF (43 bytes).
const PIXEL: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

#[derive(ApiResponse)]
enum Pixel {
    /// Returned always, whatever the token (the answer tells nothing about it): a 1×1
    /// transparent image, never cached.
    #[oai(status = 200, content_type = "image/gif")]
    Gif(Binary<Vec<u8>>, #[oai(header = "Cache-Control")] String),
}

/// A campaign's audience: the member search, the filter it keeps, the segment it came from.
struct Audience {
    search: Search,
    filter: serde_json::Value,
    segment_id: Option<Uuid>,
}

impl CampaignsApi {
    /// The audience of a campaign: its `filter`, or the saved segment `segment_id` names
    /// (exactly one of them; problems named under `filter.` or on `segment_id`).
    async fn audience(
        &self,
        tx: &mut TenantTx,
        me: &crate::edge::auth::Principal,
        filter: Option<MemberSearch>,
        segment_id: Option<Uuid>,
    ) -> Result<Audience, ApiError> {
        let ctx = SearchContext {
            rules: &self.state.rules,
            keys: &self.state.config.pii,
            region: &me.tenant.settings.phone_region,
        };
        let (req, filter) = match (filter, segment_id) {
            (Some(f), None) => {
                let value = f.to_json().unwrap_or_default();
                (SearchRequest::from(f), value)
            }
            (None, Some(id)) => {
                let seg = patron_db::segments::get(tx, id).await?.ok_or_else(|| {
                    AppError::field(
                        "segment_id",
                        Issue::unknown(&id.to_string(), "there is no such segment"),
                    )
                })?;
                (segments::request_of(&seg)?, seg.filter)
            }
            (None, None) => {
                return Err(AppError::field(
                    "filter",
                    Issue::required().words("give a filter or a segment_id"),
                )
                .into())
            }
            (Some(_), Some(_)) => {
                return Err(AppError::field(
                    "segment_id",
                    Issue::invalid_format(
                        "one_audience",
                        "give a filter or a segment_id, not both",
                    ),
                )
                .into())
            }
        };
        let search = segments::to_search(tx, &ctx, &req, "filter").await?;
        Ok(Audience {
            search,
            filter,
            segment_id,
        })
    }
}

#[OpenApi(tag = "Tag::Campaigns")]
impl CampaignsApi {
    /// The latest 100 campaigns, newest first, with their status and results.
    #[oai(
        path = "/campaigns",
        method = "get",
        operation_id = "campaigns",
        transform = "needs_campaigns"
    )]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<Campaign>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let cs = app::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(cs.into_iter().map(Into::into).collect()))
    }

    /// Count a campaign's audience per channel and what it would take from the plan's
    /// monthly e-mail and SMS quotas.
    #[oai(
        path = "/campaigns/preview",
        method = "post",
        operation_id = "previewCampaign",
        transform = "needs_campaigns"
    )]
    async fn preview(
        &self,
        auth: TenantAuth,
        body: Json<CampaignPreviewRequest>,
    ) -> Result<Json<CampaignPreview>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = body.0;
        let audience = self.audience(&mut tx, &me, b.filter, b.segment_id).await?;
        let search = audience.search;
        let plan = self.state.plan_of(&me.tenant).await?;
        let p = app::preview(&mut tx, &plan, &search, &b.channels, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(CampaignPreview {
            reach: p.reach.into(),
            contact_budget: p.contact_budget,
            quotas: p
                .quotas
                .into_iter()
                .map(|q| CampaignQuota {
                    limit: q.limit.into(),
                    used: q.used,
                    allowed: q.allowed,
                    campaign: q.campaign,
                    remaining: q.remaining,
                })
                .collect(),
        }))
    }

    /// Send a campaign now, or schedule it. Sending now takes its e-mails and texts from
    /// the plan's month: over a quota it is refused with 402 naming it, and nothing is
    /// queued. The sending is a background job; the answer is the campaign as it starts.
    #[oai(
        path = "/campaigns",
        method = "post",
        operation_id = "createCampaign",
        transform = "needs_campaigns"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NewCampaign>,
    ) -> Result<Json<Campaign>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = body.0;
        let audience = self.audience(&mut tx, &me, b.filter, b.segment_id).await?;
        let now = self.state.now();
        let new = app::NewCampaign {
            draft: Draft {
                name: b.name,
                channels: b.channels,
                messages: b.messages.into_iter().map(Into::into).collect(),
                send_at: b.send_at,
            },
            search: audience.search,
            filter: audience.filter,
            segment_id: audience.segment_id,
            idempotency_key: b.idempotency_key,
        };
        let c = app::create(&mut tx, new, &me.subject(), now).await?;
        let report = app::get(&mut tx, c.id).await?;
        tx.commit().await?;
        if matches!(c.status.as_str(), "scheduled" | "sending") {
            app::enqueue(&self.state.db, me.tenant.id, &c, now).await;
        }
        Ok(Json(report.into()))
    }

    /// One campaign with its results.
    #[oai(
        path = "/campaigns/:campaign_id",
        method = "get",
        operation_id = "getCampaign",
        transform = "needs_campaigns"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        campaign_id: Path<Uuid>,
    ) -> Result<Json<Campaign>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let r = app::get(&mut tx, campaign_id.0).await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Cancel a scheduled campaign (409 `campaign_not_scheduled` once it is sending).
    #[oai(
        path = "/campaigns/:campaign_id/cancel",
        method = "post",
        operation_id = "cancelCampaign",
        transform = "needs_campaigns"
    )]
    async fn cancel(
        &self,
        auth: TenantAuth,
        campaign_id: Path<Uuid>,
    ) -> Result<Json<Campaign>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let r = app::cancel(&mut tx, campaign_id.0, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// The image that counts a campaign e-mail's opens (no login).
    ///
    /// It ends the HTML part of a campaign e-mail; loading it records the first time that
    /// member's e-mail was opened, once. Every token, good, forged or of an unknown
    /// business, answers the same image and no error, so the address tells nothing; a token
    /// that does not hold writes nothing.
    #[oai(
        path = "/portal/:tenant/opened/:token",
        method = "get",
        operation_id = "campaignEmailOpened"
    )]
    async fn opened(&self, tenant: Path<String>, token: Path<String>) -> Result<Pixel, ApiError> {
        let now = self.state.now();
        let recorded = async {
            let Some(t) = patron_app::portal::business(&self.state.db, &tenant.0).await? else {
                return Ok(false);
            };
            app::record_open(&self.state.db, &t, &self.state.config.pii, &token.0, now).await
        }
        .await;
        if let Err(e) = recorded {
            // The image is answered whatever happened: an open not counted is only that.
            tracing::warn!(error = %e, "a campaign e-mail's open was not recorded");
        }
        Ok(Pixel::Gif(Binary(PIXEL.to_vec()), "no-store".to_owned()))
    }

    /// The business's campaign settings (the contact budget).
    #[oai(
        path = "/campaign-settings",
        method = "get",
        operation_id = "campaignSettings",
        transform = "needs_campaigns"
    )]
    async fn settings(&self, auth: TenantAuth) -> Result<Json<CampaignSettings>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = app::contact_budget(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(CampaignSettings { contact_budget: b }))
    }

    /// Set the contact budget (1–100 per member per 7 days, or none).
    #[oai(
        path = "/campaign-settings",
        method = "put",
        operation_id = "setCampaignSettings",
        transform = "needs_campaigns"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        body: Json<CampaignSettings>,
    ) -> Result<Json<CampaignSettings>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = app::set_contact_budget(
            &mut tx,
            body.0.contact_budget,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(CampaignSettings { contact_budget: b }))
    }
}
