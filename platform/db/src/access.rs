//! Roles and Casbin policy lines of one tenant, and the Casbin [`Adapter`] over them.
//!
//! Lines follow the model in `patron_api::access`: `p, <role>, <domain>, <object>, <action>`
//! grants a permission to a role; `g, <subject>, <role>, <domain>` gives a subject
//! (`staff:<id>` or `key:<id>`) a role. The domain is the tenant's schema name.

use crate::{Db, DbError, Tenant, TenantTx};
use async_trait::async_trait;
use casbin::{Adapter, Filter, Model};
use patron_core::access::{BuiltinRole, Permission};
use std::collections::BTreeMap;

/// The channel on which policy changes are announced (payload: the tenant id).
pub const POLICY_CHANNEL: &str = "patron_policy";

/// A role with its permissions and how many subjects hold it.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    /// The name people read (「前台」); empty when none was given (a built-in role's name
    /// then comes from the console).
    pub display_name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    pub holders: i64,
}

/// The Casbin subject for a staff member.
pub fn staff_subject(id: uuid::Uuid) -> String {
    format!("staff:{id}")
}

/// The Casbin subject for an API key.
pub fn key_subject(id: uuid::Uuid) -> String {
    format!("key:{id}")
}

/// Creates the built-in roles and their permissions (signup).
pub async fn seed_builtin_roles(tx: &mut TenantTx) -> Result<(), DbError> {
    for role in BuiltinRole::ALL {
        sqlx::query("INSERT INTO roles (name, description, builtin) VALUES ($1, $2, true)")
            .bind(role.name())
            .bind(role.description())
            .execute(tx.conn())
            .await?;
        insert_grants(tx, role.name(), &role.permissions()).await?;
    }
    Ok(())
}

async fn insert_grants(
    tx: &mut TenantTx,
    role: &str,
    permissions: &[Permission],
) -> Result<(), DbError> {
    let domain = tx.domain().to_owned();
    for p in permissions {
        let (obj, act) = p.object_action();
        sqlx::query(
            "INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', $1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(role)
        .bind(&domain)
        .bind(obj)
        .bind(act)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub async fn list_roles(tx: &mut TenantTx) -> Result<Vec<Role>, DbError> {
    let roles: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT name, display_name, description, builtin FROM roles \
         ORDER BY builtin DESC, created_at, name",
    )
    .fetch_all(tx.conn())
    .await?;
    let grants: Vec<(String, String)> = sqlx::query_as(
        "SELECT v0, v2 || ':' || v3 FROM casbin_rules WHERE ptype = 'p' ORDER BY v0, v2, v3",
    )
    .fetch_all(tx.conn())
    .await?;
    let holders: Vec<(String, i64)> =
        sqlx::query_as("SELECT v1, count(*) FROM casbin_rules WHERE ptype = 'g' GROUP BY v1")
            .fetch_all(tx.conn())
            .await?;
    let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (role, perm) in grants {
        by_role.entry(role).or_default().push(perm);
    }
    Ok(roles
        .into_iter()
        .map(|(name, display_name, description, builtin)| Role {
            permissions: by_role.remove(&name).unwrap_or_default(),
            holders: holders
                .iter()
                .find(|(r, _)| *r == name)
                .map_or(0, |(_, n)| *n),
            name,
            display_name,
            description,
            builtin,
        })
        .collect())
}

pub async fn find_role(tx: &mut TenantTx, name: &str) -> Result<Role, DbError> {
    list_roles(tx)
        .await?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or(DbError::NotFound)
}

/// Creates a custom role; `Conflict("roles_pkey")` when the name is taken.
pub async fn create_role(
    tx: &mut TenantTx,
    name: &str,
    description: &str,
    permissions: &[Permission],
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO roles (name, description, builtin) VALUES ($1, $2, false)")
        .bind(name)
        .bind(description)
        .execute(tx.conn())
        .await?;
    insert_grants(tx, name, permissions).await
}

/// Sets the name people read for a role.
pub async fn set_display_name(
    tx: &mut TenantTx,
    name: &str,
    display_name: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE roles SET display_name = $2 WHERE name = $1")
        .bind(name)
        .bind(display_name)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Replaces a role's description and permissions.
pub async fn update_role(
    tx: &mut TenantTx,
    name: &str,
    description: Option<&str>,
    permissions: Option<&[Permission]>,
) -> Result<(), DbError> {
    if let Some(d) = description {
        sqlx::query("UPDATE roles SET description = $2 WHERE name = $1")
            .bind(name)
            .bind(d)
            .execute(tx.conn())
            .await?;
    }
    if let Some(perms) = permissions {
        sqlx::query("DELETE FROM casbin_rules WHERE ptype = 'p' AND v0 = $1")
            .bind(name)
            .execute(tx.conn())
            .await?;
        insert_grants(tx, name, perms).await?;
    }
    Ok(())
}

/// Deletes a role, its grants and every assignment of it.
pub async fn delete_role(tx: &mut TenantTx, name: &str) -> Result<(), DbError> {
    sqlx::query(
        "DELETE FROM casbin_rules WHERE (ptype = 'p' AND v0 = $1) OR (ptype = 'g' AND v1 = $1)",
    )
    .bind(name)
    .execute(tx.conn())
    .await?;
    let gone = sqlx::query("DELETE FROM roles WHERE name = $1")
        .bind(name)
        .execute(tx.conn())
        .await?;
    if gone.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// The roles held by a subject, by name.
pub async fn roles_of(tx: &mut TenantTx, subject: &str) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT v1 FROM casbin_rules WHERE ptype = 'g' AND v0 = $1 ORDER BY v1")
            .bind(subject)
            .fetch_all(tx.conn())
            .await?,
    )
}

/// Replaces the roles a subject holds.
pub async fn set_roles(tx: &mut TenantTx, subject: &str, roles: &[String]) -> Result<(), DbError> {
    let domain = tx.domain().to_owned();
    sqlx::query("DELETE FROM casbin_rules WHERE ptype = 'g' AND v0 = $1")
        .bind(subject)
        .execute(tx.conn())
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(subject)
            .bind(role)
            .bind(&domain)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// How many staff hold a role (used to keep at least one owner).
pub async fn count_staff_with_role(tx: &mut TenantTx, role: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM casbin_rules r JOIN staff s ON r.v0 = 'staff:' || s.id::text
         WHERE r.ptype = 'g' AND r.v1 = $1 AND s.status = 'active'",
    )
    .bind(role)
    .fetch_one(tx.conn())
    .await?)
}

/// Announces, when `tx` commits, that this tenant's policy changed, so every replica drops
/// its cached enforcer. PostgreSQL delivers the notification only if the transaction commits.
pub async fn notify_changed(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(POLICY_CHANNEL)
        .bind(tx.tenant_id().to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Every policy line of the tenant: `[ptype, v0, v1, ...]` with trailing blanks dropped.
pub async fn load_lines(tx: &mut TenantTx) -> Result<Vec<Vec<String>>, DbError> {
    let rows: Vec<(String, String, String, String, String, String, String)> =
        sqlx::query_as("SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rules ORDER BY id")
            .fetch_all(tx.conn())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(p, a, b, c, d, e, f)| {
            let mut line = vec![p, a, b, c, d, e, f];
            while line.last().is_some_and(String::is_empty) {
                line.pop();
            }
            line
        })
        .collect())
}

/// Casbin's storage for one tenant's policy, over that tenant's `casbin_rules` table.
///
/// Patron changes policy through the repository functions above (inside the request's
/// transaction, next to its other checks) and rebuilds enforcers from here; the write
/// methods are implemented too, so Casbin's own management API also persists correctly.
pub struct TenantPolicyAdapter {
    db: Db,
    tenant: Tenant,
}

impl TenantPolicyAdapter {
    pub fn new(db: Db, tenant: Tenant) -> Self {
        Self { db, tenant }
    }

    async fn write(&self, sql: &str, ptype: &str, rules: Vec<Vec<String>>) -> casbin::Result<bool> {
        let mut tx = self
            .db
            .tenant_tx(&self.tenant)
            .await
            .map_err(adapter_error)?;
        let mut changed = false;
        for rule in rules {
            let mut v: Vec<String> = rule;
            v.resize(6, String::new());
            let n = sqlx::query(sql)
                .bind(ptype)
                .bind(&v[0])
                .bind(&v[1])
                .bind(&v[2])
                .bind(&v[3])
                .bind(&v[4])
                .bind(&v[5])
                .execute(tx.conn())
                .await
                .map_err(|e| adapter_error(e.into()))?
                .rows_affected();
            changed |= n > 0;
        }
        notify_changed(&mut tx).await.map_err(adapter_error)?;
        tx.commit().await.map_err(adapter_error)?;
        Ok(changed)
    }
}

fn adapter_error(e: DbError) -> casbin::Error {
    casbin::Error::AdapterError(casbin::error::AdapterError(Box::new(e)))
}

const INSERT_RULE: &str = "INSERT INTO casbin_rules (ptype, v0, v1, v2, v3, v4, v5)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
const DELETE_RULE: &str = "DELETE FROM casbin_rules
    WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5 AND v4 = $6 AND v5 = $7";

#[async_trait]
impl Adapter for TenantPolicyAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        let mut tx = self
            .db
            .tenant_tx(&self.tenant)
            .await
            .map_err(adapter_error)?;
        let lines = load_lines(&mut tx).await.map_err(adapter_error)?;
        tx.commit().await.map_err(adapter_error)?;
        for mut line in lines {
            let ptype = line.remove(0);
            let sec = ptype[..1].to_owned();
            if let Some(ast) = m
                .get_mut_model()
                .get_mut(&sec)
                .and_then(|s| s.get_mut(&ptype))
            {
                ast.get_mut_policy().insert(line);
            }
        }
        Ok(())
    }

    async fn load_filtered_policy<'a>(
        &mut self,
        m: &mut dyn Model,
        _f: Filter<'a>,
    ) -> casbin::Result<()> {
        // A tenant's policy is small and already scoped to its schema: load it whole.
        self.load_policy(m).await
    }

    async fn save_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        let mut rules: Vec<(String, Vec<String>)> = Vec::new();
        for sec in ["p", "g"] {
            if let Some(map) = m.get_model().get(sec) {
                for (ptype, ast) in map {
                    for rule in ast.get_policy() {
                        rules.push((ptype.clone(), rule.clone()));
                    }
                }
            }
        }
        let mut tx = self
            .db
            .tenant_tx(&self.tenant)
            .await
            .map_err(adapter_error)?;
        sqlx::query("DELETE FROM casbin_rules")
            .execute(tx.conn())
            .await
            .map_err(|e| adapter_error(e.into()))?;
        tx.commit().await.map_err(adapter_error)?;
        for (ptype, rule) in rules {
            self.write(INSERT_RULE, &ptype, vec![rule]).await?;
        }
        Ok(())
    }

    async fn clear_policy(&mut self) -> casbin::Result<()> {
        let mut tx = self
            .db
            .tenant_tx(&self.tenant)
            .await
            .map_err(adapter_error)?;
        sqlx::query("DELETE FROM casbin_rules")
            .execute(tx.conn())
            .await
            .map_err(|e| adapter_error(e.into()))?;
        notify_changed(&mut tx).await.map_err(adapter_error)?;
        tx.commit().await.map_err(adapter_error)
    }

    fn is_filtered(&self) -> bool {
        false
    }

    async fn add_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.write(INSERT_RULE, ptype, vec![rule]).await
    }

    async fn add_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        self.write(INSERT_RULE, ptype, rules).await
    }

    async fn remove_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.write(DELETE_RULE, ptype, vec![rule]).await
    }

    async fn remove_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        self.write(DELETE_RULE, ptype, rules).await
    }

    async fn remove_filtered_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> casbin::Result<bool> {
        let mut sql = String::from("DELETE FROM casbin_rules WHERE ptype = $1");
        let mut binds = Vec::new();
        for (i, v) in field_values.into_iter().enumerate() {
            let col = field_index + i;
            if col > 5 {
                break;
            }
            if !v.is_empty() {
                binds.push(v);
                sql.push_str(&format!(" AND v{col} = ${}", binds.len() + 1));
            }
        }
        let mut tx = self
            .db
            .tenant_tx(&self.tenant)
            .await
            .map_err(adapter_error)?;
        let mut q = sqlx::query(&sql).bind(ptype);
        for b in &binds {
            q = q.bind(b);
        }
        let n = q
            .execute(tx.conn())
            .await
            .map_err(|e| adapter_error(e.into()))?
            .rows_affected();
        notify_changed(&mut tx).await.map_err(adapter_error)?;
        tx.commit().await.map_err(adapter_error)?;
        Ok(n > 0)
    }
}
