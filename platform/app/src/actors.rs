//! Actor texts resolved to what a person reads: staff and API keys by their names, the
//! platform's jobs and the member by their kind (the console words those).

use crate::AppError;
use patron_core::actors::ActorRef;
use patron_core::lang::Lang;
use patron_db::{actors, TenantTx};
use std::collections::HashMap;
use uuid::Uuid;

/// Most actor texts resolved in one call.
pub const MAX_SUBJECTS: usize = 500;

/// One actor as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorName {
    pub subject: String,
    /// `staff`, `api_key`, `support`, `operator`, `member`, `system`, `cli` or `other`.
    pub kind: &'static str,
    /// The staff member's or key's name; the operator's e-mail; `None` for the rest (and for
    /// staff or keys no longer found).
    pub name: Option<String>,
    /// The job, for `system` (`tiers`, `expiry`, `birthday`, `billing`).
    pub code: Option<String>,
}

impl ActorName {
    /// The actor as people read it in `lang` (the console says the same words).
    pub fn said(&self, lang: Lang) -> String {
        let name = self.name.as_deref().unwrap_or_default();
        match self.kind {
            "staff" if !name.is_empty() => name.to_owned(),
            "api_key" if !name.is_empty() => {
                format!("{}{name}", lang.pick("接口密钥：", "API key: "))
            }
            "staff" | "api_key" => lang.pick("已删除的账号", "A deleted account").to_owned(),
            "support" => lang.pick("平台客服", "Platform support").to_owned(),
            "operator" => match lang {
                Lang::ZhCn => format!("平台运营（{name}）"),
                Lang::En => format!("Platform operator ({name})"),
            },
            "member" => lang.pick("会员本人", "The member").to_owned(),
            "cli" => lang.pick("系统管理命令", "Admin command line").to_owned(),
            "system" => match self.code.as_deref() {
                Some("tiers") => lang.pick("系统：等级评估", "System: tier review"),
                Some("expiry") => lang.pick("系统：积分过期", "System: points expiry"),
                Some("birthday") => lang.pick("系统：生日积分", "System: birthday points"),
                Some("billing") => lang.pick("系统：账单", "System: billing"),
                _ => lang.pick("系统", "System"),
            }
            .to_owned(),
            _ => self.subject.clone(),
        }
    }
}

/// Puts names on parsed actors: `staff` and `keys` are the names found by id.
pub fn name_actors(
    subjects: &[String],
    staff: &HashMap<Uuid, String>,
    keys: &HashMap<Uuid, String>,
) -> Vec<ActorName> {
    subjects
        .iter()
        .map(|s| {
            let a = ActorRef::parse(s);
            let (name, code) = match &a {
                ActorRef::Staff(id) => (staff.get(id).cloned(), None),
                ActorRef::Key(id) => (keys.get(id).cloned(), None),
                ActorRef::Operator(email) => (Some(email.clone()), None),
                ActorRef::System(job) => (None, Some(job.clone())),
                _ => (None, None),
            };
            ActorName {
                subject: s.clone(),
                kind: a.kind(),
                name,
                code,
            }
        })
        .collect()
}

/// Resolves actor texts (duplicates answered once, at most [`MAX_SUBJECTS`]).
pub async fn resolve(tx: &mut TenantTx, subjects: &[String]) -> Result<Vec<ActorName>, AppError> {
    if subjects.len() > MAX_SUBJECTS {
        return Err(AppError::field(
            "subjects",
            patron_core::Issue::too_many(MAX_SUBJECTS, "at once"),
        ));
    }
    let mut unique: Vec<String> = subjects.to_vec();
    unique.sort();
    unique.dedup();
    let (mut staff_ids, mut key_ids) = (Vec::new(), Vec::new());
    for s in &unique {
        match ActorRef::parse(s) {
            ActorRef::Staff(id) => staff_ids.push(id),
            ActorRef::Key(id) => key_ids.push(id),
            _ => {}
        }
    }
    let staff: HashMap<Uuid, String> = actors::staff_names(tx, &staff_ids)
        .await?
        .into_iter()
        .collect();
    let keys: HashMap<Uuid, String> = actors::key_names(tx, &key_ids).await?.into_iter().collect();
    Ok(name_actors(&unique, &staff, &keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_and_keys_get_their_names_and_jobs_their_codes() {
        let (s, k, gone) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let staff = HashMap::from([(s, "前台小李".to_owned())]);
        let keys = HashMap::from([(k, "前台收银机".to_owned())]);
        let subjects = [
            format!("staff:{s}"),
            format!("key:{k}"),
            format!("staff:{gone}"),
            "system:tiers".to_owned(),
            "member:self".to_owned(),
        ];
        let named = name_actors(&subjects, &staff, &keys);
        assert_eq!(named[0].name.as_deref(), Some("前台小李"));
        assert_eq!(named[0].kind, "staff");
        assert_eq!(named[1].name.as_deref(), Some("前台收银机"));
        assert_eq!(named[1].kind, "api_key");
        assert_eq!(
            named[2].name, None,
            "a deleted colleague has no name to show"
        );
        assert_eq!(
            (named[3].kind, named[3].code.as_deref()),
            ("system", Some("tiers"))
        );
        assert_eq!((named[4].kind, named[4].name.as_deref()), ("member", None));
        let said: Vec<String> = named.iter().map(|a| a.said(Lang::ZhCn)).collect();
        assert_eq!(
            said,
            [
                "前台小李",
                "接口密钥：前台收银机",
                "已删除的账号",
                "系统：等级评估",
                "会员本人"
            ]
        );
        assert_eq!(named[3].said(Lang::En), "System: tier review");
    }
}
