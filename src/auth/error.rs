//! The error a user sees. Server detail (SQL errors, hashing failures) never
//! travels in it: it is logged once on the server and replaced by `Internal`.

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
    Invalid(String),
    /// The username is already registered (409).
    #[error("That username is already taken.")]
    UsernameTaken,
    /// Unknown user or wrong password; deliberately the same message for both (401).
    #[error("Invalid username or password")]
    InvalidCredentials,
    /// Too many failed sign-ins or sign-ups; try again after the delay (429).
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyAttempts { retry_after_secs: i64 },
    /// The request could not be understood: missing or malformed fields (400).
    #[error("The request was malformed: {0}")]
    BadRequest(String),
    /// Every password-hashing thread stayed busy; try again after the delay (503).
    #[error("The server is busy. Please try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: i64 },
    /// Something failed on the server; the detail is in the server log (500).
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::UsernameTaken => 409,
            AppError::InvalidCredentials => 401,
            AppError::TooManyAttempts { .. } => 429,
            AppError::BadRequest(_) => 400,
            AppError::Busy { .. } => 503,
            AppError::Internal => 500,
        }
    }

    /// How long to wait before trying again, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs }
            | AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// The wire form of an error: a stable `code` for programs and the `message`
/// for people, e.g. `{"code":"invalid_credentials","message":"Invalid username or password"}`.
#[derive(Serialize, Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<i64>,
}

impl From<AppError> for ErrorBody {
    fn from(error: AppError) -> Self {
        let code = match error {
            AppError::Invalid(_) => "invalid_input",
            AppError::UsernameTaken => "username_taken",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::BadRequest(_) => "bad_request",
            AppError::Busy { .. } => "busy",
            AppError::Internal => "internal",
        };
        let retry_after_secs = error.retry_after_secs();
        let message = match &error {
            AppError::Invalid(detail) | AppError::BadRequest(detail) => detail.clone(),
            other => other.to_string(),
        };
        Self {
            code: code.into(),
            message,
            retry_after_secs,
        }
    }
}

impl From<ErrorBody> for AppError {
    fn from(body: ErrorBody) -> Self {
        match body.code.as_str() {
            "invalid_input" => AppError::Invalid(body.message),
            "username_taken" => AppError::UsernameTaken,
            "invalid_credentials" => AppError::InvalidCredentials,
            "bad_request" => AppError::BadRequest(body.message),
            "too_many_attempts" => AppError::TooManyAttempts {
                retry_after_secs: body.retry_after_secs.unwrap_or(60),
            },
            "busy" => AppError::Busy {
                retry_after_secs: body.retry_after_secs.unwrap_or(5),
            },
            _ => AppError::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::Deserialization(detail)
            | ServerFnErrorErr::MissingArg(detail) => AppError::BadRequest(detail),
            // A failed request from the browser (offline, server down) also lands here.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Internal,
            _ => AppError::Internal,
        };
        // Framework errors (bad form fields) are answered here, before our code runs,
        // so this is the one place that can give them their status.
        #[cfg(feature = "ssr")]
        super::ssr::set_error_status(&error);
        error
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
        let error = AppError::Invalid("Username must not be empty.".into());
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(
            json,
            r#"{"code":"invalid_input","message":"Username must not be empty."}"#
        );
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error);
        let json = serde_json::to_string(&AppError::InvalidCredentials).unwrap();
        assert!(json.contains("Invalid username or password"));
        assert_eq!(
            serde_json::from_str::<AppError>(&json).unwrap(),
            AppError::InvalidCredentials
        );
    }

    #[test]
    fn user_mistakes_are_not_server_errors() {
        for error in [
            AppError::Invalid("x".into()),
            AppError::UsernameTaken,
            AppError::BadRequest("x".into()),
        ] {
            assert!((400..500).contains(&error.status()), "{error:?}");
        }
    }
}
