//! Input rules for usernames and passwords, and the `next` redirect target.
//!
//! Usernames are NFKC-normalised and trimmed for display, and additionally
//! lower-cased for uniqueness, so `Alice`, `alice` and full-width `ａｌｉｃｅ`
//! are one account. Passwords are NFKC-normalised (NIST SP 800-63B) and counted
//! in characters; the minimum applies when an account is created, so raising it
//! later does not lock existing users out.

use super::AuthError;
use unicode_normalization::UnicodeNormalization;

pub const USERNAME_MAX_CHARS: usize = 64;
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Where a user goes after sign-in when `next` is missing or not a local path.
pub const DEFAULT_AFTER_SIGN_IN: &str = "/dashboard";

#[derive(Clone, Copy, Debug)]
pub struct PasswordRules {
    pub min_chars: usize,
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
    let display: String = raw.nfkc().collect::<String>().trim().to_string();
    if display.is_empty() {
        return Err(AuthError::Invalid("Username must not be empty.".into()));
    }
    if display.chars().count() > USERNAME_MAX_CHARS {
        return Err(too_long_username());
    }
    if display.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "Username must not contain control characters.".into(),
        ));
    }
    let key = display.to_lowercase().nfkc().collect();
    Ok(Username { display, key })
}

fn too_long_username() -> AuthError {
    AuthError::Invalid(format!(
        "Username must be at most {USERNAME_MAX_CHARS} characters."
    ))
}

/// Checks a password being set (registration): minimum and maximum length.
pub fn new_password(raw: String, rules: PasswordRules) -> Result<String, AuthError> {
    let normalised = normalised_password(raw)?;
    if normalised.chars().count() < rules.min_chars {
        return Err(AuthError::Invalid(format!(
            "Password must be at least {} characters.",
            rules.min_chars
        )));
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
        return Err(AuthError::Invalid(
            "Password must not contain your username.".into(),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, &[&username.display, &username.key]);
    if estimate.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    let mut message = String::from("This password is too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(" {warning}"));
        }
        if let Some(suggestion) = feedback.suggestions().first() {
            message.push_str(&format!(" {suggestion}"));
        }
    }
    Err(AuthError::Invalid(message))
}

/// Checks a password being presented (sign-in): present and not over-long.
pub fn presented_password(raw: String) -> Result<String, AuthError> {
    let normalised = normalised_password(raw)?;
    if normalised.is_empty() {
        return Err(AuthError::Invalid("Password must not be empty.".into()));
    }
    Ok(normalised)
}

fn normalised_password(raw: String) -> Result<String, AuthError> {
    let too_long = || {
        AuthError::Invalid(format!(
            "Password must be at most {PASSWORD_MAX_CHARS} characters."
        ))
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
    match next {
        Some(path) if is_local_path(path) => path.to_string(),
        _ => DEFAULT_AFTER_SIGN_IN.to_string(),
    }
}

fn is_local_path(path: &str) -> bool {
    path.len() <= 2048
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.bytes().all(|byte| byte.is_ascii_graphic())
        && !path.to_ascii_lowercase().starts_with("/%2f")
        && !path.to_ascii_lowercase().starts_with("/%5c")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: AuthError) -> String {
        error.to_public().to_string()
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
