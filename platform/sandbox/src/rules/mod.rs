//! The Rhai engine that tenants' point rules run in: its limits, the rule API (`event`,
//! `member`, helpers, `award`), and how an evaluation becomes points with reasons; also the
//! tier scripts that decide a member's tier (`member`, `metrics`) and return a tier code.
//!
//! Everything here is deterministic: the engine has no clock (`no_time`), no randomness, no
//! module imports (`no_module`), no `eval`, and prints nothing. A rule sees only what the
//! caller passes in.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, ParseError, ParseErrorType,
    Position, Scope, AST, INT,
};
use serde::Serialize;

mod helpers;

use helpers::register_helpers;
pub use helpers::{days_between, floor_div, percent, round_div};

/// Most awards one evaluation may make.
pub const MAX_AWARDS: usize = 1_000;
/// Longest reason kept on an award, in characters (longer ones are cut).
pub const MAX_REASON_CHARS: usize = 200;
/// Most coupons one evaluation may give (`give_coupon`).
pub const MAX_COUPONS: usize = 10;
/// Longest coupon template id `give_coupon` takes, in characters.
pub const MAX_COUPON_ID_CHARS: usize = 64;
/// Reason given to the points a rule returns as its value.
pub const RETURNED_REASON: &str = "rule";

/// The limits every evaluation runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Operations one evaluation may perform (a runaway loop stops here).
    pub max_operations: u64,
    /// Depth of nested function calls.
    pub max_call_levels: usize,
    /// Depth of nested expressions at the top level of a script.
    pub max_expr_depth: usize,
    /// Depth of nested expressions inside functions and closures.
    pub max_function_expr_depth: usize,
    /// Length of any string, in bytes.
    pub max_string_size: usize,
    /// Elements in any array (nested arrays included).
    pub max_array_size: usize,
    /// Properties in any object map (nested maps included).
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 100_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
        }
    }
}

/// What a rule earned: the total and one line per award.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub points: i64,
    pub reasons: Vec<Award>,
    /// Coupon templates the rule gives one coupon of (`give_coupon`), in call order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coupons: Vec<String>,
}

/// One award: points, why, and the purchase line it is for when it is for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Award {
    pub points: i64,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The kinds of failure a caller can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The script does not compile.
    Compile,
    /// The script failed while running (bad arithmetic, a helper refused its input, ...).
    Runtime,
    /// The script exceeded one of the limits; `limit` says which.
    Limit,
    /// The request itself was wrong (event or member not an object, wrong field types).
    BadInput,
    /// Evaluation asked for a key this worker has not compiled; resend with the script.
    NotCached,
}

/// A rule failure, with where in the script it happened when Rhai knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// For `limit`: operations, call_levels, expression_depth, string_size, array_size,
    /// map_size, variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
}

impl RuleError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
            column: None,
            limit: None,
        }
    }

    fn at(mut self, pos: Position) -> Self {
        self.line = pos.line();
        self.column = pos.position();
        self
    }

    fn limit(which: &'static str, message: impl Into<String>) -> Self {
        Self {
            limit: Some(which),
            ..Self::new(ErrorKind::Limit, message)
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message)
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleError {}

/// Awards made by the evaluation under way; the `award` helpers write here.
#[derive(Default)]
struct Tally {
    awards: Vec<Award>,
    total: i64,
    /// Number of purchase lines, so `award_line` can check its index.
    lines: usize,
    /// Coupon templates given by `give_coupon`.
    coupons: Vec<String>,
}

impl Tally {
    fn coupon(&mut self, template: &str) -> Result<(), Box<EvalAltResult>> {
        let template = template.trim();
        if template.is_empty() || template.chars().count() > MAX_COUPON_ID_CHARS {
            return Err(format!(
                "give_coupon: a coupon template's id is 1 to {MAX_COUPON_ID_CHARS} characters"
            )
            .into());
        }
        if self.coupons.len() >= MAX_COUPONS {
            return Err(format!("give_coupon: at most {MAX_COUPONS} coupons per event").into());
        }
        self.coupons.push(template.to_string());
        Ok(())
    }

    fn add(
        &mut self,
        points: INT,
        reason: &str,
        line: Option<INT>,
    ) -> Result<(), Box<EvalAltResult>> {
        if points < 0 {
            return Err(format!("award: points must not be negative (got {points})").into());
        }
        let line = match line {
            None => None,
            Some(i) => match usize::try_from(i) {
                Ok(i) if i < self.lines => Some(i),
                _ => {
                    return Err(format!(
                        "award_line: line {i} does not exist (the event has {} line(s), numbered from 0)",
                        self.lines
                    )
                    .into())
                }
            },
        };
        if self.awards.len() >= MAX_AWARDS {
            return Err(EvalAltResult::ErrorDataTooLarge(
                "Number of awards".to_string(),
                Position::NONE,
            )
            .into());
        }
        self.total = self
            .total
            .checked_add(points)
            .ok_or_else(|| Box::<EvalAltResult>::from("award: total points overflow"))?;
        let reason = if reason.chars().count() > MAX_REASON_CHARS {
            let mut cut: String = reason.chars().take(MAX_REASON_CHARS - 1).collect();
            cut.push('…');
            cut
        } else {
            reason.to_string()
        };
        self.awards.push(Award {
            points,
            reason,
            line,
        });
        Ok(())
    }
}

/// One engine with the rule API registered. Build one per worker: `Engine::new()` is costly.
pub struct RuleEngine {
    engine: Engine,
    tally: Rc<RefCell<Tally>>,
}

pub(crate) type Fallible<T> = Result<T, Box<EvalAltResult>>;

impl RuleEngine {
    pub fn new(limits: &Limits) -> Self {
        let mut engine = Engine::new();
        engine.set_max_operations(limits.max_operations);
        engine.set_max_call_levels(limits.max_call_levels);
        engine.set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth);
        engine.set_max_string_size(limits.max_string_size);
        engine.set_max_array_size(limits.max_array_size);
        engine.set_max_map_size(limits.max_map_size);
        engine.set_strict_variables(true);
        // A typo such as `event.amout` is an error rather than a silent `()`.
        engine.set_fail_on_invalid_map_property(true);
        engine.disable_symbol("eval");
        // stdout carries the protocol: scripts must never write to it.
        engine.on_print(|_| {});
        engine.on_debug(|_, _, _| {});

        let tally = Rc::new(RefCell::new(Tally::default()));
        register_helpers(&mut engine);
        register_awards(&mut engine, &tally);
        Self { engine, tally }
    }

    /// Compiles a script; `event` and `member` are the only variables it may assume.
    pub fn compile(&self, script: &str) -> Result<AST, RuleError> {
        let mut scope = Scope::new();
        scope.push("event", Dynamic::UNIT);
        scope.push("member", Dynamic::UNIT);
        self.engine
            .compile_with_scope(&scope, script)
            .map_err(from_parse_error)
    }

    /// Compiles a tier script; `member` and `metrics` are the only variables it may assume.
    pub fn compile_tier(&self, script: &str) -> Result<AST, RuleError> {
        let mut scope = Scope::new();
        scope.push("member", Dynamic::UNIT);
        scope.push("metrics", Dynamic::UNIT);
        self.engine
            .compile_with_scope(&scope, script)
            .map_err(from_parse_error)
    }

    /// Runs a compiled tier script for one member (already checked by [`prepare_member`] and
    /// [`prepare_metrics`]): the tier code it returns. Which codes exist is the caller's
    /// business; here a tier code is any non-empty text.
    pub fn eval_tier(
        &self,
        ast: &AST,
        member: Dynamic,
        metrics: Dynamic,
    ) -> Result<String, RuleError> {
        *self.tally.borrow_mut() = Tally::default();
        let mut scope = Scope::new();
        scope.push_constant("member", member);
        scope.push_constant("metrics", metrics);
        let value = self.engine.eval_ast_with_scope::<Dynamic>(&mut scope, ast);
        let tally = std::mem::take(&mut *self.tally.borrow_mut());
        let awarded = tally.awards.len() + tally.coupons.len();
        let value = value.map_err(from_eval_error)?;
        if awarded > 0 {
            return Err(RuleError::new(
                ErrorKind::Runtime,
                "a tier script returns a tier code; award and give_coupon are for point rules",
            ));
        }
        let type_name = value.type_name();
        match value.into_immutable_string() {
            Ok(code) if !code.trim().is_empty() => Ok(code.trim().to_string()),
            Ok(_) => Err(RuleError::new(
                ErrorKind::Runtime,
                "the tier script returned an empty text; it returns a tier code like \"gold\"",
            )),
            Err(_) => Err(RuleError::new(
                ErrorKind::Runtime,
                format!(
                    "the tier script returned a {type_name}; it returns a tier code like \"gold\""
                ),
            )),
        }
    }

    /// Runs a compiled rule against one event and member (already checked by
    /// [`prepare_event`] and [`prepare_member`]).
    pub fn eval(&self, ast: &AST, event: Dynamic, member: Dynamic) -> Result<Outcome, RuleError> {
        let lines = event
            .read_lock::<Map>()
            .and_then(|m| {
                m.get("items")
                    .map(|i| i.read_lock::<Array>().map_or(0, |a| a.len()))
            })
            .unwrap_or(0);
        *self.tally.borrow_mut() = Tally {
            lines,
            ..Tally::default()
        };

        let mut scope = Scope::new();
        scope.push_constant("event", event);
        scope.push_constant("member", member);
        let value = self.engine.eval_ast_with_scope::<Dynamic>(&mut scope, ast);
        let mut tally = std::mem::take(&mut *self.tally.borrow_mut());
        let value = value.map_err(from_eval_error)?;

        if value.is_unit() {
        } else if let Ok(points) = value.as_int() {
            if points != 0 {
                tally
                    .add(points, RETURNED_REASON, None)
                    .map_err(from_eval_error)?;
            }
        } else if value.is_float() {
            return Err(RuleError::new(
                ErrorKind::Runtime,
                "the rule returned a fractional number; points are whole numbers \
                 (use round_div, floor_div or .to_int())",
            ));
        } else {
            return Err(RuleError::new(
                ErrorKind::Runtime,
                format!(
                    "the rule returned a {}; a rule returns a whole number of points or nothing \
                     (and calls award)",
                    value.type_name()
                ),
            ));
        }
        Ok(Outcome {
            points: tally.total,
            reasons: tally.awards,
            coupons: tally.coupons,
        })
    }
}

fn from_parse_error(err: ParseError) -> RuleError {
    let ParseError(kind, pos) = err;
    let error = match *kind {
        ParseErrorType::ExprTooDeep => {
            RuleError::limit("expression_depth", "expressions are nested too deeply")
        }
        ParseErrorType::LiteralTooLarge(ref what, max) if what.contains("string") => {
            RuleError::limit("string_size", format!("{what} exceeds the limit ({max})"))
        }
        ParseErrorType::LiteralTooLarge(ref what, max) if what.contains("rray") => {
            RuleError::limit("array_size", format!("{what} exceeds the limit ({max})"))
        }
        ParseErrorType::LiteralTooLarge(ref what, max) => {
            RuleError::limit("map_size", format!("{what} exceeds the limit ({max})"))
        }
        ref other => RuleError::new(ErrorKind::Compile, other.to_string()),
    };
    error.at(pos)
}

fn from_eval_error(err: Box<EvalAltResult>) -> RuleError {
    let outer = err.position();
    let mut inner: &EvalAltResult = &err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = e;
    }
    let error = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            RuleError::limit("operations", "the rule ran too long (too many operations)")
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            RuleError::limit("call_levels", "functions call each other too deeply")
        }
        EvalAltResult::ErrorTooManyVariables(_) => {
            RuleError::limit("variables", "the rule defines too many variables")
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let which = if what.contains("string") {
                "string_size"
            } else if what.contains("rray") {
                "array_size"
            } else if what.contains("map") {
                "map_size"
            } else {
                "awards"
            };
            RuleError::limit(which, format!("{what} exceeds the limit"))
        }
        EvalAltResult::ErrorRuntime(value, _) => {
            RuleError::new(ErrorKind::Runtime, value.to_string())
        }
        other => RuleError::new(ErrorKind::Runtime, strip_position(other)),
    };
    let pos = if inner.position().is_none() {
        outer
    } else {
        inner.position()
    };
    error.at(pos)
}

/// Rhai's message without its " (line x, position y)" suffix: the position is sent apart.
fn strip_position(err: &EvalAltResult) -> String {
    let text = err.to_string();
    match text.rfind(" (line ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

fn take_map(value: Dynamic, what: &str) -> Result<Map, RuleError> {
    let type_name = value.type_name();
    value
        .try_cast::<Map>()
        .ok_or_else(|| RuleError::bad_input(format!("{what} must be an object, not {type_name}")))
}

fn default_str(map: &mut Map, key: &str) -> Result<(), RuleError> {
    let value = map.entry(key.into()).or_insert_with(|| "".into());
    if value.is_string() || value.is_unit() {
        if value.is_unit() {
            *value = "".into();
        }
        Ok(())
    } else {
        Err(RuleError::bad_input(format!("{key} must be a string")))
    }
}

fn default_int(map: &mut Map, key: &str, default: INT, path: &str) -> Result<(), RuleError> {
    let value = map.entry(key.into()).or_insert(Dynamic::from_int(default));
    if value.is_unit() {
        *value = Dynamic::from_int(default);
    }
    if value.is_int() {
        Ok(())
    } else {
        Err(RuleError::bad_input(format!(
            "{path} must be a whole number"
        )))
    }
}

fn default_map(map: &mut Map, key: &str) -> Result<Map, RuleError> {
    let value = map.remove(key).unwrap_or(Dynamic::UNIT);
    if value.is_unit() {
        Ok(Map::new())
    } else {
        take_map(value, key)
    }
}

/// Checks an event and fills the fields it leaves out, so rules never meet a missing one.
pub fn prepare_event(event: Dynamic) -> Result<Dynamic, RuleError> {
    let mut event = take_map(event, "event")?;
    for key in ["kind", "currency", "store"] {
        default_str(&mut event, key)?;
    }
    default_int(&mut event, "amount", 0, "amount")?;

    let items = event.remove("items").unwrap_or(Dynamic::UNIT);
    let items = if items.is_unit() {
        Array::new()
    } else {
        items
            .try_cast::<Array>()
            .ok_or_else(|| RuleError::bad_input("items must be an array"))?
    };
    let mut checked = Array::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let mut item = take_map(item, &format!("items[{i}]"))?;
        for key in ["sku", "name", "category"] {
            default_str(&mut item, key)?;
        }
        default_int(&mut item, "quantity", 1, &format!("items[{i}].quantity"))?;
        default_int(
            &mut item,
            "unit_price",
            0,
            &format!("items[{i}].unit_price"),
        )?;
        checked.push(item.into());
    }
    event.insert("items".into(), checked.into());

    let mut time = default_map(&mut event, "time")?;
    default_str(&mut time, "iso")?;
    for key in ["year", "month", "day", "hour", "weekday"] {
        default_int(&mut time, key, 0, &format!("time.{key}"))?;
    }
    event.insert("time".into(), time.into());
    Ok(event.into())
}

/// Checks a member and fills the fields it leaves out.
pub fn prepare_member(member: Dynamic) -> Result<Dynamic, RuleError> {
    let mut member = take_map(member, "member")?;
    member.entry("id".into()).or_insert(Dynamic::UNIT);
    for key in ["tier", "join_date", "birthday"] {
        default_str(&mut member, key)?;
    }
    let fields = default_map(&mut member, "fields")?;
    member.insert("fields".into(), fields.into());

    let mut totals = default_map(&mut member, "totals")?;
    for key in ["spend", "visits", "points_earned", "points_today"] {
        default_int(&mut totals, key, 0, &format!("totals.{key}"))?;
    }
    member.insert("totals".into(), totals.into());

    let mut benefits = default_map(&mut member, "benefits")?;
    default_int(&mut benefits, "multiplier", 1000, "benefits.multiplier")?;
    default_int(
        &mut benefits,
        "discount_percent",
        0,
        "benefits.discount_percent",
    )?;
    member.insert("benefits".into(), benefits.into());
    Ok(member.into())
}

/// Checks the metrics a tier script sees and fills those left out with 0.
pub fn prepare_metrics(metrics: Dynamic) -> Result<Dynamic, RuleError> {
    let mut metrics = if metrics.is_unit() {
        Map::new()
    } else {
        take_map(metrics, "metrics")?
    };
    for key in ["points_earned", "spend", "visits"] {
        default_int(&mut metrics, key, 0, &format!("metrics.{key}"))?;
    }
    Ok(metrics.into())
}

fn register_awards(engine: &mut Engine, tally: &Rc<RefCell<Tally>>) {
    let t = Rc::clone(tally);
    engine.register_fn(
        "award",
        move |points: INT, reason: ImmutableString| -> Fallible<()> {
            t.borrow_mut().add(points, &reason, None)
        },
    );
    let t = Rc::clone(tally);
    engine.register_fn("award", move |points: INT| -> Fallible<()> {
        t.borrow_mut().add(points, RETURNED_REASON, None)
    });
    let t = Rc::clone(tally);
    engine.register_fn(
        "award_line",
        move |line: INT, points: INT, reason: ImmutableString| -> Fallible<()> {
            t.borrow_mut().add(points, &reason, Some(line))
        },
    );
    let t = Rc::clone(tally);
    engine.register_fn(
        "give_coupon",
        move |template: ImmutableString| -> Fallible<()> { t.borrow_mut().coupon(&template) },
    );
    // Fractional points get a clear message instead of "function not found".
    let fractional = || -> Fallible<()> {
        Err("award: points must be a whole number (use round_div, floor_div or .to_int())".into())
    };
    engine.register_fn("award", move |_: f64, _: ImmutableString| fractional());
    engine.register_fn("award", move |_: f64| fractional());
    engine.register_fn("award_line", move |_: INT, _: f64, _: ImmutableString| {
        fractional()
    });
}
