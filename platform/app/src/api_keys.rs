//! Integration API keys, for a POS or a website. Each carries one role (never more than
//! its creator holds); the key itself is shown once and stored only as a hash.

use crate::access::{check_grant, parse_stored, GrantError};
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_core::access::Permission;
use patron_core::auth::{issue_token, token_preview, TokenKind};
use patron_core::tenants::parse_display_name;
use patron_db::access::{self, key_subject};
use patron_db::api_keys::{self, ApiKey};
use patron_db::{audit, DbError, TenantTx};
use uuid::Uuid;

/// A new key, as given.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    /// The role whose permissions the key carries.
    pub role: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Checks a new key's name and expiry (which must be in the future); the trimmed name.
pub fn validate(req: &NewKey, now: DateTime<Utc>) -> Result<String, AppError> {
    let name = parse_display_name(&req.name, 120).map_err(|p| AppError::field("name", p))?;
    if req.expires_at.is_some_and(|e| e <= now) {
        return Err(AppError::field(
            "expires_at",
            patron_core::Issue::new(patron_core::FieldCode::NotInFuture, "must be in the future"),
        ));
    }
    Ok(name)
}

/// Every key of the tenant (never the secrets).
pub async fn list(mut tx: TenantTx) -> Result<Vec<ApiKey>, AppError> {
    let keys = api_keys::list(&mut tx).await?;
    tx.commit().await?;
    Ok(keys)
}

/// Creates a key carrying `req.role`; the key's text is returned this once. `held` are the
/// creator's permissions; `created_by` the staff member, if one. The caller drops the
/// tenant's cached access policy afterwards.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    mut tx: TenantTx,
    tenant_id: i64,
    actor: &str,
    held: &[Permission],
    created_by: Option<Uuid>,
    name: String,
    req: NewKey,
    now: DateTime<Utc>,
) -> Result<(String, ApiKey), GrantError> {
    let role = access::find_role(&mut tx, &req.role)
        .await
        .map_err(|e| match e {
            DbError::NotFound => AppError::field(
                "role",
                patron_core::Issue::new(
                    patron_core::FieldCode::NoSuchRole,
                    format!("there is no role \"{}\"", req.role),
                )
                .with("value", req.role.as_str()),
            ),
            other => other.into(),
        })?;
    check_grant(held, &parse_stored(&role.permissions), "role")?;
    let issued = issue_token(TokenKind::ApiKey, tenant_id);
    let key = api_keys::create(
        &mut tx,
        &name,
        &token_preview(&issued.text),
        &issued.hash,
        &role.name,
        created_by,
        now,
        req.expires_at,
    )
    .await?;
    access::set_roles(
        &mut tx,
        &key_subject(key.id),
        std::slice::from_ref(&role.name),
    )
    .await?;
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "api_key.created",
        &key.id.to_string(),
        serde_json::json!({ "name": name, "role": role.name }),
    )
    .await?;
    tx.commit().await?;
    Ok((issued.text, key))
}

/// Revokes a key: every replica stops accepting it at once (NOTIFY). The caller drops its
/// cached access policy and keys afterwards.
pub async fn revoke(
    mut tx: TenantTx,
    tenant_id: i64,
    actor: &str,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ApiKey, AppError> {
    let key = api_keys::revoke(&mut tx, id, now)
        .await
        .not_found_as("API key")?;
    access::set_roles(&mut tx, &key_subject(key.id), &[]).await?;
    access::notify_changed(&mut tx).await?;
    api_keys::notify_changed(&mut tx, tenant_id).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "api_key.revoked",
        &key.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_key_must_expire_in_the_future_and_have_a_name() {
        let now = at("2026-03-01T00:00:00Z");
        let key = |name: &str, expires_at| NewKey {
            name: name.into(),
            role: "cashier".into(),
            expires_at,
        };
        assert_eq!(validate(&key(" POS ", None), now).unwrap(), "POS");
        assert!(validate(&key("POS", Some(now + chrono::Duration::days(1))), now).is_ok());
        let e = validate(&key("POS", Some(now)), now).unwrap_err();
        assert_eq!(e.fields()[0].field, "expires_at");
        let e = validate(&key("", None), now).unwrap_err();
        assert_eq!(e.fields()[0].field, "name");
    }
}
