//! Membership cards, the HTTP edge: a member's cards, binding a physical card, looking a
//! member up by card, reporting a card lost, reissuing, and the format of new numbers. The
//! use cases are `patron_app::members::cards`.

use super::{can_see_pii, Tag};
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::member_views::MemberView;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::members::{self as app_members, cards as app_cards};
use patron_core::access::Permission;
use patron_core::members as core_members;
use patron_db::cards;
use patron_db::members::Actor;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Object)]
pub struct CardView {
    pub number: String,
    /// `active`, `lost` or `blocked`.
    pub status: String,
    pub physical_code: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub replaced_by: Option<String>,
}

impl From<cards::Card> for CardView {
    fn from(c: cards::Card) -> Self {
        Self {
            number: c.number,
            status: c.status,
            physical_code: c.physical_code,
            issued_at: c.issued_at,
            replaced_by: c.replaced_by,
        }
    }
}

#[derive(Debug, Object)]
pub struct CardEventView {
    pub number: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// issued, physical_bound, reported_lost, blocked.
    pub event: String,
    pub detail: Value,
}

#[derive(Debug, Object)]
pub struct CardsView {
    pub cards: Vec<CardView>,
    pub history: Vec<CardEventView>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PhysicalCard {
    #[oai(validator(max_length = 100))]
    pub physical_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CardModeDto {
    Sequence,
    Random,
}

/// How new card numbers look.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CardFormatDto {
    #[oai(validator(max_length = 20))]
    pub prefix: String,
    pub length: u32,
    pub mode: CardModeDto,
    pub luhn: bool,
}

impl From<cards::CardEvent> for CardEventView {
    fn from(e: cards::CardEvent) -> Self {
        Self {
            number: e.number,
            at: e.at,
            actor: e.actor,
            event: e.event,
            detail: e.detail,
        }
    }
}

/// The card endpoints (tagged with the register).
pub struct CardsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Members")]
impl CardsApi {
    /// The member's cards and their history.
    #[oai(
        path = "/members/:id/cards",
        method = "get",
        operation_id = "memberCards"
    )]
    async fn member_cards(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CardsView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let (list, history) = app_cards::of_member(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(CardsView {
            cards: list.into_iter().map(CardView::from).collect(),
            history: history.into_iter().map(CardEventView::from).collect(),
        }))
    }

    /// Tie a physical card to the member's card in use.
    #[oai(
        path = "/members/:id/cards/physical",
        method = "post",
        operation_id = "bindPhysicalCard"
    )]
    async fn bind_physical(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<PhysicalCard>,
    ) -> Result<Json<CardView>, ApiError> {
        let code = core_members::parse_physical_code(&req.0.physical_code)
            .map_err(|p| ApiError::field("physical_code", p))?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let card = app_cards::bind_physical(&mut tx, id.0, &code, &by).await?;
        tx.commit().await?;
        Ok(Json(card.into()))
    }

    /// Look a member up by card number (or a physical card's code). Lost and blocked cards
    /// are refused with `card_lost` / `card_blocked`.
    #[oai(path = "/cards/:number", method = "get", operation_id = "lookupCard")]
    async fn lookup_card(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let m = app_cards::lookup(&mut tx, &number.0).await?;
        let pii = can_see_pii(&self.state, &me);
        let p = app_members::view(&mut tx, &self.state.config.pii, &m, pii).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// Report a card lost: it is frozen at once.
    #[oai(
        path = "/cards/:number/lost",
        method = "post",
        operation_id = "reportCardLost"
    )]
    async fn report_lost(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<CardView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let card = app_cards::report_lost(&mut tx, &number.0, &by).await?;
        tx.commit().await?;
        Ok(Json(card.into()))
    }

    /// Reissue: a new number for the member; the old one is blocked for good. Points, tier
    /// and history belong to the member and carry over.
    #[oai(
        path = "/cards/:number/reissue",
        method = "post",
        operation_id = "reissueCard"
    )]
    async fn reissue(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<CardView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let new = app_cards::reissue(&mut tx, &number.0, &by).await?;
        tx.commit().await?;
        Ok(Json(new.into()))
    }

    /// How new card numbers look.
    #[oai(path = "/card-format", method = "get", operation_id = "getCardFormat")]
    async fn get_format(&self, auth: TenantAuth) -> Result<Json<CardFormatDto>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let f = app_cards::format(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(CardFormatDto {
            prefix: f.prefix,
            length: f.length,
            mode: match f.mode {
                core_members::CardMode::Sequence => CardModeDto::Sequence,
                core_members::CardMode::Random => CardModeDto::Random,
            },
            luhn: f.luhn,
        }))
    }

    /// Change how new card numbers look (existing numbers stay).
    #[oai(path = "/card-format", method = "put", operation_id = "setCardFormat")]
    async fn set_format(
        &self,
        auth: TenantAuth,
        req: Json<CardFormatDto>,
    ) -> Result<Json<CardFormatDto>, ApiError> {
        let f = core_members::CardFormat {
            prefix: req.0.prefix.clone(),
            length: req.0.length,
            mode: match req.0.mode {
                CardModeDto::Sequence => core_members::CardMode::Sequence,
                CardModeDto::Random => core_members::CardMode::Random,
            },
            luhn: req.0.luhn,
        };
        app_cards::check_format(&f)?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::FieldsManage))
            .await?;
        app_cards::set_format(&mut tx, &f, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(req)
    }
}
