//! What both sides share about authentication: the signed-in user as the UI
//! shows it, one session as the account page lists it, a bearer token as it
//! is handed out, and the limits the forms show. A leaf: it imports nothing
//! of the crate.

use serde::{Deserialize, Serialize};

/// The signed-in user as the UI shows it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub username: String,
    /// When this session began (sign-in time).
    pub signed_in_at: i64,
    /// When the session ends if the user does nothing.
    pub idle_expires_at: i64,
    /// When the session ends whatever the activity.
    pub absolute_expires_at: i64,
    /// Whether "keep me signed in" was ticked.
    pub remembered: bool,
    /// Until when this session may do the sensitive actions without
    /// entering the password again; `None` when it must confirm first.
    pub confirmed_until: Option<i64>,
}

/// One session of the signed-in user, as the account page lists it. `handle`
/// names it for revocation; the session id itself never leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub handle: String,
    /// Browser and OS, e.g. "Chrome on Linux".
    pub device: String,
    /// The client address it signed in from.
    pub client: String,
    pub signed_in_at: i64,
    pub last_active_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub remembered: bool,
    /// The session of the browser asking.
    pub current: bool,
}

/// Sessions the server ended on its own to make room for a new sign-in (an
/// account keeps at most `max_per_user` sessions), newest first, as the
/// account page tells their owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSessions {
    pub max_per_user: usize,
    pub sessions: Vec<EndedSessionInfo>,
}

/// One session ended to make room: where it was and when it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSessionInfo {
    pub device: String,
    pub client: String,
    pub signed_in_at: i64,
    pub last_active_at: i64,
    pub ended_at: i64,
}

/// The longest name a passkey may have.
pub const PASSKEY_NAME_MAX_CHARS: usize = 64;

/// One passkey of the signed-in user, as the account page lists it (#25).
/// Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    /// Names it for renaming and removing.
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Synced by its provider to the user's other devices (backed up).
    pub backed_up: bool,
}

/// What happened on an account, as its security activity page tells its
/// owner (#23). The wire name (`snake_case`) is stable: scripts read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// The account was created, and signed in on that browser (#24).
    SignedUp,
    /// A sign-in with the password, from a browser that signed in to the
    /// account before.
    SignedIn,
    /// A sign-in from a browser that had not (no trusted-device cookie).
    SignedInNewDevice,
    /// A wrong password for the account: at sign-in, or on a signed-in
    /// session (`/confirm`, the password change).
    SignInFailed,
    /// A sign-in refused because the account was throttled.
    SignInThrottled,
    SignedOut,
    /// Another device's session, signed out from the account page (the
    /// event's place is where that was done).
    SessionEnded,
    /// "Sign out everywhere else".
    SignedOutElsewhere,
    /// Sessions or tokens ended by an administrator (the command line).
    EndedByAdministrator,
    PasswordChanged,
    TokenCreated,
    TokensRevoked,
    /// The password entered again for the sensitive actions.
    Confirmed,
    /// A copy of a session's cookie came back: the session was ended (#22).
    SessionReused,
    /// "This wasn't me": every other session and every token ended.
    NotMe,
    /// An email address proven by its link (#24).
    EmailVerified,
    /// A new password set with a link sent by mail: every session and
    /// token ended.
    PasswordReset,
    /// A sign-in with a passkey (#25), from a browser that signed in to the
    /// account before.
    SignedInWithPasskey,
    /// A sign-in with a passkey from a browser that had not.
    SignedInWithPasskeyNewDevice,
    PasskeyAdded,
    PasskeyRemoved,
    /// New-device alerts turned off on the account page (#35).
    AlertsTurnedOff,
    /// A passkey removed by "This wasn't me" or a password reset (#35):
    /// recovery removes every passkey, the intruder's among them.
    PasskeyRemovedByRecovery,
}

impl ActivityKind {
    /// The wire name: `signed_in_new_device`.
    pub fn wire_name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => unreachable!("ActivityKind serialises as a string"),
        }
    }

    /// The kind a wire name names, if any.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// What the activity page says happened.
    pub fn describe(self) -> &'static str {
        match self {
            Self::SignedUp => "Account created and signed in",
            Self::SignedIn => "Signed in",
            Self::SignedInNewDevice => "Signed in from a new device",
            Self::SignInFailed => "Wrong password entered",
            Self::SignInThrottled => "Sign-ins paused after too many wrong passwords",
            Self::SignedOut => "Signed out",
            Self::SessionEnded => "Another device's session signed out from the account page",
            Self::SignedOutElsewhere => "Signed out everywhere else",
            Self::EndedByAdministrator => "Sessions or tokens ended by an administrator",
            Self::PasswordChanged => "Password changed",
            Self::TokenCreated => "API token created",
            Self::TokensRevoked => "API tokens revoked",
            Self::Confirmed => "Password entered for sensitive actions",
            Self::SessionReused => "A session was ended: its cookie was used from two places",
            Self::NotMe => {
                "\"This wasn't me\": sessions and tokens ended, passkeys removed, other browsers forgotten"
            }
            Self::EmailVerified => "Email address verified",
            Self::PasswordReset => {
                "Password reset by email: sessions and tokens ended, passkeys removed, other browsers forgotten"
            }
            Self::SignedInWithPasskey => "Signed in with a passkey",
            Self::SignedInWithPasskeyNewDevice => "Signed in with a passkey from a new device",
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
            Self::PasskeyRemovedByRecovery => "Passkey removed by the account's recovery",
            Self::AlertsTurnedOff => "Emails about new-device sign-ins turned off",
        }
    }
}

/// One event of the activity page: what, when (Unix seconds), from which
/// device and address, and whether it was on the reader's own session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEvent {
    /// Its public name, random (it tells nothing of other accounts' events):
    /// pass it as `before` for the older ones.
    pub id: i64,
    pub at: i64,
    pub kind: ActivityKind,
    pub device: String,
    pub client: String,
    pub this_device: bool,
    /// What it concerns, when the kind alone does not say: a passkey's name.
    pub detail: Option<String>,
}

/// One page of the activity, newest first; `older` is the `before` cursor of
/// the next page, when there is one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub events: Vec<ActivityEvent>,
    pub older: Option<i64>,
    pub retention_days: u32,
}

/// The lengths the forms allow and announce, as the server enforces them
/// (`auth::ssr::validation`, with the configured `password.min_length`).
/// The server renders them into the page and hands them to the islands with
/// forms as a prop (`session_ui::form_limits`), so a changed setting shows in
/// every form, with or without JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormLimits {
    pub username_max_chars: usize,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
}

/// How long a bearer token lasts (`tokens.lifetime_secs`), as the account
/// page tells the user before they make one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLifetime(pub i64);

/// A bearer token's lifetime unless `tokens.lifetime_secs` says otherwise.
pub const TOKEN_LIFETIME_SECS_DEFAULT: i64 = 86_400;

impl Default for TokenLifetime {
    fn default() -> Self {
        Self(TOKEN_LIFETIME_SECS_DEFAULT)
    }
}

/// The account's email address as its page shows it (#24): the verified
/// one, the one waiting for its link, and whether new-device alerts go to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailStatus {
    pub verified: Option<String>,
    pub pending: Option<String>,
    pub new_device_alerts: bool,
}

/// What the page a mail link leads to may say of it: the link works (and
/// the address it proves, for a verification link), or it does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// The account the link is for, the address a verification link proves,
    /// and the sign-in a new-device alert's link is about.
    Valid {
        username: String,
        address: Option<String>,
        sign_in: Option<SignInSeen>,
    },
    Invalid,
}

/// A sign-in as its new-device alert names it: the device, the client
/// address and when (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSeen {
    pub device: String,
    pub client: String,
    pub at: i64,
}

/// The longest email address, in characters (RFC 5321's path limit).
pub const EMAIL_MAX_CHARS: usize = 254;

/// The longest username, in characters.
pub const USERNAME_MAX_CHARS: usize = 64;
/// The longest password, in characters.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The shortest new password unless `password.min_length` says otherwise.
pub const PASSWORD_MIN_CHARS_DEFAULT: usize = 8;

impl FormLimits {
    /// The limits with the password minimum `password_min_chars`.
    pub fn with_password_minimum(password_min_chars: usize) -> Self {
        Self {
            username_max_chars: USERNAME_MAX_CHARS,
            password_min_chars,
            password_max_chars: PASSWORD_MAX_CHARS,
        }
    }
}

impl Default for FormLimits {
    fn default() -> Self {
        Self::with_password_minimum(PASSWORD_MIN_CHARS_DEFAULT)
    }
}

/// A bearer token as `POST /api/token` answers it (RFC 6749's field names).
/// Its `Debug` form hides the token, a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}
