//! Random tokens: device cookies, passkey sign-in ceremonies, the public
//! handles of sessions, the ids of bearer tokens and development-only signing
//! keys; and the cookie that carries one (or a followed mail link's) to the
//! browser and back.

use crate::{cookies, digest::hex};
use axum::http::HeaderMap;
use rand_core::{OsRng, RngCore};

/// A new random token: 128 bits from the OS, as 32 hex digits.
pub fn token() -> String {
    hex(&bytes::<16>())
}

/// `N` random bytes from the OS.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Whether `text` has the shape of a `token`.
pub fn is_token(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A cookie that carries a `token` for `lifetime_secs`, named beside the
/// session cookie (`__Host-{base}` beside a `__Host-` session cookie, else
/// `{base}`): the device cookie, a passkey sign-in's.
#[derive(Clone, Debug)]
pub struct TokenCookie {
    pub name: String,
    secure: bool,
    lifetime_secs: i64,
    /// What a token of this cookie looks like (`is_token` unless told).
    well_formed: fn(&str) -> bool,
}

impl TokenCookie {
    pub fn beside_session_cookie(
        base: &str,
        session_cookie: &str,
        secure: bool,
        lifetime_secs: i64,
    ) -> Self {
        Self {
            name: cookies::beside_session(session_cookie, base),
            secure,
            lifetime_secs,
            well_formed: is_token,
        }
    }

    /// The same cookie, carrying tokens of another shape.
    pub fn holding(self, well_formed: fn(&str) -> bool) -> Self {
        Self {
            well_formed,
            ..self
        }
    }

    /// The `Set-Cookie` value that hands `token` to the browser.
    pub fn set_cookie(&self, token: &str) -> String {
        let max_age = Some(time::Duration::seconds(self.lifetime_secs));
        cookies::build(&self.name, token.to_string(), self.secure, max_age).to_string()
    }

    /// The `Set-Cookie` value that drops it.
    pub fn removal(&self) -> String {
        cookies::removal(&self.name, self.secure).to_string()
    }

    /// This cookie's token in the request, when well formed.
    pub fn find(&self, headers: &HeaderMap) -> Option<String> {
        cookies::find(headers, &self.name).filter(|value| (self.well_formed)(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_hex_digits_and_differ() {
        let (a, b) = (token(), token());
        assert!(is_token(&a) && is_token(&b));
        assert_ne!(a, b);
        assert!(!is_token("not-a-token"));
    }
}
