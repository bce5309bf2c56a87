//! What each service is given of the settings: the session policy, the
//! password and throttle rules, the token keys, the HTTP limits.

use super::{ConfigError, Environment, Settings};
use crate::{
    auth::ssr::{
        activity::ActivityRules,
        mailbox::MailRules,
        passkeys::{ceremony_cookie, RelyingParty},
        tokens::jwt::{TokenKeys, TokenRules},
        HashingPolicy, Limit, PasswordParams, PasswordRules, SessionPolicy, ThrottleRules,
    },
    server::{
        http::{body_limit::BodyLimits, rotation::RotationRules},
        serve::ConnectionLimits,
    },
};
use std::time::Duration;

impl Settings {
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
                    "SERVER_ENVIRONMENT=production needs a token signing key of at least 32 bytes in \
                     TOKENS_KEYS (formerly TOKEN_KEYS; make one with `persistent-login tokens new-key`)"
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
        )
        .with_max_outstanding(tokens.max_outstanding))
    }

    /// How the links in messages are made.
    pub fn mail_rules(&self) -> MailRules {
        let secs = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let recovery = &self.recovery;
        MailRules {
            site_url: self.mail.site_url.trim_end_matches('/').to_string(),
            verify_link_secs: secs(recovery.verify_link_hours).saturating_mul(3_600),
            reset_link_secs: secs(recovery.reset_link_minutes).saturating_mul(60),
            alert_link_secs: secs(recovery.alert_link_hours).saturating_mul(3_600),
        }
    }

    /// The passkeys' relying party (#25); a setting it cannot work with is
    /// named.
    pub fn relying_party(&self) -> Result<RelyingParty, ConfigError> {
        let webauthn = &self.webauthn;
        RelyingParty::new(
            &webauthn.rp_id,
            &webauthn.origin_list(),
            &webauthn.rp_name,
            webauthn.max_per_user,
            ceremony_cookie(&self.cookie.name, self.cookie.secure),
        )
        .map_err(ConfigError::Invalid)
    }

    /// How long the security activity is kept.
    pub fn activity_rules(&self) -> ActivityRules {
        ActivityRules {
            retention_days: self.security.activity_retention_days,
        }
    }

    pub fn session_policy(&self) -> SessionPolicy {
        let seconds =
            |value: u64| time::Duration::seconds(i64::try_from(value).unwrap_or(i64::MAX));
        SessionPolicy {
            idle_timeout: seconds(self.session.idle_timeout_secs),
            absolute_lifetime: seconds(self.session.absolute_lifetime_secs),
            refresh_interval: seconds(self.session.refresh_interval_secs),
            reauth_window: seconds(self.session.reauth_window_secs),
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
        // At most `max_events` in a window, then a wait of one window.
        let per_window = |max_events, window| {
            let window = secs(window);
            Limit {
                max_events,
                window_secs: window,
                base_delay_secs: window,
                max_delay_secs: window,
            }
        };
        ThrottleRules {
            sign_in_account: sign_in(throttle.account_max_failures),
            sign_in_address: sign_in(throttle.address_max_failures),
            sign_up_address: per_window(
                throttle.sign_ups_per_address,
                throttle.sign_up_window_secs,
            ),
            mail_address: per_window(throttle.mail_per_address, throttle.mail_window_secs),
            mail_account: per_window(throttle.mail_per_account, throttle.mail_window_secs),
            mail_recipient: per_window(throttle.mail_per_recipient, throttle.mail_window_secs),
            passkey_challenge_address: per_window(
                throttle.passkey_challenges_per_address,
                throttle.passkey_challenge_window_secs,
            ),
        }
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(self.server.header_timeout_secs),
            max_connections: self.server.max_connections,
            max_connections_per_address: self.server.max_connections_per_address,
            exempt: self.server.trusted_proxies.clone().into(),
        }
    }

    /// When session ids are replaced, how long a replaced one leads on, and
    /// how long it is kept at most (a session's absolute lifetime).
    pub fn rotation_rules(&self) -> RotationRules {
        let seconds = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        RotationRules {
            interval_secs: seconds(self.session.rotation_interval_secs),
            grace_secs: seconds(self.session.rotation_grace_secs),
            keep_retired_secs: seconds(self.session.absolute_lifetime_secs),
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

pub(super) fn default_hash_concurrency(configured: usize, cores: usize) -> usize {
    match configured {
        0 => cores.saturating_sub(1).max(1),
        n => n,
    }
}
