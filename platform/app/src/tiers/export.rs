//! The tier history export: which moves it takes (one member's or everyone's, between two
//! local days), its audit, and its rows, read page by page in one transaction. The edge
//! writes the rows out (CSV or XLSX). Two layouts: codes and ids for machines, or for
//! people (headers, tiers, kinds, reasons and actors in the reader's language).

use crate::engine::RuleEngine;
use crate::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::lang::Lang;
use patron_core::tiers::{words, Names};
use patron_core::Zone;
use patron_db::{members, tiers, DbError, Tenant, TenantTx};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// How a tier history export is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryLayout {
    /// Codes, ids and the words as stored ([`HISTORY_COLUMNS`]).
    #[default]
    Machine,
    /// For people, in `Lang` ([`PEOPLE_COLUMNS`]).
    People(Lang),
}

/// The columns of the people layout, as (zh-CN, en).
pub const PEOPLE_COLUMNS: [(&str, &str); 12] = [
    ("时间", "Time"),
    ("卡号", "Card number"),
    ("会员", "Member"),
    ("原等级", "From"),
    ("新等级", "To"),
    ("变动", "Change"),
    ("指标", "Metric"),
    ("指标值", "Value"),
    ("门槛", "Threshold"),
    ("等级体系版本", "Ladder version"),
    ("原因", "Reason"),
    ("操作人", "By"),
];

/// The header of an export in `layout`.
pub fn history_header(layout: HistoryLayout) -> Vec<String> {
    match layout {
        HistoryLayout::Machine => HISTORY_COLUMNS.map(String::from).to_vec(),
        HistoryLayout::People(lang) => PEOPLE_COLUMNS
            .iter()
            .map(|(zh, en)| lang.pick(zh, en).to_owned())
            .collect(),
    }
}

/// What the people layout needs besides the move: the tiers' current names, the ladder's
/// metric (for moves whose reason does not name one) and the actors as people read them.
pub struct PeopleWords<'a> {
    pub lang: Lang,
    pub names: &'a HashMap<String, Names>,
    pub metric: &'a str,
    pub actors: &'a HashMap<String, String>,
}

/// One move as a row of the people layout, in [`PEOPLE_COLUMNS`]' order.
pub fn people_row(m: &tiers::ExportedMove, zone: Zone, w: &PeopleWords<'_>) -> Vec<String> {
    let lang = w.lang;
    let metric = m
        .reason_params
        .as_ref()
        .and_then(|p| p["metric"].as_str())
        .unwrap_or(w.metric);
    let amount = |v: Option<i64>| {
        v.map(|v| words::metric_value(metric, v))
            .unwrap_or_default()
    };
    let tier = |code: &str| {
        if code.is_empty() {
            String::new()
        } else {
            words::tier(code, w.names, lang)
        }
    };
    vec![
        zone.local(m.at).format("%Y-%m-%d %H:%M").to_string(),
        m.card_number.clone().unwrap_or_default(),
        m.member_name.clone(),
        tier(&m.from_tier),
        tier(&m.to_tier),
        words::kind(&m.kind, lang),
        if m.metric.is_some() || m.threshold.is_some() {
            words::metric(metric, lang)
        } else {
            String::new()
        },
        amount(m.metric),
        amount(m.threshold),
        m.ladder_version.map(|v| v.to_string()).unwrap_or_default(),
        words::reason(
            &m.reason,
            m.reason_code.as_deref(),
            m.reason_params.as_ref(),
            w.names,
            lang,
        ),
        w.actors
            .get(&m.actor)
            .cloned()
            .unwrap_or_else(|| m.actor.clone()),
    ]
}

/// The columns of a tier history export.
pub const HISTORY_COLUMNS: [&str; 13] = [
    "at",
    "member_id",
    "card_number",
    "member_name",
    "from",
    "to",
    "kind",
    "metric",
    "threshold",
    "ladder_version",
    "reason",
    "actor",
    "id",
];

/// Moves per page.
const PAGE: i64 = 1000;

/// One move as an export row, its time in the business's zone.
pub fn history_row(m: &tiers::ExportedMove, zone: Zone) -> Vec<String> {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        zone.local(m.at).to_rfc3339(),
        m.member_id.to_string(),
        m.card_number.clone().unwrap_or_default(),
        m.member_name.clone(),
        m.from_tier.clone(),
        m.to_tier.clone(),
        m.kind.clone(),
        opt(m.metric),
        opt(m.threshold),
        opt(m.ladder_version.map(i64::from)),
        m.reason.clone(),
        m.actor.clone(),
        m.id.to_string(),
    ]
}

/// The moves an export takes: one member or all, from the local day `from` through the
/// local day `to` (both included).
pub fn history_filter(
    member_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    zone: Zone,
) -> Result<tiers::HistoryFilter, AppError> {
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(AppError::field(
                "to",
                patron_core::Issue::new(
                    patron_core::FieldCode::BeforeStart,
                    "must not be before from",
                )
                .with("field", "from"),
            ));
        }
    }
    Ok(tiers::HistoryFilter {
        member_id,
        from: from.map(|d| zone.start_of_day(d)),
        until: to.and_then(|d| d.succ_opt()).map(|d| zone.start_of_day(d)),
    })
}

/// Pages of the moves an export takes, read in one transaction.
pub struct HistoryCursor {
    tx: Option<TenantTx>,
    filter: tiers::HistoryFilter,
    after: Option<(DateTime<Utc>, i64)>,
    zone: Zone,
    layout: HistoryLayout,
    /// The ladder in force: its tiers' names and its metric.
    names: HashMap<String, Names>,
    metric: &'static str,
}

impl HistoryCursor {
    /// The next page as rows; `None` when done (the transaction is then committed).
    pub async fn next_page(&mut self) -> Result<Option<Vec<Vec<String>>>, AppError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(None);
        };
        let moves = tiers::history_page(tx, &self.filter, self.after, PAGE).await?;
        let Some(last) = moves.last() else {
            if let Some(tx) = self.tx.take() {
                tx.commit().await?;
            }
            return Ok(None);
        };
        self.after = Some((last.at, last.id));
        let HistoryLayout::People(lang) = self.layout else {
            return Ok(Some(
                moves.iter().map(|m| history_row(m, self.zone)).collect(),
            ));
        };
        let mut subjects: Vec<String> = moves.iter().map(|m| m.actor.clone()).collect();
        subjects.sort();
        subjects.dedup();
        let mut actors = HashMap::new();
        for chunk in subjects.chunks(crate::actors::MAX_SUBJECTS) {
            for a in crate::actors::resolve(tx, chunk).await? {
                actors.insert(a.subject.clone(), a.said(lang));
            }
        }
        let w = PeopleWords {
            lang,
            names: &self.names,
            metric: self.metric,
            actors: &actors,
        };
        Ok(Some(
            moves.iter().map(|m| people_row(m, self.zone, &w)).collect(),
        ))
    }

    /// The header of this export.
    pub fn header(&self) -> Vec<String> {
        history_header(self.layout)
    }

    /// Gives up: the transaction is rolled back and no page follows.
    pub fn stop(&mut self) {
        self.tx = None;
    }
}

/// Starts an export of the tier history (checked, audited in `tx`, which the cursor then
/// reads and commits at the end).
#[allow(clippy::too_many_arguments)]
pub async fn history(
    mut tx: TenantTx,
    rules: &RuleEngine,
    tenant: &Tenant,
    actor: &str,
    member_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    layout: HistoryLayout,
    now: DateTime<Utc>,
) -> Result<HistoryCursor, AppError> {
    let zone = tenant.settings.zone();
    let filter = history_filter(member_id, from, to, zone)?;
    if let Some(id) = member_id {
        members::get(&mut tx, id).await.map_err(|e| match e {
            DbError::NotFound => AppError::field("member_id", patron_core::Issue::no_such_member()),
            other => other.into(),
        })?;
    }
    patron_db::audit::record(
        &mut tx,
        now,
        actor,
        "tiers.history_exported",
        "tiers",
        json!({ "member_id": member_id, "from": from, "to": to }),
    )
    .await?;
    let in_force = rules.tenant(&mut tx).await?;
    let metric = in_force
        .ladder
        .as_ref()
        .map_or("", |l| l.ladder.metric.as_str());
    Ok(HistoryCursor {
        names: in_force.tier_names(),
        metric,
        tx: Some(tx),
        filter,
        after: None,
        zone,
        layout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn zone() -> Zone {
        Zone::parse("Asia/Shanghai").unwrap()
    }

    fn exported() -> tiers::ExportedMove {
        tiers::ExportedMove {
            id: 42,
            at: Utc.with_ymd_and_hms(2026, 1, 31, 20, 30, 0).unwrap(),
            member_id: Uuid::from_u128(9),
            member_name: "Li Lei".into(),
            card_number: None,
            from_tier: "base".into(),
            to_tier: "gold".into(),
            kind: "pin".into(),
            metric: None,
            threshold: Some(500),
            ladder_version: Some(3),
            reason: "VIP".into(),
            reason_code: None,
            reason_params: None,
            actor: "staff:1".into(),
        }
    }

    #[test]
    fn a_people_row_names_tiers_kinds_reasons_and_actors_in_the_readers_language() {
        let mut m = exported();
        m.kind = "promotion".into();
        m.metric = Some(150_050);
        m.threshold = Some(100_000);
        let r = patron_core::reasons::Reason::threshold("spend", 150_050, 100_000, true);
        m.reason = r.english.clone();
        m.reason_code = Some(r.code.into());
        m.reason_params = Some(r.params.clone());
        let names = HashMap::from([(
            "gold".to_owned(),
            Names {
                zh_cn: "金卡".into(),
                en: "Gold".into(),
            },
        )]);
        let actors = HashMap::from([("staff:1".to_owned(), "前台小李".to_owned())]);
        let w = PeopleWords {
            lang: Lang::ZhCn,
            names: &names,
            metric: "points_earned",
            actors: &actors,
        };

        let row = people_row(&m, zone(), &w);

        assert_eq!(row.len(), PEOPLE_COLUMNS.len());
        assert_eq!(row[0], "2026-02-01 04:30");
        assert_eq!(&row[2..6], ["Li Lei", "base", "金卡", "升级"]);
        // The reason names its metric (spend, in fen): that, not the ladder's.
        assert_eq!(&row[6..9], ["消费金额", "1500.50", "1000.00"]);
        assert_eq!(row[10], "消费金额 1500.50，达到门槛 1000.00");
        assert_eq!(row[11], "前台小李");
        assert_eq!(history_header(HistoryLayout::People(Lang::En))[11], "By");
    }

    #[test]
    fn a_history_row_shows_the_time_in_the_business_zone_and_blanks_for_missing_values() {
        let row = history_row(&exported(), zone());

        assert_eq!(row.len(), HISTORY_COLUMNS.len());
        // 20:30 UTC is the next morning in Shanghai.
        assert_eq!(row[0], "2026-02-01T04:30:00+08:00");
        assert_eq!(row[1], Uuid::from_u128(9).to_string());
        assert_eq!(row[2], "");
        assert_eq!(row[3], "Li Lei");
        assert_eq!(&row[4..7], ["base", "gold", "pin"]);
        assert_eq!(row[7], "");
        assert_eq!(row[8], "500");
        assert_eq!(row[9], "3");
        assert_eq!(&row[10..], ["VIP", "staff:1", "42"]);
    }

    #[test]
    fn a_history_export_takes_whole_local_days() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();

        let f = history_filter(None, Some(d(1)), Some(d(1)), zone()).unwrap();

        // Midnight in Shanghai is 16:00 UTC the day before; `to` is included.
        assert_eq!(
            f.from,
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 16, 0, 0).unwrap())
        );
        assert_eq!(
            f.until,
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap())
        );
        assert_eq!(f.member_id, None);
    }

    #[test]
    fn a_history_export_refuses_to_before_from() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();

        let err = history_filter(None, Some(d(2)), Some(d(1)), zone()).unwrap_err();

        let AppError::Invalid(fields) = err else {
            panic!("not invalid: {err:?}")
        };
        assert_eq!(fields[0].field, "to");
        assert!(history_filter(None, None, Some(d(1)), zone()).is_ok());
    }
}
