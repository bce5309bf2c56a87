//! The error a user sees. Server detail (SQL errors, hashing failures) never
//! travels in it: it is logged once on the server and replaced by `Internal`.
//!
//! Every message is made here from the error's kind (and, for input rules, a
//! number), never taken from the wire: a page that shows an error decoded from
//! its URL (the no-JavaScript path) can show only a message this app writes,
//! whatever text a crafted link carries.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AppError {
    /// The input breaks a rule the user can fix (422).
    #[error("{0}")]
    Invalid(InvalidInput),
    /// The username is already registered (409).
    #[error("That username is already taken.")]
    UsernameTaken,
    /// The email address was verified by another account first (409).
    #[error("That email address is already in use by another account.")]
    EmailTaken,
    /// A link sent by mail that is unknown, used, expired, or dead since
    /// the password changed (404).
    #[error("This link has expired or was already used. Ask for a new one.")]
    LinkInvalid,
    /// Unknown user or wrong password; deliberately the same message for both (401).
    #[error("Invalid username or password")]
    InvalidCredentials,
    /// The current password given to change it is wrong (401).
    #[error("The current password is not correct.")]
    WrongPassword,
    /// The request needs a signed-in session and has none: it ended, was
    /// revoked, or never was (401). The user is sent to sign in again.
    #[error("Your session has ended. Please sign in again.")]
    SessionEnded,
    /// The session was ended for safety: its cookie was used from two
    /// places (a replaced session id came back, #22) (401).
    #[error("Your session was ended for your safety: it was used from two places. Please sign in again.")]
    SessionReused,
    /// No session of this user has that handle (404), whether it ended
    /// already or belongs to someone else.
    #[error("That session has already ended.")]
    UnknownSession,
    /// A sensitive action (API tokens, signing out everywhere else, deleting
    /// the account) on a session whose password was not entered within
    /// `session.reauth_window_secs` (403). Nothing changed; the user is
    /// sent to `/confirm`.
    #[error("Enter your password again to do this.")]
    ReauthRequired,
    /// Too many failed sign-ins or sign-ups; try again after the delay (429).
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyAttempts { retry_after_secs: i64 },
    /// The user holds the most bearer tokens allowed; one expires in
    /// `retry_after_secs`, or revoking them frees the way (429).
    #[error("You already hold {max} API tokens, the most allowed. Revoke them on the account page, or try again when one expires in {retry_after_secs} seconds.")]
    TooManyTokens { max: usize, retry_after_secs: i64 },
    /// The request could not be understood: missing or malformed fields (400).
    /// The detail is logged on the server.
    #[error("The request was malformed: a field is missing or invalid.")]
    BadRequest,
    /// Every password-hashing thread stayed busy; try again after the delay (503).
    #[error("The server is busy. Please try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: i64 },
    /// The database or the session store cannot be reached now (503); the
    /// app answers again by itself when it is back.
    #[error("The service is briefly unavailable. Please try again in {retry_after_secs} seconds.")]
    Unavailable { retry_after_secs: i64 },
    /// A program called `GET /api/me` with no credentials at all (401).
    #[error("Sign in, or send a bearer token.")]
    Unauthenticated,
    /// The bearer token sent is not valid; why is in the answer's
    /// `WWW-Authenticate` header (401).
    #[error("The bearer token is not valid.")]
    InvalidToken,
    /// This instance only checks bearer tokens: it holds no signing key (503).
    #[error("This server does not issue tokens.")]
    NoTokensHere,
    /// A passkey sign-in that did not verify: no ceremony begun on this
    /// session, expired or answered already, an unknown passkey, a wrong
    /// origin or signature, a signature counter gone backwards (401). The
    /// same answer for each, so it tells nobody which accounts or passkeys
    /// exist.
    #[error("That passkey could not sign you in. Try again, or use your password.")]
    PasskeyRefused,
    /// Adding a passkey that did not verify: no ceremony begun on this
    /// session, expired or answered already, or an answer for another site
    /// (400).
    #[error("The passkey could not be added. Try again.")]
    PasskeyNotAdded,
    /// A passkey ceremony asked for by a page at an address the passkeys
    /// are not for (`webauthn.origins`), such as the site's IP address (400).
    #[error("Passkeys work only at the site's own address, and this page is not at it.")]
    PasskeyWrongSite,
    /// That passkey is registered already (409).
    #[error("That passkey is already registered.")]
    PasskeyTaken,
    /// No passkey of this user has that id (404).
    #[error("That passkey is no longer on this account.")]
    UnknownPasskey,
    /// The user has the most passkeys allowed (409).
    #[error("You already have {max} passkeys, the most allowed. Remove one first.")]
    TooManyPasskeys { max: usize },
    /// Something failed on the server; the detail is in the server log (500).
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

/// The input rules a form can break, each with its one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidInput {
    UsernameEmpty,
    UsernameTooLong {
        max: usize,
    },
    UsernameCharacters,
    /// A new username shaped like an email address (#35: it would shadow
    /// that address in "Forgot your password?").
    UsernameLooksLikeEmail,
    PasswordEmpty,
    PasswordTooShort {
        min: usize,
    },
    PasswordTooLong {
        max: usize,
    },
    PasswordContainsUsername,
    PasswordTooEasy,
    /// The new password and its confirmation differ.
    PasswordsDiffer,
    /// The new password is the current one.
    PasswordUnchanged,
    /// The username typed to confirm deleting the account is not this
    /// account's.
    UsernameMismatch,
    EmailEmpty,
    EmailTooLong {
        max: usize,
    },
    /// Not of the form `name@domain`.
    EmailInvalid,
    /// "Send the link again" with no address waiting for one.
    NoEmailPending,
    /// "Forgot password" with neither a username nor an address.
    LoginEmpty,
    /// New-device alerts asked for without a verified address to send them to.
    NoVerifiedEmail,
    PasskeyNameEmpty,
    PasskeyNameTooLong {
        max: usize,
    },
    /// A passkey's name with control characters.
    PasskeyNameCharacters,
}

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UsernameEmpty => write!(f, "Username must not be empty."),
            Self::UsernameTooLong { max } => {
                write!(f, "Username must be at most {max} characters.")
            }
            Self::UsernameCharacters => write!(
                f,
                "Username may contain letters, digits, visible punctuation and single spaces, \
                 but no invisible or direction-changing characters."
            ),
            Self::UsernameLooksLikeEmail => write!(
                f,
                "A username cannot contain @: give your email address in its own field."
            ),
            Self::PasswordEmpty => write!(f, "Password must not be empty."),
            Self::PasswordTooShort { min } => {
                write!(f, "Password must be at least {min} characters.")
            }
            Self::PasswordTooLong { max } => {
                write!(f, "Password must be at most {max} characters.")
            }
            Self::PasswordContainsUsername => write!(f, "Password must not contain your username."),
            Self::PasswordTooEasy => write!(
                f,
                "This password is too easy to guess. Use a few uncommon words, or more \
                 characters, and avoid names, dates and keyboard patterns."
            ),
            Self::PasswordsDiffer => {
                write!(f, "The new password and its confirmation are not the same.")
            }
            Self::PasswordUnchanged => {
                write!(f, "The new password must differ from the current one.")
            }
            Self::UsernameMismatch => write!(
                f,
                "Type this account's username exactly to confirm that it should be deleted."
            ),
            Self::EmailEmpty => write!(f, "Enter an email address."),
            Self::EmailTooLong { max } => {
                write!(f, "An email address must be at most {max} characters.")
            }
            Self::EmailInvalid => write!(
                f,
                "That is not an email address: it must look like name@example.com."
            ),
            Self::NoEmailPending => write!(f, "No email address is waiting for its link."),
            Self::LoginEmpty => write!(f, "Enter your username or your email address."),
            Self::NoVerifiedEmail => write!(f, "Verify an email address first."),
            Self::PasskeyNameEmpty => write!(f, "Give the passkey a name."),
            Self::PasskeyNameTooLong { max } => {
                write!(f, "A passkey's name must be at most {max} characters.")
            }
            Self::PasskeyNameCharacters => {
                write!(f, "A passkey's name must not contain control characters.")
            }
        }
    }
}

impl InvalidInput {
    /// The stable wire name of the rule, and its number if it has one.
    fn to_wire(self) -> (&'static str, Option<usize>) {
        match self {
            Self::UsernameEmpty => ("username_empty", None),
            Self::UsernameTooLong { max } => ("username_too_long", Some(max)),
            Self::UsernameCharacters => ("username_characters", None),
            Self::UsernameLooksLikeEmail => ("username_looks_like_email", None),
            Self::PasswordEmpty => ("password_empty", None),
            Self::PasswordTooShort { min } => ("password_too_short", Some(min)),
            Self::PasswordTooLong { max } => ("password_too_long", Some(max)),
            Self::PasswordContainsUsername => ("password_contains_username", None),
            Self::PasswordTooEasy => ("password_too_easy", None),
            Self::PasswordsDiffer => ("passwords_differ", None),
            Self::PasswordUnchanged => ("password_unchanged", None),
            Self::UsernameMismatch => ("username_mismatch", None),
            Self::EmailEmpty => ("email_empty", None),
            Self::EmailTooLong { max } => ("email_too_long", Some(max)),
            Self::EmailInvalid => ("email_invalid", None),
            Self::NoEmailPending => ("no_email_pending", None),
            Self::LoginEmpty => ("login_empty", None),
            Self::NoVerifiedEmail => ("no_verified_email", None),
            Self::PasskeyNameEmpty => ("passkey_name_empty", None),
            Self::PasskeyNameTooLong { max } => ("passkey_name_too_long", Some(max)),
            Self::PasskeyNameCharacters => ("passkey_name_characters", None),
        }
    }

    fn from_wire(rule: &str, limit: Option<usize>) -> Option<Self> {
        let limit = || limit.filter(|limit| *limit <= 1_000);
        Some(match rule {
            "username_empty" => Self::UsernameEmpty,
            "username_too_long" => Self::UsernameTooLong { max: limit()? },
            "username_characters" => Self::UsernameCharacters,
            "username_looks_like_email" => Self::UsernameLooksLikeEmail,
            "password_empty" => Self::PasswordEmpty,
            "password_too_short" => Self::PasswordTooShort { min: limit()? },
            "password_too_long" => Self::PasswordTooLong { max: limit()? },
            "password_contains_username" => Self::PasswordContainsUsername,
            "password_too_easy" => Self::PasswordTooEasy,
            "passwords_differ" => Self::PasswordsDiffer,
            "password_unchanged" => Self::PasswordUnchanged,
            "username_mismatch" => Self::UsernameMismatch,
            "email_empty" => Self::EmailEmpty,
            "email_too_long" => Self::EmailTooLong { max: limit()? },
            "email_invalid" => Self::EmailInvalid,
            "no_email_pending" => Self::NoEmailPending,
            "login_empty" => Self::LoginEmpty,
            "no_verified_email" => Self::NoVerifiedEmail,
            "passkey_name_empty" => Self::PasskeyNameEmpty,
            "passkey_name_too_long" => Self::PasskeyNameTooLong { max: limit()? },
            "passkey_name_characters" => Self::PasskeyNameCharacters,
            _ => return None,
        })
    }
}

impl AppError {
    /// Where the user signs in again when this error means the session is
    /// over, with the page saying why.
    pub fn sign_in_again_page(&self) -> Option<&'static str> {
        match self {
            AppError::SessionEnded => Some(crate::routes::SESSION_ENDED_PAGE),
            AppError::SessionReused => Some(crate::routes::SESSION_REUSED_PAGE),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::UsernameTaken
            | AppError::EmailTaken
            | AppError::PasskeyTaken
            | AppError::TooManyPasskeys { .. } => 409,
            AppError::LinkInvalid | AppError::UnknownPasskey => 404,
            AppError::PasskeyNotAdded | AppError::PasskeyWrongSite => 400,
            AppError::InvalidCredentials
            | AppError::WrongPassword
            | AppError::SessionEnded
            | AppError::SessionReused
            | AppError::Unauthenticated
            | AppError::InvalidToken
            | AppError::PasskeyRefused => 401,
            AppError::UnknownSession => 404,
            AppError::ReauthRequired => 403,
            AppError::TooManyAttempts { .. } | AppError::TooManyTokens { .. } => 429,
            AppError::BadRequest => 400,
            AppError::Busy { .. } | AppError::Unavailable { .. } | AppError::NoTokensHere => 503,
            AppError::Internal => 500,
        }
    }

    /// How long to wait before trying again, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs }
            | AppError::TooManyTokens {
                retry_after_secs, ..
            }
            | AppError::Busy { retry_after_secs }
            | AppError::Unavailable { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// The wire form of an error: a stable `code` for programs and the `message`
/// for people, e.g. `{"code":"invalid_credentials","message":"Invalid username or password"}`.
#[derive(Serialize, Deserialize)]
struct ErrorBody {
    code: String,
    /// For people; ignored when read back (the message is made from the rest).
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<i64>,
    /// The input rule broken, with `invalid_input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<usize>,
}

impl From<AppError> for ErrorBody {
    fn from(error: AppError) -> Self {
        let code = match error {
            AppError::Invalid(_) => "invalid_input",
            AppError::UsernameTaken => "username_taken",
            AppError::EmailTaken => "email_taken",
            AppError::LinkInvalid => "link_invalid",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::WrongPassword => "wrong_password",
            AppError::SessionEnded => "session_ended",
            AppError::SessionReused => "session_reused",
            AppError::UnknownSession => "unknown_session",
            AppError::ReauthRequired => "reauth_required",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::TooManyTokens { .. } => "too_many_tokens",
            AppError::BadRequest => "bad_request",
            AppError::Busy { .. } => "busy",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Unauthenticated => "unauthenticated",
            AppError::InvalidToken => "invalid_token",
            AppError::NoTokensHere => "no_tokens_here",
            AppError::PasskeyRefused => "passkey_refused",
            AppError::PasskeyNotAdded => "passkey_not_added",
            AppError::PasskeyTaken => "passkey_taken",
            AppError::PasskeyWrongSite => "passkey_wrong_site",
            AppError::UnknownPasskey => "unknown_passkey",
            AppError::TooManyPasskeys { .. } => "too_many_passkeys",
            AppError::Internal => "internal",
        };
        let (rule, limit) = match error {
            AppError::Invalid(input) => {
                let (rule, limit) = input.to_wire();
                (Some(rule.to_string()), limit)
            }
            AppError::TooManyTokens { max, .. } | AppError::TooManyPasskeys { max } => {
                (None, Some(max))
            }
            _ => (None, None),
        };
        Self {
            code: code.into(),
            message: error.to_string(),
            retry_after_secs: error.retry_after_secs(),
            rule,
            limit,
        }
    }
}

impl From<ErrorBody> for AppError {
    fn from(body: ErrorBody) -> Self {
        match body.code.as_str() {
            "invalid_input" => body
                .rule
                .and_then(|rule| InvalidInput::from_wire(&rule, body.limit))
                .map_or(AppError::BadRequest, AppError::Invalid),
            "username_taken" => AppError::UsernameTaken,
            "email_taken" => AppError::EmailTaken,
            "link_invalid" => AppError::LinkInvalid,
            "invalid_credentials" => AppError::InvalidCredentials,
            "wrong_password" => AppError::WrongPassword,
            "session_ended" => AppError::SessionEnded,
            "session_reused" => AppError::SessionReused,
            "unknown_session" => AppError::UnknownSession,
            "reauth_required" => AppError::ReauthRequired,
            "bad_request" => AppError::BadRequest,
            "too_many_attempts" => AppError::TooManyAttempts {
                retry_after_secs: body.retry_after_secs.unwrap_or(60),
            },
            "too_many_tokens" => AppError::TooManyTokens {
                max: body.limit.unwrap_or_default(),
                retry_after_secs: body.retry_after_secs.unwrap_or(60),
            },
            "busy" => AppError::Busy {
                retry_after_secs: body.retry_after_secs.unwrap_or(5),
            },
            "unavailable" => AppError::Unavailable {
                retry_after_secs: body.retry_after_secs.unwrap_or(5),
            },
            "unauthenticated" => AppError::Unauthenticated,
            "invalid_token" => AppError::InvalidToken,
            "no_tokens_here" => AppError::NoTokensHere,
            "passkey_refused" => AppError::PasskeyRefused,
            "passkey_not_added" => AppError::PasskeyNotAdded,
            "passkey_taken" => AppError::PasskeyTaken,
            "passkey_wrong_site" => AppError::PasskeyWrongSite,
            "unknown_passkey" => AppError::UnknownPasskey,
            "too_many_passkeys" => AppError::TooManyPasskeys {
                max: body.limit.unwrap_or_default(),
            },
            _ => AppError::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // The status is given by `server::errors`, from `AppError::status`.
        match value {
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::Deserialization(detail)
            | ServerFnErrorErr::MissingArg(detail) => {
                #[cfg(feature = "ssr")]
                tracing::debug!(%detail, "malformed request");
                #[cfg(not(feature = "ssr"))]
                let _ = detail;
                AppError::BadRequest
            }
            // A failed request from the browser (offline, server down) also lands here.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Internal,
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_user_and_wrong_password_share_one_message() {
        assert_eq!(
            AppError::InvalidCredentials.to_string(),
            "Invalid username or password"
        );
        assert_eq!(AppError::InvalidCredentials.status(), 401);
    }

    #[test]
    fn errors_travel_as_code_and_message_and_come_back_equal() {
        let error = AppError::Invalid(InvalidInput::PasswordTooShort { min: 8 });
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(
            json,
            r#"{"code":"invalid_input","message":"Password must be at least 8 characters.","rule":"password_too_short","limit":8}"#
        );
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error);
        let json = serde_json::to_string(&AppError::InvalidCredentials).unwrap();
        assert!(json.contains("Invalid username or password"));
        assert_eq!(
            serde_json::from_str::<AppError>(&json).unwrap(),
            AppError::InvalidCredentials
        );
        // The token limit comes back with its number and its wait.
        let error = AppError::TooManyTokens {
            max: 20,
            retry_after_secs: 3_600,
        };
        let json = serde_json::to_string(&error).unwrap();
        assert!(json.contains(r#""limit":20"#), "{json}");
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error);
    }

    #[test]
    fn user_mistakes_are_not_server_errors() {
        for error in [
            AppError::Invalid(InvalidInput::UsernameEmpty),
            AppError::UsernameTaken,
            AppError::BadRequest,
            AppError::WrongPassword,
            AppError::SessionEnded,
            AppError::UnknownSession,
            AppError::ReauthRequired,
            AppError::Unauthenticated,
            AppError::InvalidToken,
        ] {
            assert!((400..500).contains(&error.status()), "{error:?}");
        }
    }

    #[test]
    fn a_message_read_back_is_made_here_never_taken_from_the_wire() {
        let crafted = r#"{"code":"invalid_input","message":"Your account is locked. Call 555-0100.","rule":"username_empty"}"#;
        let error: AppError = serde_json::from_str(crafted).unwrap();
        assert_eq!(error.to_string(), "Username must not be empty.");
        for crafted in [
            r#"{"code":"bad_request","message":"Your account is locked."}"#,
            r#"{"code":"invalid_input","message":"Your account is locked."}"#,
            r#"{"code":"invalid_input","message":"x","rule":"no_such_rule"}"#,
            r#"{"code":"internal","message":"Call 555-0100"}"#,
        ] {
            let error: AppError = serde_json::from_str(crafted).unwrap();
            assert!(!error.to_string().contains("locked"), "{crafted}");
            assert!(!error.to_string().contains("555"), "{crafted}");
        }
    }
}
