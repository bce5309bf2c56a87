//! Hex and the one-way hash under which a secret is stored (a device token,
//! a retired session id): blake2s-256 in hex. A leaf: it imports nothing of
//! the crate, so the auth flows and the session store share it.

use blake2::{Blake2s256, Digest};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What is stored in place of the secret `text`: its blake2s-256, in hex.
pub fn secret_hash(text: &str) -> String {
    hex(&Blake2s256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_kept_as_64_hex_digits_that_name_it_alone() {
        let hash = secret_hash("a device token");
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(hash, secret_hash("a device token"));
        assert_ne!(hash, secret_hash("another token"));
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
