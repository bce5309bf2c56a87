//! Runtime settings, in layers (figment): the defaults (the `Default` impls
//! below, the one place they are written), then `Leptos.toml` (or the file
//! named by `APP_CONFIG`), then environment variables. Every key is listed in
//! the README, and its variable is derived from it by one rule:
//! `section.field` is `SECTION_FIELD` (`session.idle_timeout_secs` is
//! `SESSION_IDLE_TIMEOUT_SECS`). The names read before that rule still work,
//! with a warning naming the new one ([`RENAMED`]). Leptos's own options
//! (`LEPTOS_SITE_ADDR`, site root, …) are read by Leptos.

use super::{middleware::BodyLimits, serve::ConnectionLimits, store::redact_password};
use crate::auth::ssr::{
    tokens::jwt::{TokenAlgorithm, TokenKeys, TokenRules},
    HashingPolicy, Limit, PasswordParams, PasswordRules, SessionPolicy, ThrottleRules,
};
use figment::{
    providers::{Format, Serialized, Toml},
    Figment,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::{net::IpAddr, path::Path, str::FromStr, time::Duration};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub cookie: CookieSettings,
    pub password: PasswordSettings,
    pub throttle: ThrottleSettings,
    pub server: ServerSettings,
    pub tokens: TokenSettings,
}

/// Bearer tokens (`POST /api/token`, `GET /api/me`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// `HS256` (default) or `EdDSA`.
    pub algorithm: TokenAlgorithm,
    /// `kid=value` pairs (see `auth::ssr::tokens::jwt`): a secret, so best
    /// given in the environment (`TOKEN_KEYS`) from a secret store.
    pub keys: Option<SecretText>,
    /// The `kid` that signs new tokens; the first listed by default.
    pub signing_key: Option<String>,
    pub lifetime_secs: u64,
    pub issuer: String,
    pub audience: String,
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
            lifetime_secs: 86_400,
            issuer: "persistent-login".into(),
            audience: "persistent-login-api".into(),
        }
    }
}

/// A secret setting: never printed (`Debug` shows `[redacted]`).
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct SecretText(SecretString);

/// A secret never leaves in a serialised form either: the settings are
/// serialised only to list their keys.
impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl SecretText {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(SecretString::from(text))
    }
}

impl FromStr for SecretText {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text.to_string()))
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
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

impl FromStr for Environment {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            _ => Err(()),
        }
    }
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
}

/// Where session records live.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    /// The application's database (`DATABASE_URL`).
    #[default]
    Database,
    /// Redis (`REDIS_URL`).
    Redis,
}

impl FromStr for SessionStoreKind {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "database" => Ok(Self::Database),
            "redis" => Ok(Self::Redis),
            _ => Err(()),
        }
    }
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
    /// Open connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// `Strict-Transport-Security: max-age=…` on every answer; 0 sends none.
    /// Set it only where the site is served over HTTPS alone.
    pub hsts_max_age_secs: u64,
    /// `development` or `production` (`APP_ENV`).
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
            hsts_max_age_secs: 0,
            environment: Environment::Development,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A value that does not fit its key, naming the key and where it came
    /// from (the file, or the environment variable).
    #[error("invalid settings: {0}")]
    Layer(Box<figment::Error>),
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// Environment names read before the one rule, and the key each sets. Each
/// still works, with a warning that names its new variable; the new one wins
/// when both are set.
pub const RENAMED: &[(&str, &str)] = &[
    ("REDIS_URL", "session.redis_url"),
    ("SESSION_COOKIE_NAME", "cookie.name"),
    ("SESSION_COOKIE_SECURE", "cookie.secure"),
    ("ARGON2_MEMORY_KIB", "password.argon2_memory_kib"),
    ("ARGON2_ITERATIONS", "password.argon2_iterations"),
    ("ARGON2_PARALLELISM", "password.argon2_parallelism"),
    ("MAX_CONCURRENT_HASHES", "password.max_concurrent_hashes"),
    ("HASHING_NICE", "password.hashing_nice"),
    ("HASH_QUEUE_TIMEOUT_MS", "password.hash_queue_timeout_ms"),
    ("HASH_QUEUE_MAX", "password.hash_queue_max"),
    ("BODY_LIMIT_BYTES", "server.body_limit_bytes"),
    ("BODY_TIMEOUT_SECS", "server.body_timeout_secs"),
    ("HEADER_TIMEOUT_SECS", "server.header_timeout_secs"),
    ("MAX_CONNECTIONS", "server.max_connections"),
    ("HSTS_MAX_AGE_SECS", "server.hsts_max_age_secs"),
    ("APP_ENV", "server.environment"),
    ("TRUSTED_PROXIES", "server.trusted_proxies"),
    ("TOKEN_ALGORITHM", "tokens.algorithm"),
    ("TOKEN_KEYS", "tokens.keys"),
    ("TOKEN_SIGNING_KEY", "tokens.signing_key"),
    ("TOKEN_LIFETIME_SECS", "tokens.lifetime_secs"),
    ("TOKEN_ISSUER", "tokens.issuer"),
    ("TOKEN_AUDIENCE", "tokens.audience"),
];

/// The environment variable of a key: `session.idle_timeout_secs` →
/// `SESSION_IDLE_TIMEOUT_SECS`.
pub fn env_name(key: &str) -> String {
    key.replace('.', "_").to_ascii_uppercase()
}

impl Settings {
    /// Every key, `section.field`, as the structs below declare them.
    pub fn keys() -> Vec<String> {
        let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
        let mut keys = Vec::new();
        for (section, fields) in defaults.as_object().into_iter().flatten() {
            for field in fields
                .as_object()
                .into_iter()
                .flat_map(|fields| fields.keys())
            {
                keys.push(format!("{section}.{field}"));
            }
        }
        keys
    }

    /// Loads `APP_CONFIG` (default `Leptos.toml`; a missing default file is
    /// fine), then the environment, and checks the result.
    pub fn load() -> Result<Self, ConfigError> {
        let explicit = std::env::var("APP_CONFIG").ok();
        let path = explicit.clone().unwrap_or_else(|| "Leptos.toml".into());
        let file = if explicit.is_some() || Path::new(&path).exists() {
            Some(path)
        } else {
            None
        };
        let settings = Self::layered(file.as_deref(), None, |name| std::env::var(name).ok())?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn from_file(path: &str) -> Result<Self, ConfigError> {
        Self::layered(Some(path), None, |_| None)
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::layered(None, Some(text), |_| None)
    }

    /// The defaults, then the file at `path` (or the settings `text`), then
    /// the variables `var` finds, one per key.
    pub fn layered(
        path: Option<&str>,
        text: Option<&str>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            if !Path::new(path).exists() {
                return Err(ConfigError::Read {
                    path: path.into(),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        if let Some(text) = text {
            figment = figment.merge(Toml::string(text));
        }
        for (old, key) in RENAMED {
            if let Some(value) = var(old) {
                tracing::warn!("{old} is deprecated: set {} instead", env_name(key));
                figment = figment.merge(EnvVar::new(old, key, value));
            }
        }
        for key in Self::keys() {
            let name = env_name(&key);
            if let Some(value) = var(&name) {
                figment = figment.merge(EnvVar::new(&name, &key, value));
            }
        }
        figment
            .extract()
            .map_err(|error| ConfigError::Layer(Box::new(error)))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database.check_url()?;
        let session = &self.session;
        let rules = [
            (
                session.idle_timeout_secs > 0,
                "session.idle_timeout_secs must be above 0",
            ),
            (
                session.absolute_lifetime_secs >= session.idle_timeout_secs,
                "session.absolute_lifetime_secs must be at least session.idle_timeout_secs",
            ),
            (
                session.refresh_interval_secs <= session.idle_timeout_secs,
                "session.refresh_interval_secs must not exceed session.idle_timeout_secs",
            ),
            (
                session.cleanup_interval_secs > 0,
                "session.cleanup_interval_secs must be above 0",
            ),
            (
                session.store != SessionStoreKind::Redis
                    || session
                        .redis_url()
                        .is_some_and(|url| url.starts_with("redis://")),
                "session.store = \"redis\" needs REDIS_URL = redis://host:port",
            ),
            (
                !session.key_prefix.is_empty()
                    && session.key_prefix.len() <= 64
                    && !session.key_prefix.chars().any(char::is_whitespace),
                "session.key_prefix must be 1 to 64 characters, no spaces",
            ),
            (
                !self.cookie.name.is_empty()
                    && self
                        .cookie
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
                "cookie.name must be letters, digits, '-' or '_'",
            ),
            (
                !self.cookie.name.starts_with("__Host-") || self.cookie.secure,
                "a cookie.name starting with __Host- needs cookie.secure = true",
            ),
            (
                (1..=crate::auth::PASSWORD_MAX_CHARS).contains(&self.password.min_length),
                "password.min_length must be between 1 and 256",
            ),
            (
                (0..=19).contains(&self.password.hashing_nice),
                "password.hashing_nice must be between 0 and 19",
            ),
            (
                self.password.hash_queue_timeout_ms > 0,
                "password.hash_queue_timeout_ms must be above 0",
            ),
            (
                self.server.header_timeout_secs > 0
                    && self.server.body_timeout_secs > 0
                    && self.server.max_connections > 0,
                "server.header_timeout_secs, server.body_timeout_secs and server.max_connections must be above 0",
            ),
            (
                self.server.body_limit_bytes >= 1024,
                "server.body_limit_bytes must be at least 1024",
            ),
            (
                self.throttle.account_max_failures > 0
                    && self.throttle.address_max_failures > 0
                    && self.throttle.sign_ups_per_address > 0,
                "throttle limits must be above 0",
            ),
            (
                (60..=31_536_000).contains(&self.tokens.lifetime_secs),
                "tokens.lifetime_secs must be between 60 and 31536000 (a year)",
            ),
            (
                !self.tokens.issuer.is_empty() && !self.tokens.audience.is_empty(),
                "tokens.issuer and tokens.audience must not be empty",
            ),
            (
                self.throttle.base_delay_secs > 0
                    && self.throttle.max_delay_secs >= self.throttle.base_delay_secs,
                "throttle.max_delay_secs must be at least throttle.base_delay_secs, which must be above 0",
            ),
        ];
        match rules.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err(ConfigError::Invalid((*message).into())),
            None => Ok(()),
        }
    }

    /// The token keys and claims. A key that is configured must be valid in
    /// any environment; with none, production refuses to start and
    /// development signs with a random key that dies with the process (the
    /// server warns of it at start).
    pub fn token_rules(&self) -> Result<TokenRules, ConfigError> {
        let tokens = &self.tokens;
        let keys = match tokens.configured_keys() {
            Some(keys) => TokenKeys::parse(tokens.algorithm, keys, tokens.signing_key.as_deref())
                .map_err(|error| ConfigError::Invalid(error.to_string()))?,
            None if self.server.environment == Environment::Production => {
                return Err(ConfigError::Invalid(
                    "APP_ENV=production needs a token signing key of at least 32 bytes in \
                     TOKEN_KEYS (make one with `persistent-login tokens new-key`)"
                        .into(),
                ))
            }
            None => TokenKeys::ephemeral(tokens.algorithm),
        };
        Ok(TokenRules::new(
            keys,
            tokens.issuer.clone(),
            tokens.audience.clone(),
            i64::try_from(tokens.lifetime_secs).unwrap_or(i64::MAX),
        ))
    }

    pub fn session_policy(&self) -> SessionPolicy {
        let seconds =
            |value: u64| time::Duration::seconds(i64::try_from(value).unwrap_or(i64::MAX));
        SessionPolicy {
            idle_timeout: seconds(self.session.idle_timeout_secs),
            absolute_lifetime: seconds(self.session.absolute_lifetime_secs),
            refresh_interval: seconds(self.session.refresh_interval_secs),
        }
    }

    pub fn password_params(&self) -> PasswordParams {
        PasswordParams {
            memory_kib: self.password.argon2_memory_kib,
            iterations: self.password.argon2_iterations,
            parallelism: self.password.argon2_parallelism,
        }
    }

    pub fn password_rules(&self) -> PasswordRules {
        PasswordRules {
            min_chars: self.password.min_length,
        }
    }

    pub fn throttle_rules(&self) -> ThrottleRules {
        let secs = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let throttle = &self.throttle;
        let sign_in = |max_events| Limit {
            max_events,
            window_secs: secs(throttle.window_secs),
            base_delay_secs: secs(throttle.base_delay_secs),
            max_delay_secs: secs(throttle.max_delay_secs),
        };
        let sign_up_window = secs(throttle.sign_up_window_secs);
        ThrottleRules {
            sign_in_account: sign_in(throttle.account_max_failures),
            sign_in_address: sign_in(throttle.address_max_failures),
            sign_up_address: Limit {
                max_events: throttle.sign_ups_per_address,
                window_secs: sign_up_window,
                base_delay_secs: sign_up_window,
                max_delay_secs: sign_up_window,
            },
        }
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(self.server.header_timeout_secs),
            max_connections: self.server.max_connections,
        }
    }

    pub fn body_limits(&self) -> BodyLimits {
        BodyLimits {
            max_bytes: self.server.body_limit_bytes,
            timeout: Duration::from_secs(self.server.body_timeout_secs),
        }
    }

    /// Hashing threads: as configured, or by default one core fewer than
    /// the machine has (at least one), so a sign-in flood always leaves a
    /// core to serve pages; their priority and the queue before them.
    pub fn hashing_policy(&self) -> HashingPolicy {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashingPolicy {
            threads: default_hash_concurrency(self.password.max_concurrent_hashes, cores),
            nice: self.password.hashing_nice,
            queue_timeout: Duration::from_millis(self.password.hash_queue_timeout_ms),
            max_queued: self.password.hash_queue_max,
        }
    }
}

fn default_hash_concurrency(configured: usize, cores: usize) -> usize {
    match configured {
        0 => cores.saturating_sub(1).max(1),
        n => n,
    }
}

/// One environment variable as a layer of settings, named in errors.
struct EnvVar {
    name: String,
    key: String,
    value: String,
}

impl EnvVar {
    fn new(name: &str, key: &str, value: String) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
            value,
        }
    }
}

impl figment::Provider for EnvVar {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        // Read as figment reads the environment: numbers and booleans as
        // such, any other text as a string.
        let value: figment::value::Value = self.value.parse().expect("infallible");
        Serialized::global(&self.key, value).data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn hashing_leaves_a_core_for_pages_unless_configured() {
        assert_eq!(default_hash_concurrency(0, 1), 1);
        assert_eq!(default_hash_concurrency(0, 2), 1);
        assert_eq!(default_hash_concurrency(0, 8), 7);
        assert_eq!(default_hash_concurrency(3, 2), 3);
    }

    #[test]
    fn defaults_keep_a_remembered_user_for_one_day_within_thirty() {
        let settings = Settings::default();
        assert_eq!(settings.session.idle_timeout_secs, 86_400);
        assert_eq!(settings.session.absolute_lifetime_secs, 30 * 86_400);
        assert_eq!(settings.database.url, "sqlite://data/app.db");
        assert!(!settings.cookie.secure);
        settings.validate().unwrap();
    }

    #[test]
    fn the_shipped_leptos_toml_parses_and_equals_the_defaults() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
        assert_eq!(Settings::from_toml(&text).unwrap(), Settings::default());
    }

    #[test]
    fn every_key_has_its_variable_by_one_rule_and_the_old_names_still_work() {
        let keys = Settings::keys();
        assert!(keys.contains(&"server.header_timeout_secs".to_string()));
        assert_eq!(
            env_name("session.idle_timeout_secs"),
            "SESSION_IDLE_TIMEOUT_SECS"
        );
        for (_, key) in RENAMED {
            assert!(keys.contains(&key.to_string()), "{key}");
        }
        // Another program's variable that shares a prefix is not a setting.
        let settings = Settings::layered(None, None, |name| {
            (name == "SESSION_MANAGER").then(|| "local/host:@/tmp/.ICE-unix/1".to_string())
        })
        .unwrap();
        assert_eq!(settings, Settings::default());
        // The old name works; the new one wins over it.
        let old = Settings::layered(None, None, |name| {
            (name == "APP_ENV").then(|| "production".to_string())
        })
        .unwrap();
        assert_eq!(old.server.environment, Environment::Production);
        let both = Settings::layered(None, None, |name| match name {
            "APP_ENV" => Some("production".into()),
            "SERVER_ENVIRONMENT" => Some("development".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(both.server.environment, Environment::Development);
    }

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let settings = Settings::from_toml("[session]\nidle_timeout_secs = 60\n").unwrap();
        assert_eq!(settings.session.idle_timeout_secs, 60);
        assert_eq!(settings.session.absolute_lifetime_secs, 30 * 86_400);
        assert!(Settings::from_toml("[session]\nidle_timeout = 60\n").is_err());
    }

    #[test]
    fn environment_variables_override_the_file() {
        let env: HashMap<&str, &str> = [
            ("DATABASE_URL", "sqlite://elsewhere.db"),
            ("SESSION_IDLE_TIMEOUT_SECS", "5"),
            ("SESSION_COOKIE_SECURE", "true"),
            ("TRUSTED_PROXIES", "10.0.0.5, ::1"),
        ]
        .into();
        let settings =
            Settings::layered(None, None, |name| env.get(name).map(|v| v.to_string())).unwrap();
        assert_eq!(settings.database.url, "sqlite://elsewhere.db");
        assert_eq!(settings.session.idle_timeout_secs, 5);
        assert!(settings.cookie.secure);
        assert_eq!(
            settings.server.trusted_proxies,
            [
                "10.0.0.5".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(
            Settings::layered(None, None, |name| (name == "TRUSTED_PROXIES")
                .then(|| "10.0.0.5, proxy".to_string()))
            .is_err()
        );
    }

    #[test]
    fn sessions_go_to_redis_only_with_a_redis_url_which_is_never_printed() {
        let env: HashMap<&str, &str> = [
            ("SESSION_STORE", "redis"),
            ("REDIS_URL", "redis://:s3cret@cache.internal:6379/2"),
            ("SESSION_KEY_PREFIX", "app1:session:"),
        ]
        .into();
        let mut settings =
            Settings::layered(None, None, |name| env.get(name).map(|v| v.to_string())).unwrap();
        assert_eq!(settings.session.store, SessionStoreKind::Redis);
        assert_eq!(settings.session.key_prefix, "app1:session:");
        settings.validate().unwrap();
        assert!(!format!("{settings:?}").contains("s3cret"));

        settings.session.redis_url = None;
        let error = settings.validate().unwrap_err();
        assert!(error.to_string().contains("REDIS_URL"), "{error}");
        settings.session.redis_url = Some(SecretText::from("localhost:6379".to_string()));
        assert!(settings.validate().is_err());

        let mut settings = Settings::default();
        settings.session.key_prefix = "has space:".into();
        assert!(settings.validate().is_err());
        assert!(
            Settings::layered(None, None, |name| (name == "SESSION_STORE")
                .then(|| "memcached".to_string()))
            .is_err()
        );
    }

    #[test]
    fn a_malformed_environment_value_is_a_clear_error() {
        let error = Settings::layered(None, None, |name| {
            (name == "SESSION_IDLE_TIMEOUT_SECS").then(|| "soon".to_string())
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("SESSION_IDLE_TIMEOUT_SECS"),
            "{error}"
        );
    }

    #[test]
    fn inconsistent_lifetimes_are_refused() {
        let mut settings = Settings::default();
        settings.session.absolute_lifetime_secs = 10;
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.cookie.name = "__Host-session".into();
        assert!(settings.validate().is_err());
        settings.cookie.secure = true;
        settings.validate().unwrap();
    }

    #[test]
    fn a_database_url_this_build_cannot_serve_is_refused_without_showing_it() {
        let with_url = |url: &str| {
            let mut settings = Settings::default();
            settings.database.url = url.into();
            settings.validate()
        };
        assert!(with_url("sqlite://data/app.db").is_ok());
        assert!(with_url("sqlite::memory:").is_ok());
        assert!(with_url("postgres://app:s3cret@db.internal/app").is_ok());
        assert!(with_url("postgresql://db.internal/app").is_ok());
        let mysql = with_url("mysql://root:s3cret@localhost/app").unwrap_err();
        assert!(mysql.to_string().contains("\"mysql\""), "{mysql}");
        assert!(!mysql.to_string().contains("s3cret"), "{mysql}");
        assert!(with_url("data/app.db").is_err());
    }
}
