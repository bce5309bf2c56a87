//! The environment layer: each key's variable by one rule, and the names
//! read before that rule.

use figment::providers::Serialized;

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
    (
        "MAX_CONNECTIONS_PER_ADDRESS",
        "server.max_connections_per_address",
    ),
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

/// One environment variable as a layer of settings, named in errors.
pub(super) struct EnvVar {
    name: String,
    key: String,
    value: String,
}

impl EnvVar {
    pub(super) fn new(name: &str, key: &str, value: String) -> Self {
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
