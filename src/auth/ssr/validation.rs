//! Input rules for usernames and passwords, and the `next` redirect target.
//!
//! Usernames follow RFC 8265 (the PRECIS username profiles, through the
//! `precis-profiles` crate): NFKC-normalised and trimmed, one or more parts
//! separated by single spaces, each part of the IdentifierClass (letters and
//! digits of any script, visible ASCII), so invisible, format and
//! direction-changing characters are refused and `admin` followed by a
//! zero-width space is no new account. The case-preserving profile gives the
//! name shown, the case-mapped one the key compared, so `Alice`, `alice` and
//! full-width `ａｌｉｃｅ` are one account. Passwords are NFKC-normalised (NIST SP 800-63B) and counted
//! in characters; the minimum applies when an account is created, so raising it
//! later does not lock existing users out.

use super::AuthError;
use crate::auth::{FormLimits, InvalidInput, PASSWORD_MAX_CHARS, USERNAME_MAX_CHARS};
use crate::routes::is_local_path;
use precis_core::profile::PrecisFastInvocation;
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};
use unicode_normalization::UnicodeNormalization;

/// Where a user goes after sign-in when `next` is missing or not a local path.
pub const DEFAULT_AFTER_SIGN_IN: &str = crate::routes::DASHBOARD_PAGE;

#[derive(Clone, Copy, Debug)]
pub struct PasswordRules {
    pub min_chars: usize,
}

impl PasswordRules {
    /// What the forms show of these rules and the fixed maximums.
    pub fn form_limits(self) -> FormLimits {
        FormLimits::with_password_minimum(self.min_chars)
    }
}

/// Characters a reader cannot see or that change what they see: control
/// characters, and the invisible, format or direction-changing ones (zero
/// widths and joiners, bidirectional marks, overrides and isolates, the soft
/// hyphen, the byte-order mark). Refused in addresses and taken out of any
/// typed text a message quotes.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// A username as shown (`display`) and as compared (`key`).
#[derive(Debug, PartialEq, Eq)]
pub struct Username {
    pub display: String,
    pub key: String,
}

pub fn parse_username(raw: &str) -> Result<Username, AuthError> {
    // Bound the work before normalising: no valid username is this long.
    if raw.len() > USERNAME_MAX_CHARS * 4 + 64 {
        return Err(too_long_username());
    }
    let normalised: String = raw.nfkc().collect();
    let parts: Vec<&str> = normalised
        .split(' ')
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(AuthError::Invalid(InvalidInput::UsernameEmpty));
    }
    let profiled = |enforce: &dyn Fn(&str) -> Result<String, precis_core::Error>| {
        parts
            .iter()
            .map(|part| enforce(part))
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.join(" "))
            .map_err(|_| AuthError::Invalid(InvalidInput::UsernameCharacters))
    };
    let display = profiled(&|part| UsernameCasePreserved::enforce(part).map(Into::into))?;
    if display.chars().count() > USERNAME_MAX_CHARS {
        return Err(too_long_username());
    }
    let key = profiled(&|part| UsernameCaseMapped::enforce(part).map(Into::into))?;
    Ok(Username { display, key })
}

fn too_long_username() -> AuthError {
    AuthError::Invalid(InvalidInput::UsernameTooLong {
        max: USERNAME_MAX_CHARS,
    })
}

/// Checks a password being set (registration): minimum and maximum length.
pub fn new_password(raw: String, rules: PasswordRules) -> Result<String, AuthError> {
    let normalised = normalised_password(raw)?;
    if normalised.chars().count() < rules.min_chars {
        return Err(AuthError::Invalid(InvalidInput::PasswordTooShort {
            min: rules.min_chars,
        }));
    }
    Ok(normalised)
}

/// Refuses a new password that is easy to guess (NIST SP 800-63B: common,
/// expected or breached-list passwords), judged by the zxcvbn estimator with
/// its shipped frequency lists, or one built from the username. No
/// composition rules. CPU-bound: run it off the async runtime.
pub fn strong_enough(password: &str, username: &Username) -> Result<(), AuthError> {
    let lowered = password.to_lowercase();
    if username.key.chars().count() >= 3 && lowered.contains(&username.key) {
        return Err(AuthError::Invalid(InvalidInput::PasswordContainsUsername));
    }
    let estimate = zxcvbn::zxcvbn(password, &[&username.display, &username.key]);
    if estimate.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    Err(AuthError::Invalid(InvalidInput::PasswordTooEasy))
}

/// Checks a password being presented (sign-in): present and not over-long.
pub fn presented_password(raw: String) -> Result<String, AuthError> {
    let normalised = normalised_password(raw)?;
    if normalised.is_empty() {
        return Err(AuthError::Invalid(InvalidInput::PasswordEmpty));
    }
    Ok(normalised)
}

fn normalised_password(raw: String) -> Result<String, AuthError> {
    let too_long = || {
        AuthError::Invalid(InvalidInput::PasswordTooLong {
            max: PASSWORD_MAX_CHARS,
        })
    };
    // Reject before normalising or hashing: an over-long password costs nothing.
    if raw.len() > PASSWORD_MAX_CHARS * 4 {
        return Err(too_long());
    }
    let normalised: String = raw.nfkc().collect();
    if normalised.chars().count() > PASSWORD_MAX_CHARS {
        return Err(too_long());
    }
    Ok(normalised)
}

/// The page to go to after sign-in: `next` when it is a path on this site,
/// otherwise the dashboard. Rejects `//host`, `/\host`, schemes, control
/// characters and anything that is not plain visible ASCII.
pub fn safe_next(next: Option<&str>) -> String {
    local_path_or(next, DEFAULT_AFTER_SIGN_IN)
}

/// The path (and query) of a `Referer` on this site, if it names one: where
/// a form was sent from, to go back to.
pub fn referring_path(referer: &str) -> Option<String> {
    let after_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/')?..];
    is_local_path(path).then(|| path.to_string())
}

/// The page to go back to after `/confirm`: `next` when it is a path on
/// this site, otherwise the account page.
pub fn safe_return(next: Option<&str>) -> String {
    local_path_or(next, crate::routes::ACCOUNT_PAGE)
}

/// `next` when it is a path on this site, otherwise `fallback`.
fn local_path_or(next: Option<&str>, fallback: &str) -> String {
    next.filter(|path| is_local_path(path))
        .unwrap_or(fallback)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: AuthError) -> String {
        error.to_public().to_string()
    }

    #[test]
    fn a_next_page_travels_escaped_and_only_a_local_referer_is_followed_back() {
        assert_eq!(
            referring_path("http://localhost:3000/account?tab=2").as_deref(),
            Some("/account?tab=2")
        );
        assert_eq!(referring_path("https://example.com"), None);
        assert_eq!(referring_path("https://example.com//evil.example/"), None);
    }

    #[test]
    fn usernames_differing_in_case_or_width_share_a_key() {
        let plain = parse_username("alice").unwrap();
        let upper = parse_username("Alice").unwrap();
        let wide = parse_username("ＡＬＩＣＥ").unwrap();
        assert_eq!(plain.key, upper.key);
        assert_eq!(plain.key, wide.key);
        assert_eq!(upper.display, "Alice");
    }

    #[test]
    fn lookalikes_with_invisible_or_direction_characters_are_refused() {
        for lookalike in [
            "admin\u{200B}",
            "ad\u{200D}min",
            "admin\u{2060}",
            "\u{202E}nimda",
            "admin\u{00AD}",
            "\u{FEFF}admin",
            "admin\u{061C}",
        ] {
            let error = parse_username(lookalike).unwrap_err();
            assert!(message(error).contains("invisible"), "{lookalike:?}");
        }
        let spaced = parse_username("  Mary   Ann ").unwrap();
        assert_eq!(
            (spaced.display.as_str(), spaced.key.as_str()),
            ("Mary Ann", "mary ann")
        );
        assert_eq!(
            parse_username("Ünïcødé-user_1.x").unwrap().key,
            "ünïcødé-user_1.x"
        );
    }

    #[test]
    fn empty_and_over_long_usernames_are_refused_with_a_reason() {
        assert!(message(parse_username("   ").unwrap_err()).contains("empty"));
        let long = "a".repeat(USERNAME_MAX_CHARS + 1);
        assert!(message(parse_username(&long).unwrap_err()).contains("at most 64"));
        assert!(parse_username(&"a".repeat(USERNAME_MAX_CHARS)).is_ok());
        assert!(parse_username("bad\u{0}name").is_err());
    }

    #[test]
    fn new_passwords_need_eight_to_256_characters() {
        let rules = PasswordRules { min_chars: 8 };
        assert!(message(new_password("short".into(), rules).unwrap_err()).contains("at least 8"));
        assert!(new_password("eight ch".into(), rules).is_ok());
        assert!(new_password("ü".repeat(256), rules).is_ok());
        assert!(new_password("x".repeat(257), rules).is_err());
        assert!(new_password("x".repeat(1_000_000), rules).is_err());
    }

    #[test]
    fn common_and_username_based_passwords_are_refused_with_a_reason() {
        let alice = parse_username("Alice").unwrap();
        for weak in [
            "password123",
            "qwertyuiop",
            "11111111",
            "iloveyou1",
            "alice2024!",
            "ALICE-secret",
        ] {
            let error = strong_enough(weak, &alice).unwrap_err();
            assert!(!message(error).is_empty(), "{weak}");
        }
        assert!(message(strong_enough("alice2024!", &alice).unwrap_err()).contains("username"));
        for strong in [
            "correct horse battery",
            "Tr0ub4dor&3 gleaming",
            "ünïcödé passphrase here",
        ] {
            assert!(strong_enough(strong, &alice).is_ok(), "{strong}");
        }
    }

    #[test]
    fn presented_passwords_skip_the_minimum_but_not_the_maximum() {
        assert!(presented_password("short".into()).is_ok());
        assert!(presented_password(String::new()).is_err());
        assert!(presented_password("x".repeat(257)).is_err());
    }

    #[test]
    fn next_accepts_only_local_paths() {
        assert_eq!(safe_next(Some("/dashboard?tab=1")), "/dashboard?tab=1");
        assert_eq!(safe_next(Some("/")), "/");
        for hostile in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "javascript:alert(1)",
            "dashboard",
            "/dash\nboard",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/dashboard", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}
