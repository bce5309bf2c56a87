//! How the session store fails, and how that reads back through
//! tower-sessions (whose errors carry only text): an outage (503), a record
//! ended while the request ran, or a fault of ours.

use fred::error::ErrorKind;
use tower_sessions::session_store;

/// Why the session store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached: the app answers 503.
    #[error("{UNAVAILABLE}{0}")]
    Unavailable(BackendError),
    /// `update` found its record deleted (sign-out, expiry, revocation)
    /// after this request loaded it.
    #[error("the session ended while this request ran")]
    Ended,
    /// The backend refused an operation.
    #[error("session store: {0}")]
    Failed(BackendError),
    /// A record could not be encoded or decoded.
    #[error("session record: {0}")]
    Encoding(String),
}

/// The backend's own error.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error(transparent)]
    Redis(RedisError),
    /// tower-sessions-sqlx-store's error, which carries only text.
    #[error("database: {0}")]
    Text(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if crate::server::store::is_unavailable(&error) {
            Self::Unavailable(BackendError::Database(error))
        } else {
            Self::Failed(BackendError::Database(error))
        }
    }
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(BackendError::Redis(error))
        } else {
            Self::Failed(BackendError::Redis(error))
        }
    }
}

impl StoreError {
    /// Whether the backend could not be reached (an outage), as opposed to an
    /// operation it refused.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// How an outage begins in the text tower-sessions carries (its errors hold
/// only a string); [`SessionFault::of`] reads it back.
const UNAVAILABLE: &str = "session store unavailable: ";

impl From<StoreError> for session_store::Error {
    fn from(error: StoreError) -> Self {
        session_store::Error::Backend(error.to_string())
    }
}

/// What a tower-sessions error says about the store: the one place that reads
/// the text [`StoreError`] became on its way through tower-sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFault {
    /// The store could not be reached ([`StoreError::Unavailable`]).
    Unavailable,
    /// The record was deleted while the request ran ([`StoreError::Ended`]).
    Ended,
    /// Anything else: a fault of ours.
    Other,
}

impl SessionFault {
    pub fn of(error: &tower_sessions::session::Error) -> Self {
        match error {
            tower_sessions::session::Error::Store(error) => Self::of_store(error),
            _ => Self::Other,
        }
    }

    /// The same, for the store's own error (as a `SessionStore` returns it).
    pub fn of_store(error: &session_store::Error) -> Self {
        let session_store::Error::Backend(reason) = error else {
            return Self::Other;
        };
        if reason.starts_with(UNAVAILABLE) {
            Self::Unavailable
        } else if *reason == StoreError::Ended.to_string() {
            Self::Ended
        } else {
            Self::Other
        }
    }
}

/// The Redis backend's own error.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("Redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("Redis is unavailable")]
    Unavailable,
    #[error("a session index entry is unreadable: {0}")]
    Entry(#[from] serde_json::Error),
}

impl RedisError {
    /// Whether Redis could not be reached (as opposed to a command it refused).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable => true,
            Self::Redis(error) => matches!(
                error.kind(),
                ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled
            ),
            Self::Entry(_) => false,
        }
    }
}
