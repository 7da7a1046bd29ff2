//! Ids that cannot be mixed up: a member's id is not a staff member's, a tenant's is not a
//! row count. Each converts to and from its raw form at the storage edge only.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A member of one business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberId(Uuid);

impl MemberId {
    pub const fn new(raw: Uuid) -> Self {
        Self(raw)
    }

    pub const fn get(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for MemberId {
    fn from(raw: Uuid) -> Self {
        Self(raw)
    }
}

impl From<MemberId> for Uuid {
    fn from(id: MemberId) -> Self {
        id.0
    }
}

impl FromStr for MemberId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::from_str(s).map(Self)
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A business on the platform (its schema is `t_<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(i64);

impl TenantId {
    pub const fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// The PostgreSQL schema holding the tenant's tables.
    pub fn schema(self) -> String {
        format!("t_{}", self.0)
    }
}

impl From<i64> for TenantId {
    fn from(raw: i64) -> Self {
        Self(raw)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_what_they_print() {
        let m = MemberId::new(Uuid::now_v7());
        assert_eq!(m.to_string().parse::<MemberId>().unwrap(), m);
        assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        assert_eq!(TenantId::new(42).schema(), "t_42");
    }
}
