//! Messages and outgoing webhooks, as pure rules: the events the outbox carries, templates
//! with `{{variables}}`, the retry schedule, quiet hours in a tenant's zone, Standard
//! Webhooks signatures and the check that keeps webhook endpoints off private addresses.

use crate::lang::Lang;
use crate::problem::{FieldCode, Issue};
use crate::Zone;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Something that happened, as the outbox records it and webhooks announce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    MemberCreated,
    MemberUpdated,
    PointsEarned,
    PointsRedeemed,
    TierChanged,
    /// An activity the member signed up for was called off (their price given back).
    ActivityCancelled,
    /// A freed seat of an activity is held for the member until the offer runs out.
    ActivityOffered,
    /// Staff approved the member's sign-up (a seat, or a place in line).
    ActivityApproved,
    /// Staff rejected the member's sign-up, with a reason.
    ActivityRejected,
    /// Staff answered the member in a conversation.
    ConversationAnswered,
}

impl Event {
    pub const ALL: [Event; 10] = [
        Self::MemberCreated,
        Self::MemberUpdated,
        Self::PointsEarned,
        Self::PointsRedeemed,
        Self::TierChanged,
        Self::ActivityCancelled,
        Self::ActivityOffered,
        Self::ActivityApproved,
        Self::ActivityRejected,
        Self::ConversationAnswered,
    ];

    /// The name on the wire (`member.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberCreated => "member.created",
            Self::MemberUpdated => "member.updated",
            Self::PointsEarned => "points.earned",
            Self::PointsRedeemed => "points.redeemed",
            Self::TierChanged => "tier.changed",
            Self::ActivityCancelled => "activity.cancelled",
            Self::ActivityOffered => "activity.offered",
            Self::ActivityApproved => "activity.approved",
            Self::ActivityRejected => "activity.rejected",
            Self::ConversationAnswered => "conversation.answered",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| Issue::not_one_of(raw, &Self::ALL.map(Event::as_str)))
    }
}

/// The occasions a business can word a message for. An event's occasion is the event's own
/// name; scheduled occasions have names of their own.
/// The channels a message goes out by.
pub const CHANNELS: &[&str] = &["email", "sms"];

pub const OCCASIONS: &[&str] = &[
    "member.created",
    "points.earned",
    "points.redeemed",
    "tier.changed",
    "birthday",
    "points.expiring",
    "membership.ending",
    "pass.ending",
    "activity.reminder",
    "activity.cancelled",
    "activity.offered",
    "activity.approved",
    "activity.rejected",
    "conversation.answered",
    "staff.password_reset",
    "staff.new_device",
    "webhook.disabled",
];

/// Occasions whose e-mails are marketing: they carry an unsubscribe link and are not sent
/// to members who turned marketing e-mail off.
pub const MARKETING_OCCASIONS: &[&str] = &[
    "birthday",
    "points.expiring",
    "membership.ending",
    "pass.ending",
];

/// Whether e-mails of `occasion` are marketing.
pub fn is_marketing(occasion: &str) -> bool {
    MARKETING_OCCASIONS.contains(&occasion)
}

/// The line every marketing text message ends with, in the language it is written in
/// (Chinese carriers expect `拒收请回复R`).
pub fn sms_opt_out(lang: crate::lang::Lang) -> &'static str {
    lang.pick("拒收请回复R", "Reply STOP to opt out")
}

/// A marketing text message's body: the worded text, then the opt-out line (unless the
/// business wrote it in already).
pub fn with_sms_opt_out(text: &str, lang: crate::lang::Lang) -> String {
    let line = sms_opt_out(lang);
    let text = text.trim_end();
    if text.contains(line) {
        text.to_owned()
    } else if lang == crate::lang::Lang::ZhCn {
        format!("{text}{line}")
    } else {
        format!("{text} {line}")
    }
}

/// What a member may reply to a marketing text to turn marketing texts off (case, spaces and
/// trailing punctuation ignored): `R` (as `拒收请回复R` asks), `TD`, `T`, `N`, `STOP`,
/// `UNSUBSCRIBE`, `退订`.
pub const SMS_OPT_OUT_REPLIES: &[&str] = &["R", "TD", "T", "N", "STOP", "UNSUBSCRIBE", "退订"];

/// Whether a member's reply to a text asks for no more marketing texts.
pub fn is_sms_opt_out(reply: &str) -> bool {
    let word = reply
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || "。！，".contains(c))
        .trim()
        .to_uppercase();
    SMS_OPT_OUT_REPLIES.contains(&word.as_str())
}

/// The signature the SMS gateway puts on a callback (a member's reply) sent at `timestamp`
/// (seconds since the epoch): `v1=` and the hex HMAC-SHA256, under the gateway's shared key,
/// of `<timestamp>.<body>`, as Patron signs what it posts to the gateway.
pub fn sms_callback_signature(key: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={hex}")
}

/// Checks a gateway callback: its timestamp within `tolerance` of now and its signature
/// (see [`sms_callback_signature`]) made with `key` over these exact bytes.
pub fn verify_sms_callback(
    key: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), String> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "X-Patron-Timestamp is not a number".to_owned())?;
    if now.timestamp().abs_diff(ts) > tolerance.num_seconds().unsigned_abs() {
        return Err("X-Patron-Timestamp is too far from now".into());
    }
    let expected = sms_callback_signature(key, ts, body);
    let (a, b) = (expected.as_bytes(), signature.trim().as_bytes());
    if a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 {
        Ok(())
    } else {
        Err("the signature does not match".into())
    }
}

/// Checks an occasion key.
pub fn parse_occasion(raw: &str) -> Result<String, Issue> {
    OCCASIONS
        .iter()
        .find(|o| **o == raw)
        .map(|o| (*o).to_owned())
        .ok_or_else(|| Issue::not_one_of(raw, OCCASIONS))
}

/// The channel a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        match raw {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            _ => Err(Issue::not_one_of(raw, CHANNELS)),
        }
    }
}

/// A language's stored code, for templates.
pub fn parse_locale(raw: &str) -> Result<Lang, Issue> {
    match raw {
        "zh-CN" => Ok(Lang::ZhCn),
        "en" => Ok(Lang::En),
        _ => Err(Issue::new(
            FieldCode::NotALocale,
            format!("\"{raw}\" is not a language; zh-CN or en"),
        )
        .with("value", raw)),
    }
}

/// A text with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// Longest template text, in characters.
pub const TEMPLATE_MAX: usize = 20_000;

impl Template {
    /// Checks the placeholders are closed and named with letters, digits, `_` and `.`.
    pub fn parse(raw: &str) -> Result<Self, Issue> {
        if raw.chars().count() > TEMPLATE_MAX {
            return Err(Issue::too_long(TEMPLATE_MAX));
        }
        let mut rest = raw;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                Issue::invalid_format("template", "a {{ is not closed by }}")
                    .with("reason", "unclosed")
            })?;
            let name = after[..end].trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(Issue::invalid_format(
                    "template",
                    format!("\"{{{{{}}}}}\" is not a variable name", &after[..end]),
                )
                .with("value", &after[..end]));
            }
            rest = &after[end + 2..];
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names of the variables it uses, in order, once each.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let name = after[..end].trim().to_owned();
            if !out.contains(&name) {
                out.push(name);
            }
            rest = &after[end + 2..];
        }
        out
    }

    /// Fills the placeholders from `vars` (a missing variable becomes empty). With `html`,
    /// values are escaped.
    pub fn render(&self, vars: &BTreeMap<String, String>, html: bool) -> String {
        let mut out = String::with_capacity(self.0.len());
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let value = vars
                .get(after[..end].trim())
                .map(String::as_str)
                .unwrap_or("");
            if html {
                out.push_str(&escape_html(value));
            } else {
                out.push_str(value);
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// `s` with the characters HTML gives a meaning to written as entities.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Flattens a JSON object into template variables: `{"member": {"name": "X"}}` gives
/// `member.name = X`. Numbers and booleans print as JSON does; `null` is left out.
pub fn variables_of(value: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Null => {}
            Value::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}

/// When the `attempt`-th delivery attempt (1-based) that failed is tried again: after 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 10 h (about 1.5 days in all), then never (`None`).
pub fn retry_after(attempt: i32) -> Option<Duration> {
    const SCHEDULE: [i64; 8] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000];
    usize::try_from(attempt - 1)
        .ok()
        .and_then(|i| SCHEDULE.get(i))
        .map(|s| Duration::seconds(*s))
}

/// An endpoint is switched off once it has failed without a success for this long.
pub fn disable_after() -> Duration {
    Duration::days(5)
}

/// Hours in the tenant's zone when marketing messages wait (start inclusive, end
/// exclusive; may wrap midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `None` when `at` is outside the quiet hours, else the first moment after them.
    pub fn wait_until(&self, zone: Zone, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = zone.local(at);
        let t = local.time();
        let quiet = if self.start <= self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !quiet {
            return None;
        }
        let mut day = local.date_naive();
        if t >= self.end && self.start > self.end {
            day = day.succ_opt()?;
        }
        let naive = day.and_time(self.end);
        let end = naive
            .and_local_timezone(zone.tz())
            .earliest()
            .map(|d| d.with_timezone(&Utc))?;
        Some(if end <= at {
            end + Duration::days(1)
        } else {
            end
        })
    }
}

/// A Standard Webhooks signing secret: `whsec_` and the base64 of the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A new random secret of 24 bytes.
    pub fn generate() -> Self {
        let mut key = vec![0u8; 24];
        rand::thread_rng().fill_bytes(&mut key);
        Self(key)
    }

    /// Reads `whsec_<base64>` (16 to 64 key bytes).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let b64 = raw
            .strip_prefix("whsec_")
            .ok_or_else(|| "a secret starts with whsec_".to_owned())?;
        let key = B64
            .decode(b64)
            .map_err(|_| "the part after whsec_ is not base64".to_owned())?;
        if !(16..=64).contains(&key.len()) {
            return Err("a secret holds 16 to 64 bytes".into());
        }
        Ok(Self(key))
    }

    /// The text form, `whsec_...`.
    pub fn expose(&self) -> String {
        format!("whsec_{}", B64.encode(&self.0))
    }

    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// The three headers of a Standard Webhooks call, signed with every secret given (the new
/// and the previous one while a rotation runs), signatures separated by spaces.
pub fn signed_headers(
    id: &str,
    at: DateTime<Utc>,
    body: &[u8],
    secrets: &[&Secret],
) -> Vec<(String, String)> {
    let ts = at.timestamp();
    let signature = secrets
        .iter()
        .map(|s| s.sign(id, ts, body))
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        ("webhook-id".into(), id.to_owned()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), signature),
    ]
}

/// Checks a Standard Webhooks call as a receiver would: any `v1` signature matching, the
/// timestamp within `tolerance` of `now`.
pub fn verify(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), String> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| "webhook-timestamp is not a number".to_owned())?;
    if now.timestamp().abs_diff(ts) > tolerance.num_seconds().unsigned_abs() {
        return Err("webhook-timestamp is too far from now".into());
    }
    let expected = secret.sign(id, ts, body);
    let expected = expected.as_bytes();
    if signatures.split(' ').any(|s| {
        let s = s.as_bytes();
        s.len() == expected.len() && s.iter().zip(expected).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
    }) {
        Ok(())
    } else {
        Err("no signature matches".into())
    }
}

/// Whether an address is one a webhook may be sent to: not loopback, private, link-local,
/// shared, documentation, multicast, unspecified or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// A webhook endpoint's URL: http(s), a host, no credentials. Unless `allow_private`, a
/// literal private address or `localhost` is refused (names are checked again when sent).
/// A web address refused for `reason` (a stable word the console names).
fn url_issue(reason: &str, problem: &str) -> Issue {
    Issue::invalid_format("url", problem).with("reason", reason)
}

pub fn parse_endpoint_url(raw: &str, allow_private: bool) -> Result<String, Issue> {
    let raw = raw.trim();
    if raw.len() > 2_000 {
        return Err(Issue::too_long(2000));
    }
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| url_issue("scheme", "must start with https:// or http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(url_issue("no_host", "has no host"));
    }
    if authority.contains('@') {
        return Err(url_issue(
            "credentials",
            "must not carry a user name or password",
        ));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(url_issue("spaces", "must not contain spaces"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() {
        return Err(url_issue("no_host", "has no host"));
    }
    if !allow_private {
        let lower = host.to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") || lower.ends_with(".local") {
            return Err(url_issue(
                "private_address",
                "must not point at a private address",
            ));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            if !is_public(ip) {
                return Err(url_issue(
                    "private_address",
                    "must not point at a private address",
                ));
            }
        }
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {

    #[test]
    fn marketing_text_messages_end_with_the_opt_out_line_once() {
        use crate::lang::Lang;
        assert_eq!(
            with_sms_opt_out("【星光】生日快乐！ ", Lang::ZhCn),
            "【星光】生日快乐！拒收请回复R"
        );
        assert_eq!(
            with_sms_opt_out("Happy birthday!", Lang::En),
            "Happy birthday! Reply STOP to opt out"
        );
        assert_eq!(
            with_sms_opt_out("生日快乐，拒收请回复R", Lang::ZhCn),
            "生日快乐，拒收请回复R"
        );
    }

    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn templates_fill_variables_and_escape_html() {
        let t = Template::parse("您好 {{ member.name }}，积分 {{points}}").unwrap();
        assert_eq!(t.variables(), ["member.name", "points"]);
        let vars = variables_of(&json!({"member": {"name": "<李>"}, "points": 120}));
        assert_eq!(t.render(&vars, false), "您好 <李>，积分 120");
        assert_eq!(t.render(&vars, true), "您好 &lt;李&gt;，积分 120");
        assert!(Template::parse("Hi {{name").is_err());
        assert!(Template::parse("Hi {{na me}}").is_err());
    }

    #[test]
    fn the_retry_schedule_grows_then_stops() {
        assert_eq!(retry_after(1), Some(Duration::seconds(5)));
        assert_eq!(retry_after(2), Some(Duration::minutes(5)));
        assert!(retry_after(8).is_some());
        assert_eq!(retry_after(9), None);
        assert_eq!(retry_after(0), None);
    }

    #[test]
    fn opt_out_replies_are_read_whatever_their_case_and_punctuation() {
        for yes in [
            "R",
            "r",
            " td ",
            "STOP",
            "stop!",
            "退订",
            "退订。",
            "Unsubscribe",
        ] {
            assert!(is_sms_opt_out(yes), "{yes}");
        }
        for no in ["", "RR", "谢谢", "stop it", "R 谢谢"] {
            assert!(!is_sms_opt_out(no), "{no}");
        }
    }

    #[test]
    fn sms_callbacks_verify_with_the_key_the_time_and_the_exact_body() {
        let now = Utc::now();
        let ts = now.timestamp();
        let body = br#"{"id":"1"}"#;
        let sig = sms_callback_signature("k", ts, body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        let five = Duration::minutes(5);
        assert!(verify_sms_callback("k", &ts.to_string(), &sig, body, now, five).is_ok());
        assert!(verify_sms_callback("other", &ts.to_string(), &sig, body, now, five).is_err());
        assert!(verify_sms_callback("k", &ts.to_string(), &sig, b"{}", now, five).is_err());
        let late = now + Duration::minutes(6);
        assert!(verify_sms_callback("k", &ts.to_string(), &sig, body, late, five).is_err());
        assert!(verify_sms_callback("k", "soon", &sig, body, now, five).is_err());
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks reference libraries.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let now = Utc.timestamp_opt(1614265330, 0).unwrap();
        let other = Secret::generate();
        let headers = signed_headers("msg_1", now, body, &[&other, &secret]);
        let sig = &headers[2].1;
        assert!(verify(
            &secret,
            "msg_1",
            "1614265330",
            sig,
            body,
            now,
            Duration::minutes(5)
        )
        .is_ok());
        assert!(verify(
            &other,
            "msg_1",
            "1614265330",
            sig,
            body,
            now,
            Duration::minutes(5)
        )
        .is_ok());
        let third = Secret::generate();
        assert!(verify(
            &third,
            "msg_1",
            "1614265330",
            sig,
            body,
            now,
            Duration::minutes(5)
        )
        .is_err());
        assert!(verify(
            &secret,
            "msg_1",
            "1614265330",
            sig,
            b"{}",
            now,
            Duration::minutes(5)
        )
        .is_err());
        assert_eq!(Secret::parse(&secret.expose()).unwrap(), secret);
    }

    #[test]
    fn private_addresses_are_refused() {
        for bad in [
            "http://127.0.0.1/x",
            "http://10.1.2.3/",
            "https://192.168.0.1:8443/",
            "http://169.254.169.254/latest",
            "http://[::1]:80/",
            "http://[fd00::1]/",
            "http://localhost:3000/",
            "http://100.64.0.1/",
            "ftp://example.com/",
            "http://user:pw@example.com/",
        ] {
            assert!(parse_endpoint_url(bad, false).is_err(), "{bad}");
        }
        assert!(parse_endpoint_url("https://hooks.example.com/patron", false).is_ok());
        assert!(parse_endpoint_url("http://127.0.0.1:9000/x", true).is_ok());
        assert!(is_public("8.8.8.8".parse().unwrap()));
        assert!(!is_public("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn quiet_hours_wait_in_the_tenants_zone() {
        let zone = Zone::parse("Asia/Shanghai").unwrap();
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        // 23:00 in Shanghai is 15:00 UTC: wait until 09:00 local, 01:00 UTC next day.
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 15, 0, 0).unwrap();
        assert_eq!(
            q.wait_until(zone, at),
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap())
        );
        // 02:00 local (18:00 UTC the day before): until 09:00 the same local day.
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 18, 0, 0).unwrap();
        assert_eq!(
            q.wait_until(zone, at),
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap())
        );
        // Noon local: not quiet.
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 4, 0, 0).unwrap();
        assert_eq!(q.wait_until(zone, at), None);
    }
}
