//! Casbin enforcement: one enforcer per tenant, built from that tenant's policy lines,
//! cached, and dropped when the tenant's policy changes, on this replica at once and on
//! every other replica through PostgreSQL LISTEN/NOTIFY.

use casbin::{CoreApi, DefaultModel, Enforcer};
use moka::future::Cache;
use patron_core::access::Permission;
use patron_db::access::{TenantPolicyAdapter, POLICY_CHANNEL};
use patron_db::{Db, Tenant};
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
    enforcers: Cache<i64, Arc<Enforcer>>,
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
    pub async fn enforcer(&self, tenant: &Tenant) -> Result<Arc<Enforcer>, casbin::Error> {
        let db = self.db.clone();
        let tenant = tenant.clone();
        self.enforcers
            .try_get_with(tenant.id, async move {
                let model = DefaultModel::from_str(MODEL).await?;
                let adapter = TenantPolicyAdapter::new(db, tenant);
                Ok::<_, casbin::Error>(Arc::new(Enforcer::new(model, adapter).await?))
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
        let enforcer = self.enforcer(tenant).await?;
        let (obj, act) = permission.object_action();
        enforcer.enforce((subject, tenant.schema(), obj, act))
    }

    /// Every permission `subject` holds in `tenant`.
    pub async fn permissions_of(
        &self,
        tenant: &Tenant,
        subject: &str,
    ) -> Result<Vec<Permission>, casbin::Error> {
        let enforcer = self.enforcer(tenant).await?;
        let mut out = Vec::new();
        for p in Permission::ALL {
            let (obj, act) = p.object_action();
            if enforcer.enforce((subject, tenant.schema(), obj, act))? {
                out.push(*p);
            }
        }
        Ok(out)
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

/// Whether `subject` holds `permission` in the tenant whose domain is `domain`.
pub fn allows(
    enforcer: &Enforcer,
    domain: &str,
    subject: &str,
    permission: Permission,
) -> Result<bool, casbin::Error> {
    let (obj, act) = permission.object_action();
    enforcer.enforce((subject, domain, obj, act))
}

/// Every permission `subject` holds.
pub fn permissions_of(
    enforcer: &Enforcer,
    domain: &str,
    subject: &str,
) -> Result<Vec<Permission>, casbin::Error> {
    let mut out = Vec::new();
    for p in Permission::ALL {
        if allows(enforcer, domain, subject, *p)? {
            out.push(*p);
        }
    }
    Ok(out)
}

#[derive(Debug)]
struct ArcError(Arc<casbin::Error>);

impl std::fmt::Display for ArcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ArcError {}
