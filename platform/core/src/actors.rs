//! Who did something, as the audit log, the ledger and the tier history record it
//! (`staff:<id>`, `key:<id>`, `system:tiers` ...), read back into what it names.

use uuid::Uuid;

/// What an actor text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorRef {
    /// A member of staff, by id.
    Staff(Uuid),
    /// An integration's API key, by id.
    Key(Uuid),
    /// A platform operator's support session, by id.
    Support(Uuid),
    /// A platform operator, by e-mail.
    Operator(String),
    /// The member, through the portal.
    Member,
    /// One of the platform's own jobs (`tiers`, `expiry`, `birthday`, `billing`...).
    System(String),
    /// The `patron` command line.
    Cli,
    /// Anything else, kept as written.
    Other(String),
}

impl ActorRef {
    /// Reads an actor text; never fails (unknown texts are [`ActorRef::Other`]).
    pub fn parse(raw: &str) -> Self {
        let (kind, rest) = raw.split_once(':').unwrap_or((raw, ""));
        let id = || Uuid::parse_str(rest).ok();
        match kind {
            "staff" => id().map_or_else(|| Self::Other(raw.into()), Self::Staff),
            "key" => id().map_or_else(|| Self::Other(raw.into()), Self::Key),
            "support" => id().map_or_else(|| Self::Other(raw.into()), Self::Support),
            "operator" if !rest.is_empty() => Self::Operator(rest.into()),
            "member" => Self::Member,
            "system" if !rest.is_empty() => Self::System(rest.into()),
            "patron-cli" => Self::Cli,
            _ => Self::Other(raw.into()),
        }
    }

    /// The kind, as the API names it: `staff`, `api_key`, `support`, `operator`, `member`,
    /// `system`, `cli` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Staff(_) => "staff",
            Self::Key(_) => "api_key",
            Self::Support(_) => "support",
            Self::Operator(_) => "operator",
            Self::Member => "member",
            Self::System(_) => "system",
            Self::Cli => "cli",
            Self::Other(_) => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_texts_read_back_as_what_they_name() {
        let id = Uuid::now_v7();
        assert_eq!(ActorRef::parse(&format!("staff:{id}")), ActorRef::Staff(id));
        assert_eq!(ActorRef::parse(&format!("key:{id}")), ActorRef::Key(id));
        assert_eq!(
            ActorRef::parse(&format!("support:{id}")),
            ActorRef::Support(id)
        );
        assert_eq!(
            ActorRef::parse("system:tiers"),
            ActorRef::System("tiers".into())
        );
        assert_eq!(ActorRef::parse("member:self"), ActorRef::Member);
        assert_eq!(
            ActorRef::parse("operator:ops@patron.local"),
            ActorRef::Operator("ops@patron.local".into())
        );
        assert_eq!(ActorRef::parse("patron-cli"), ActorRef::Cli);
        assert_eq!(
            ActorRef::parse("staff:nope"),
            ActorRef::Other("staff:nope".into())
        );
        assert_eq!(
            ActorRef::parse("system:"),
            ActorRef::Other("system:".into())
        );
        assert_eq!(ActorRef::parse("import").kind(), "other");
    }
}
