//! The part of a session record the store reads: the signed-in state, which
//! it indexes by user (the account page's list, revocation by handle). The
//! store owns this schema; the authentication rules (`auth::ssr::session`)
//! decide what it means.

use serde::{Deserialize, Serialize};

/// The key of the signed-in state in a session record: the records that
/// carry it are the ones the store indexes by user.
pub const SIGNED_IN_KEY: &str = "signed_in";

/// The signed-in state kept in the session record. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: i64,
    pub username: String,
    pub remember: bool,
    pub signed_in_at: i64,
    pub last_seen: i64,
    /// This session's public name on the account page and in the API (a
    /// random token); the session id itself never leaves the server.
    pub handle: String,
    /// Browser and OS, from the User-Agent at sign-in.
    pub device: String,
    /// The client's IP address at sign-in.
    pub client: String,
    /// When the session's current id was issued (at sign-in or by rotation).
    /// Records from before rotation have 0.
    #[serde(default)]
    pub id_issued_at: i64,
    /// Whether a request has presented the current id. False from a
    /// rotation until then: while it is, the id it replaced still leads to
    /// it (the browser may never have stored the new cookie).
    #[serde(default = "presented")]
    pub id_presented: bool,
    /// When the user last entered their password on this session (the
    /// sign-in or `/confirm`), or last did a sensitive action inside the
    /// window it opened. Records from before re-authentication have 0:
    /// never confirmed.
    #[serde(default)]
    pub confirmed_at: i64,
}

fn presented() -> bool {
    true
}
