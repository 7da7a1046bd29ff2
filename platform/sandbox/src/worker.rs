//! One sandbox worker: answers compile, eval and eval_batch requests, keeping compiled ASTs
//! in a small LRU keyed by (tenant, version, script hash).
//!
//! Requests and responses are JSON objects:
//!
//! ```text
//! {"id":1,"op":"compile","key":{"tenant":7,"version":3,"hash":"ab12.."},"script":"..."}
//! {"id":2,"op":"eval","key":{..},"script":"..."?,"event":{..},"member":{..}}
//! {"id":3,"op":"eval_batch","key":{..},"script":"..."?,"cases":[{"event":{..},"member":{..}}]}
//!
//! {"id":1,"ok":true}
//! {"id":2,"ok":true,"result":{"points":12,"reasons":[{"points":12,"reason":"rule"}]}}
//! {"id":3,"ok":true,"results":[{"ok":true,"result":{..}},{"ok":false,"error":{..}}]}
//! {"id":2,"ok":false,"error":{"kind":"runtime","message":"..","line":3,"column":9}}
//! ```
//!
//! A key with `"kind":"tier"` is a tier script: compiled with `member` and `metrics` in
//! scope, evaluated with `member` and `metrics` (no event), answering a tier code. Its ASTs
//! live in their own key space, so a tier script never meets a point rule's AST.
//!
//! ```text
//! {"id":4,"op":"eval","key":{"tenant":7,"version":2,"hash":"..","kind":"tier"},"member":{..},"metrics":{..}}
//! {"id":4,"ok":true,"tier":"gold"}
//! {"id":5,"op":"eval_batch","key":{..,"kind":"tier"},"cases":[{"member":{..},"metrics":{..}}]}
//! {"id":5,"ok":true,"results":[{"ok":true,"tier":"gold"},{"ok":false,"error":{..}}]}
//! ```

use std::collections::HashMap;
use std::rc::Rc;

use rhai::{Dynamic, AST};
use serde::{Deserialize, Serialize};

use crate::rules::{
    prepare_event, prepare_member, prepare_metrics, ErrorKind, Limits, Outcome, RuleEngine,
    RuleError,
};

/// ASTs a worker keeps by default.
pub const DEFAULT_CACHE_SIZE: usize = 256;

/// What a script answers: points (point rules, the default) or a tier code (tier scripts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Points,
    Tier,
}

/// Which compiled rule: the tenant, the rule version, the SHA-256 of its script and what
/// kind of script it is (a separate key space per kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Key {
    pub tenant: i64,
    pub version: i64,
    pub hash: String,
    #[serde(default)]
    pub kind: Kind,
}

#[derive(Deserialize)]
struct Request {
    id: u64,
    op: String,
    key: Option<Key>,
    script: Option<String>,
    event: Option<Dynamic>,
    member: Option<Dynamic>,
    metrics: Option<Dynamic>,
    cases: Option<Vec<Case>>,
}

/// One case of a batch: an event and a member for a point rule, a member and metrics for a
/// tier script.
#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    event: Dynamic,
    member: Dynamic,
    #[serde(default)]
    metrics: Dynamic,
}

#[derive(Deserialize)]
struct IdOnly {
    id: u64,
}

#[derive(Serialize)]
struct Response {
    id: u64,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<Vec<CaseResult>>,
    /// A tier script's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RuleError>,
}

#[derive(Serialize)]
struct CaseResult {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RuleError>,
}

impl From<Result<Outcome, RuleError>> for CaseResult {
    fn from(result: Result<Outcome, RuleError>) -> Self {
        match result {
            Ok(outcome) => Self {
                ok: true,
                result: Some(outcome),
                tier: None,
                error: None,
            },
            Err(error) => Self {
                ok: false,
                result: None,
                tier: None,
                error: Some(error),
            },
        }
    }
}

impl From<Result<String, RuleError>> for CaseResult {
    fn from(result: Result<String, RuleError>) -> Self {
        match result {
            Ok(tier) => Self {
                ok: true,
                result: None,
                tier: Some(tier),
                error: None,
            },
            Err(error) => Self {
                ok: false,
                result: None,
                tier: None,
                error: Some(error),
            },
        }
    }
}

/// A least-recently-used map of compiled rules. Small, so eviction simply scans.
struct AstCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<Key, (Rc<AST>, u64)>,
}

impl AstCache {
    fn get(&mut self, key: &Key) -> Option<Rc<AST>> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(ast, used)| {
            *used = tick;
            Rc::clone(ast)
        })
    }

    fn insert(&mut self, key: Key, ast: Rc<AST>) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.tick += 1;
        self.entries.insert(key, (ast, self.tick));
    }
}

/// The state of one sandbox process: its engine and its AST cache.
pub struct Worker {
    engine: RuleEngine,
    cache: AstCache,
}

impl Worker {
    pub fn new(limits: &Limits, cache_size: usize) -> Self {
        Self {
            engine: RuleEngine::new(limits),
            cache: AstCache {
                capacity: cache_size,
                tick: 0,
                entries: HashMap::new(),
            },
        }
    }

    /// Answers one request frame with one response frame body. Never fails: a request that
    /// cannot be read gets a `bad_input` answer (with id 0 when even the id is unreadable).
    pub fn handle(&mut self, frame: &[u8]) -> Vec<u8> {
        let response = match serde_json::from_slice::<Request>(frame) {
            Ok(request) => self.answer(request),
            Err(e) => {
                let id = serde_json::from_slice::<IdOnly>(frame).map_or(0, |r| r.id);
                failure(id, RuleError::bad_input(format!("unreadable request: {e}")))
            }
        };
        serde_json::to_vec(&response).unwrap_or_else(|e| {
            format!(r#"{{"id":0,"ok":false,"error":{{"kind":"runtime","message":"{e}"}}}}"#)
                .into_bytes()
        })
    }

    /// The answer to a frame that exceeded the size cap.
    pub fn too_large(len: usize) -> Vec<u8> {
        let error = RuleError::bad_input(format!(
            "request of {len} bytes exceeds the {} byte limit",
            crate::frame::MAX_FRAME
        ));
        serde_json::to_vec(&failure(0, error)).unwrap_or_default()
    }

    fn answer(&mut self, mut request: Request) -> Response {
        let id = request.id;
        let Some(key) = request.key.take() else {
            return failure(id, RuleError::bad_input("key is required"));
        };
        if key.kind == Kind::Tier && request.op != "compile" {
            return self.answer_tier(id, key, request);
        }
        match request.op.as_str() {
            "compile" => {
                let Some(script) = request.script else {
                    return failure(id, RuleError::bad_input("compile needs a script"));
                };
                match self.compile(key.kind, &script) {
                    Ok(ast) => {
                        self.cache.insert(key, Rc::new(ast));
                        Response {
                            id,
                            ok: true,
                            result: None,
                            results: None,
                            tier: None,
                            error: None,
                        }
                    }
                    Err(e) => failure(id, e),
                }
            }
            "eval" => {
                let (Some(event), Some(member)) = (request.event, request.member) else {
                    return failure(id, RuleError::bad_input("eval needs an event and a member"));
                };
                let result = self
                    .ast(key, request.script)
                    .and_then(|ast| self.eval_one(&ast, event, member));
                match result {
                    Ok(outcome) => Response {
                        id,
                        ok: true,
                        result: Some(outcome),
                        results: None,
                        tier: None,
                        error: None,
                    },
                    Err(e) => failure(id, e),
                }
            }
            "eval_batch" => {
                let Some(cases) = request.cases else {
                    return failure(id, RuleError::bad_input("eval_batch needs cases"));
                };
                let ast = match self.ast(key, request.script) {
                    Ok(ast) => ast,
                    Err(e) => return failure(id, e),
                };
                let results = cases
                    .into_iter()
                    .map(|case| self.eval_one(&ast, case.event, case.member).into())
                    .collect();
                Response {
                    id,
                    ok: true,
                    result: None,
                    results: Some(results),
                    tier: None,
                    error: None,
                }
            }
            other => failure(id, RuleError::bad_input(format!("unknown op '{other}'"))),
        }
    }

    /// `eval` and `eval_batch` of a tier script: a tier code per member.
    fn answer_tier(&mut self, id: u64, key: Key, request: Request) -> Response {
        match request.op.as_str() {
            "eval" => {
                let Some(member) = request.member else {
                    return failure(id, RuleError::bad_input("eval needs a member"));
                };
                let metrics = request.metrics.unwrap_or(Dynamic::UNIT);
                let result = self
                    .ast(key, request.script)
                    .and_then(|ast| self.eval_tier(&ast, member, metrics));
                match result {
                    Ok(tier) => Response {
                        id,
                        ok: true,
                        result: None,
                        results: None,
                        tier: Some(tier),
                        error: None,
                    },
                    Err(e) => failure(id, e),
                }
            }
            "eval_batch" => {
                let Some(cases) = request.cases else {
                    return failure(id, RuleError::bad_input("eval_batch needs cases"));
                };
                let ast = match self.ast(key, request.script) {
                    Ok(ast) => ast,
                    Err(e) => return failure(id, e),
                };
                let results = cases
                    .into_iter()
                    .map(|case| self.eval_tier(&ast, case.member, case.metrics).into())
                    .collect();
                Response {
                    id,
                    ok: true,
                    result: None,
                    results: Some(results),
                    tier: None,
                    error: None,
                }
            }
            other => failure(id, RuleError::bad_input(format!("unknown op '{other}'"))),
        }
    }

    fn compile(&self, kind: Kind, script: &str) -> Result<AST, RuleError> {
        match kind {
            Kind::Points => self.engine.compile(script),
            Kind::Tier => self.engine.compile_tier(script),
        }
    }

    fn ast(&mut self, key: Key, script: Option<String>) -> Result<Rc<AST>, RuleError> {
        if let Some(ast) = self.cache.get(&key) {
            return Ok(ast);
        }
        let Some(script) = script else {
            return Err(RuleError::new(
                ErrorKind::NotCached,
                "rule not compiled here; send the script",
            ));
        };
        let ast = Rc::new(self.compile(key.kind, &script)?);
        self.cache.insert(key, Rc::clone(&ast));
        Ok(ast)
    }

    fn eval_tier(&self, ast: &AST, member: Dynamic, metrics: Dynamic) -> Result<String, RuleError> {
        let member = prepare_member(member)?;
        let metrics = prepare_metrics(metrics)?;
        self.engine.eval_tier(ast, member, metrics)
    }

    fn eval_one(&self, ast: &AST, event: Dynamic, member: Dynamic) -> Result<Outcome, RuleError> {
        let event = prepare_event(event)?;
        let member = prepare_member(member)?;
        self.engine.eval(ast, event, member)
    }
}

fn failure(id: u64, error: RuleError) -> Response {
    Response {
        id,
        ok: false,
        result: None,
        results: None,
        tier: None,
        error: Some(error),
    }
}
