//! Members at the counter, the HTTP edge: register, look up, edit, search, the per-member
//! audit log and erasure; cards are in [`cards`]. Phones and e-mails are masked for staff
//! without `members:read_pii`. The use cases are `patron_app::members`.

pub mod cards;
pub mod dto;

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::member_views::{KnownPlan, MemberSearch, MemberView, NewMember, StaffPlan};
use crate::edge::state::ApiState;
use dto::{CreatedMember, MemberAuditView, MemberChange, MemberPage, MemberRow, NewPhone, Sent};
use patron_app::fields::current_fields;
use patron_app::members::{self as app_members, Staff};
use patron_core::access::Permission;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
pub(crate) enum Tag {
    /// The member register: registration, profiles, search, cards, audit, erasure.
    Members,
}

pub struct MembersApi {
    pub state: ApiState,
}

/// Whether `p` may see phones and e-mails in clear.
pub(crate) fn can_see_pii(state: &ApiState, p: &Principal) -> bool {
    state.require(p, Permission::MembersReadPii).is_ok()
}

impl MembersApi {
    fn staff<'a>(&self, me: &'a Principal, subject: &'a str) -> Staff<'a> {
        Staff {
            subject,
            channel: me.channel(),
            show_pii: can_see_pii(&self.state, me),
        }
    }

    async fn search_inner(
        &self,
        auth: TenantAuth,
        req: MemberSearch,
    ) -> Result<Json<MemberPage>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        let keys = &self.state.config.pii;
        let list = app_members::search::list(
            &mut tx,
            &self.state.rules,
            &set,
            keys,
            &me.tenant.settings.phone_region,
            &req.into(),
        )
        .await?;
        tx.commit().await?;
        let pii = can_see_pii(&self.state, &me);
        let mut standings = list.standings;
        Ok(Json(MemberPage {
            items: list
                .page
                .rows
                .iter()
                .map(|m| {
                    let s = standings.remove(&m.id);
                    MemberRow {
                        member: app_members::profile(m, &set, keys, pii).into(),
                        points: s.as_ref().map_or(0, |s| s.balance),
                        tier: s.as_ref().and_then(|s| s.tier.clone()),
                        tier_name: s
                            .as_ref()
                            .and_then(|s| s.tier_name.as_ref())
                            .map(Into::into),
                        last_visit_at: s.and_then(|s| s.last_visit_at),
                    }
                })
                .collect(),
            next_cursor: list.page.next_cursor,
            total: list.total,
            total_capped: list.total_capped,
        }))
    }
}

#[OpenApi(tag = "Tag::Members")]
impl MembersApi {
    /// Register a member at the counter; a card is issued at once.
    #[oai(path = "/members", method = "post", operation_id = "createMember")]
    async fn create(
        &self,
        auth: TenantAuth,
        req: Json<NewMember>,
    ) -> Result<CreatedMember, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let subject = me.subject();
        let plan = StaffPlan {
            state: self.state.clone(),
            principal: me.clone(),
        };
        let p = app_members::create(
            &mut tx,
            &me.tenant,
            &self.state.config.pii,
            &plan,
            &self.staff(&me, &subject),
            req.0.into(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedMember::Created(Json(p.into())))
    }

    /// One member.
    #[oai(path = "/members/:id", method = "get", operation_id = "getMember")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let pii = can_see_pii(&self.state, &me);
        let p = app_members::get(&mut tx, &self.state.config.pii, id.0, pii).await?;
        let bounced = patron_app::messages::email_bounced(&mut tx, id.0).await?;
        tx.commit().await?;
        let mut view = MemberView::from(p);
        view.email_bounced_at = bounced;
        Ok(Json(view))
    }

    /// Edit a member: fields left out keep their value. Each change is audited. Changing a
    /// verified phone needs `phone_code` (sent to the new number) or
    /// `members:manage_sensitive`.
    #[oai(path = "/members/:id", method = "patch", operation_id = "updateMember")]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<MemberChange>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let subject = me.subject();
        let sensitive = self
            .state
            .require(&me, Permission::MembersManageSensitive)
            .is_ok();
        let p = app_members::update(
            tx,
            &me.tenant,
            &self.state.config.pii,
            &self.staff(&me, &subject),
            sensitive,
            id.0,
            req.0.into(),
            self.state.now(),
        )
        .await?;
        Ok(Json(p.into()))
    }

    /// Send a code to a member's new phone number, to change a verified phone without
    /// `members:manage_sensitive`.
    #[oai(
        path = "/members/:id/phone-code",
        method = "post",
        operation_id = "sendPhoneChangeCode"
    )]
    async fn phone_code(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewPhone>,
    ) -> Result<Json<Sent>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        app_members::send_phone_change_code(
            &mut tx,
            &me.tenant,
            &self.state.config.pii,
            &*self.state.sms,
            &KnownPlan {
                state: &self.state,
                plan: me.plan.clone(),
            },
            id.0,
            &req.0.phone,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        self.state.send_texts_now(&me.tenant);
        Ok(Json(Sent { sent: true }))
    }

    /// Members, newest first, a page at a time (`after` = previous `next_cursor`).
    #[oai(path = "/members", method = "get", operation_id = "listMembers")]
    async fn list(
        &self,
        auth: TenantAuth,
        after: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<MemberPage>, ApiError> {
        let req = MemberSearch {
            after: after.0,
            limit: limit.0,
            descending: true,
            ..Default::default()
        };
        self.search_inner(auth, req).await
    }

    /// Search members by card, phone (any formatting), e-mail, name substring, tags,
    /// custom values (equality or ranges), join date and birthday ranges; keyset pages.
    #[oai(
        path = "/members/search",
        method = "post",
        operation_id = "searchMembers",
        transform = "read_only_safe"
    )]
    async fn search(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
    ) -> Result<Json<MemberPage>, ApiError> {
        self.search_inner(auth, req.0).await
    }

    /// The member's audit log: every change, who made it, when, through which channel.
    #[oai(
        path = "/members/:id/audit",
        method = "get",
        operation_id = "memberAudit"
    )]
    async fn audit(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        after: Query<Option<i64>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<MemberAuditView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rows = app_members::audit::log(&mut tx, id.0, after.0, limit.0).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Erase a member's personal data for good. The member stays, under its anonymous id,
    /// so points and reports still add up; the erasure is audited.
    #[oai(
        path = "/members/:id/erase",
        method = "post",
        operation_id = "eraseMember"
    )]
    async fn erase(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersManageSensitive))
            .await?;
        let subject = me.subject();
        let p = app_members::erase(
            &mut tx,
            &self.state.config.pii,
            &self.staff(&me, &subject),
            id.0,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }
}
