//! Authentication as both sides see it: the signed-in user, the error a form
//! shows, the password wrapper, and the server functions.
//!
//! The server functions have fixed endpoints and take form-encoded bodies, like
//! a plain HTML form, so the forms work with and without JavaScript:
//!
//! | endpoint             | fields                                                  | success                         |
//! |----------------------|---------------------------------------------------------|---------------------------------|
//! | `POST /api/register` | `username`, `password`, `email`?, `remember=on`?        | redirect to `/dashboard` (`?check_inbox=1` with `email`), signed in |
//! | `POST /api/login`    | `username`, `password`, `remember=on`?, `next`?         | redirect to `next` or `/dashboard` |
//! | `POST /api/logout`   | none                                                    | redirect to `/login?signed_out=1` |
//! | `POST /api/me`       | none                                                    | the current user, or `null`     |
//! | `POST /api/sessions` | none                                                    | the user's sessions (JSON)      |
//! | `POST /api/sessions/revoke` | `session` (a handle) or `others=on`              | redirect to `/account?signed_out=…` |
//! | `POST /api/sessions/keep` | none                                               | redirect to `/dashboard?kept=1`, the cookie now dated |
//! | `POST /api/sessions/ended` | none                                              | the sessions ended to make room (JSON `EndedSessions`) |
//! | `POST /api/password` | `current_password`, `new_password`, `confirm_password`? | redirect to `/account?password_changed=1` |
//! | `POST /api/confirm`  | `password`, `next`?                                     | redirect to `next` or `/account` |
//! | `POST /api/confirm/end` | none                                                 | redirect to `/account`          |
//! | `POST /api/activity` | `before`?                                               | a page of the user's security activity (JSON `ActivityPage`) |
//! | `POST /api/activity/not-me` | none                                             | redirect to `/account?not_me=1#password-heading` |
//! | `POST /api/account/delete` | `username` (typed again)                          | redirect to `/?deleted=1`, signed out |
//! | `POST /api/token`    | `username`, `password`                                  | a bearer token (JSON `TokenAnswer`) |
//! | `POST /api/tokens`   | none                                                    | how many tokens the user holds  |
//! | `POST /api/tokens/new` | none                                                  | a bearer token (JSON `TokenAnswer`) |
//! | `POST /api/tokens/revoke` | none                                               | how many tokens were revoked    |
//! | `POST /api/email`    | `email`                                                 | redirect to `/account?email_sent=1` |
//! | `POST /api/email/resend` | none                                                | redirect to `/account?email_sent=1` |
//! | `POST /api/email/verify` | `token`? (else the link the session holds)          | redirect to `/email/verify?done=1` |
//! | `POST /api/email/status` | none                                                | the account's addresses (JSON `EmailStatus`) |
//! | `POST /api/email/link` | none                                                  | whether the followed verification link works (`LinkState`) |
//! | `POST /api/password/forgot` | `login`                                          | redirect to `/password/forgot?sent=1`, whoever is named |
//! | `POST /api/password/reset` | `token`?, `new_password`, `confirm_password`?, `remember=on`? | redirect to `/dashboard`, signed in |
//! | `POST /api/password/reset/link` | none                                         | whether the followed reset link works (`LinkState`) |
//! | `POST /api/email/alerts` | `enabled=on`?                                       | redirect to `/account?alerts_saved=1#email-heading` |
//! | `POST /api/alerts/not-me` | `token`?                                           | redirect to `/password/reset` |
//! | `POST /api/alerts/not-me/link` | none                                          | whether the followed alert link works (`LinkState`) |
//! | `POST /api/passkeys/sign-in/options` | none                                    | options for `navigator.credentials.get` (JSON text) |
//! | `POST /api/passkeys/sign-in` | `credential` (JSON), `remember=on`?, `next`?    | the page to go on to: `next` or `/dashboard` |
//! | `POST /api/passkeys` | none                                                    | the user's passkeys (JSON `PasskeyInfo` list) |
//! | `POST /api/passkeys/new/options` | none                                        | options for `navigator.credentials.create` (JSON text) |
//! | `POST /api/passkeys/new` | `credential` (JSON), `name`?                        | the passkey added (JSON `PasskeyInfo`) |
//! | `POST /api/passkeys/rename` | `id`, `name`                                     | redirect to `/account?passkeys_saved=1` |
//! | `POST /api/passkeys/remove` | `id`                                             | redirect to `/account?passkeys_saved=1` |
//!
//! `/api/sessions…`, `/api/password` and `/api/tokens…` need a live session:
//! without one they answer 401 `session_ended` and send the browser to
//! `/login?ended=1`. Creating a token, revoking them and signing out
//! everywhere else are sensitive: outside the re-authentication window they
//! answer 403 `reauth_required`, change nothing, and send the browser to
//! `/confirm?for=<the action's path>&next=<the page>`; that page names
//! the action and leads back to its form (`sensitive`). Adding, renaming and removing a passkey are sensitive too. `GET /api/me` (a bearer token or the session) is a plain
//! handler in `server::api`.
//!
//! The server functions (`server_fns`) are each a few lines over `ssr`, where
//! the rules live and are unit-tested; `types`, `error` and `password` are what
//! both sides share.

mod error;
mod password;
mod sensitive;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
mod types;

pub use error::{AppError, InvalidInput};
pub use password::Password;
pub use sensitive::{SensitiveAction, SENSITIVE_ACTIONS};
pub use server_fns::*;
pub use types::{
    ActivityEvent, ActivityKind, ActivityPage, CurrentUser, EmailStatus, EndedSessionInfo,
    EndedSessions, FormLimits, LinkState, PasskeyInfo, SessionInfo, SignInSeen, TokenAnswer,
    TokenLifetime, EMAIL_MAX_CHARS, PASSKEY_NAME_MAX_CHARS, PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS_DEFAULT, TOKEN_LIFETIME_SECS_DEFAULT, USERNAME_MAX_CHARS,
};
