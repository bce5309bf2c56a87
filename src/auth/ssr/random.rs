//! Random tokens: device cookies, the public handles of sessions, the ids of
//! bearer tokens and development-only signing keys.

use crate::digest::hex;
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
