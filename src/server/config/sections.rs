//! The sections of the settings, each key with its default: the one place
//! the defaults are written.

use super::{ConfigError, SecretText};
use crate::{
    auth::ssr::{tokens::jwt::TokenAlgorithm, PasswordParams},
    server::store::redact_password,
};
use serde::{Deserialize, Serialize};
use std::{net::IpAddr, str::FromStr};

/// What the account's owner sees of its security (#23).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// How many days the security activity page keeps each event.
    pub activity_retention_days: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            activity_retention_days: 90,
        }
    }
}

/// Mail (#24): where messages go, and the site their links lead to.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// The mail server: `smtp://host:25`, `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465`. It may hold a
    /// password, so it is never printed whole. Unset (the default): each
    /// message is written as a `.eml` file in `dir`, for development.
    pub smtp_url: Option<SecretText>,
    /// The sender of every message (`Name <address>`).
    pub from: String,
    /// Where messages are written when there is no `smtp_url`.
    pub dir: String,
    /// The site's public address (scheme, host, port), which the links in
    /// messages lead to; never taken from a request's `Host` header.
    pub site_url: String,
    /// How often the sender looks for messages queued by other instances
    /// (this instance's own wake it at once).
    pub poll_interval_secs: u64,
    /// How long a message the mail server keeps refusing is tried again
    /// (later each time, up to every 15 minutes) before it is dropped.
    pub give_up_after_hours: u64,
}

impl MailSettings {
    /// The SMTP URL, if one is set (a blank value counts as none).
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url
            .as_ref()
            .map(SecretText::expose)
            .filter(|url| !url.trim().is_empty())
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Persistent Login <no-reply@localhost>".into(),
            dir: "data/mail".into(),
            site_url: "http://127.0.0.1:3000".into(),
            poll_interval_secs: 5,
            give_up_after_hours: 72,
        }
    }
}

/// The links sent by mail (#24): how long each works.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RecoverySettings {
    /// A password reset link.
    pub reset_link_minutes: u64,
    /// A link that proves an email address.
    pub verify_link_hours: u64,
    /// The "This wasn't me" link of a new-device alert.
    pub alert_link_hours: u64,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            reset_link_minutes: 30,
            verify_link_hours: 24,
            alert_link_hours: 24,
        }
    }
}

/// Passkeys (#25): the relying party every WebAuthn ceremony is checked
/// against.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnSettings {
    /// The relying party id: the site's domain, or a parent domain of it
    /// (`example.com` for `https://login.example.com`). Every passkey is bound
    /// to it: changing it later leaves the passkeys made before unusable.
    pub rp_id: String,
    /// The origins (scheme, host, port) a ceremony may come from,
    /// comma-separated; each must be on `rp_id` and use HTTPS, except on
    /// `localhost`.
    pub origins: String,
    /// The site's name, as the browser's passkey prompt shows it.
    pub rp_name: String,
    /// Passkeys one account may have.
    pub max_per_user: usize,
}

impl WebauthnSettings {
    /// The origins, trimmed, without empty entries.
    pub fn origin_list(&self) -> Vec<&str> {
        self.origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .collect()
    }
}

impl Default for WebauthnSettings {
    fn default() -> Self {
        Self {
            rp_id: "localhost".into(),
            origins: "http://localhost:3000".into(),
            rp_name: "Persistent Login".into(),
            max_per_user: 10,
        }
    }
}

/// Bearer tokens (`POST /api/token`, `GET /api/me`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// `HS256` (default) or `EdDSA`.
    pub algorithm: TokenAlgorithm,
    /// `kid=value` pairs (see `auth::ssr::tokens::jwt`): a secret, so best
    /// given in the environment (`TOKENS_KEYS`) from a secret store.
    pub keys: Option<SecretText>,
    /// The `kid` that signs new tokens; the first listed by default.
    pub signing_key: Option<String>,
    pub lifetime_secs: u64,
    pub issuer: String,
    pub audience: String,
    /// Tokens one user may hold at once (not expired, not revoked); past
    /// it, `POST /api/token` answers 429 until one expires or the user
    /// revokes them. 0: no limit.
    pub max_outstanding: usize,
}

impl TokenSettings {
    /// The keys given, if any (a blank value counts as none).
    pub fn configured_keys(&self) -> Option<&str> {
        self.keys
            .as_ref()
            .map(SecretText::expose)
            .filter(|keys| !keys.trim().is_empty())
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            algorithm: TokenAlgorithm::Hs256,
            keys: None,
            signing_key: None,
            lifetime_secs: crate::auth::TOKEN_LIFETIME_SECS_DEFAULT.unsigned_abs(),
            issuer: "persistent-login".into(),
            audience: "persistent-login-api".into(),
            max_outstanding: 20,
        }
    }
}

/// Where the app runs: `production` refuses to start without what a public
/// deployment needs (a token signing key); `development` (the default)
/// makes up for it, with a warning.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    /// Failed sign-ins for one account before it is throttled.
    pub account_max_failures: u32,
    /// Failed sign-ins from one client address before it is throttled.
    pub address_max_failures: u32,
    /// Quiet time after which failure counts start again.
    pub window_secs: u64,
    /// First throttling delay; it doubles with each further failure.
    pub base_delay_secs: u64,
    pub max_delay_secs: u64,
    /// Sign-ups allowed from one client address per `sign_up_window_secs`.
    pub sign_ups_per_address: u32,
    pub sign_up_window_secs: u64,
    /// Messages with a link (verification, password reset) that one client
    /// address may ask for per `mail_window_secs`.
    pub mail_per_address: u32,
    /// Such messages one account (or one name asked for, known or not) may
    /// be sent per `mail_window_secs`.
    pub mail_per_account: u32,
    /// Such messages one recipient address may be sent per
    /// `mail_window_secs`, whoever asks for them and from wherever.
    pub mail_per_recipient: u32,
    pub mail_window_secs: u64,
    /// Passkey sign-ins one client address may begin per
    /// `passkey_challenge_window_secs` (each stores a challenge; a sign-in
    /// page with JavaScript begins one as it loads).
    pub passkey_challenges_per_address: u32,
    pub passkey_challenge_window_secs: u64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            account_max_failures: 5,
            address_max_failures: 20,
            window_secs: 900,
            base_delay_secs: 30,
            max_delay_secs: 900,
            sign_ups_per_address: 10,
            sign_up_window_secs: 3600,
            mail_per_address: 10,
            mail_per_account: 3,
            mail_per_recipient: 5,
            mail_window_secs: 3600,
            passkey_challenges_per_address: 60,
            passkey_challenge_window_secs: 300,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// SQLite URL (`sqlite://…`); the file and its folder are created on
    /// first start. Any other scheme is refused at start.
    pub url: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    pub idle_timeout_secs: u64,
    pub absolute_lifetime_secs: u64,
    pub refresh_interval_secs: u64,
    pub cleanup_interval_secs: u64,
    /// Where session records live: `database` (the default) or `redis`.
    pub store: SessionStoreKind,
    /// The Redis server for `store = "redis"` (`redis://[:password@]host:port[/db]`);
    /// it may hold a password, so it is never printed whole.
    pub redis_url: Option<SecretText>,
    /// Prepended to every Redis key this app writes.
    pub key_prefix: String,
    /// Live signed-in sessions one user may have; a sign-in past it ends the
    /// least recently active one. 0: no limit.
    pub max_per_user: usize,
    /// A signed-in session's id is replaced by the first request this long
    /// after it was issued. 0: never.
    pub rotation_interval_secs: u64,
    /// How long a replaced id still leads to its successor (tabs and
    /// requests in flight across a rotation).
    pub rotation_grace_secs: u64,
    /// How long a password entered (at sign-in or on `/confirm`) allows the
    /// sensitive actions (API tokens, signing out everywhere else); each
    /// such action renews it.
    pub reauth_window_secs: u64,
}

/// Where session records live.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    /// The application's database (`DATABASE_URL`).
    #[default]
    Database,
    /// Redis (`SESSION_REDIS_URL`).
    Redis,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CookieSettings {
    pub name: String,
    /// Set for HTTPS deployments: adds `Secure` to the session cookie.
    pub secure: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    pub min_length: usize,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Hashes allowed at once; 0 means one fewer than the CPU cores (at least one).
    pub max_concurrent_hashes: usize,
    /// The hashing threads' nice value, 0 to 19; a starved hash is raised to 0.
    pub hashing_nice: i32,
    /// How long a sign-in may wait for a hashing thread before it gets 503.
    pub hash_queue_timeout_ms: u64,
    /// How many sign-ins may wait for a hashing thread at once; more get 503.
    pub hash_queue_max: usize,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Request bodies over this many bytes are answered 413 before parsing.
    pub body_limit_bytes: usize,
    /// A client gets this long to send a request's headers (and an idle
    /// keep-alive connection is closed after it).
    pub header_timeout_secs: u64,
    /// A client gets this long to send a request's body; then 408.
    pub body_timeout_secs: u64,
    /// Open connections at most. When all are taken, the one that has sent
    /// the least (idle first, then half-sent) is closed to make room; only
    /// when every one is answering a request do new ones wait.
    pub max_connections: usize,
    /// Open connections one client address (an IPv6 client's /64) may hold;
    /// one more is answered 429 and closed. The trusted proxies are exempt.
    /// 0: no share.
    pub max_connections_per_address: usize,
    /// `Strict-Transport-Security: max-age=…` on every answer; 0 sends none.
    /// Set it only where the site is served over HTTPS alone.
    pub hsts_max_age_secs: u64,
    /// `development` or `production` (`SERVER_ENVIRONMENT`).
    pub environment: Environment,
    /// Reverse proxies (nginx, a load balancer) whose `X-Forwarded-For` is
    /// believed: a request from one of these addresses is taken to come from
    /// the address the proxies recorded. Empty (the default): the header is
    /// ignored, since any client can send it.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<IpAddr>,
}

/// A list, given as one (`["10.0.0.5"]` in the file) or as comma-separated
/// text (`10.0.0.5, ::1` in the environment).
fn list_or_comma_separated<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr + Deserialize<'de>,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given<T> {
        List(Vec<T>),
        Text(String),
    }
    match Given::<T>::deserialize(deserializer)? {
        Given::List(list) => Ok(list),
        Given::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse().map_err(serde::de::Error::custom))
            .collect(),
    }
}

impl SessionSettings {
    /// The Redis URL, if one is set (a blank value counts as none).
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url
            .as_ref()
            .map(SecretText::expose)
            .filter(|url| !url.trim().is_empty())
    }
}

impl DatabaseSettings {
    /// Refuses a URL this build cannot serve, naming only its scheme (a
    /// server URL may hold a password). Without this, SQLite's driver took
    /// `postgres://host/db` for a file path and made a folder `postgres:`.
    pub fn check_url(&self) -> Result<(), ConfigError> {
        let scheme = self
            .url
            .split_once(':')
            .map_or("", |(scheme, _)| scheme)
            .to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" | "postgres" | "postgresql" => Ok(()),
            "" => Err(ConfigError::Invalid(
                "DATABASE_URL must be a URL such as sqlite://data/app.db or postgres://host/db"
                    .into(),
            )),
            other => Err(ConfigError::Invalid(format!(
                "DATABASE_URL: the scheme {other:?} is not supported; use sqlite:// or postgres://"
            ))),
        }
    }

    /// The URL with any password replaced by `***`: what logs and errors show.
    pub fn redacted_url(&self) -> String {
        redact_password(&self.url)
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/app.db".into(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 86_400,
            absolute_lifetime_secs: 30 * 86_400,
            refresh_interval_secs: 60,
            cleanup_interval_secs: 600,
            store: SessionStoreKind::Database,
            redis_url: None,
            key_prefix: "session:".into(),
            max_per_user: 50,
            rotation_interval_secs: 600,
            rotation_grace_secs: 60,
            reauth_window_secs: 900,
        }
    }
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self {
            name: "session".into(),
            secure: false,
        }
    }
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let argon2 = PasswordParams::default();
        Self {
            min_length: crate::auth::PASSWORD_MIN_CHARS_DEFAULT,
            argon2_memory_kib: argon2.memory_kib,
            argon2_iterations: argon2.iterations,
            argon2_parallelism: argon2.parallelism,
            max_concurrent_hashes: 0,
            hashing_nice: 19,
            hash_queue_timeout_ms: 3_000,
            hash_queue_max: 64,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 16 * 1024,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            max_connections: 1024,
            max_connections_per_address: 64,
            hsts_max_age_secs: 0,
            environment: Environment::Development,
            trusted_proxies: Vec::new(),
        }
    }
}
