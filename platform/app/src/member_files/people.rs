//! The member export laid out for people: headers in the reader's language, option labels
//! instead of codes, yes/no for booleans, times in the business's zone, and each member's
//! points, tier and last visit. The machine layout (`export::header`/`export::row`) stays
//! for round trips through the import.

use crate::members::search::RowStanding;
use crate::members::Profile;
use chrono::{DateTime, Utc};
use patron_core::fields::{FieldDef, FieldSet, FieldType};
use patron_core::lang::Lang;
use patron_core::zone::Zone;
use serde_json::Value;

/// How an export is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Codes and UTC times, the columns the import reads.
    #[default]
    Machine,
    /// For people: labels in `lang`, times in `zone`, standing columns.
    People { lang: Lang, zone: Zone },
}

/// The fixed columns of the people layout, as (zh-CN, en); phone and e-mail only with PII.
fn fixed(pii: bool) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![("卡号", "Card number"), ("姓名", "Name")];
    if pii {
        h.push(("手机号", "Phone"));
        h.push(("邮箱", "E-mail"));
    }
    h.extend([
        ("性别", "Gender"),
        ("生日", "Birthday"),
        ("入会日期", "Join date"),
        ("所属门店", "Home store"),
        ("标签", "Tags"),
        ("积分", "Points"),
        ("等级", "Tier"),
        ("最近到店", "Last visit"),
        ("备注", "Notes"),
        ("登记时间", "Registered at"),
    ]);
    h
}

/// The header of the people layout.
pub fn header(set: &FieldSet, pii: bool, lang: Lang) -> Vec<String> {
    let mut h: Vec<String> = fixed(pii)
        .into_iter()
        .map(|(zh, en)| lang.pick(zh, en).to_owned())
        .collect();
    h.extend(set.active().map(|f| lang.label(&f.label).to_owned()));
    h
}

/// A time in the business's zone, to the minute.
pub fn local_time(at: DateTime<Utc>, zone: Zone) -> String {
    zone.local(at).format("%Y-%m-%d %H:%M").to_string()
}

fn gender(code: &str, lang: Lang) -> String {
    match code {
        "female" => lang.pick("女", "Female"),
        "male" => lang.pick("男", "Male"),
        "other" => lang.pick("其他", "Other"),
        "undisclosed" => lang.pick("不愿透露", "Undisclosed"),
        other => other,
    }
    .to_owned()
}

fn list_separator(lang: Lang) -> &'static str {
    lang.pick("、", "; ")
}

/// One custom value for people: option labels, yes/no, lists joined.
pub fn custom_cell(f: &FieldDef, v: Option<&Value>, lang: Lang) -> String {
    let option = |code: &str| {
        f.options
            .iter()
            .find(|o| o.value == code)
            .map(|o| lang.label(&o.label).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    let text = |v: &Value| match v {
        Value::String(s) if matches!(f.ty, FieldType::SingleSelect | FieldType::MultiSelect) => {
            option(s)
        }
        Value::String(s) => s.clone(),
        Value::Bool(true) => lang.pick("是", "Yes").to_owned(),
        Value::Bool(false) => lang.pick("否", "No").to_owned(),
        other => other.to_string(),
    };
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(list_separator(lang)),
        Some(v) => text(v),
    }
}

/// One member as a row of the people layout, in [`header`]'s order.
pub fn row(
    v: &Profile,
    standing: Option<&RowStanding>,
    set: &FieldSet,
    pii: bool,
    lang: Lang,
    zone: Zone,
) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut r = vec![opt(&v.card_number), v.name.clone()];
    if pii {
        r.push(opt(&v.phone));
        r.push(opt(&v.email));
    }
    r.push(
        v.gender
            .as_deref()
            .map(|g| gender(g, lang))
            .unwrap_or_default(),
    );
    r.push(v.birthday.map(|d| d.to_string()).unwrap_or_default());
    r.push(v.join_date.to_string());
    r.push(opt(&v.home_store));
    r.push(v.tags.join(list_separator(lang)));
    r.push(standing.map_or(0, |s| s.balance).to_string());
    r.push(
        standing
            .and_then(|s| s.tier_name.as_ref())
            .map(|n| lang.name(n).to_owned())
            .unwrap_or_default(),
    );
    r.push(
        standing
            .and_then(|s| s.last_visit_at)
            .map(|t| local_time(t, zone))
            .unwrap_or_default(),
    );
    r.push(opt(&v.notes));
    r.push(local_time(v.created_at, zone));
    for f in set.active() {
        r.push(custom_cell(f, v.custom.get(&f.key), lang));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::input::blank_member;
    use crate::members::profile;
    use chrono::TimeZone;
    use patron_core::fields::{FieldOption, Labels};
    use patron_core::pii::PiiKeys;
    use patron_core::tiers::Names;
    use serde_json::json;

    fn labels(zh: &str, en: &str) -> Labels {
        Labels {
            zh_cn: zh.into(),
            en: en.into(),
        }
    }

    fn field(key: &str, ty: FieldType, label: Labels, options: &[(&str, Labels)]) -> FieldDef {
        FieldDef {
            key: key.into(),
            ty,
            label,
            required: false,
            minimum: None,
            maximum: None,
            min_length: None,
            max_length: None,
            pattern: None,
            options: options
                .iter()
                .map(|(v, l)| FieldOption {
                    value: (*v).into(),
                    label: l.clone(),
                })
                .collect(),
            member_editable: false,
            member_visible: true,
            help: None,
            archived: false,
        }
    }

    fn set() -> FieldSet {
        FieldSet::default()
            .evolve(vec![
                field(
                    "plan",
                    FieldType::SingleSelect,
                    labels("会籍类型", "Membership"),
                    &[
                        ("yearly", labels("年卡", "Yearly")),
                        ("monthly", labels("月卡", "Monthly")),
                    ],
                ),
                field(
                    "locker",
                    FieldType::Boolean,
                    labels("储物柜", "Locker"),
                    &[],
                ),
                field(
                    "classes",
                    FieldType::MultiSelect,
                    labels("课程", "Classes"),
                    &[
                        ("yoga", labels("瑜伽", "Yoga")),
                        ("spin", labels("单车", "Spin")),
                    ],
                ),
            ])
            .unwrap()
    }

    #[test]
    fn people_read_labels_in_their_language_and_times_in_the_business_zone() {
        let set = set();
        let created = Utc.with_ymd_and_hms(2026, 3, 1, 17, 30, 0).unwrap();
        let mut m = blank_member(created);
        m.name = "王芳".into();
        m.gender = Some("female".into());
        m.tags = vec!["vip".into(), "早鸟".into()];
        m.custom = json!({ "plan": "yearly", "locker": true, "classes": ["yoga", "spin"] });
        let p = profile(&m, &set, &PiiKeys::development(), false);
        let standing = RowStanding {
            balance: 1200,
            tier: Some("gold".into()),
            tier_name: Some(Names {
                zh_cn: "金卡".into(),
                en: "Gold".into(),
            }),
            last_visit_at: Some(Utc.with_ymd_and_hms(2026, 3, 2, 1, 5, 0).unwrap()),
        };
        let zone = Zone::parse("Asia/Shanghai").unwrap();

        let h = header(&set, false, Lang::ZhCn);
        let r = row(&p, Some(&standing), &set, false, Lang::ZhCn, zone);
        assert_eq!(h.len(), r.len());
        let cell = |name: &str| r[h.iter().position(|c| c == name).unwrap()].clone();
        assert_eq!(cell("性别"), "女");
        assert_eq!(cell("会籍类型"), "年卡");
        assert_eq!(cell("储物柜"), "是");
        assert_eq!(cell("课程"), "瑜伽、单车");
        assert_eq!(cell("标签"), "vip、早鸟");
        assert_eq!(cell("积分"), "1200");
        assert_eq!(cell("等级"), "金卡");
        // 17:30 UTC is 01:30 the next morning in Shanghai.
        assert_eq!(cell("登记时间"), "2026-03-02 01:30");
        assert_eq!(cell("最近到店"), "2026-03-02 09:05");

        let h = header(&set, false, Lang::En);
        let r = row(&p, None, &set, false, Lang::En, zone);
        let cell = |name: &str| r[h.iter().position(|c| c == name).unwrap()].clone();
        assert_eq!(cell("Membership"), "Yearly");
        assert_eq!(cell("Gender"), "Female");
        assert_eq!(
            cell("Points"),
            "0",
            "a member without an account has 0 points"
        );
        assert_eq!(cell("Tier"), "");
        assert!(
            !h.iter().any(|c| c.contains("custom.")),
            "no codes in people's headers"
        );
    }

    #[test]
    fn an_option_no_longer_offered_shows_its_code_rather_than_nothing() {
        let set = set();
        let f = set.get("plan").unwrap();
        assert_eq!(custom_cell(f, Some(&json!("weekly")), Lang::ZhCn), "weekly");
        assert_eq!(custom_cell(f, None, Lang::ZhCn), "");
    }

    #[test]
    fn phone_and_email_columns_appear_only_with_pii() {
        let set = FieldSet::default();
        assert_eq!(
            header(&set, true, Lang::En).len(),
            header(&set, false, Lang::En).len() + 2
        );
        assert!(header(&set, true, Lang::ZhCn).contains(&"手机号".to_owned()));
    }
}
