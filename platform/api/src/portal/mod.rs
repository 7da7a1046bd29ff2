//! The member portal API, `/portal/{tenant}/...`: members register with the fields the
//! business shows them (phone verified by a one-time SMS code, consent to the privacy terms
//! when there are any), log in with phone or e-mail and a password or with phone and a code,
//! read and edit their own profile, and reset their password by code. Staff set the portal's
//! page (logo, address, hours, privacy terms) with `/portal-settings`. The use cases are
//! `patron_app::portal`.
//!
//! Member tokens (`pmt_...`) are their own kind: staff endpoints never accept them and the
//! portal never accepts staff tokens. A token works only in the tenant that issued it.

pub mod activities;
pub mod conversations;
pub mod coupons;
pub mod dto;
pub mod mall;
pub mod notices;
pub mod promotions;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::member_views::{KnownPlan, MemberView};
use crate::edge::point_views::{CheckInResult, EntryPage, PointsSummary};
use crate::edge::state::ApiState;
use dto::{
    Accepted, CodeRequest, Done, MemberLogin, MemberSession, PasswordReset, PortalForm,
    PortalSettings, PortalSettingsChange, PrivacyTerms, ProfileChange, Registered, Registration,
    SmsView,
};
use patron_app::fields::current_fields;
use patron_app::portal as app_portal;
use patron_core::access::Permission;
use patron_core::auth::{parse_token, Password, TokenKind};
use patron_db::members::Member;
use patron_db::{Tenant, TenantTx};
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, SecurityScheme, Tags};

#[derive(Tags)]
enum Tag {
    /// The member portal: self-service registration, login and profile.
    Portal,
}

/// A member's portal token, as `Authorization: Bearer pmt_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque")]
pub struct MemberToken(Bearer);

pub struct PortalApi {
    pub state: ApiState,
}

fn unknown_business() -> ApiError {
    ApiError::not_found("business")
}

fn bad_member_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the member token is missing, malformed, expired or revoked",
    )
}

impl PortalApi {
    async fn tenant(&self, slug: &str) -> Result<Tenant, ApiError> {
        let t = patron_app::portal::business(&self.state.db, slug)
            .await?
            .ok_or_else(unknown_business)?;
        tracing::Span::current().record("tenant", t.slug.as_str());
        Ok(t)
    }

    /// The member behind a token, which must belong to the tenant in the path.
    pub(crate) async fn member(
        &self,
        slug: &str,
        auth: &MemberToken,
    ) -> Result<(TenantTx, Tenant, Member), ApiError> {
        member_session(&self.state, slug, auth).await
    }
}

/// The member behind a token, which must belong to the tenant in the path, in a tenant
/// transaction.
pub(crate) async fn member_session(
    state: &ApiState,
    slug: &str,
    auth: &MemberToken,
) -> Result<(TenantTx, Tenant, Member), ApiError> {
    let presented =
        parse_token(TokenKind::MemberSession, &auth.0.token).ok_or_else(bad_member_token)?;
    let tenant = patron_app::portal::business(&state.db, slug)
        .await?
        .ok_or_else(unknown_business)?;
    tracing::Span::current().record("tenant", tenant.slug.as_str());
    if presented.tenant_id != tenant.id {
        return Err(bad_member_token());
    }
    let mut tx = state.db.tenant_tx(&tenant).await?;
    let m = app_portal::session_member(&mut tx, &presented.hash, state.now()).await?;
    Ok((tx, tenant, m))
}

#[OpenApi(tag = "Tag::Portal")]
impl PortalApi {
    /// The registration form of a business (the fields members see) and its portal page:
    /// logo, address, opening hours, whether it offers check-ins, its privacy terms.
    #[oai(
        path = "/portal/:tenant/form",
        method = "get",
        operation_id = "portalForm"
    )]
    async fn form(&self, tenant: Path<String>) -> Result<Json<PortalForm>, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        let plan = self.state.plan_of(&t).await?;
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let (_, set) = current_fields(&mut tx).await?;
        let site = app_portal::site::get(&mut tx).await?;
        tx.commit().await?;
        let members = set.for_members();
        let privacy = app_portal::site::privacy(&site).map(|(text, version)| PrivacyTerms {
            text: text.to_owned(),
            version,
        });
        Ok(Json(PortalForm {
            business: t.name.clone(),
            json_schema: members.json_schema(),
            ui_schema: members.ui_schema(),
            member_editable: members
                .active()
                .filter(|f| f.member_editable)
                .map(|f| f.key.clone())
                .collect(),
            // The same gate as the check-in itself.
            check_ins: plan.has(patron_core::plans::Feature::Events),
            privacy,
            logo_url: site.logo_url,
            address: site.address,
            opening_hours: site.opening_hours,
        }))
    }

    /// The portal's page settings: logo, address, opening hours and privacy terms.
    #[oai(
        path = "/portal-settings",
        method = "get",
        operation_id = "getPortalSettings"
    )]
    async fn settings(&self, auth: TenantAuth) -> Result<Json<PortalSettings>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        let s = app_portal::site::get(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// Set the portal's page settings; a changed text of the privacy terms gets the next
    /// version, and registrations must then agree to it.
    #[oai(
        path = "/portal-settings",
        method = "put",
        operation_id = "setPortalSettings"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        req: Json<PortalSettingsChange>,
    ) -> Result<Json<PortalSettings>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let s =
            app_portal::site::set(&mut tx, req.0.into(), &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// Send a one-time code by SMS: to register, to reset a password or to change phone.
    #[oai(
        path = "/portal/:tenant/codes",
        method = "post",
        operation_id = "portalSendCode"
    )]
    async fn send(
        &self,
        tenant: Path<String>,
        req: Json<CodeRequest>,
    ) -> Result<Accepted, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only. The plan is
        // read here, before the transaction: parallel requests for one number wait for each
        // other's row holding their connections, so the one that holds the row must need no
        // second connection to finish.
        let plan = self.state.open_for_members(&t).await?;
        let phone = app_portal::parse_phone(&req.0.phone, &t)?;
        let mut tx = self.state.db.tenant_tx(&t).await?;
        app_portal::send_code(
            &mut tx,
            &t,
            &self.state.config.pii,
            &*self.state.sms,
            &KnownPlan {
                state: &self.state,
                plan,
            },
            &phone,
            req.0.purpose.into(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        self.state.send_texts_now(&t);
        Ok(Accepted::Accepted)
    }

    /// Register with the business's fields and a code sent to the phone; logs the member in.
    #[oai(
        path = "/portal/:tenant/register",
        method = "post",
        operation_id = "portalRegister"
    )]
    async fn register(
        &self,
        tenant: Path<String>,
        req: Json<Registration>,
    ) -> Result<Registered, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only.
        let plan = self.state.open_for_members(&t).await?;
        let req = req.0;
        let tx = self.state.db.tenant_tx(&t).await?;
        let session = app_portal::register(
            tx,
            &t,
            &self.state.config.pii,
            &KnownPlan {
                state: &self.state,
                plan,
            },
            app_portal::Registration {
                profile: req.profile.into(),
                code: req.code,
                password: req.password,
                consent_version: req.consent_version,
            },
            self.state.now(),
        )
        .await?;
        Ok(Registered::Created(Json(session.into())))
    }

    /// Log in with phone or e-mail and password, or with phone and a code sent for `login`.
    #[oai(
        path = "/portal/:tenant/login",
        method = "post",
        operation_id = "portalLogin"
    )]
    async fn login(
        &self,
        tenant: Path<String>,
        req: Json<MemberLogin>,
    ) -> Result<Json<MemberSession>, ApiError> {
        let req = req.0;
        let credential = match (req.password, req.code) {
            (Some(p), None) => app_portal::Credential::Password(p),
            (None, Some(c)) => app_portal::Credential::Code(c),
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "code",
                    patron_core::Issue::new(
                        patron_core::FieldCode::OneOf,
                        "send either a password or a code, not both",
                    )
                    .with("options", "password, code"),
                ))
            }
            (None, None) => {
                return Err(ApiError::field(
                    "password",
                    patron_core::Issue::new(
                        patron_core::FieldCode::Missing,
                        "is required, or a code sent to the phone",
                    )
                    .with("options", "password, code"),
                ))
            }
        };
        let t = self.tenant(&tenant.0).await?;
        let tx = self.state.db.tenant_tx(&t).await?;
        let session = app_portal::login(
            tx,
            &t,
            &self.state.config.pii,
            &req.login,
            credential,
            self.state.now(),
        )
        .await?;
        Ok(Json(session.into()))
    }

    /// Set a new password with a code sent to the member's phone; other logins end.
    #[oai(
        path = "/portal/:tenant/password-reset",
        method = "post",
        operation_id = "portalResetPassword"
    )]
    async fn reset(
        &self,
        tenant: Path<String>,
        req: Json<PasswordReset>,
    ) -> Result<Done, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only.
        self.state.open_for_members(&t).await?;
        let phone = app_portal::parse_phone(&req.0.phone, &t)?;
        let password =
            Password::parse(&req.0.new_password).map_err(|p| ApiError::field("new_password", p))?;
        let tx = self.state.db.tenant_tx(&t).await?;
        app_portal::reset_password(
            tx,
            &self.state.config.pii,
            &phone,
            password,
            &req.0.code,
            self.state.now(),
        )
        .await?;
        Ok(Done::NoContent)
    }

    /// The member's own profile.
    #[oai(path = "/portal/:tenant/me", method = "get", operation_id = "portalMe")]
    async fn me(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let p = app_portal::own_view(&mut tx, &self.state.config.pii, &m).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// The member's code for the counter: shown as a QR code or barcode, scanned by staff to
    /// find the member in one step. Valid for a minute; fetch a fresh one after
    /// `refresh_in` seconds.
    #[oai(
        path = "/portal/:tenant/me/code",
        method = "get",
        operation_id = "portalMyCode"
    )]
    async fn my_code(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<dto::MemberCode>, ApiError> {
        let (tx, t, m) = self.member(&tenant.0, &auth).await?;
        tx.commit().await?;
        let (code, expires_at, refresh_in) =
            patron_app::desk::my_code(&self.state.config.pii, &t, &m, self.state.now());
        Ok(Json(dto::MemberCode {
            code,
            expires_at,
            refresh_in,
        }))
    }

    /// The member's own points: balance, debt, totals and soonest expiries.
    #[oai(
        path = "/portal/:tenant/me/points",
        method = "get",
        operation_id = "portalMyPoints"
    )]
    async fn my_points(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<PointsSummary>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let s: PointsSummary = patron_app::points::ledger::summary(
            &mut tx,
            &self.state.rules,
            m.id,
            false,
            self.state.now(),
        )
        .await?
        .into();
        tx.commit().await?;
        Ok(Json(s))
    }

    /// The member's own tier: what it gives, progress to the next one ("spend 320 more by
    /// 2027-12-31") and what keeps the current one.
    #[oai(
        path = "/portal/:tenant/me/tier",
        method = "get",
        operation_id = "portalMyTier"
    )]
    async fn my_tier(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<crate::edge::tier_views::MemberTierView>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let mut view: crate::edge::tier_views::MemberTierView =
            patron_app::tiers::member::member_tier(
                &mut tx,
                &rules,
                &t,
                patron_core::MemberId::new(m.id),
                self.state.now(),
                true,
            )
            .await?
            .into();
        tx.commit().await?;
        // Members see their moves, not which staff member made them.
        for h in &mut view.history {
            h.actor = String::new();
        }
        Ok(Json(view))
    }

    /// The member's own points history, newest first.
    #[oai(
        path = "/portal/:tenant/me/points/entries",
        method = "get",
        operation_id = "portalMyPointEntries"
    )]
    async fn my_entries(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        before: Query<Option<i64>>,
    ) -> Result<Json<EntryPage>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let page = patron_app::points::ledger::entries(
            &mut tx,
            &self.state.rules,
            m.id,
            before.0,
            50,
            false,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(page.into()))
    }

    /// The member's own memberships (with the last day covered), stored value (principal,
    /// bonus and history) and visit passes (with the visits left). A part the business's
    /// plan does not include is absent.
    #[oai(
        path = "/portal/:tenant/me/prepaid",
        method = "get",
        operation_id = "portalMyPrepaid"
    )]
    async fn my_prepaid(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<dto::MyPrepaid>, ApiError> {
        use patron_app::prepaid::mine;
        use patron_core::plans::Feature;
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let plan = self.state.plan_of(&t).await?;
        let zone = t.settings.zone();
        let now = self.state.now();
        let memberships = if plan.has(Feature::Memberships) {
            let ms = mine::my_memberships(&mut tx, zone, m.id, now).await?;
            Some(
                ms.into_iter()
                    .map(|x| dto::MyMembership {
                        plan_name: x.plan_name,
                        starts_on: x.starts_on,
                        last_day: x.last_day,
                        status: x.status.to_owned(),
                        frozen_days: x.frozen_days,
                    })
                    .collect(),
            )
        } else {
            None
        };
        let stored_value = if plan.has(Feature::StoredValue) {
            let sv = mine::my_stored_value(&mut tx, m.id, 50).await?;
            Some(dto::MyStoredValue {
                principal: sv.principal,
                bonus: sv.bonus,
                total: sv.principal + sv.bonus,
                entries: sv
                    .entries
                    .into_iter()
                    .map(|e| dto::MyStoredValueEntry {
                        ledger: e.ledger,
                        kind: e.kind,
                        amount: e.amount,
                        balance: e.balance,
                        at: e.at,
                    })
                    .collect(),
            })
        } else {
            None
        };
        let passes = if plan.has(Feature::VisitPasses) {
            let ps = mine::my_passes(&mut tx, zone, m.id, now).await?;
            Some(
                ps.into_iter()
                    .map(|p| dto::MyPass {
                        product_name: p.product_name,
                        categories: p.categories,
                        visits_total: p.visits_total,
                        visits_left: p.visits_left,
                        expires_on: p.expires_on,
                        status: p.status.to_owned(),
                    })
                    .collect(),
            )
        } else {
            None
        };
        tx.commit().await?;
        Ok(Json(dto::MyPrepaid {
            memberships,
            stored_value,
            passes,
        }))
    }

    /// Check in for today (once a day; consecutive days make a streak), when the business's
    /// plan includes events.
    #[oai(
        path = "/portal/:tenant/me/check-in",
        method = "post",
        operation_id = "portalCheckIn"
    )]
    async fn my_check_in(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<CheckInResult>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let plan = self.state.open_for_members(&t).await?;
        if !plan.has(patron_core::plans::Feature::Events) {
            return Err(ApiError::forbidden(
                "check_in_unavailable",
                "this business does not offer check-ins",
            ));
        }
        let actor = format!("member:{}", m.id);
        let r: CheckInResult = patron_app::points::check_in(
            &mut tx,
            &self.state.rules,
            &t,
            &m,
            &actor,
            self.state.now(),
        )
        .await?
        .into();
        tx.commit().await?;
        Ok(Json(r))
    }

    /// Edit the own profile: name, e-mail, gender, birthday, phone (with a code sent to the
    /// new number) and the custom fields the business marked member-editable.
    #[oai(
        path = "/portal/:tenant/me",
        method = "patch",
        operation_id = "portalUpdateMe"
    )]
    async fn update_me(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        req: Json<ProfileChange>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (tx, t, m) = self.member(&tenant.0, &auth).await?;
        self.state.open_for_members(&t).await?;
        let p = app_portal::update_profile(
            tx,
            &t,
            &self.state.config.pii,
            &m,
            req.0.into(),
            self.state.now(),
        )
        .await?;
        Ok(Json(p.into()))
    }

    /// Text messages the default sender recorded (newest first), for the console.
    #[oai(path = "/sms-outbox", method = "get", operation_id = "smsOutbox")]
    async fn outbox(
        &self,
        auth: TenantAuth,
        phone: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<SmsView>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersReadPii))
            .await?;
        let rows = app_portal::outbox(
            &mut tx,
            &me.tenant.settings.phone_region,
            phone.0.as_deref(),
            limit.0,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }
}
