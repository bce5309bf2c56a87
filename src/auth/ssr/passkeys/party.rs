//! The relying party: the site passkeys are made for, checked from the
//! settings at start-up.

use crate::auth::ssr::random::TokenCookie;
use std::sync::Arc;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// How long a ceremony's challenge may be answered.
pub const CEREMONY_SECS: i64 = 300;

/// The relying party: the site passkeys are made for (its id, the origins a
/// ceremony may come from, its name), and how many passkeys an account may
/// have.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    pub(super) webauthn: Arc<Webauthn>,
    pub max_per_user: usize,
    /// The cookie a sign-in ceremony is carried in.
    pub cookie: TokenCookie,
}

/// The cookie that names a sign-in ceremony (a random token; its hash keys
/// the ceremony's row): `__Host-passkey` beside a `__Host-` session cookie,
/// else `passkey`, for `CEREMONY_SECS`.
pub fn ceremony_cookie(session_cookie: &str, secure: bool) -> TokenCookie {
    TokenCookie::beside_session_cookie("passkey", session_cookie, secure, CEREMONY_SECS)
}

impl RelyingParty {
    /// Checks the settings: at least one origin; each an `https://` origin
    /// (or `http://` on `localhost`) whose host is `rp_id` or under it.
    pub fn new(
        rp_id: &str,
        origins: &[&str],
        rp_name: &str,
        max_per_user: usize,
        cookie: TokenCookie,
    ) -> Result<Self, String> {
        let rp_id = rp_id.trim();
        if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
            return Err("webauthn.rp_id must be a domain, such as example.com".into());
        }
        let mut parsed = Vec::new();
        for origin in origins {
            parsed.push(parse_origin(origin, rp_id)?);
        }
        let Some((first, others)) = parsed.split_first() else {
            return Err("webauthn.origins must name at least one origin".into());
        };
        let mut builder = WebauthnBuilder::new(rp_id, first)
            .map_err(|_| format!("webauthn.origins: {first} is not on {rp_id}"))?
            .rp_name(rp_name)
            .timeout(std::time::Duration::from_secs(CEREMONY_SECS as u64));
        for origin in others {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|error| format!("webauthn settings: {error}"))?;
        Ok(Self {
            webauthn: Arc::new(webauthn),
            max_per_user,
            cookie,
        })
    }

    /// Whether a page at `origin` (an `Origin` header) may run a ceremony.
    pub fn allows(&self, origin: &str) -> bool {
        self.webauthn
            .get_allowed_origins()
            .iter()
            .any(|allowed| allowed.origin().ascii_serialization() == origin)
    }
}

/// One allowed origin: scheme, host and port only; HTTPS except on
/// `localhost` (browsers allow WebAuthn nowhere else without it).
fn parse_origin(origin: &str, rp_id: &str) -> Result<Url, String> {
    let invalid = || format!("webauthn.origins: {origin} is not an origin such as https://{rp_id}");
    let url = Url::parse(origin).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?.to_string();
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid());
    }
    let local = host == "localhost" || host.ends_with(".localhost");
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(format!(
                "webauthn.origins: {origin} must use https:// (only localhost may use http://)"
            ))
        }
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(format!(
            "webauthn.origins: {origin} is not on webauthn.rp_id {rp_id}"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_on_the_relying_party_and_secure_outside_localhost() {
        let party = |id: &str, origins: &[&str]| {
            RelyingParty::new(id, origins, "Test", 10, ceremony_cookie("session", false))
        };
        assert!(party("localhost", &["http://localhost:3000"]).is_ok());
        assert!(party(
            "example.com",
            &["https://example.com", "https://login.example.com"]
        )
        .is_ok());
        for (id, origins) in [
            ("example.com", &["http://example.com"][..]),
            ("example.com", &["https://example.org"][..]),
            ("example.com", &["https://notexample.com"][..]),
            ("example.com", &["https://example.com/login"][..]),
            ("example.com", &[][..]),
            ("127.0.0.1", &["http://127.0.0.1:3000"][..]),
            ("", &["https://example.com"][..]),
        ] {
            assert!(party(id, origins).is_err(), "{id} {origins:?}");
        }
    }
}
