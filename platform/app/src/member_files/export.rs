//! The member export: the members a search finds, oldest first, 1000 a page in one
//! transaction (keyset paging on creation time), each rendered as a row of text cells.
//! Phone and e-mail columns only for staff who may read them. The edge turns the rows into
//! CSV or XLSX.

use super::people::{self, Layout};
use crate::engine::RuleEngine;
use crate::fields::current_fields;
use crate::members::search::{build_search, name_standings, tier_filter, SearchRequest};
use crate::members::{cards::refuse_unusable, profile, Profile};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::fields::FieldSet;
use patron_core::pii::PiiKeys;
use patron_core::tiers::Ladder;
use patron_db::members::{self, SortKey};
use patron_db::{audit, cards, DbError, TenantTx};
use serde_json::Value;
use std::sync::Arc;

/// Rows per page of an export.
pub const PAGE: i64 = 1000;

/// The columns of an export.
pub fn header(set: &FieldSet, pii: bool) -> Vec<String> {
    let mut h: Vec<String> = ["id", "card_number", "name"].map(String::from).to_vec();
    if pii {
        h.push("phone".into());
        h.push("email".into());
    }
    h.extend(
        [
            "gender",
            "birthday",
            "join_date",
            "home_store",
            "tags",
            "notes",
            "referrer_id",
            "created_at",
        ]
        .map(String::from),
    );
    h.extend(set.active().map(|f| format!("custom.{}", f.key)));
    h
}

/// One member as the cells of an export row, in [`header`]'s order.
pub fn row(v: &Profile, set: &FieldSet, pii: bool) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut r = vec![v.id.to_string(), opt(&v.card_number), v.name.clone()];
    if pii {
        r.push(opt(&v.phone));
        r.push(opt(&v.email));
    }
    r.push(opt(&v.gender));
    r.push(v.birthday.map(|d| d.to_string()).unwrap_or_default());
    r.push(v.join_date.to_string());
    r.push(opt(&v.home_store));
    r.push(v.tags.join(";"));
    r.push(opt(&v.notes));
    r.push(v.referrer_id.map(|d| d.to_string()).unwrap_or_default());
    r.push(v.created_at.to_rfc3339());
    for f in set.active() {
        r.push(match v.custom.get(&f.key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        });
    }
    r
}

/// An export under way: its transaction (closed when the last page was read) and where it
/// stands.
pub struct MemberExport {
    tx: Option<TenantTx>,
    search: members::Search,
    set: FieldSet,
    pii: bool,
    keys: Arc<PiiKeys>,
    layout: Layout,
    /// The ladder in force, to name tiers in the people layout.
    ladder: Option<Ladder>,
}

impl MemberExport {
    /// The columns of this export.
    pub fn header(&self) -> Vec<String> {
        match self.layout {
            Layout::Machine => header(&self.set, self.pii),
            Layout::People { lang, .. } => people::header(&self.set, self.pii, lang),
        }
    }

    /// The next page as rows; `None` when done (the transaction is then committed).
    pub async fn next_rows(&mut self) -> Result<Option<Vec<Vec<String>>>, DbError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(None);
        };
        let rows = members::search(tx, &self.search).await?;
        if rows.is_empty() {
            if let Some(tx) = self.tx.take() {
                tx.commit().await?;
            }
            return Ok(None);
        }
        let last = rows.last().expect("not empty");
        self.search.after = Some((members::sort_value(last, self.search.sort), last.id));
        let standings = match self.layout {
            Layout::Machine => Default::default(),
            Layout::People { .. } => {
                let ids: Vec<_> = rows.iter().map(|m| m.id).collect();
                name_standings(members::standings(tx, &ids).await?, self.ladder.as_ref())
            }
        };
        Ok(Some(
            rows.iter()
                .map(|m| {
                    let p = profile(m, &self.set, &self.keys, self.pii);
                    match self.layout {
                        Layout::Machine => row(&p, &self.set, self.pii),
                        Layout::People { lang, zone } => {
                            people::row(&p, standings.get(&m.id), &self.set, self.pii, lang, zone)
                        }
                    }
                })
                .collect(),
        ))
    }
}

/// Starts an export of what `req` finds (its paging ignored), in `tx`, which the export
/// keeps; the export is audited.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    mut tx: TenantTx,
    rules: &RuleEngine,
    keys: Arc<PiiKeys>,
    region: &str,
    req: SearchRequest,
    pii: bool,
    layout: Layout,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<MemberExport, AppError> {
    let (_, set) = current_fields(&mut tx).await?;
    let tier = tier_filter(rules, &mut tx, req.tier.as_deref()).await?;
    let mut search = build_search(
        &SearchRequest {
            limit: None,
            after: None,
            ..req
        },
        &set,
        &keys,
        region,
    )?;
    search.tier = tier;
    search.limit = PAGE;
    search.sort = SortKey::Created;
    search.descending = false;
    if let Some(n) = &search.card_number {
        if let Some(card) = cards::find(&mut tx, n).await? {
            refuse_unusable(&card)?;
        }
    }
    audit::record(
        &mut tx,
        now,
        subject,
        "members.exported",
        "",
        serde_json::json!({ "pii": pii, "layout": match layout {
            Layout::Machine => "machine",
            Layout::People { .. } => "people",
        } }),
    )
    .await?;
    let ladder = match layout {
        Layout::Machine => None,
        Layout::People { .. } => rules
            .tenant(&mut tx)
            .await?
            .ladder
            .as_ref()
            .map(|l| l.ladder.clone()),
    };
    Ok(MemberExport {
        tx: Some(tx),
        search,
        set,
        pii,
        keys,
        layout,
        ladder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::input::blank_member;
    use patron_core::fields::{FieldDef, FieldType, Labels};
    use serde_json::json;

    fn set_with(keys: &[(&str, FieldType)]) -> FieldSet {
        FieldSet::default()
            .evolve(
                keys.iter()
                    .map(|(k, ty)| FieldDef {
                        key: (*k).into(),
                        ty: *ty,
                        label: Labels {
                            zh_cn: (*k).into(),
                            en: (*k).into(),
                        },
                        required: false,
                        minimum: None,
                        maximum: None,
                        min_length: None,
                        max_length: None,
                        pattern: None,
                        options: Vec::new(),
                        member_visible: true,
                        member_editable: false,
                        help: None,
                        archived: false,
                    })
                    .collect(),
            )
            .unwrap()
    }

    #[test]
    fn phone_and_email_columns_appear_only_with_pii() {
        let set = FieldSet::default();
        let with = header(&set, true);
        let without = header(&set, false);
        assert!(with.contains(&"phone".to_owned()) && with.contains(&"email".to_owned()));
        assert!(!without.contains(&"phone".to_owned()));
        assert_eq!(with.len(), without.len() + 2);
    }

    #[test]
    fn a_row_lines_up_with_the_header_and_renders_lists_and_numbers() {
        let set = set_with(&[("hobbies", FieldType::Text), ("visits", FieldType::Integer)]);
        let mut m = blank_member(Utc::now());
        m.tags = vec!["vip".into(), "gold".into()];
        m.custom = json!({"hobbies": ["run", "swim"], "visits": 3});
        let keys = PiiKeys::development();
        let p = profile(&m, &set, &keys, false);
        let h = header(&set, false);
        let r = row(&p, &set, false);
        assert_eq!(h.len(), r.len());
        let cell = |name: &str| r[h.iter().position(|c| c == name).unwrap()].clone();
        assert_eq!(cell("tags"), "vip;gold");
        assert_eq!(cell("custom.hobbies"), "run;swim");
        assert_eq!(cell("custom.visits"), "3");
        assert_eq!(cell("birthday"), "");
        assert_eq!(cell("name"), "Li Lei");
    }
}
