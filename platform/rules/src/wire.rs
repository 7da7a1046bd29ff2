//! What goes over the pipe to a sandbox worker (length-prefixed JSON frames; the worker side
//! is `platform/sandbox/src/worker.rs`), and the public result and error types.

pub(crate) use patron_core::rules::{Case, Outcome, RuleError, RuleErrorKind, RuleKey, TierCase};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest frame either side accepts (the sandbox has the same cap).
pub(crate) const MAX_FRAME: usize = 4 * 1024 * 1024;

/// What a script answers, and the key space its compiled form is cached in: point rules
/// (the default, sent as no `kind`) or tier scripts (`"kind":"tier"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    Points,
    Tier,
}

impl Kind {
    fn is_points(&self) -> bool {
        *self == Kind::Points
    }
}

/// The key as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub(crate) struct WireKey {
    pub tenant: i64,
    pub version: i64,
    pub hash: String,
    #[serde(skip_serializing_if = "Kind::is_points")]
    pub kind: Kind,
}

impl WireKey {
    pub fn new(key: RuleKey, script: &str, kind: Kind) -> Self {
        let hash = hex::encode(Sha256::digest(script.as_bytes()));
        Self {
            tenant: key.tenant,
            version: key.version,
            hash,
            kind,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Compile,
    Eval,
    EvalBatch,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Compile => "compile",
            Op::Eval => "eval",
            Op::EvalBatch => "eval_batch",
        }
    }
}

/// The payload of one request besides its key and script.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    None,
    One {
        event: &'a Value,
        member: &'a Value,
    },
    Batch(&'a [Case]),
    Tier {
        member: &'a Value,
        metrics: &'a Value,
    },
    TierBatch(&'a [TierCase]),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Cases<'a> {
    Points(&'a [Case]),
    Tier(&'a [TierCase]),
}

#[derive(Serialize)]
struct Request<'a> {
    id: u64,
    op: &'static str,
    key: &'a WireKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    script: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cases: Option<Cases<'a>>,
}

pub(crate) fn encode(
    id: u64,
    op: Op,
    key: &WireKey,
    script: Option<&str>,
    payload: Payload<'_>,
) -> Result<Vec<u8>, RuleError> {
    let (event, member, metrics, cases) = match payload {
        Payload::None => (None, None, None, None),
        Payload::One { event, member } => (Some(event), Some(member), None, None),
        Payload::Batch(cases) => (None, None, None, Some(Cases::Points(cases))),
        Payload::Tier { member, metrics } => (None, Some(member), Some(metrics), None),
        Payload::TierBatch(cases) => (None, None, None, Some(Cases::Tier(cases))),
    };
    let request = Request {
        id,
        op: op.name(),
        key,
        script,
        event,
        member,
        metrics,
        cases,
    };
    let mut frame = vec![0u8; 4];
    serde_json::to_writer(&mut frame, &request)
        .map_err(|e| RuleError::new(RuleErrorKind::BadInput, format!("cannot encode: {e}")))?;
    let len = frame.len() - 4;
    if len > MAX_FRAME {
        return Err(RuleError::new(
            RuleErrorKind::BadInput,
            format!("request of {len} bytes exceeds the {MAX_FRAME} byte limit"),
        ));
    }
    frame[..4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(frame)
}

#[derive(Debug, Deserialize)]
pub(crate) struct Response {
    pub id: u64,
    pub ok: bool,
    #[serde(default)]
    pub result: Option<Outcome>,
    #[serde(default)]
    pub results: Option<Vec<CaseResult>>,
    /// A tier script's answer.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub error: Option<RuleError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CaseResult {
    pub ok: bool,
    #[serde(default)]
    pub result: Option<Outcome>,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub error: Option<RuleError>,
}

impl CaseResult {
    pub fn into_result(self) -> Result<Outcome, RuleError> {
        match (self.ok, self.result, self.error) {
            (true, Some(outcome), _) => Ok(outcome),
            (_, _, Some(error)) => Err(error),
            _ => Err(RuleError::new(
                RuleErrorKind::Protocol,
                "case answer without result",
            )),
        }
    }

    pub fn into_tier(self) -> Result<String, RuleError> {
        match (self.ok, self.tier, self.error) {
            (true, Some(tier), _) => Ok(tier),
            (_, _, Some(error)) => Err(error),
            _ => Err(RuleError::new(
                RuleErrorKind::Protocol,
                "case answer without a tier",
            )),
        }
    }
}
