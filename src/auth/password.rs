//! The password as it crosses the wire. Its `Debug` never shows the value, so a
//! server function's argument struct (which derives `Debug`) cannot leak it.
//! On the server it becomes a `secrecy::SecretString` at once (see `ssr::password`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Hands the value over exactly once, to be wrapped in a secret (server side).
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    pub(crate) fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", Password::new("hunter2-secret"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
