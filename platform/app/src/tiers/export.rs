//! The tier history export: which moves it takes (one member's or everyone's, between two
//! local days), its audit, and its rows, read page by page in one transaction. The edge
//! writes the rows out (CSV or XLSX).

use crate::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::Zone;
use patron_db::{members, tiers, DbError, Tenant, TenantTx};
use serde_json::json;
use uuid::Uuid;

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
        Ok(Some(
            moves.iter().map(|m| history_row(m, self.zone)).collect(),
        ))
    }

    /// Gives up: the transaction is rolled back and no page follows.
    pub fn stop(&mut self) {
        self.tx = None;
    }
}

/// Starts an export of the tier history (checked, audited in `tx`, which the cursor then
/// reads and commits at the end).
pub async fn history(
    mut tx: TenantTx,
    tenant: &Tenant,
    actor: &str,
    member_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
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
    Ok(HistoryCursor {
        tx: Some(tx),
        filter,
        after: None,
        zone,
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
            actor: "staff:1".into(),
        }
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
