//! What start-up refuses: settings that contradict each other or cannot
//! work, each with a message naming the key.

use super::{ConfigError, SessionStoreKind, Settings};

impl Settings {
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
                (60..=86_400).contains(&session.reauth_window_secs),
                "session.reauth_window_secs must be between 60 and 86400",
            ),
            (
                session.cleanup_interval_secs > 0,
                "session.cleanup_interval_secs must be above 0",
            ),
            (
                (1..=3_650).contains(&self.security.activity_retention_days),
                "security.activity_retention_days must be between 1 and 3650",
            ),
            (
                session.store != SessionStoreKind::Redis
                    || session
                        .redis_url()
                        .is_some_and(|url| url.starts_with("redis://")),
                "session.store = \"redis\" needs SESSION_REDIS_URL = redis://host:port",
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
            (
                self.mail.smtp_url().is_none_or(|url| {
                    url.starts_with("smtp://") || url.starts_with("smtps://")
                }),
                "mail.smtp_url must be smtp://host:port or smtps://host:port",
            ),
            (
                self.mail.from.parse::<lettre::message::Mailbox>().is_ok(),
                "mail.from must be an address, such as Name <no-reply@example.com>",
            ),
            (
                (self.mail.site_url.starts_with("http://")
                    || self.mail.site_url.starts_with("https://"))
                    && !self.mail.site_url.contains(['?', '#', ' ']),
                "mail.site_url must be the site's address, such as https://example.com",
            ),
            (
                self.mail.poll_interval_secs > 0 && self.mail.give_up_after_hours > 0,
                "mail.poll_interval_secs and mail.give_up_after_hours must be above 0",
            ),
            (
                self.throttle.mail_per_address > 0
                    && self.throttle.mail_per_account > 0
                    && self.throttle.mail_per_recipient > 0
                    && self.throttle.mail_window_secs > 0,
                "throttle.mail_per_address, throttle.mail_per_account, throttle.mail_per_recipient and throttle.mail_window_secs must be above 0",
            ),
            (
                (5..=1_440).contains(&self.recovery.reset_link_minutes),
                "recovery.reset_link_minutes must be between 5 and 1440",
            ),
            (
                (1..=168).contains(&self.recovery.verify_link_hours)
                    && (1..=168).contains(&self.recovery.alert_link_hours),
                "recovery.verify_link_hours and recovery.alert_link_hours must be between 1 and 168",
            ),
            (
                self.throttle.passkey_challenges_per_address > 0
                    && self.throttle.passkey_challenge_window_secs > 0,
                "throttle.passkey_challenges_per_address and throttle.passkey_challenge_window_secs must be above 0",
            ),
            (
                (1..=100).contains(&self.webauthn.max_per_user),
                "webauthn.max_per_user must be between 1 and 100",
            ),
            (
                !self.webauthn.rp_name.trim().is_empty(),
                "webauthn.rp_name must not be empty",
            ),
        ];
        if let Some((_, message)) = rules.iter().find(|(ok, _)| !ok) {
            return Err(ConfigError::Invalid((*message).into()));
        }
        self.relying_party().map(|_| ())
    }
}
