//! The chosen stack with none of the product in it, for `scripts/bench-ab` to measure against
//! `patron serve`: what HTTP, JSON and the exchanges with PostgreSQL cost the server per
//! purchase before any of the product's own work.
//!
//! `points_load stack-server --exchanges 4|2` listens on `PATRON_LISTEN` and reaches
//! `PATRON_DATABASE_URL`. It answers `POST /api/v1/purchases` through poem-openapi with the
//! product's own request and answer types (`patron_api::purchases::dto`), the same
//! multi-threaded tokio runtime and allocator, and a pool of 20 sqlx connections, so each
//! request costs what the product's purchase costs in parsing, encoding and talking to the
//! database, and nothing else: no authentication beyond the key's presence, no rule, no tier,
//! no log line, no middleware. Its statements are small (an account row and a purchase row
//! with the answer, in a schema of its own), so the PostgreSQL time it costs says nothing
//! about the product's; its server time is the point.
//!
//! With `--exchanges 4`, a purchase is the product's four exchanges: BEGIN with the search
//! path, the account locked and read (with any earlier answer under the external id), the
//! writes in one statement, COMMIT. With `--exchanges 2`, it is the shape a purchase would
//! have if decided from a read made without a lock and written by one statement that is its
//! own transaction: the read, then the writes guarded by what was read (tried again when the
//! account changed in between).

use patron_api::purchases::dto::{NewPurchase, PurchaseResult, RecordedPurchase};
use poem::listener::TcpListener;
use poem::{Route, Server};
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, OpenApiService};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS stack_floor;
CREATE TABLE IF NOT EXISTS stack_floor.accounts (
    member_id uuid PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0,
    visits bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stack_floor.purchases (
    id uuid PRIMARY KEY,
    external_id text NOT NULL UNIQUE,
    member_id uuid NOT NULL,
    amount bigint NOT NULL,
    points bigint NOT NULL,
    response jsonb NOT NULL
)";

/// An answer as the product gives it for a plain purchase (one reason, no coupons), filled in
/// per request.
const ANSWER: &str = r#"{"purchase_id": "00000000-0000-0000-0000-000000000000",
  "external_id": "", "member_id": "00000000-0000-0000-0000-000000000000", "amount": 0,
  "currency": "CNY", "points": 0, "reasons": [{"line": null, "points": 0,
  "reason": "1 point per 1.00 spent", "reason_code": "earn_rate",
  "reason_params": {"per": 100, "points": 1}}], "rule_version": 1, "rule_error": null,
  "balance": 0, "debt": 0, "settled_debt": 0, "tier": "member", "discount_percent": 0,
  "referral": null, "occurred_at": "2026-12-06T00:00:00Z", "payments": [], "discount": 0,
  "coupons": [], "rule_coupons": [], "replayed": false}"#;

struct StackApi {
    pool: PgPool,
    two: bool,
    answer: PurchaseResult,
}

#[OpenApi]
impl StackApi {
    #[oai(path = "/purchases", method = "post")]
    async fn record(
        &self,
        #[oai(name = "X-Api-Key")] key: Header<String>,
        req: Json<NewPurchase>,
    ) -> poem::Result<RecordedPurchase> {
        if key.0.is_empty() {
            return Err(poem::Error::from_status(
                poem::http::StatusCode::UNAUTHORIZED,
            ));
        }
        let req = req.0;
        let member = req.member_id.ok_or_else(|| {
            poem::Error::from_string("member_id", poem::http::StatusCode::BAD_REQUEST)
        })?;
        let r = if self.two {
            self.two_exchanges(member, &req).await
        } else {
            self.four_exchanges(member, &req).await
        };
        r.map_err(poem::error::InternalServerError)
    }
}

impl StackApi {
    fn answer(&self, member: Uuid, req: &NewPurchase, balance: i64) -> PurchaseResult {
        let mut a = self.answer.clone();
        a.purchase_id = Uuid::now_v7();
        a.external_id = req.external_id.clone();
        a.member_id = member;
        a.amount = req.amount;
        a.points = req.amount / 100;
        a.reasons[0].points = a.points;
        a.balance = balance + a.points;
        a.occurred_at = chrono::Utc::now();
        a
    }

    async fn four_exchanges(
        &self,
        member: Uuid,
        req: &NewPurchase,
    ) -> Result<RecordedPurchase, sqlx::Error> {
        let mut tx = self
            .pool
            .begin_with("BEGIN; SELECT set_config('search_path', '\"stack_floor\"', true)")
            .await?;
        let (balance, earlier): (i64, Option<sqlx::types::Json<PurchaseResult>>) = sqlx::query_as(
            "WITH a AS (INSERT INTO accounts (member_id) VALUES ($1) ON CONFLICT (member_id) \
             DO UPDATE SET visits = accounts.visits RETURNING balance) \
             SELECT a.balance, p.response FROM a LEFT JOIN purchases p ON p.external_id = $2",
        )
        .bind(member)
        .bind(&req.external_id)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(e) = earlier {
            tx.commit().await?;
            return Ok(RecordedPurchase::Replayed(Json(e.0)));
        }
        let a = self.answer(member, req, balance);
        bind_purchase(
            sqlx::query(
            "WITH a AS (UPDATE accounts SET balance = $2, visits = visits + 1 WHERE member_id = $1) \
             INSERT INTO purchases (id, external_id, member_id, amount, points, response) \
             VALUES ($3, $4, $1, $5, $6, $7)",
            ),
            member,
            &a,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RecordedPurchase::Created(Json(a)))
    }

    async fn two_exchanges(
        &self,
        member: Uuid,
        req: &NewPurchase,
    ) -> Result<RecordedPurchase, sqlx::Error> {
        loop {
            let (balance, visits, earlier): (
                Option<i64>,
                Option<i64>,
                Option<sqlx::types::Json<PurchaseResult>>,
            ) = sqlx::query_as(
                "SELECT a.balance, a.visits, p.response FROM (SELECT $1::uuid AS m) x \
                 LEFT JOIN stack_floor.accounts a ON a.member_id = x.m \
                 LEFT JOIN stack_floor.purchases p ON p.external_id = $2",
            )
            .bind(member)
            .bind(&req.external_id)
            .fetch_one(&self.pool)
            .await?;
            if let Some(e) = earlier {
                return Ok(RecordedPurchase::Replayed(Json(e.0)));
            }
            let a = self.answer(member, req, balance.unwrap_or(0));
            // Written only if the account is still as read (or still absent).
            let done = bind_purchase(
                sqlx::query(
                "WITH a AS (INSERT INTO stack_floor.accounts AS s (member_id, balance, visits) \
                 VALUES ($1, $2, 1) ON CONFLICT (member_id) DO UPDATE \
                 SET balance = $2, visits = s.visits + 1 \
                 WHERE s.balance = $8 AND s.visits = $9 RETURNING 1) \
                 INSERT INTO stack_floor.purchases (id, external_id, member_id, amount, points, response) \
                 SELECT $3, $4, $1, $5, $6, $7 FROM a",
                ),
                member,
                &a,
            )
            .bind(balance)
            .bind(visits)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(RecordedPurchase::Created(Json(a)));
            }
        }
    }
}

/// Binds $1-$7 of both ways' writes: the member, the balance after the purchase, and the
/// purchase's id, external id, amount, points and answer.
fn bind_purchase<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    member: Uuid,
    a: &'q PurchaseResult,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(member)
        .bind(a.balance)
        .bind(a.purchase_id)
        .bind(&a.external_id)
        .bind(a.amount)
        .bind(a.points)
        .bind(sqlx::types::Json(a))
}

/// Serves until killed.
pub fn serve(exchanges: u64) -> Res<()> {
    if exchanges != 2 && exchanges != 4 {
        return Err("--exchanges takes 2 or 4".into());
    }
    let url = std::env::var("PATRON_DATABASE_URL")?;
    let listen = std::env::var("PATRON_LISTEN").unwrap_or_else(|_| "127.0.0.1:18199".into());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let pool = PgPoolOptions::new()
                .max_connections(20)
                .connect(&url)
                .await?;
            sqlx::raw_sql(SCHEMA).execute(&pool).await?;
            let api = StackApi {
                pool,
                two: exchanges == 2,
                answer: serde_json::from_str(ANSWER)?,
            };
            let service = OpenApiService::new(api, "stack floor", "1");
            Server::new(TcpListener::bind(listen))
                .run(
                    Route::new()
                        .nest("/api/v1", service)
                        .at("/readyz", poem::endpoint::make_sync(|_| "ok")),
                )
                .await?;
            Ok(())
        })
}
