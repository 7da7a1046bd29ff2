//! What leaves Patron: e-mail over SMTP through `lettre` ([`SmtpMailer`], the `Mailer`
//! port) and signed webhook calls through `reqwest` ([`HttpWebhooks`], the `WebhookSender`
//! port), and text messages through an HTTP SMS gateway ([`HttpSmsGateway`], the
//! `SmsGateway` port). The outbox (in `patron-app`) decides what to send and when; these only
//! carry it.

mod sms;
pub use sms::{sms_signature, HttpSmsGateway, SmsGatewayConfig};

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use patron_core::messages::is_public;
use patron_core::ports::{MailFailure, MailMessage, Mailer, WebhookCall, WebhookSender};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How to reach the SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain, for a local relay or a test server), `smtp+starttls://...`
    /// or `smtps://...`; user and password may sit in the URL's authority.
    pub url: String,
    /// The sender, `Name <address>` or an address.
    pub from: String,
}

/// Sends e-mail through one SMTP relay.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("the sender {:?} is not an address: {e}", config.from))?;
        let url = &config.url;
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "the SMTP URL needs a scheme (smtp://, smtps://)".to_owned())?;
        let (auth, host_port) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let host_port = host_port.trim_end_matches('/');
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("the SMTP port {p:?} is not a number"))?,
                ),
            ),
            None => (host_port, None),
        };
        let mut builder = match scheme {
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| e.to_string())?,
            "smtps" => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
            }
            other => return Err(format!("unknown SMTP scheme {other:?}")),
        };
        if let Some(port) = port {
            builder = builder.port(port);
        }
        if let Some(auth) = auth {
            let (user, pass) = auth.split_once(':').unwrap_or((auth, ""));
            builder = builder.credentials(Credentials::new(user.to_owned(), pass.to_owned()));
        }
        Ok(Self {
            transport: builder.timeout(Some(Duration::from_secs(20))).build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, m: &MailMessage) -> Result<(), MailFailure> {
        let to: Mailbox = m.to.parse().map_err(|e| MailFailure {
            permanent: true,
            reason: format!("the recipient is not an address: {e}"),
        })?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone());
        let email = match &m.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.text.clone()),
            ),
        }
        .map_err(|e| MailFailure::temporary(format!("the e-mail cannot be built: {e}")))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| MailFailure {
                // A 5xx answer (at RCPT or DATA): the server will never take it.
                permanent: e.is_permanent(),
                reason: format!("SMTP: {e}"),
            })
    }
}

/// Resolves names for webhook calls, refusing private addresses (unless allowed): checked
/// at every connection, so a name that later points inside is still refused.
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends webhook calls over HTTP(S): no redirects followed, a 15 s deadline, private
/// addresses refused unless `allow_private`.
pub struct HttpWebhooks {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpWebhooks {
    pub fn new(allow_private: bool) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent("Patron-Webhooks/1")
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            allow_private,
        })
    }
}

#[async_trait]
impl WebhookSender for HttpWebhooks {
    async fn send(&self, call: &WebhookCall) -> Result<u16, String> {
        let url = reqwest::Url::parse(&call.url).map_err(|e| format!("bad URL: {e}"))?;
        // Literal addresses do not go through the resolver.
        if let Some(host) = url.host_str() {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                if !self.allow_private && !is_public(ip) {
                    return Err(format!("{ip} is a private address"));
                }
            }
        }
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json");
        for (k, v) in &call.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req
            .body(call.body.clone())
            .send()
            .await
            .map_err(|e| format!("{e}"))?;
        Ok(resp.status().as_u16())
    }
}
