//! Runtime settings, in layers (figment): the defaults (the `Default` impls
//! below, the one place they are written), then `Leptos.toml` (or the file
//! named by `APP_CONFIG`), then environment variables. Every key is listed in
//! the README, and its variable is derived from it by one rule:
//! `section.field` is `SECTION_FIELD` (`session.idle_timeout_secs` is
//! `SESSION_IDLE_TIMEOUT_SECS`). The names read before that rule still work,
//! with a warning naming the new one ([`RENAMED`]). Leptos's own options
//! (`LEPTOS_SITE_ADDR`, site root, …) are read by Leptos.
//!
//! The rooms: `sections` (each section's keys and their defaults), `secret`
//! (a value never printed), `environment` (each key's variable, and the names
//! from before), `validate` (what start-up refuses) and `services` (what each
//! service is given of the settings).

mod environment;
mod secret;
mod sections;
mod services;
#[cfg(test)]
mod tests;
mod validate;

pub use environment::{env_name, RENAMED};
pub use secret::SecretText;
pub use sections::{
    CookieSettings, DatabaseSettings, Environment, MailSettings, PasswordSettings,
    RecoverySettings, SecuritySettings, ServerSettings, SessionSettings, SessionStoreKind,
    ThrottleSettings, TokenSettings, WebauthnSettings,
};

use environment::EnvVar;
use figment::{
    providers::{Format, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
    pub security: SecuritySettings,
    pub mail: MailSettings,
    pub recovery: RecoverySettings,
    pub webauthn: WebauthnSettings,
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
}
