//! A secret setting (a token key, a Redis URL with its password).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

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
