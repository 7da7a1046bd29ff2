//! A member's purchases, and one purchase.

use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_db::points::{self, Purchase};
use patron_db::TenantTx;
use uuid::Uuid;

/// A page of a member's purchases with totals over all of them.
#[derive(Debug)]
pub struct PurchaseHistory {
    pub items: Vec<Purchase>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<String>,
    pub total_count: i64,
    pub total_amount: i64,
    pub total_refunded: i64,
    pub total_points: i64,
}

fn parse_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = c.split_once('~')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}

fn cursor_of(p: &Purchase) -> String {
    format!("{}~{}", p.occurred_at.to_rfc3339(), p.id)
}

/// A member's purchases, newest first, `limit` (1 to 200) after the cursor `before`.
pub async fn history(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<&str>,
    limit: i64,
) -> Result<PurchaseHistory, AppError> {
    if !(1..=patron_core::PAGE_MAX).contains(&limit) {
        return Err(AppError::field(
            "limit",
            patron_core::Issue::out_of_range(1, patron_core::PAGE_MAX),
        ));
    }
    let before = match before {
        None => None,
        Some(c) => Some(
            parse_cursor(c)
                .ok_or_else(|| AppError::field("before", patron_core::Issue::not_a_cursor()))?,
        ),
    };
    patron_db::members::get(tx, member_id)
        .await
        .not_found_as("member")?;
    let (rows, totals) = points::purchases_of(tx, member_id, before, limit).await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(cursor_of))
        .flatten();
    Ok(PurchaseHistory {
        items: rows,
        next_cursor,
        total_count: totals.0,
        total_amount: totals.1,
        total_refunded: totals.2,
        total_points: totals.3,
    })
}

/// One purchase.
pub async fn purchase(tx: &mut TenantTx, id: Uuid) -> Result<Purchase, AppError> {
    points::purchase(tx, id).await.not_found_as("purchase")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_the_instant_and_id_it_was_made_of() {
        let id = Uuid::now_v7();
        let at = DateTime::parse_from_rfc3339("2026-03-01T08:30:00+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let c = format!("{}~{}", at.to_rfc3339(), id);
        assert_eq!(parse_cursor(&c), Some((at, id)));
        assert_eq!(parse_cursor("nonsense"), None);
        assert_eq!(parse_cursor("2026-03-01T08:30:00+00:00~not-a-uuid"), None);
    }
}
