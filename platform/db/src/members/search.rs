//! Searching the register: conditions on the fixed and custom fields, keyset paging in any
//! of the sort orders, and the short-name pieces that make one- and two-character name
//! searches an index walk.

use super::*;

/// A range condition on a custom field.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum CustomCondition {
    /// The value equals (JSON containment, GIN-indexed).
    Equals(String, Value),
    /// A number at least / at most.
    NumberRange(String, Option<f64>, Option<f64>),
    /// A date (or any ISO text) from / to, inclusive.
    TextRange(String, Option<String>, Option<String>),
}

/// How to order a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    #[default]
    Created,
    JoinDate,
    Birthday,
    Name,
    /// The point balance (members without an account have 0).
    Points,
}

/// A member search: every condition given must hold. The default finds every member not
/// erased, oldest first, none at a time: set `limit`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Search {
    pub card_number: Option<String>,
    pub phone_index: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub custom: Vec<CustomCondition>,
    pub joined_from: Option<NaiveDate>,
    pub joined_to: Option<NaiveDate>,
    pub birthday_from: Option<NaiveDate>,
    pub birthday_to: Option<NaiveDate>,
    /// Members standing on this tier.
    pub tier: Option<TierFilter>,
    /// Only these members (empty: any).
    pub ids: Vec<Uuid>,
    pub include_erased: bool,
    pub sort: SortKey,
    pub descending: bool,
    /// Keyset: the sort value (as text) and id of the last row of the previous page.
    pub after: Option<(Option<String>, Uuid)>,
    pub limit: i64,
}

/// A tier to search by: its code, and whether it is the ladder's first tier (where members
/// without a standing are).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TierFilter {
    pub code: String,
    pub first: bool,
}

/// A custom field key as SQL text: only the characters field keys may hold.
fn safe_key(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}

/// Per-field indexes for range searches on numbers and dates (idempotent).
pub async fn index_custom_field(
    tx: &mut TenantTx,
    key: &str,
    numeric: bool,
) -> Result<(), DbError> {
    let k = safe_key(key);
    let sql = if numeric {
        format!("CREATE INDEX IF NOT EXISTS members_cf_{k}_num ON members (member_cf_num(custom -> '{k}'))")
    } else {
        format!("CREATE INDEX IF NOT EXISTS members_cf_{k}_txt ON members ((custom ->> '{k}'))")
    };
    sqlx::query(&sql).execute(tx.conn()).await?;
    Ok(())
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL expression a sort key orders by, as text for the keyset cursor.
fn sort_expr(k: SortKey) -> &'static str {
    match k {
        SortKey::Created => "m.created_at",
        SortKey::JoinDate => "m.join_date",
        SortKey::Birthday => "m.birthday",
        SortKey::Name => "m.name",
        SortKey::Points => "coalesce(a.balance, 0)",
    }
}

/// The sort value of a row, as the cursor carries it.
pub fn sort_value(m: &Member, k: SortKey) -> Option<String> {
    match k {
        SortKey::Created => Some(m.created_at.to_rfc3339()),
        SortKey::JoinDate => Some(m.join_date.to_string()),
        SortKey::Birthday => m.birthday.map(|d| d.to_string()),
        SortKey::Name => Some(m.name.clone()),
        SortKey::Points => Some(m.sort_balance.unwrap_or(0).to_string()),
    }
}

pub(crate) fn push_conditions(q: &mut QueryBuilder<'_, Postgres>, s: &Search) {
    q.push(" WHERE true");
    if !s.include_erased {
        q.push(" AND m.status = 'active'");
    }
    if !s.ids.is_empty() {
        q.push(" AND m.id = ANY(")
            .push_bind(s.ids.clone())
            .push(")");
    }
    if let Some(n) = &s.card_number {
        q.push(" AND m.id = (SELECT member_id FROM member_cards WHERE number = ")
            .push_bind(n.clone())
            .push(")");
    }
    if let Some(i) = &s.phone_index {
        q.push(" AND m.phone_index = ").push_bind(i.clone());
    }
    if let Some(i) = &s.email_index {
        q.push(" AND m.email_index = ").push_bind(i.clone());
    }
    if let Some(n) = &s.name {
        // One or two characters: trigrams cannot help, the name's pieces can. A piece match
        // is exact (the pieces are every lower-cased 1- and 2-character substring), so no
        // ILIKE is added: the planner would count the same condition twice, think matches
        // rare, and read every one of them instead of walking the piece's index.
        if by_piece(s) {
            // Walking one piece's members in order: the piece is the join's own condition.
            q.push(" AND g.gram = lower(")
                .push_bind(n.clone())
                .push(")");
        } else if short_name(s).is_some() {
            q.push(
                " AND EXISTS (SELECT 1 FROM member_name_grams g \
                 WHERE g.member_id = m.id AND g.gram = lower(",
            )
            .push_bind(n.clone())
            .push("))");
        } else {
            q.push(" AND m.name ILIKE ")
                .push_bind(format!("%{}%", like_escape(n)));
        }
    }
    if !s.tags.is_empty() {
        q.push(" AND m.tags @> ").push_bind(s.tags.clone());
    }
    if let Some(t) = &s.tier {
        if t.first {
            q.push(
                " AND NOT EXISTS (SELECT 1 FROM member_tiers t WHERE t.member_id = m.id \
                 AND t.tier <> ",
            )
            .push_bind(t.code.clone())
            .push(")");
        } else {
            q.push(
                " AND EXISTS (SELECT 1 FROM member_tiers t WHERE t.member_id = m.id AND t.tier = ",
            )
            .push_bind(t.code.clone())
            .push(")");
        }
    }
    for c in &s.custom {
        match c {
            CustomCondition::Equals(k, v) => {
                q.push(" AND m.custom @> ")
                    .push_bind(serde_json::json!({ k.clone(): v.clone() }));
            }
            // Keys are checked field keys (lowercase letters, digits, underscores), written
            // literally so the per-field expression indexes match.
            CustomCondition::NumberRange(k, lo, hi) => {
                let k = safe_key(k);
                if let Some(lo) = lo {
                    q.push(format!(" AND member_cf_num(m.custom -> '{k}') >= "))
                        .push_bind(*lo)
                        .push("::float8::numeric");
                }
                if let Some(hi) = hi {
                    q.push(format!(" AND member_cf_num(m.custom -> '{k}') <= "))
                        .push_bind(*hi)
                        .push("::float8::numeric");
                }
            }
            CustomCondition::TextRange(k, lo, hi) => {
                let k = safe_key(k);
                if let Some(lo) = lo {
                    q.push(format!(" AND (m.custom ->> '{k}') >= "))
                        .push_bind(lo.clone());
                }
                if let Some(hi) = hi {
                    q.push(format!(" AND (m.custom ->> '{k}') <= "))
                        .push_bind(hi.clone());
                }
            }
        }
    }
    if let Some(d) = s.joined_from {
        q.push(" AND m.join_date >= ").push_bind(d);
    }
    if let Some(d) = s.joined_to {
        q.push(" AND m.join_date <= ").push_bind(d);
    }
    if let Some(d) = s.birthday_from {
        q.push(" AND m.birthday >= ").push_bind(d);
    }
    if let Some(d) = s.birthday_to {
        q.push(" AND m.birthday <= ").push_bind(d);
    }
}

/// The name searched for when it is one or two characters: too short for trigrams, found
/// through the name's pieces (`member_name_grams`).
fn short_name(s: &Search) -> Option<&str> {
    s.name
        .as_deref()
        .filter(|n| (1..=2).contains(&n.chars().count()))
}

/// Whether the search walks one name piece's members newest (or oldest) first: a short
/// name in creation order. The piece index is ordered by (piece, created_at, member_id), so
/// the first page is read without looking at later matches, however many there are.
fn by_piece(s: &Search) -> bool {
    short_name(s).is_some() && s.sort == SortKey::Created
}

/// Finds members, one page at a time (keyset: pass the last row's sort value and id).
pub async fn search(tx: &mut TenantTx, s: &Search) -> Result<Vec<Member>, DbError> {
    let piece = by_piece(s);
    let mut q = QueryBuilder::<Postgres>::new(if piece {
        format!("SELECT {COLUMNS} FROM member_name_grams g JOIN members m ON m.id = g.member_id")
    } else if s.sort == SortKey::Points {
        format!(
            "SELECT {COLUMNS}, coalesce(a.balance, 0) AS sort_balance FROM members m \
             LEFT JOIN point_accounts a ON a.member_id = m.id"
        )
    } else {
        format!("SELECT {COLUMNS} FROM members m")
    });
    push_conditions(&mut q, s);
    // In piece order the piece's copy of (created_at, id) is what its index is sorted by.
    let (expr, id_col) = if piece {
        ("g.created_at", "g.member_id")
    } else {
        (sort_expr(s.sort), "m.id")
    };
    let cast = match s.sort {
        SortKey::Created => "timestamptz",
        SortKey::JoinDate | SortKey::Birthday => "date",
        SortKey::Name => "text",
        SortKey::Points => "bigint",
    };
    let (cmp, dir) = if s.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let nullable = s.sort == SortKey::Birthday;
    if let Some((value, id)) = &s.after {
        match value {
            Some(v) => {
                q.push(format!(" AND (({expr}, {id_col}) {cmp} ("))
                    .push_bind(v.clone())
                    .push(format!("::{cast}, "))
                    .push_bind(*id)
                    .push(")");
                if nullable {
                    // Rows without a value sort last, after every cursor with one.
                    q.push(format!(" OR {expr} IS NULL"));
                }
                q.push(")");
            }
            // The cursor is among the rows without a value.
            None => {
                q.push(format!(" AND {expr} IS NULL AND {id_col} {cmp} "))
                    .push_bind(*id);
            }
        }
    }
    let nulls = if nullable { " NULLS LAST" } else { "" };
    q.push(format!(
        " ORDER BY {expr} {dir}{nulls}, {id_col} {dir} LIMIT "
    ))
    .push_bind(s.limit);
    // A page stops early along an ordered index; parallel workers only add their start-up
    // (tens of milliseconds on a busy machine) to it. For this transaction only.
    sqlx::query("SELECT set_config('max_parallel_workers_per_gather', '0', true)")
        .execute(tx.conn())
        .await?;
    // Planned afresh with the actual values every time: a cached generic plan cannot tell a
    // rare name from a common one and picks scans that are slow for one or the other.
    Ok(q.build_query_as()
        .persistent(false)
        .fetch_all(tx.conn())
        .await?)
}

/// The next members a search finds after the keyset `(created_at, id)`, in creation
/// order, at most `limit`: their ids and keysets (for a job that walks a segment a batch
/// at a time without holding it in memory).
pub async fn page_ids(
    tx: &mut TenantTx,
    s: &Search,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, DbError> {
    let mut s = s.clone();
    // Walked by the members' own keyset, not the name pieces' join: a short name is then
    // matched through its pieces as a condition.
    s.sort = SortKey::Name;
    let mut q = QueryBuilder::<Postgres>::new("SELECT m.id, m.created_at FROM members m");
    push_conditions(&mut q, &s);
    if let Some((at, id)) = after {
        q.push(" AND (m.created_at, m.id) > (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY m.created_at, m.id LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as()
        .persistent(false)
        .fetch_all(tx.conn())
        .await?)
}

/// How many members a search finds, counted up to `cap`: `(count, true)` when there are
/// more than `cap` (the count then stops at `cap`).
pub async fn count(tx: &mut TenantTx, s: &Search, cap: i64) -> Result<(i64, bool), DbError> {
    let mut q = QueryBuilder::<Postgres>::new(if by_piece(s) {
        "SELECT count(*) FROM (SELECT 1 FROM member_name_grams g JOIN members m ON m.id = g.member_id"
    } else {
        "SELECT count(*) FROM (SELECT 1 FROM members m"
    });
    push_conditions(&mut q, s);
    q.push(" LIMIT ").push_bind(cap + 1).push(") x");
    let n: i64 = q
        .build_query_scalar()
        .persistent(false)
        .fetch_one(tx.conn())
        .await?;
    Ok((n.min(cap), n > cap))
}

/// What a list of members shows beside the profile: balance, tier and last visit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Standing {
    pub member_id: Uuid,
    pub balance: i64,
    /// The tier the member stands on; `None` for the ladder's first tier (no row yet).
    pub tier: Option<String>,
    /// The latest purchase or check-in.
    pub last_visit_at: Option<DateTime<Utc>>,
}

/// The [`Standing`] of each member in `ids` (one statement; members in any order).
pub async fn standings(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<Standing>, DbError> {
    Ok(sqlx::query_as(
        "SELECT i.id AS member_id, coalesce(a.balance, 0) AS balance, t.tier, \
                greatest(p.at, c.at) AS last_visit_at \
         FROM unnest($1::uuid[]) AS i(id) \
         LEFT JOIN point_accounts a ON a.member_id = i.id \
         LEFT JOIN member_tiers t ON t.member_id = i.id \
         LEFT JOIN LATERAL (SELECT occurred_at AS at FROM purchases \
                            WHERE member_id = i.id ORDER BY occurred_at DESC LIMIT 1) p ON true \
         LEFT JOIN LATERAL (SELECT at FROM check_ins \
                            WHERE member_id = i.id ORDER BY day DESC LIMIT 1) c ON true",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}
