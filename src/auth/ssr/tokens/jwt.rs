//! Signing and checking the bearer tokens (JWT; `jsonwebtoken` signs and
//! verifies signatures, the claims are read here once, after the signature),
//! without the usual mistakes: the algorithm is the configured one, never the
//! token's choice (`alg: none` and every other algorithm are refused before
//! any key is used); the key is found by the header's `kid` among the
//! configured keys only; `iss`, `aud`, `sub`, `nbf` and `exp` are required;
//! the times are checked against the server's clock with a fixed leeway.
//!
//! Keys come from configuration (`TOKENS_KEYS`), never from the repository:
//! `kid=value` pairs, separated by commas or white space. Several keys verify
//! at once and one signs (`TOKENS_SIGNING_KEY`, else the first listed), so a
//! key is rotated without signing anyone out. Values are base64 (standard or
//! URL-safe, padding optional):
//! - HS256: a secret of at least 32 bytes;
//! - EdDSA: a 32-byte Ed25519 private key (seed), which signs and verifies,
//!   or `public:` and a 32-byte public key, which only verifies: an instance
//!   that should not hold the signing key.

use base64::{
    alphabet,
    engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig},
    Engine,
};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::{collections::HashMap, fmt};

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// The shortest key accepted (HS256's secret, an Ed25519 key).
pub const MIN_KEY_BYTES: usize = 32;

/// The signing algorithm of a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum TokenAlgorithm {
    #[serde(rename = "HS256")]
    Hs256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl TokenAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }

    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
        }
    }
}

impl std::str::FromStr for TokenAlgorithm {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [Self::Hs256, Self::EdDsa]
            .into_iter()
            .find(|algorithm| algorithm.name() == text)
            .ok_or(())
    }
}

/// Why the configured keys cannot be used; the server refuses to start.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no token signing key: set TOKENS_KEYS (see the README's API section)")]
    NoKey,
    #[error("TOKENS_KEYS: entry {0} is not kid=value")]
    Syntax(usize),
    #[error("TOKENS_KEYS: key {0:?} is not base64")]
    NotBase64(String),
    #[error("TOKENS_KEYS: key {kid:?} is {bytes} bytes; at least {MIN_KEY_BYTES} are required")]
    TooShort { kid: String, bytes: usize },
    #[error("TOKENS_KEYS: Ed25519 key {0:?} must be exactly 32 bytes")]
    NotEd25519(String),
    #[error("TOKENS_KEYS: key {0:?} is listed twice")]
    Duplicate(String),
    #[error("TOKENS_KEYS: a public-only key ({0:?}) needs TOKENS_ALGORITHM=EdDSA")]
    PublicWithHmac(String),
    #[error("TOKENS_SIGNING_KEY: {0:?} is not a signing key in TOKENS_KEYS")]
    UnknownSigningKey(String),
}

/// The keys of a deployment: every one verifies, one signs (none on an
/// instance given only public keys).
pub struct TokenKeys {
    algorithm: TokenAlgorithm,
    signing: Option<(String, EncodingKey)>,
    verifying: HashMap<String, DecodingKey>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<_> = self.verifying.keys().collect();
        kids.sort();
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .field("signing_kid", &self.signing.as_ref().map(|(kid, _)| kid))
            .field("kids", &kids)
            .finish()
    }
}

fn base64_any(text: &str) -> Option<Vec<u8>> {
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let text = text.trim();
    GeneralPurpose::new(&alphabet::STANDARD, config)
        .decode(text)
        .or_else(|_| GeneralPurpose::new(&alphabet::URL_SAFE, config).decode(text))
        .ok()
}

impl TokenKeys {
    /// Reads `kid=value` pairs (see the module's documentation).
    pub fn parse(
        algorithm: TokenAlgorithm,
        keys: &str,
        signing_kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        let mut signing_keys = Vec::new();
        let mut verifying = HashMap::new();
        for (entry, pair) in keys
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|pair| !pair.is_empty())
            .enumerate()
        {
            let Some((kid, value)) = pair.split_once('=').filter(|(kid, value)| {
                !kid.is_empty() && !value.is_empty() && kid.bytes().all(|b| b.is_ascii_graphic())
            }) else {
                // Counted from 1; never shown, as it may hold a secret.
                return Err(KeyError::Syntax(entry + 1));
            };
            let kid = kid.to_string();
            if verifying.contains_key(&kid) {
                return Err(KeyError::Duplicate(kid));
            }
            let (public_only, value) = match value.strip_prefix("public:") {
                Some(value) => (true, value),
                None => (false, value),
            };
            let bytes = base64_any(value).ok_or_else(|| KeyError::NotBase64(kid.clone()))?;
            if bytes.len() < MIN_KEY_BYTES {
                return Err(KeyError::TooShort {
                    kid,
                    bytes: bytes.len(),
                });
            }
            match (algorithm, public_only) {
                (TokenAlgorithm::Hs256, true) => return Err(KeyError::PublicWithHmac(kid)),
                (TokenAlgorithm::Hs256, false) => {
                    verifying.insert(kid.clone(), DecodingKey::from_secret(&bytes));
                    signing_keys.push((kid, EncodingKey::from_secret(&bytes)));
                }
                (TokenAlgorithm::EdDsa, _) => {
                    let bytes: [u8; 32] = bytes
                        .try_into()
                        .map_err(|_| KeyError::NotEd25519(kid.clone()))?;
                    if public_only {
                        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                            .map_err(|_| KeyError::NotEd25519(kid.clone()))?;
                        verifying.insert(kid, DecodingKey::from_ed_der(&bytes));
                    } else {
                        let private = ed25519_dalek::SigningKey::from_bytes(&bytes);
                        let der = private
                            .to_pkcs8_der()
                            .map_err(|_| KeyError::NotEd25519(kid.clone()))?;
                        verifying.insert(
                            kid.clone(),
                            DecodingKey::from_ed_der(private.verifying_key().as_bytes()),
                        );
                        signing_keys.push((kid, EncodingKey::from_ed_der(der.as_bytes())));
                    }
                }
            }
        }
        if verifying.is_empty() {
            return Err(KeyError::NoKey);
        }
        let signing = match signing_kid.filter(|kid| !kid.is_empty()) {
            Some(wanted) => Some(
                signing_keys
                    .into_iter()
                    .find(|(kid, _)| kid == wanted)
                    .ok_or_else(|| KeyError::UnknownSigningKey(wanted.to_string()))?,
            ),
            None => signing_keys.into_iter().next(),
        };
        Ok(Self {
            algorithm,
            signing,
            verifying,
        })
    }

    /// A random key that lives as long as this process: for development
    /// only, where no key is configured (production refuses to start).
    pub fn ephemeral(algorithm: TokenAlgorithm) -> Self {
        let secret = random_key();
        let kid = format!("ephemeral-{}", super::super::random::token());
        let value = base64::engine::general_purpose::STANDARD.encode(secret);
        Self::parse(algorithm, &format!("{kid}={value}"), None)
            .expect("a fresh 32-byte key is valid for either algorithm")
    }

    pub fn algorithm(&self) -> TokenAlgorithm {
        self.algorithm
    }

    /// The key id that signs new tokens, if this instance may sign.
    pub fn signing_kid(&self) -> Option<&str> {
        self.signing.as_ref().map(|(kid, _)| kid.as_str())
    }
}

/// 32 random bytes from the OS: an HS256 secret or an Ed25519 private key.
pub fn random_key() -> [u8; 32] {
    super::super::random::bytes::<32>()
}

/// What a token says. `sub` is the user id (a string, as RFC 7519 wants);
/// `gen` the user's token generation when it was issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    #[serde(rename = "gen")]
    pub generation: i64,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Why a bearer token was refused; each has its `error_description`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidToken {
    Missing,
    Malformed,
    UnexpectedAlgorithm,
    UnknownKey,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    NotYetValid,
    Revoked,
}

impl InvalidToken {
    /// The `error_description` of the `WWW-Authenticate` answer.
    pub fn description(self) -> &'static str {
        match self {
            Self::Missing => "no bearer token",
            Self::Malformed => "the token is malformed",
            Self::UnexpectedAlgorithm => "the token's algorithm is not accepted",
            Self::UnknownKey => "the token's key is unknown",
            Self::BadSignature => "the token's signature does not verify",
            Self::WrongIssuer => "the token has another issuer",
            Self::WrongAudience => "the token is meant for another audience",
            Self::Expired => "the token has expired",
            Self::NotYetValid => "the token is not valid yet",
            Self::Revoked => "the token has been revoked",
        }
    }
}

/// Who signs and checks tokens, and what they must say.
#[derive(Debug)]
pub struct TokenRules {
    pub keys: TokenKeys,
    pub issuer: String,
    pub audience: String,
    pub lifetime_secs: i64,
    /// Tokens one user may hold at once; 0 for no limit.
    pub max_outstanding: usize,
}

/// The header fields read before any key is used.
#[derive(Deserialize)]
struct PeekedHeader {
    alg: String,
    kid: Option<String>,
}

impl TokenRules {
    pub fn new(keys: TokenKeys, issuer: String, audience: String, lifetime_secs: i64) -> Self {
        Self {
            keys,
            issuer,
            audience,
            lifetime_secs,
            max_outstanding: 0,
        }
    }

    pub fn with_max_outstanding(self, max_outstanding: usize) -> Self {
        Self {
            max_outstanding,
            ..self
        }
    }

    /// Signs `claims` with the signing key; `None` on an instance that holds
    /// only public keys.
    pub fn sign(&self, claims: &Claims) -> Option<String> {
        let (kid, key) = self.keys.signing.as_ref()?;
        let mut header = Header::new(self.keys.algorithm.jwt());
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).ok()
    }

    /// The claims for a new token of `user_id` at `now`.
    pub fn claims_for(&self, user_id: i64, generation: i64, jti: String, now: i64) -> Claims {
        Claims {
            sub: user_id.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.lifetime_secs,
            jti,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            generation,
        }
    }

    /// Checks a token's form, algorithm, key, signature, issuer, audience and
    /// times (at `now`, with `LEEWAY_SECS`), in that order: nothing the token
    /// says is believed before its signature verifies, except which of our
    /// keys to verify with. `jsonwebtoken::decode` does all but the times,
    /// which are judged at the injected clock. The generation is the caller's.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, InvalidToken> {
        // The header is peeked at as text, so that an algorithm the library
        // does not even name (`none`) is refused as one, not as a typo.
        let header = token.split('.').next().unwrap_or_default();
        let header: PeekedHeader = from_part(header)?;
        if header.alg != self.keys.algorithm.name() {
            return Err(InvalidToken::UnexpectedAlgorithm);
        }
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.keys.verifying.get(kid))
            .ok_or(InvalidToken::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation())
            .map_err(|error| refusal(error.kind()))?
            .claims;
        if now > claims.exp + LEEWAY_SECS {
            return Err(InvalidToken::Expired);
        }
        if now + LEEWAY_SECS < claims.nbf {
            return Err(InvalidToken::NotYetValid);
        }
        Ok(claims)
    }

    /// What `jsonwebtoken` checks: our algorithm, issuer and audience, and
    /// every registered claim present (`Claims` has no optional field); not
    /// the times, which it would read off the system clock.
    fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.keys.algorithm.jwt());
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation
    }
}

/// Why `jsonwebtoken` refused a token, as we tell it.
fn refusal(kind: &ErrorKind) -> InvalidToken {
    match kind {
        ErrorKind::InvalidSignature => InvalidToken::BadSignature,
        ErrorKind::InvalidAlgorithm => InvalidToken::UnexpectedAlgorithm,
        ErrorKind::InvalidIssuer => InvalidToken::WrongIssuer,
        ErrorKind::InvalidAudience => InvalidToken::WrongAudience,
        _ => InvalidToken::Malformed,
    }
}

/// A base64url JSON part of a token.
fn from_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, InvalidToken> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| InvalidToken::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| InvalidToken::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    const NOW: i64 = 1_800_000_000;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    fn rules(algorithm: TokenAlgorithm, keys: &str, signing: Option<&str>) -> TokenRules {
        TokenRules::new(
            TokenKeys::parse(algorithm, keys, signing).unwrap(),
            "issuer".into(),
            "audience".into(),
            86_400,
        )
    }

    fn hs256() -> TokenRules {
        rules(TokenAlgorithm::Hs256, &format!("a={}", key(1)), None)
    }

    fn token(rules: &TokenRules, edit: impl FnOnce(&mut Claims)) -> String {
        let mut claims = rules.claims_for(7, 0, "jti".into(), NOW);
        edit(&mut claims);
        rules.sign(&claims).unwrap()
    }

    /// A token with a hand-made header and claims, signed by nobody.
    fn unsigned(header: &str, claims: &Claims) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        )
    }

    #[test]
    fn a_token_verifies_with_its_claims() {
        let rules = hs256();
        let claims = rules.verify(&token(&rules, |_| {}), NOW).unwrap();
        assert_eq!(claims.user_id(), Some(7));
        assert_eq!(
            (claims.iat, claims.nbf, claims.exp),
            (NOW, NOW, NOW + 86_400)
        );
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("issuer", "audience")
        );
    }

    #[test]
    fn the_header_names_the_configured_algorithm_and_the_signing_key() {
        let rules = hs256();
        let header = jsonwebtoken::decode_header(token(&rules, |_| {})).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.kid.as_deref(), Some("a"));
    }

    #[test]
    fn expiry_and_not_before_allow_sixty_seconds_of_skew_and_no_more() {
        let rules = hs256();
        let token = token(&rules, |_| {});
        let exp = NOW + 86_400;
        assert!(rules.verify(&token, exp + LEEWAY_SECS).is_ok());
        assert_eq!(
            rules.verify(&token, exp + LEEWAY_SECS + 1),
            Err(InvalidToken::Expired)
        );
        assert!(rules.verify(&token, NOW - LEEWAY_SECS).is_ok());
        assert_eq!(
            rules.verify(&token, NOW - LEEWAY_SECS - 1),
            Err(InvalidToken::NotYetValid)
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused_before_any_key_is_used() {
        let rules = hs256();
        let claims = rules.claims_for(7, 0, "jti".into(), NOW);
        for header in [
            r#"{"alg":"none","kid":"a"}"#,
            r#"{"alg":"None","kid":"a"}"#,
            r#"{"alg":"HS512","kid":"a"}"#,
            r#"{"alg":"RS256","kid":"a"}"#,
            r#"{"alg":"EdDSA","kid":"a"}"#,
        ] {
            assert_eq!(
                rules.verify(&unsigned(header, &claims), NOW),
                Err(InvalidToken::UnexpectedAlgorithm),
                "{header}"
            );
        }
    }

    #[test]
    fn a_signature_by_another_key_or_an_edited_payload_does_not_verify() {
        let ours = hs256();
        let theirs = rules(TokenAlgorithm::Hs256, &format!("a={}", key(2)), None);
        assert_eq!(
            ours.verify(&token(&theirs, |_| {}), NOW),
            Err(InvalidToken::BadSignature)
        );
        let genuine = token(&ours, |_| {});
        let mut parts: Vec<String> = genuine.split('.').map(str::to_string).collect();
        let mut claims = ours.claims_for(1, 0, "jti".into(), NOW);
        claims.sub = "1".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            ours.verify(&parts.join("."), NOW),
            Err(InvalidToken::BadSignature)
        );
    }

    #[test]
    fn an_unknown_or_missing_kid_is_refused() {
        let rules = hs256();
        let other = rules_with_kid("b");
        assert_eq!(
            rules.verify(&token(&other, |_| {}), NOW),
            Err(InvalidToken::UnknownKey)
        );
        let claims = rules.claims_for(7, 0, "jti".into(), NOW);
        assert_eq!(
            rules.verify(&unsigned(r#"{"alg":"HS256"}"#, &claims), NOW),
            Err(InvalidToken::UnknownKey)
        );
    }

    fn rules_with_kid(kid: &str) -> TokenRules {
        rules(TokenAlgorithm::Hs256, &format!("{kid}={}", key(1)), None)
    }

    #[test]
    fn issuer_and_audience_must_be_ours() {
        let rules = hs256();
        let wrong_issuer = token(&rules, |claims| claims.iss = "someone".into());
        assert_eq!(
            rules.verify(&wrong_issuer, NOW),
            Err(InvalidToken::WrongIssuer)
        );
        let wrong_audience = token(&rules, |claims| claims.aud = "elsewhere".into());
        assert_eq!(
            rules.verify(&wrong_audience, NOW),
            Err(InvalidToken::WrongAudience)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let rules = hs256();
        for token in ["", "abc", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.e30"] {
            assert_eq!(
                rules.verify(token, NOW),
                Err(InvalidToken::Malformed),
                "{token}"
            );
        }
    }

    #[test]
    fn rotation_verifies_old_and_new_keys_and_signs_with_the_named_one() {
        let old = rules(TokenAlgorithm::Hs256, &format!("a={}", key(1)), None);
        let both = rules(
            TokenAlgorithm::Hs256,
            &format!("a={}, b={}", key(1), key(2)),
            Some("b"),
        );
        let from_old = token(&old, |_| {});
        let from_new = token(&both, |_| {});
        assert_eq!(
            jsonwebtoken::decode_header(&from_new)
                .unwrap()
                .kid
                .as_deref(),
            Some("b")
        );
        assert!(both.verify(&from_old, NOW).is_ok());
        assert!(both.verify(&from_new, NOW).is_ok());
        let new_only = rules(TokenAlgorithm::Hs256, &format!("b={}", key(2)), None);
        assert_eq!(
            new_only.verify(&from_old, NOW),
            Err(InvalidToken::UnknownKey)
        );
        assert!(new_only.verify(&from_new, NOW).is_ok());
    }

    #[test]
    fn eddsa_signs_with_the_private_key_and_a_public_key_only_verifies() {
        let private = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let public = STANDARD.encode(private.verifying_key().as_bytes());
        let signer = rules(TokenAlgorithm::EdDsa, &format!("k={}", key(9)), None);
        let verifier = rules(TokenAlgorithm::EdDsa, &format!("k=public:{public}"), None);
        let token = token(&signer, |_| {});
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().alg,
            Algorithm::EdDSA
        );
        assert!(verifier.verify(&token, NOW).is_ok());
        assert!(verifier
            .sign(&signer.claims_for(1, 0, "j".into(), NOW))
            .is_none());
        // An HS256 token made with the public key as its secret is refused.
        let confused = rules(TokenAlgorithm::Hs256, &format!("k={public}"), None);
        assert_eq!(
            verifier.verify(&self::token(&confused, |_| {}), NOW),
            Err(InvalidToken::UnexpectedAlgorithm)
        );
    }

    #[test]
    fn keys_shorter_than_32_bytes_or_malformed_are_refused() {
        let short = STANDARD.encode([1; 31]);
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, &format!("a={short}"), None).unwrap_err(),
            KeyError::TooShort {
                kid: "a".into(),
                bytes: 31
            }
        );
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, "", None).unwrap_err(),
            KeyError::NoKey
        );
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, "a=***", None).unwrap_err(),
            KeyError::NotBase64("a".into())
        );
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, "justavalue", None).unwrap_err(),
            KeyError::Syntax(1)
        );
        let two = format!("a={0},a={0}", key(1));
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, &two, None).unwrap_err(),
            KeyError::Duplicate("a".into())
        );
        assert_eq!(
            TokenKeys::parse(
                TokenAlgorithm::EdDsa,
                &format!("a={}", STANDARD.encode([1; 40])),
                None
            )
            .unwrap_err(),
            KeyError::NotEd25519("a".into())
        );
        assert_eq!(
            TokenKeys::parse(TokenAlgorithm::Hs256, &format!("a={}", key(1)), Some("b"))
                .unwrap_err(),
            KeyError::UnknownSigningKey("b".into())
        );
    }

    #[test]
    fn a_key_error_and_the_debug_form_never_show_a_secret() {
        let secret = key(5);
        let keys = TokenKeys::parse(TokenAlgorithm::Hs256, &format!("a={secret}"), None).unwrap();
        assert!(!format!("{keys:?}").contains(&secret));
        let error = TokenKeys::parse(TokenAlgorithm::Hs256, &secret, None).unwrap_err();
        assert!(!error.to_string().contains(&secret[..20]), "{error}");
    }

    #[test]
    fn an_ephemeral_key_signs_and_verifies() {
        let rules = TokenRules::new(
            TokenKeys::ephemeral(TokenAlgorithm::Hs256),
            "i".into(),
            "a".into(),
            60,
        );
        assert!(rules.verify(&token(&rules, |_| {}), NOW).is_ok());
    }
}
