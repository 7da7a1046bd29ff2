//! Staff accounts: list, invite, change, disable, assign roles.

use crate::edge::account_views::StaffView;
use crate::edge::auth::{hash_password, Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_core::access::{BuiltinRole, Permission};
use patron_core::auth::{Email, Password};
use patron_core::plans::Limit;
use patron_core::tenants::parse_display_name;
use patron_core::Validation;
use patron_db::access::{self, staff_subject};
use patron_db::{audit, sessions, staff, TenantTx};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Staff accounts of the business.
    Staff,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewStaff {
    #[oai(validator(max_length = 300))]
    pub email: String,
    #[oai(validator(max_length = 200))]
    pub name: String,
    /// Initial password, 10–128 characters; the person changes it after logging in.
    #[oai(validator(max_length = 1000))]
    pub password: String,
    /// Role names; at least one.
    #[oai(validator(max_items = 20))]
    pub roles: Vec<String>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct StaffChange {
    #[oai(validator(max_length = 200))]
    pub name: Option<String>,
    /// `active` or `disabled`. Disabling logs the person out everywhere.
    pub status: Option<String>,
    /// Replaces the roles held.
    #[oai(validator(max_items = 20))]
    pub roles: Option<Vec<String>>,
}

#[derive(ApiResponse)]
enum Created {
    /// Returned when the account was created.
    #[oai(status = 201)]
    Created(Json<StaffView>),
}

pub struct StaffApi {
    pub state: ApiState,
}

impl StaffApi {
    /// Checks role names exist and that the caller holds everything they grant.
    async fn check_roles(
        &self,
        tx: &mut TenantTx,
        me: &Principal,
        roles: &[String],
    ) -> Result<(), ApiError> {
        if roles.is_empty() {
            return Err(ApiError::invalid_field(
                "roles",
                "must name at least one role",
            ));
        }
        let all = access::list_roles(tx).await?;
        let mut wanted = Vec::new();
        for (i, name) in roles.iter().enumerate() {
            let Some(role) = all.iter().find(|r| r.name == *name) else {
                return Err(ApiError::invalid_field(
                    &format!("roles.{i}"),
                    format!("there is no role \"{name}\""),
                ));
            };
            wanted.extend(
                role.permissions
                    .iter()
                    .filter_map(|p| Permission::parse(p).ok()),
            );
        }
        self.state.require_all(me, &wanted, "roles")
    }
}

#[OpenApi(tag = "Tag::Staff")]
impl StaffApi {
    /// List staff accounts.
    #[oai(path = "/staff", method = "get", operation_id = "listStaff")]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<StaffView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let mut out = Vec::new();
        for s in staff::list(&mut tx).await? {
            let roles = access::roles_of(&mut tx, &staff_subject(s.id)).await?;
            out.push(StaffView::new(s, roles));
        }
        tx.commit().await?;
        Ok(Json(out))
    }

    /// Create a staff account with roles.
    #[oai(path = "/staff", method = "post", operation_id = "createStaff")]
    async fn create(&self, auth: TenantAuth, req: Json<NewStaff>) -> Result<Created, ApiError> {
        let req = req.0;
        let mut v = Validation::new();
        let email = v.check("email", Email::parse(&req.email));
        let name = v.check("name", parse_display_name(&req.name, 120));
        let password = v.check("password", Password::parse(&req.password));
        v.finish().map_err(ApiError::invalid)?;
        let (email, name, password) = (
            email.expect("checked"),
            name.expect("checked"),
            password.expect("checked"),
        );
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        self.check_roles(&mut tx, &me, &req.roles).await?;
        self.state
            .check_limit(&mut tx, &me, Limit::Staff, 1)
            .await?;
        let now = self.state.now();
        let hash = hash_password(password).await?;
        let created = staff::create(&mut tx, email.as_str(), &name, &hash, now)
            .await
            .map_err(|e| {
                if e.is_conflict_on("staff_email_key") {
                    ApiError::conflict(
                        "email_taken",
                        Some("email"),
                        "a staff account with this e-mail already exists",
                    )
                } else {
                    e.into()
                }
            })?;
        access::set_roles(&mut tx, &staff_subject(created.id), &req.roles).await?;
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            now,
            &me.subject(),
            "staff.created",
            &created.id.to_string(),
            serde_json::json!({ "roles": req.roles }),
        )
        .await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Created::Created(Json(StaffView::new(created, req.roles))))
    }

    /// One staff account.
    #[oai(path = "/staff/:id", method = "get", operation_id = "getStaff")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<StaffView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let s = staff::find(&mut tx, id.0)
            .await
            .map_err(|_| ApiError::not_found("staff member"))?;
        let roles = access::roles_of(&mut tx, &staff_subject(s.id)).await?;
        tx.commit().await?;
        Ok(Json(StaffView::new(s, roles)))
    }

    /// Change a staff account: name, status, roles.
    ///
    /// The business always keeps at least one active owner, and nobody can grant a role with
    /// permissions they do not hold themselves.
    #[oai(path = "/staff/:id", method = "patch", operation_id = "updateStaff")]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<StaffChange>,
    ) -> Result<Json<StaffView>, ApiError> {
        let req = req.0;
        let mut v = Validation::new();
        let name = req
            .name
            .as_deref()
            .and_then(|n| v.check("name", parse_display_name(n, 120)));
        if let Some(s) = &req.status {
            v.check(
                "status",
                if s == "active" || s == "disabled" {
                    Ok(())
                } else {
                    Err("must be active or disabled".to_owned())
                },
            );
        }
        v.finish().map_err(ApiError::invalid)?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        let subject = staff_subject(id.0);
        let current = staff::find(&mut tx, id.0)
            .await
            .map_err(|_| ApiError::not_found("staff member"))?;
        if req.status.as_deref() == Some("active") && current.status != "active" {
            // Enabling an account takes a staff seat like creating one.
            self.state
                .check_limit(&mut tx, &me, Limit::Staff, 1)
                .await?;
        }
        let owner = BuiltinRole::Owner.name().to_owned();
        let was_owner = access::roles_of(&mut tx, &subject).await?.contains(&owner);
        if let Some(roles) = &req.roles {
            self.check_roles(&mut tx, &me, roles).await?;
            access::set_roles(&mut tx, &subject, roles).await?;
        }
        let now = self.state.now();
        let updated =
            staff::update(&mut tx, id.0, name.as_deref(), req.status.as_deref(), now).await?;
        if was_owner && access::count_staff_with_role(&mut tx, &owner).await? == 0 {
            return Err(ApiError::conflict(
                "last_owner",
                Some("roles"),
                "the business must keep at least one active owner",
            ));
        }
        if req.status.as_deref() == Some("disabled") {
            sessions::revoke_all_for_staff(&mut tx, id.0, None, now).await?;
        }
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            now,
            &me.subject(),
            "staff.updated",
            &id.0.to_string(),
            serde_json::json!({ "name": req.name, "status": req.status, "roles": req.roles }),
        )
        .await?;
        let roles = access::roles_of(&mut tx, &subject).await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Json(StaffView::new(updated, roles)))
    }
}
