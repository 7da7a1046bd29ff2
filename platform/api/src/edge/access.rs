//! Casbin enforcement: one enforcer per tenant, built from that tenant's policy lines,
//! cached, and dropped when the tenant's policy changes, on this replica at once and on
//! every other replica through PostgreSQL LISTEN/NOTIFY.

use casbin::{CoreApi, DefaultModel, Enforcer};
use moka::future::Cache;
use patron_core::access::Permission;
use patron_db::access::{TenantPolicyAdapter, POLICY_CHANNEL};
use patron_db::{Db, Tenant};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// RBAC with domains: the tenant (its schema name) is the domain. Matchers stay tiny and
/// trusted; tenant scripts never run here.
pub const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"#;

#[derive(Clone)]
pub struct AccessControl {
    db: Db,
    enforcers: Cache<i64, Arc<TenantAccess>>,
}

/// A tenant's enforcer and the decisions it made. Casbin evaluates its matcher as an
/// expression on every call (a sixteenth of the server's CPU per purchase in
/// scripts/bench-cpu), while the answer for a subject and a permission changes only with the
/// tenant's policy, and a policy change drops this whole value ([`AccessControl::invalidate`]):
/// so each answer is worked out once and remembered here. At most [`TenantAccess::REMEMBERED`]
/// answers are kept; past that the memory starts over.
pub struct TenantAccess {
    /// The tenant's domain (its schema name): the only one this value answers for.
    domain: String,
    enforcer: Enforcer,
    decided: std::sync::RwLock<HashMap<Permission, HashMap<String, bool>>>,
}

impl TenantAccess {
    const REMEMBERED: usize = 20_000;

    pub fn new(domain: &str, enforcer: Enforcer) -> Self {
        Self {
            domain: domain.to_owned(),
            enforcer,
            decided: Default::default(),
        }
    }

    /// Whether `subject` holds `permission` in the tenant.
    pub fn allows(&self, subject: &str, permission: Permission) -> Result<bool, casbin::Error> {
        let known = self
            .decided
            .read()
            .ok()
            .and_then(|d| d.get(&permission).and_then(|s| s.get(subject)).copied());
        if let Some(allowed) = known {
            return Ok(allowed);
        }
        let (obj, act) = permission.object_action();
        let allowed = self
            .enforcer
            .enforce((subject, self.domain.as_str(), obj, act))?;
        if let Ok(mut d) = self.decided.write() {
            if d.values().map(HashMap::len).sum::<usize>() >= Self::REMEMBERED {
                d.clear();
            }
            d.entry(permission)
                .or_default()
                .insert(subject.to_owned(), allowed);
        }
        Ok(allowed)
    }

    /// Every permission `subject` holds.
    pub fn permissions_of(&self, subject: &str) -> Result<Vec<Permission>, casbin::Error> {
        let mut out = Vec::new();
        for p in Permission::ALL {
            if self.allows(subject, *p)? {
                out.push(*p);
            }
        }
        Ok(out)
    }
}

impl AccessControl {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            enforcers: Cache::builder()
                .max_capacity(5_000)
                // A safety net only: changes are pushed, not polled.
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        }
    }

    /// The tenant's enforcer, built on first use. Fetch it before opening a transaction:
    /// building one takes a connection of its own.
    pub async fn enforcer(&self, tenant: &Tenant) -> Result<Arc<TenantAccess>, casbin::Error> {
        let db = self.db.clone();
        let tenant = tenant.clone();
        self.enforcers
            .try_get_with(tenant.id, async move {
                let model = DefaultModel::from_str(MODEL).await?;
                let domain = tenant.schema().to_owned();
                let adapter = TenantPolicyAdapter::new(db, tenant);
                let enforcer = Enforcer::new(model, adapter).await?;
                Ok::<_, casbin::Error>(Arc::new(TenantAccess::new(&domain, enforcer)))
            })
            .await
            .map_err(|e: Arc<casbin::Error>| {
                casbin::Error::AdapterError(casbin::error::AdapterError(Box::new(ArcError(e))))
            })
    }

    /// Whether `subject` holds `permission` in `tenant`.
    pub async fn allows(
        &self,
        tenant: &Tenant,
        subject: &str,
        permission: Permission,
    ) -> Result<bool, casbin::Error> {
        let access = self.enforcer(tenant).await?;
        access.allows(subject, permission)
    }

    /// Every permission `subject` holds in `tenant`.
    pub async fn permissions_of(
        &self,
        tenant: &Tenant,
        subject: &str,
    ) -> Result<Vec<Permission>, casbin::Error> {
        let access = self.enforcer(tenant).await?;
        access.permissions_of(subject)
    }

    /// Drops the cached enforcer of a tenant.
    pub async fn invalidate(&self, tenant_id: i64) {
        self.enforcers.invalidate(&tenant_id).await;
    }

    /// Listens for policy changes made by any replica and drops the matching enforcers. On a
    /// lost connection it drops everything (a notification may have been missed) and
    /// reconnects. Runs until the task is aborted.
    pub async fn follow_changes(self) {
        loop {
            match self.db.listen(POLICY_CHANNEL).await {
                Ok(mut listener) => {
                    self.enforcers.invalidate_all();
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                if let Ok(id) = n.payload().parse::<i64>() {
                                    self.invalidate(id).await;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "policy listener lost its connection");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for policy changes"),
            }
            self.enforcers.invalidate_all();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[derive(Debug)]
struct ArcError(Arc<casbin::Error>);

impl std::fmt::Display for ArcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ArcError {}

#[cfg(test)]
mod tests {
    use super::*;
    use casbin::{MemoryAdapter, MgmtApi};

    async fn access(lines: &[[&str; 4]], roles: &[[&str; 3]]) -> TenantAccess {
        let model = DefaultModel::from_str(MODEL).await.unwrap();
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        for l in lines {
            e.add_policy(l.iter().map(|s| s.to_string()).collect())
                .await
                .unwrap();
        }
        for g in roles {
            e.add_grouping_policy(g.iter().map(|s| s.to_string()).collect())
                .await
                .unwrap();
        }
        TenantAccess::new("t_1", e)
    }

    #[tokio::test]
    async fn remembered_answers_are_the_enforcers_and_their_memory_is_bounded() {
        let (obj, act) = Permission::PurchasesWrite.object_action();
        let a = access(
            &[["clerk", "t_1", obj, act]],
            &[["staff:1", "clerk", "t_1"]],
        )
        .await;
        for _ in 0..3 {
            // The first answer is worked out, the next ones remembered: the same each time.
            assert!(a.allows("staff:1", Permission::PurchasesWrite).unwrap());
            assert!(!a.allows("staff:2", Permission::PurchasesWrite).unwrap());
            assert!(!a.allows("staff:1", Permission::MembersRead).unwrap());
        }
        let held = a.permissions_of("staff:1").unwrap();
        assert_eq!(held, vec![Permission::PurchasesWrite]);
        for n in 0..TenantAccess::REMEMBERED + 10 {
            assert!(!a
                .allows(&format!("staff:x{n}"), Permission::PurchasesWrite)
                .unwrap());
        }
        let kept: usize = a.decided.read().unwrap().values().map(HashMap::len).sum();
        assert!(kept <= TenantAccess::REMEMBERED, "{kept} answers kept");
        assert!(a.allows("staff:1", Permission::PurchasesWrite).unwrap());
    }
}
