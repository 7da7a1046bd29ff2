//! Stored value over HTTP: the business's settings, a member's balance by sub-ledger with
//! its history, top-ups (previewed, then confirmed; idempotent by key) and top-up refunds
//! (previewed, then confirmed).

use super::Tag;
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_stored_value;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::idempotency::{self, Request};
use patron_app::prepaid as app;
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use patron_core::prepaid::{BonusRule, BonusTier, SpendOrder};
use patron_db::prepaid as db;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

pub struct StoredValueApi {
    pub state: ApiState,
}

/// A bonus tier: a top-up of at least `min` gets `bonus` (minor units).
#[derive(Debug, Clone, Object)]
pub struct BonusTierDoc {
    pub min: i64,
    pub bonus: i64,
}

/// The bonus on top-ups: `kind` is `none`, `tiers` (the highest tier reached) or
/// `percent` (of the top-up, rounded down to the fen).
#[derive(Debug, Clone, Object)]
pub struct BonusRuleDoc {
    #[oai(validator(max_length = 10))]
    pub kind: String,
    #[oai(default, validator(max_items = 20))]
    pub tiers: Vec<BonusTierDoc>,
    pub percent: Option<i64>,
}

/// The business's prepaid settings.
#[derive(Debug, Clone, Object)]
pub struct PrepaidSettingsDoc {
    /// `pro_rata`, `bonus_first` or `principal_first`: which sub-ledger pays first.
    #[oai(validator(max_length = 20))]
    pub spend_order: String,
    pub bonus_rule: BonusRuleDoc,
    /// The most one member may hold (principal + bonus), minor units; none when absent.
    pub balance_cap: Option<i64>,
    /// Days a membership may be frozen per membership year.
    pub freeze_days_per_year: i64,
}

impl From<app::PrepaidSettings> for PrepaidSettingsDoc {
    fn from(s: app::PrepaidSettings) -> Self {
        let bonus_rule = match s.bonus_rule {
            BonusRule::None => BonusRuleDoc {
                kind: "none".into(),
                tiers: vec![],
                percent: None,
            },
            BonusRule::Tiers { tiers } => BonusRuleDoc {
                kind: "tiers".into(),
                tiers: tiers
                    .into_iter()
                    .map(|t| BonusTierDoc {
                        min: t.min,
                        bonus: t.bonus,
                    })
                    .collect(),
                percent: None,
            },
            BonusRule::Percent { percent } => BonusRuleDoc {
                kind: "percent".into(),
                tiers: vec![],
                percent: Some(percent),
            },
        };
        Self {
            spend_order: s.spend_order.as_str().into(),
            bonus_rule,
            balance_cap: s.balance_cap,
            freeze_days_per_year: s.freeze_days_per_year,
        }
    }
}

impl TryFrom<PrepaidSettingsDoc> for app::PrepaidSettings {
    type Error = ApiError;

    fn try_from(s: PrepaidSettingsDoc) -> Result<Self, ApiError> {
        let mut v = patron_core::Validation::new();
        let order = v.check("spend_order", SpendOrder::parse(&s.spend_order));
        let rule = match s.bonus_rule.kind.as_str() {
            "none" => Some(BonusRule::None),
            "tiers" => Some(BonusRule::Tiers {
                tiers: s
                    .bonus_rule
                    .tiers
                    .iter()
                    .map(|t| BonusTier {
                        min: t.min,
                        bonus: t.bonus,
                    })
                    .collect(),
            }),
            "percent" => v.check(
                "bonus_rule.percent",
                s.bonus_rule
                    .percent
                    .map(|percent| BonusRule::Percent { percent })
                    .ok_or_else(|| {
                        patron_core::Issue::required().words("is required for a percentage")
                    }),
            ),
            other => v.check(
                "bonus_rule.kind",
                Err(patron_core::Issue::not_one_of(
                    other,
                    &["none", "tiers", "percent"],
                )),
            ),
        };
        v.finish()
            .map_err(|e| ApiError::from(patron_app::AppError::invalid(e)))?;
        Ok(Self {
            spend_order: order.expect("checked"),
            bonus_rule: rule.expect("checked"),
            balance_cap: s.balance_cap,
            freeze_days_per_year: s.freeze_days_per_year,
        })
    }
}

/// Stored value by sub-ledger.
#[derive(Debug, Clone, Object)]
pub struct BalanceDoc {
    pub principal: i64,
    pub bonus: i64,
    /// `principal + bonus`.
    pub total: i64,
}

impl From<db::Balance> for BalanceDoc {
    fn from(b: db::Balance) -> Self {
        Self {
            principal: b.principal,
            bonus: b.bonus,
            total: b.principal + b.bonus,
        }
    }
}

/// A top-up to preview.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct TopUpAmount {
    /// Paid by the member, minor units.
    pub amount: i64,
}

/// What a top-up would give.
#[derive(Debug, Clone, Object)]
pub struct TopUpPreviewDoc {
    pub principal: i64,
    pub bonus: i64,
    pub balance_after: BalanceDoc,
    /// `named_card_limit` when the balance would pass ¥5,000 (the prepaid-card ceiling of
    /// a named card).
    pub warnings: Vec<String>,
}

impl From<app::TopUpPreview> for TopUpPreviewDoc {
    fn from(p: app::TopUpPreview) -> Self {
        Self {
            principal: p.principal,
            bonus: p.bonus,
            balance_after: p.balance_after.into(),
            warnings: p.warnings,
        }
    }
}

/// A top-up to record.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewTopUpDoc {
    /// A retry with the same key and body answers the first top-up; another body is a 409.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: String,
    /// Paid by the member, minor units; the business's bonus is added on top.
    pub amount: i64,
    /// `cash`, `card`, `wechat`, `alipay` or `bank_transfer` (recorded, never charged).
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
}

/// A recorded top-up.
#[derive(Debug, Clone, Object)]
pub struct TopUpResultDoc {
    pub top_up_id: Uuid,
    pub member_id: Uuid,
    pub principal: i64,
    pub bonus: i64,
    pub balance: BalanceDoc,
    pub warnings: Vec<String>,
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum RecordedTopUp {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<TopUpResultDoc>),
    /// Recorded before: the first answer.
    #[oai(status = 200)]
    Replayed(Json<TopUpResultDoc>),
}

impl From<app::TopUpResult> for RecordedTopUp {
    fn from(r: app::TopUpResult) -> Self {
        let replayed = r.replayed;
        let v = TopUpResultDoc {
            top_up_id: r.top_up_id,
            member_id: r.member_id,
            principal: r.principal,
            bonus: r.bonus,
            balance: r.balance.into(),
            warnings: r.warnings,
            replayed,
        };
        if replayed {
            Self::Replayed(Json(v))
        } else {
            Self::Created(Json(v))
        }
    }
}

/// A top-up in a member's list.
#[derive(Debug, Clone, Object)]
pub struct TopUpDoc {
    pub id: Uuid,
    pub principal: i64,
    pub bonus: i64,
    pub method: String,
    pub receipt: String,
    pub at: DateTime<Utc>,
    /// Who recorded it (`staff:<id>`, `key:<id>`).
    pub actor: String,
    pub refunded_at: Option<DateTime<Utc>>,
    pub refunded_principal: Option<i64>,
    pub forfeited_bonus: Option<i64>,
}

/// One change of a sub-ledger.
#[derive(Debug, Clone, Object)]
pub struct StoredValueEntryDoc {
    pub id: i64,
    /// `principal` or `bonus`.
    pub ledger: String,
    /// `top_up`, `spend`, `refund`, `top_up_refund` or `included` (with a membership).
    pub kind: String,
    /// Signed, minor units.
    pub amount: i64,
    /// The sub-ledger's balance after it.
    pub balance: i64,
    pub top_up_id: Option<Uuid>,
    pub purchase_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A member's stored value.
#[derive(Debug, Clone, Object)]
pub struct StoredValueDoc {
    pub balance: BalanceDoc,
    /// Newest first (the latest 200).
    pub top_ups: Vec<TopUpDoc>,
    /// Newest first.
    pub entries: Vec<StoredValueEntryDoc>,
}

impl From<app::StoredValue> for StoredValueDoc {
    fn from(s: app::StoredValue) -> Self {
        Self {
            balance: s.balance.into(),
            top_ups: s
                .top_ups
                .into_iter()
                .map(|t| TopUpDoc {
                    id: t.id,
                    principal: t.principal,
                    bonus: t.bonus,
                    method: t.method,
                    receipt: t.receipt,
                    at: t.at,
                    actor: t.actor,
                    refunded_at: t.refunded_at,
                    refunded_principal: t.refunded_principal,
                    forfeited_bonus: t.forfeited_bonus,
                })
                .collect(),
            entries: s
                .entries
                .into_iter()
                .map(|e| StoredValueEntryDoc {
                    id: e.id,
                    ledger: e.ledger,
                    kind: e.kind,
                    amount: e.amount,
                    balance: e.balance,
                    top_up_id: e.top_up_id,
                    purchase_id: e.purchase_id,
                    refund_id: e.refund_id,
                    reason: e.reason,
                    actor: e.actor,
                    at: e.at,
                })
                .collect(),
        }
    }
}

/// What refunding a top-up gives back.
#[derive(Debug, Clone, Object)]
pub struct TopUpRefundDoc {
    pub top_up_id: Uuid,
    /// Principal returned to the member (the part of the top-up not yet spent).
    pub principal: i64,
    /// Bonus taken back (the part not yet spent).
    pub bonus_forfeited: i64,
    /// Principal of this top-up already spent (kept by the business).
    pub principal_spent: i64,
    pub balance_after: BalanceDoc,
}

impl From<app::TopUpRefundPreview> for TopUpRefundDoc {
    fn from(p: app::TopUpRefundPreview) -> Self {
        Self {
            top_up_id: p.top_up_id,
            principal: p.principal,
            bonus_forfeited: p.bonus_forfeited,
            principal_spent: p.principal_spent,
            balance_after: p.balance_after.into(),
        }
    }
}

/// A refund of a top-up to confirm.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewTopUpRefundDoc {
    /// How the money goes back: `cash`, `card`, `wechat`, `alipay` or `bank_transfer`.
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
    /// The principal the preview showed; 409 `top_up_refund_changed` when it is no longer
    /// what the refund gives.
    pub expected_principal: Option<i64>,
    /// Optional: a retry with the same key answers the first refund (same status and body)
    /// instead of a 409 `top_up_refunded`; the key with another body is a 409
    /// `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

#[OpenApi(tag = "Tag::Prepaid")]
impl StoredValueApi {
    /// The business's prepaid settings: spend order, bonus rule, balance cap, freeze days.
    #[oai(
        path = "/prepaid/settings",
        method = "get",
        operation_id = "prepaidSettings",
        transform = "needs_stored_value"
    )]
    async fn get_settings(&self, auth: TenantAuth) -> Result<Json<PrepaidSettingsDoc>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        let s = app::settings(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// Change the prepaid settings.
    #[oai(
        path = "/prepaid/settings",
        method = "put",
        operation_id = "setPrepaidSettings",
        transform = "needs_stored_value"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        body: Json<PrepaidSettingsDoc>,
    ) -> Result<Json<PrepaidSettingsDoc>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let input: app::PrepaidSettings = body.0.try_into()?;
        let s = app::set_settings(&mut tx, &input, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// A member's stored value: balance by sub-ledger (principal, bonus), top-ups and the
    /// sub-ledgers' entries, newest first (`before` an entry id to page).
    #[oai(
        path = "/members/:id/stored-value",
        method = "get",
        operation_id = "memberStoredValue",
        transform = "needs_stored_value"
    )]
    async fn stored_value(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        before: Query<Option<i64>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<StoredValueDoc>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let s = app::stored_value(&mut tx, id.0, before.0, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// What a top-up of an amount would give (the bonus by the business's rule) and any
    /// warning, before it is confirmed. Over the balance cap: 422
    /// `stored_value_cap_exceeded`.
    #[oai(
        path = "/members/:id/stored-value/top-ups/preview",
        method = "post",
        operation_id = "previewTopUp",
        transform = "needs_stored_value"
    )]
    async fn preview_top_up(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<TopUpAmount>,
    ) -> Result<Json<TopUpPreviewDoc>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let p = app::preview_top_up(&mut tx, id.0, body.0.amount).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// Top up a member's stored value: the amount to the principal, the bonus to the bonus
    /// sub-ledger, a charge record of the payment. Idempotent by `idempotency_key`.
    #[oai(
        path = "/members/:id/stored-value/top-ups",
        method = "post",
        operation_id = "topUp",
        transform = "needs_stored_value"
    )]
    async fn top_up(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewTopUpDoc>,
    ) -> Result<RecordedTopUp, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let r = app::top_up(
            &mut tx,
            id.0,
            &app::NewTopUp {
                idempotency_key: b.idempotency_key,
                amount: b.amount,
                method: b.method,
                receipt: b.receipt,
            },
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(r.into())
    }

    /// What refunding a top-up would give back now: its principal not yet spent (spending
    /// uses the oldest top-ups first, by the business's spend order between principal and
    /// bonus); its unspent bonus is forfeited.
    #[oai(
        path = "/members/:id/stored-value/top-ups/:top_up_id/refund",
        method = "get",
        operation_id = "previewTopUpRefund",
        transform = "needs_stored_value"
    )]
    async fn preview_refund(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        top_up_id: Path<Uuid>,
    ) -> Result<Json<TopUpRefundDoc>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let p = app::preview_top_up_refund(&mut tx, id.0, top_up_id.0).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// Refund a top-up as previewed. Once per top-up (409 `top_up_refunded` after).
    #[oai(
        path = "/members/:id/stored-value/top-ups/:top_up_id/refund",
        method = "post",
        operation_id = "refundTopUp",
        transform = "needs_stored_value"
    )]
    async fn refund(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        top_up_id: Path<Uuid>,
        body: Json<NewTopUpRefundDoc>,
    ) -> Result<Json<TopUpRefundDoc>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let req = app::NewTopUpRefund {
            method: b.method,
            receipt: b.receipt,
            expected_principal: b.expected_principal,
        };
        let key = Request::optional(
            Scope::TopUpRefund,
            top_up_id.0,
            b.idempotency_key.as_deref(),
            &req,
        )?;
        let actor = me.subject();
        let p = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::refund_top_up(tx, id.0, top_up_id.0, &req, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }
}
