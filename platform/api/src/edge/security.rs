//! Security headers on every answer (console, portal, API), and the caller's address.
//!
//! The console and the portal are built files only (Vite emits module scripts, no inline
//! script), so scripts come from our own origin alone, and may not build code from strings
//! (no `'unsafe-eval'`: the console's field validator interprets schemas). Styles allow `'unsafe-inline'`
//! because Ant Design writes its CSS-in-JS into `<style>` elements at run time. Images may
//! come from any https address (a business's logo on its portal) and `data:`. HSTS is sent
//! only when the request reached us over TLS, which behind a proxy is known only from a
//! proxy we trust (`ApiConfig::trust_proxy`).

use poem::http::header::{self, HeaderValue};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

/// The policy for everything but the API's interactive documentation: scripts from our own
/// origin only, no inline script, no `eval` or `new Function`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; font-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

/// [`CONTENT_SECURITY_POLICY`], letting the console send uploads to and show pictures from
/// the object store at `store_origin` (`scheme://host:port`) when there is one.
pub fn policy(store_origin: Option<&str>) -> HeaderValue {
    let text = match store_origin {
        Some(o) => CONTENT_SECURITY_POLICY
            .replace("img-src 'self'", &format!("img-src 'self' {o}"))
            .replace("connect-src 'self'", &format!("connect-src 'self' {o}")),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    };
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static(CONTENT_SECURITY_POLICY))
}

/// Swagger UI (`/api/docs`) starts itself with an inline script.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether the request came over TLS: the connection itself, or `X-Forwarded-Proto: https`
/// from a proxy we trust.
pub fn over_tls(req: &Request, trust_proxy: bool) -> bool {
    if req.uri().scheme_str() == Some("https") {
        return true;
    }
    trust_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The caller's address: the first `X-Forwarded-For` entry when the proxy is trusted,
/// otherwise the connection's peer.
pub fn client_ip(req: &Request, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
        {
            return Some(first.to_owned());
        }
    }
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_canonical().to_string())
}

/// Adds the security headers to whatever `ep` answers.
pub async fn headers<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    trust_proxy: bool,
    policy: HeaderValue,
) -> poem::Result<Response> {
    let tls = over_tls(&req, trust_proxy);
    let docs = req.uri().path() == "/api/docs";
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        if docs {
            HeaderValue::from_static(DOCS_POLICY)
        } else {
            policy
        },
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(resp)
}

/// Views of two-factor state, shared by the staff and the operator API.
pub mod views {
    use chrono::{DateTime, Utc};
    use patron_app::security::{Enrolment, Status};
    use poem_openapi::Object;

    /// A two-factor enrolment: the secret and its `otpauth://` URI, shown this once.
    #[derive(Debug, Object)]
    pub struct TwoFactorEnrolment {
        /// Base32, to type into an authenticator app.
        pub secret: String,
        /// `otpauth://totp/...`, to show as a QR code.
        pub otpauth_uri: String,
    }

    impl From<Enrolment> for TwoFactorEnrolment {
        fn from(e: Enrolment) -> Self {
            Self {
                secret: e.secret,
                otpauth_uri: e.otpauth_uri,
            }
        }
    }

    /// A code from the authenticator app.
    #[derive(Debug, Object)]
    #[oai(deny_unknown_fields)]
    pub struct TwoFactorCode {
        /// Six digits.
        #[oai(validator(max_length = 40))]
        pub code: String,
    }

    /// Turning two-factor off takes the password and a code (or a recovery code).
    #[derive(Debug, Object)]
    #[oai(deny_unknown_fields)]
    pub struct TwoFactorOff {
        #[oai(validator(max_length = 1000))]
        pub password: String,
        #[oai(validator(max_length = 40))]
        pub code: String,
    }

    /// New recovery codes take the password and a current code from the authenticator app
    /// (not a recovery code).
    #[derive(Debug, Object)]
    #[oai(deny_unknown_fields)]
    pub struct RecoveryCodesRenewal {
        #[oai(validator(max_length = 1000))]
        pub password: String,
        /// Six digits from the authenticator app.
        #[oai(validator(max_length = 40))]
        pub code: String,
    }

    /// The ten recovery codes, shown this once; each works once instead of a code.
    #[derive(Debug, Object)]
    pub struct RecoveryCodes {
        pub recovery_codes: Vec<String>,
    }

    /// Whether two-factor is on.
    #[derive(Debug, Object)]
    pub struct TwoFactorStatus {
        pub enabled: bool,
        #[oai(skip_serializing_if_is_none)]
        pub enabled_at: Option<DateTime<Utc>>,
        /// Unused recovery codes.
        pub recovery_codes_left: i64,
    }

    impl From<Status> for TwoFactorStatus {
        fn from(s: Status) -> Self {
            Self {
                enabled: s.enabled,
                enabled_at: s.enabled_at,
                recovery_codes_left: s.recovery_codes_left,
            }
        }
    }
}
