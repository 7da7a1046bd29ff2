//! Settings: defaults, then an optional TOML file (`PATRON_CONFIG`), then `PATRON_*`
//! environment variables. Unknown keys are refused; secrets never print.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Every setting, with its default. README.md lists them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// PostgreSQL URL (`PATRON_DATABASE_URL`).
    #[serde(serialize_with = "hide")]
    pub database_url: SecretString,
    /// Address to listen on (`PATRON_LISTEN`).
    pub listen: String,
    /// Largest number of database connections (`PATRON_DB_MAX_CONNECTIONS`).
    pub db_max_connections: u32,
    /// Whether a business's transaction takes another group's free connection when its home
    /// group's are all busy (`PATRON_DB_BORROW`).
    pub db_borrow: bool,
    /// Milliseconds a business's transaction waits for its home group's connections, all
    /// busy, before it borrows another group's (`PATRON_DB_BORROW_AFTER_MS`).
    pub db_borrow_after_ms: u64,
    /// Hours a staff login lasts (`PATRON_SESSION_TTL_HOURS`).
    pub session_ttl_hours: i64,
    /// Tenant schemas migrated at once by `patron migrate` (`PATRON_MIGRATE_CONCURRENCY`).
    pub migrate_concurrency: usize,
    /// Whether `serve` runs the background job runner (`PATRON_JOBS`).
    pub jobs: bool,
    /// Tenant schemas kept ready for signups (`PATRON_SPARE_SCHEMAS`); 0 turns it off
    /// (each signup then makes its schema).
    pub spare_schemas: u32,
    /// Log format: `json` or `pretty` (`PATRON_LOG_FORMAT`).
    pub log_format: String,
    /// Log filter, tracing-subscriber syntax (`PATRON_LOG`).
    pub log: String,
    /// Built console to serve at `/` (`PATRON_CONSOLE_DIR`).
    pub console_dir: PathBuf,
    /// Base64 of 32 random bytes sealing members' phones and e-mails (`PATRON_PII_KEY`).
    /// Required to serve; `scripts/run` makes a development key when unset.
    #[serde(serialize_with = "hide_opt")]
    pub pii_key: Option<SecretString>,
    /// Id stored beside values sealed with `pii_key`, for rotation (`PATRON_PII_KEY_ID`).
    pub pii_key_id: i16,
    /// Retired keys still read, as `id:base64,id:base64` (`PATRON_PII_RETIRED_KEYS`).
    #[serde(serialize_with = "hide_opt")]
    pub pii_retired_keys: Option<SecretString>,
    /// Base64 of 32 bytes for the blind index; derived from the first `pii_key` when unset.
    /// Must never change once data exists (`PATRON_PII_INDEX_KEY`).
    #[serde(serialize_with = "hide_opt")]
    pub pii_index_key: Option<SecretString>,
    /// Shared secret of the signed payment webhook, `/api/v1/billing/webhooks/signed`
    /// (`PATRON_PAYMENT_WEBHOOK_SECRET`); unset turns that webhook off.
    #[serde(serialize_with = "hide_opt")]
    pub payment_webhook_secret: Option<SecretString>,
    /// Rule sandbox worker processes (`PATRON_SANDBOX_WORKERS`).
    pub sandbox_workers: usize,
    /// Deadline of one rule evaluation, in milliseconds (`PATRON_SANDBOX_DEADLINE_MS`).
    pub sandbox_deadline_ms: u64,
    /// Memory limit of each sandbox worker, in MiB (`PATRON_SANDBOX_MEMORY_MB`).
    pub sandbox_memory_mb: u64,
    /// SMTP relay for e-mail, `smtp://host:port`, `smtp+starttls://user:pass@host:587` or
    /// `smtps://...` (`PATRON_SMTP_URL`); unset keeps e-mails waiting in the outbox.
    #[serde(serialize_with = "hide_opt")]
    pub smtp_url: Option<SecretString>,
    /// The sender of e-mails (`PATRON_SMTP_FROM`).
    pub smtp_from: String,
    /// Where text messages are posted, the SMS provider's HTTP gateway
    /// (`PATRON_SMS_GATEWAY_URL`); unset keeps them in the development `sms_outbox` table.
    pub sms_gateway_url: Option<String>,
    /// The gateway's shared key: `Authorization: Bearer` and the body's signature
    /// (`PATRON_SMS_GATEWAY_KEY`); required with the URL.
    #[serde(serialize_with = "hide_opt")]
    pub sms_gateway_key: Option<SecretString>,
    /// Our SMS template names to the provider's template ids, `code=SMS_123,birthday=SMS_456`
    /// (`PATRON_SMS_TEMPLATES`).
    pub sms_templates: String,
    /// Accept webhook endpoints on private addresses, for tests and development only
    /// (`PATRON_WEBHOOKS_ALLOW_PRIVATE`).
    pub webhooks_allow_private: bool,
    /// A proxy we trust terminates TLS in front of Patron: its `X-Forwarded-Proto` decides
    /// HSTS and its `X-Forwarded-For` the caller's address (`PATRON_TRUST_PROXY`).
    pub trust_proxy: bool,
    /// The S3-compatible store for uploaded files, `http(s)://host:port`
    /// (`PATRON_S3_ENDPOINT`); unset: uploads answer 503 `uploads_not_configured`.
    pub s3_endpoint: Option<String>,
    /// The bucket uploaded files go to (`PATRON_S3_BUCKET`).
    pub s3_bucket: String,
    /// The store's access key (`PATRON_S3_ACCESS_KEY`).
    pub s3_access_key: Option<String>,
    /// The store's secret key (`PATRON_S3_SECRET_KEY`).
    #[serde(serialize_with = "hide_opt")]
    pub s3_secret_key: Option<SecretString>,
    /// The store's region (`PATRON_S3_REGION`).
    pub s3_region: String,
    /// Where the console is served, for links in e-mails to staff (`PATRON_CONSOLE_URL`);
    /// unset: `http://` and the address listened on.
    pub console_url: Option<String>,
}

/// The settings' names, as read from `PATRON_<NAME>` variables.
pub const KEYS: &[&str] = &[
    "database_url",
    "listen",
    "db_max_connections",
    "db_borrow",
    "db_borrow_after_ms",
    "session_ttl_hours",
    "migrate_concurrency",
    "jobs",
    "spare_schemas",
    "log_format",
    "log",
    "console_dir",
    "pii_key",
    "pii_key_id",
    "pii_retired_keys",
    "pii_index_key",
    "payment_webhook_secret",
    "sandbox_workers",
    "sandbox_deadline_ms",
    "sandbox_memory_mb",
    "smtp_url",
    "smtp_from",
    "sms_gateway_url",
    "sms_gateway_key",
    "sms_templates",
    "webhooks_allow_private",
    "trust_proxy",
    "s3_endpoint",
    "s3_bucket",
    "s3_access_key",
    "s3_secret_key",
    "s3_region",
    "console_url",
];

fn hide_opt<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("<hidden>"),
        None => s.serialize_none(),
    }
}

fn hide<S: serde::Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<hidden>")
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: SecretString::from("postgres://postgres@127.0.0.1:5432/patron"),
            listen: "127.0.0.1:8080".into(),
            db_max_connections: 20,
            db_borrow: true,
            db_borrow_after_ms: patron_db::BORROW_AFTER.as_millis() as u64,
            session_ttl_hours: 12,
            migrate_concurrency: 8,
            jobs: true,
            spare_schemas: 2,
            log_format: "json".into(),
            log: "info,sqlx=warn".into(),
            console_dir: PathBuf::from("tenant-admin/dist"),
            pii_key: None,
            pii_key_id: 1,
            pii_retired_keys: None,
            pii_index_key: None,
            payment_webhook_secret: None,
            sandbox_workers: 2,
            sandbox_deadline_ms: 200,
            sandbox_memory_mb: 256,
            smtp_url: None,
            smtp_from: "Patron <no-reply@patron.localhost>".into(),
            sms_gateway_url: None,
            sms_gateway_key: None,
            sms_templates: String::new(),
            webhooks_allow_private: false,
            trust_proxy: false,
            s3_endpoint: None,
            s3_bucket: "patron".into(),
            s3_access_key: None,
            s3_secret_key: None,
            s3_region: "us-east-1".into(),
            console_url: None,
        }
    }
}

impl Settings {
    /// How to run the rule sandbox (the binary: `PATRON_SANDBOX_BIN`, else next to this
    /// executable).
    pub fn sandbox(&self) -> patron_rules::SandboxConfig {
        patron_rules::SandboxConfig {
            workers: self.sandbox_workers.clamp(1, 64),
            deadline: std::time::Duration::from_millis(self.sandbox_deadline_ms.clamp(10, 10_000)),
            max_memory_mb: self.sandbox_memory_mb.clamp(32, 16_384),
            ..patron_rules::SandboxConfig::default()
        }
    }

    /// Reads the settings; `PATRON_CONFIG` names an optional TOML file.
    pub fn load() -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Ok(path) = std::env::var("PATRON_CONFIG") {
            fig = fig.merge(Toml::file_exact(path));
        }
        // Only settings are read from the environment: other PATRON_* variables belong to
        // the scripts (PATRON_PG_DIR...) or to single commands (PATRON_OWNER_PASSWORD).
        let fig = fig.merge(Env::prefixed("PATRON_").only(KEYS));
        let settings: Settings = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        anyhow::ensure!(
            settings.db_max_connections >= 2,
            "configuration: db_max_connections must be at least 2"
        );
        anyhow::ensure!(
            settings.session_ttl_hours >= 1,
            "configuration: session_ttl_hours must be at least 1"
        );
        anyhow::ensure!(
            matches!(settings.log_format.as_str(), "json" | "pretty"),
            "configuration: log_format must be json or pretty"
        );
        Ok(settings)
    }

    /// The keys sealing members' personal data. A missing or malformed key is refused:
    /// the server never runs with personal data unprotected.
    pub fn pii_keys(&self) -> anyhow::Result<patron_core::pii::PiiKeys> {
        use patron_core::pii::{decode_key, PiiKeys};
        let current = self.pii_key.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "configuration: PATRON_PII_KEY is not set (base64 of 32 random bytes, e.g. \
                 `openssl rand -base64 32`); it encrypts members' phones and e-mails"
            )
        })?;
        let current = decode_key(current.expose_secret())
            .map_err(|e| anyhow::anyhow!("configuration: PATRON_PII_KEY {e}"))?;
        let mut retired = Vec::new();
        if let Some(list) = &self.pii_retired_keys {
            for item in list
                .expose_secret()
                .split(',')
                .filter(|s| !s.trim().is_empty())
            {
                let (id, key) = item.split_once(':').ok_or_else(|| {
                    anyhow::anyhow!("configuration: PATRON_PII_RETIRED_KEYS entries are id:base64")
                })?;
                let id: i16 = id.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "configuration: PATRON_PII_RETIRED_KEYS id {id:?} is not a number"
                    )
                })?;
                let key = decode_key(key).map_err(|e| {
                    anyhow::anyhow!("configuration: PATRON_PII_RETIRED_KEYS key {id} {e}")
                })?;
                retired.push((id, key));
            }
        }
        let index = match &self.pii_index_key {
            Some(k) => Some(
                decode_key(k.expose_secret())
                    .map_err(|e| anyhow::anyhow!("configuration: PATRON_PII_INDEX_KEY {e}"))?,
            ),
            None => None,
        };
        Ok(PiiKeys::new(self.pii_key_id, current, retired, index))
    }

    /// Where e-mail, text messages and webhooks go.
    pub fn messages(&self) -> anyhow::Result<crate::MessagesConfig> {
        let sms = match self
            .sms_gateway_url
            .clone()
            .filter(|u| !u.trim().is_empty())
        {
            Some(url) => {
                let key = self
                    .sms_gateway_key
                    .as_ref()
                    .map(|k| k.expose_secret().to_owned())
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "configuration: PATRON_SMS_GATEWAY_KEY is required with PATRON_SMS_GATEWAY_URL"
                        )
                    })?;
                let templates =
                    patron_outbound::SmsGatewayConfig::parse_templates(&self.sms_templates)
                        .map_err(|e| anyhow::anyhow!("configuration: PATRON_SMS_TEMPLATES: {e}"))?;
                Some(patron_outbound::SmsGatewayConfig {
                    url,
                    key,
                    templates,
                })
            }
            None => None,
        };
        Ok(crate::MessagesConfig {
            smtp: self.smtp_url.as_ref().map(|u| patron_outbound::SmtpConfig {
                url: u.expose_secret().to_owned(),
                from: self.smtp_from.clone(),
            }),
            sms,
            webhooks_allow_private: self.webhooks_allow_private,
        })
    }

    /// Where uploaded files go: `None` without `PATRON_S3_ENDPOINT`; the keys are required
    /// with it.
    pub fn storage(&self) -> anyhow::Result<Option<patron_storage::S3Config>> {
        let Some(endpoint) = self.s3_endpoint.clone().filter(|e| !e.trim().is_empty()) else {
            return Ok(None);
        };
        let (Some(access_key), Some(secret_key)) = (&self.s3_access_key, &self.s3_secret_key)
        else {
            anyhow::bail!(
                "configuration: PATRON_S3_ENDPOINT needs PATRON_S3_ACCESS_KEY and PATRON_S3_SECRET_KEY"
            );
        };
        Ok(Some(patron_storage::S3Config {
            endpoint,
            bucket: self.s3_bucket.clone(),
            access_key: access_key.clone(),
            secret_key: secret_key.expose_secret().to_owned(),
            region: self.s3_region.clone(),
        }))
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_can_come_from_the_environment() {
        let value = serde_json::to_value(Settings::default()).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(fields, keys);
    }

    #[test]
    fn a_config_file_with_an_unknown_key_is_refused() {
        let fig = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string("listen = \"0.0.0.0:9000\"\nlisen = \"typo\""));
        let err = fig.extract::<Settings>().unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn the_database_url_never_prints() {
        let s = Settings::default();
        assert!(!format!("{s:?}").contains("postgres://"));
        assert!(!serde_json::to_string(&s).unwrap().contains("postgres://"));
    }

    #[test]
    fn serving_needs_a_well_formed_pii_key() {
        let mut s = Settings::default();
        assert!(s.pii_keys().is_err());
        s.pii_key = Some(SecretString::from("c2hvcnQ="));
        assert!(s.pii_keys().is_err());
        s.pii_key = Some(SecretString::from(
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ));
        assert_eq!(s.pii_keys().unwrap().current_id(), 1);
        assert!(!format!("{s:?}").contains("AAAAAAAA"));
    }
}
