//! The server's error for authentication flows: what went wrong, in detail, for
//! the log; `to_public` gives what the user may see.

use crate::auth::{AppError, InvalidInput};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input: {0}")]
    Invalid(InvalidInput),
    #[error("username already taken")]
    UsernameTaken,
    #[error("email address verified by another account")]
    EmailTaken,
    #[error("mail link unknown, used or expired")]
    LinkInvalid,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("wrong current password")]
    WrongPassword,
    #[error("no signed-in session")]
    SessionEnded,
    #[error("the session was ended: a replaced id of it came back")]
    SessionReused,
    #[error("no such session of this user")]
    UnknownSession,
    #[error("a sensitive action outside the re-authentication window")]
    ReauthRequired,
    #[error("malformed request")]
    BadRequest,
    #[error("throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("holds {max} tokens already; one expires in {retry_after_secs} s")]
    TooManyTokens { max: usize, retry_after_secs: i64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session store error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("session store error: {0}")]
    Store(#[from] crate::server::store::StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("passkey sign-in refused: {0}")]
    PasskeyRefused(&'static str),
    #[error("passkey not added: {0}")]
    PasskeyNotAdded(&'static str),
    #[error("a passkey ceremony asked for from an origin not allowed")]
    PasskeyWrongSite,
    #[error("passkey registered already")]
    PasskeyTaken,
    #[error("no such passkey of this user")]
    UnknownPasskey,
    #[error("holds {max} passkeys already")]
    TooManyPasskeys { max: usize },
    #[error("passkey library: {0}")]
    Passkey(String),
    #[error("no password-hashing thread free in time")]
    Busy { retry_after_secs: i64 },
    #[error("this instance holds no token signing key")]
    NoSigningKey,
}

/// `Retry-After` while the database or the session store is away: a few
/// probes' worth.
pub const OUTAGE_RETRY_AFTER_SECS: i64 = 5;

impl AuthError {
    /// A fault of ours (to be logged as an error), as opposed to a user
    /// mistake or an outage (which the store seam logs once, not per request).
    pub fn is_fault(&self) -> bool {
        !self.is_outage()
            && matches!(
                self,
                AuthError::Database(_)
                    | AuthError::Session(_)
                    | AuthError::Store(_)
                    | AuthError::Hashing(_)
                    | AuthError::Passkey(_)
            )
    }

    /// Whether the database or the session store could not be reached.
    pub fn is_outage(&self) -> bool {
        match self {
            AuthError::Database(error) => crate::server::store::is_unavailable(error),
            AuthError::Store(error) => error.is_unavailable(),
            AuthError::Session(error) => {
                use crate::server::store::SessionFault;
                SessionFault::of(error) == SessionFault::Unavailable
            }
            _ => false,
        }
    }

    pub fn to_public(&self) -> AppError {
        if self.is_outage() {
            return AppError::Unavailable {
                retry_after_secs: OUTAGE_RETRY_AFTER_SECS,
            };
        }
        match self {
            AuthError::Invalid(input) => AppError::Invalid(*input),
            AuthError::UsernameTaken => AppError::UsernameTaken,
            AuthError::EmailTaken => AppError::EmailTaken,
            AuthError::LinkInvalid => AppError::LinkInvalid,
            AuthError::InvalidCredentials => AppError::InvalidCredentials,
            AuthError::WrongPassword => AppError::WrongPassword,
            AuthError::SessionEnded => AppError::SessionEnded,
            AuthError::SessionReused => AppError::SessionReused,
            AuthError::UnknownSession => AppError::UnknownSession,
            AuthError::ReauthRequired => AppError::ReauthRequired,
            AuthError::BadRequest => AppError::BadRequest,
            AuthError::TooManyTokens {
                max,
                retry_after_secs,
            } => AppError::TooManyTokens {
                max: *max,
                retry_after_secs: *retry_after_secs,
            },
            AuthError::Throttled { retry_after_secs } => AppError::TooManyAttempts {
                retry_after_secs: *retry_after_secs,
            },
            AuthError::Busy { retry_after_secs } => AppError::Busy {
                retry_after_secs: *retry_after_secs,
            },
            AuthError::NoSigningKey => AppError::NoTokensHere,
            AuthError::PasskeyRefused(_) => AppError::PasskeyRefused,
            AuthError::PasskeyNotAdded(_) => AppError::PasskeyNotAdded,
            AuthError::PasskeyTaken => AppError::PasskeyTaken,
            AuthError::PasskeyWrongSite => AppError::PasskeyWrongSite,
            AuthError::UnknownPasskey => AppError::UnknownPasskey,
            AuthError::TooManyPasskeys { max } => AppError::TooManyPasskeys { max: *max },
            AuthError::Database(_)
            | AuthError::Session(_)
            | AuthError::Store(_)
            | AuthError::Hashing(_)
            | AuthError::Passkey(_) => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_hide_their_detail_from_the_user() {
        let error = AuthError::Hashing("argon2 said something internal".into());
        assert!(error.is_fault());
        assert_eq!(error.to_public(), AppError::Internal);
        assert!(!error.to_public().to_string().contains("argon2"));
    }

    #[test]
    fn user_mistakes_keep_their_message() {
        let error = AuthError::Invalid(InvalidInput::UsernameEmpty);
        assert!(!error.is_fault());
        assert_eq!(error.to_public().to_string(), "Username must not be empty.");
    }
}
