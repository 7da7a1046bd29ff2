//! The ledger read back: entries and open lots as shown, the check that accounts, entries
//! and lots agree (`patron verify`), and the stored answers that let a retried request
//! replay its first result.

use super::*;

/// One ledger entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub member_id: Uuid,
    pub kind: String,
    pub points: i64,
    pub balance: i64,
    pub source: String,
    pub source_id: String,
    pub rule_version: Option<i32>,
    pub reason: String,
    /// The code and values of a reason the system wrote (NULL for a person's words).
    pub reason_code: Option<String>,
    pub reason_params: Option<Value>,
    pub detail: Option<Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A member's entries, newest first, before entry id `before` when given.
pub async fn entries(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, member_id, kind, points, balance, source, source_id, rule_version, reason, \
         reason_code, reason_params, detail, actor, at FROM point_entries \
         WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// An open lot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lot {
    pub id: i64,
    pub points: i64,
    pub remaining: i64,
    pub earned_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The member's open lots, soonest-expiring first.
pub async fn open_lots(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Lot>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, points, remaining, earned_at, expires_at FROM point_lots \
         WHERE member_id = $1 AND remaining > 0 ORDER BY expires_at ASC NULLS LAST, id LIMIT 500",
    )
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// A member whose figures disagree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Difference {
    pub member_id: Uuid,
    /// The account's balance (0 when the member has entries but no account).
    pub balance: i64,
    pub entries_sum: i64,
    pub last_entry_balance: Option<i64>,
    pub open_lots: i64,
    pub debt: i64,
    pub open_debts: i64,
    /// Days whose kept `points_earned` figures (the day's points, its running total or the
    /// range of its entries) disagree with the entries (`point_earned_days`).
    pub earned_days_off: i64,
}

/// Every member whose balance differs from the sum of entries, whose open lots differ from
/// the positive balance, whose latest entry's running balance differs, or whose debt
/// differs from the unsettled debts (and a member in debt must not hold points); every
/// member with entries, lots, debts or purchases but no account (the ledger's rows are
/// written under the account's lock and have no foreign key of their own); and every member
/// whose per-day tier figures disagree with the entries they are kept from.
pub async fn verify(tx: &mut TenantTx) -> Result<Vec<Difference>, DbError> {
    Ok(sqlx::query_as(
        "WITH e AS ( \
             SELECT member_id, sum(points)::bigint AS total, \
                    (array_agg(balance ORDER BY id DESC))[1] AS last_balance \
             FROM point_entries GROUP BY member_id \
         ), l AS ( \
             SELECT member_id, sum(remaining)::bigint AS total FROM point_lots \
             WHERE remaining > 0 GROUP BY member_id \
         ), d AS ( \
             SELECT member_id, sum(points - settled)::bigint AS total FROM point_debts \
             GROUP BY member_id \
         ), k AS ( \
             SELECT member_id, day, sum(points)::bigint AS points, \
                    (sum(sum(points)) OVER (PARTITION BY member_id ORDER BY day))::bigint AS total, \
                    min(id) AS first_entry, max(id) AS last_entry \
             FROM (SELECT member_id, (at AT TIME ZONE 'UTC')::date AS day, points, id \
                   FROM point_entries WHERE kind IN ('earn', 'reverse') \
                   AND source NOT IN ('adjustment', 'tier_gift')) c \
             GROUP BY member_id, day \
         ), kd AS ( \
             SELECT coalesce(k.member_id, x.member_id) AS member_id, count(*)::bigint AS off \
             FROM k FULL JOIN point_earned_days x USING (member_id, day) \
             WHERE (k.points, k.total, k.first_entry, k.last_entry) \
                   IS DISTINCT FROM (x.points, x.total, x.first_entry, x.last_entry) \
             GROUP BY 1 \
         ), m AS ( \
             SELECT member_id FROM point_accounts UNION SELECT member_id FROM e \
             UNION SELECT member_id FROM l UNION SELECT member_id FROM d \
             UNION SELECT member_id FROM purchases UNION SELECT member_id FROM kd \
         ) \
         SELECT m.member_id, coalesce(a.balance, 0) AS balance, \
                coalesce(e.total, 0) AS entries_sum, e.last_balance AS last_entry_balance, \
                coalesce(l.total, 0) AS open_lots, coalesce(a.debt, 0) AS debt, \
                coalesce(d.total, 0) AS open_debts, coalesce(kd.off, 0) AS earned_days_off \
         FROM m LEFT JOIN point_accounts a USING (member_id) LEFT JOIN e USING (member_id) \
         LEFT JOIN l USING (member_id) LEFT JOIN d USING (member_id) \
         LEFT JOIN kd USING (member_id) \
         WHERE a.member_id IS NULL \
            OR coalesce(a.balance, 0) <> coalesce(e.total, 0) \
            OR coalesce(e.last_balance, 0) <> coalesce(a.balance, 0) \
            OR GREATEST(coalesce(a.balance, 0), 0) <> coalesce(l.total, 0) \
            OR coalesce(a.debt, 0) <> coalesce(d.total, 0) \
            OR (coalesce(a.debt, 0) > 0 AND coalesce(a.balance, 0) > 0) \
            OR kd.off IS NOT NULL \
         ORDER BY m.member_id LIMIT 1000",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Figures for `patron verify`'s report.
pub async fn ledger_size(tx: &mut TenantTx) -> Result<(i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM point_accounts), (SELECT count(*) FROM point_entries)",
    )
    .fetch_one(tx.conn())
    .await?)
}
