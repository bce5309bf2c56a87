//! The typed session: who is signed in, since when, and the expiry rules.
//!
//! tower-sessions stores one record per session and sets the cookie; this
//! module decides what a record means:
//!
//! - "Keep me signed in": the record and cookie expire `idle_timeout` after the
//!   last activity (sliding), but never later than `absolute_lifetime` after
//!   sign-in. The cookie carries that date as Max-Age.
//! - Not ticked: a browser-session cookie (no Max-Age). tower-sessions keeps
//!   such records for a fixed two weeks, so the idle timeout is enforced here,
//!   from `last_seen`.
//! - Activity moves `last_seen` (and the expiry) at most once per
//!   `refresh_interval`, so a busy user does not write the store on every request.

pub use crate::server::store::{SignedIn, SIGNED_IN_KEY};

use crate::{
    auth::{CurrentUser, SessionInfo},
    server::store::IndexedSession,
};
use time::Duration;
use tower_sessions::{Expiry, Session};

/// A request extension: the session this request presented was ended just
/// now because a replaced id of it came back (a copied cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReusedSession;

/// Where a new session is signed in from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub device: String,
    pub client: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
    pub refresh_interval: Duration,
    /// How long a password entered on this session allows the sensitive
    /// actions (`session.reauth_window_secs`).
    pub reauth_window: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Active,
    /// Active, and old enough that `last_seen` should move.
    Refresh,
    Expired,
}

impl SessionPolicy {
    pub fn verdict(&self, state: &SignedIn, now: i64) -> Verdict {
        if now >= self.idle_deadline(state) {
            Verdict::Expired
        } else if now - state.last_seen >= self.refresh_interval.whole_seconds() {
            Verdict::Refresh
        } else {
            Verdict::Active
        }
    }

    /// When the session ends if nothing more happens: the idle timeout from
    /// the last activity, capped by the absolute lifetime.
    pub fn idle_deadline(&self, state: &SignedIn) -> i64 {
        self.idle_deadline_of(state.signed_in_at, state.last_seen)
    }

    /// The same, from the two times alone (as the session index keeps them).
    pub fn idle_deadline_of(&self, signed_in_at: i64, last_seen: i64) -> i64 {
        let idle = last_seen + self.idle_timeout.whole_seconds();
        idle.min(self.absolute_deadline_of(signed_in_at))
    }

    pub fn absolute_deadline(&self, state: &SignedIn) -> i64 {
        self.absolute_deadline_of(state.signed_in_at)
    }

    fn absolute_deadline_of(&self, signed_in_at: i64) -> i64 {
        signed_in_at + self.absolute_lifetime.whole_seconds()
    }

    /// The record's expiry, which also shapes the cookie.
    pub fn expiry(&self, state: &SignedIn) -> Expiry {
        if state.remember {
            Expiry::AtDateTime(crate::clock::utc(self.idle_deadline(state)))
        } else {
            Expiry::OnSessionEnd
        }
    }

    /// Until when the sensitive actions are allowed on this session without
    /// entering the password again, if they still are at `now`.
    pub fn confirmed_until(&self, state: &SignedIn, now: i64) -> Option<i64> {
        let until = state
            .confirmed_at
            .saturating_add(self.reauth_window.whole_seconds());
        (state.confirmed_at > 0 && now < until).then_some(until)
    }

    pub fn describe(&self, state: &SignedIn, now: i64) -> CurrentUser {
        CurrentUser {
            username: state.username.clone(),
            signed_in_at: state.signed_in_at,
            idle_expires_at: self.idle_deadline(state),
            absolute_expires_at: self.absolute_deadline(state),
            remembered: state.remember,
            confirmed_until: self.confirmed_until(state, now),
        }
    }

    /// One session of the index as the account page shows it.
    pub fn describe_session(&self, indexed: &IndexedSession, current: bool) -> SessionInfo {
        SessionInfo {
            handle: indexed.handle.clone(),
            device: indexed.device.clone(),
            client: indexed.client.clone(),
            signed_in_at: indexed.signed_in_at,
            last_active_at: indexed.last_seen,
            idle_expires_at: self.idle_deadline_of(indexed.signed_in_at, indexed.last_seen),
            absolute_expires_at: self.absolute_deadline_of(indexed.signed_in_at),
            remembered: indexed.remember,
            current,
        }
    }
}

/// Signs `user` in on this session: a new session id (no fixation), the signed-in
/// state with a new handle, and the expiry that "keep me signed in" asks for.
pub async fn start(
    session: &Session,
    policy: &SessionPolicy,
    now: i64,
    user_id: i64,
    username: &str,
    remember: bool,
    origin: Origin,
) -> Result<SignedIn, tower_sessions::session::Error> {
    let state = SignedIn {
        user_id,
        username: username.to_string(),
        remember,
        signed_in_at: now,
        last_seen: now,
        handle: super::random::token(),
        device: origin.device,
        client: origin.client,
        id_issued_at: now,
        id_presented: true,
        confirmed_at: now,
    };
    renew(session, policy, &state).await?;
    Ok(state)
}

/// Moves `state` to a new session id (the old record is deleted), as after a
/// password change: the same session, under an id nobody else has seen.
pub async fn renew(
    session: &Session,
    policy: &SessionPolicy,
    state: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.clear().await;
    write(session, policy, state).await
}

/// Keeps this session past the browser's closing, as "keep me signed in"
/// would have at sign-in: the same record and id, now with a dated cookie.
/// The server's idle timeout and cap stay as they were.
pub async fn keep(
    session: &Session,
    policy: &SessionPolicy,
    state: &SignedIn,
) -> Result<SignedIn, tower_sessions::session::Error> {
    let state = SignedIn {
        remember: true,
        ..state.clone()
    };
    write(session, policy, &state).await?;
    Ok(state)
}

/// Writes `state` into the session with the expiry it calls for.
async fn write(
    session: &Session,
    policy: &SessionPolicy,
    state: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.insert(SIGNED_IN_KEY, state).await?;
    session.set_expiry(Some(policy.expiry(state)));
    Ok(())
}

/// Ends the session: the record is deleted on the server and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// Who is signed in on this request at `now`, applying the expiry rules: an expired
/// session is deleted and answers anonymous; an active one slides its expiry
/// when the refresh interval has passed. A record that cannot be read as
/// `SignedIn` is treated as anonymous and removed.
pub async fn resolve(
    session: &Session,
    policy: &SessionPolicy,
    now: i64,
) -> Result<Option<SignedIn>, tower_sessions::session::Error> {
    let state = match session.get::<SignedIn>(SIGNED_IN_KEY).await {
        Ok(Some(state)) => state,
        Ok(None) => return Ok(None),
        Err(tower_sessions::session::Error::SerdeJson(_)) => {
            session.flush().await?;
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    match policy.verdict(&state, now) {
        Verdict::Active => Ok(Some(state)),
        Verdict::Refresh => {
            let state = SignedIn {
                last_seen: now,
                ..state
            };
            write(session, policy, &state).await?;
            Ok(Some(state))
        }
        Verdict::Expired => {
            session.flush().await?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn policy() -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::days(1),
            absolute_lifetime: Duration::days(30),
            refresh_interval: Duration::minutes(1),
            reauth_window: Duration::minutes(15),
        }
    }

    fn signed_in(remember: bool, signed_in_at: i64, last_seen: i64) -> SignedIn {
        SignedIn {
            user_id: 1,
            username: "alice".into(),
            remember,
            signed_in_at,
            last_seen,
            handle: "0".repeat(32),
            device: "Firefox on Linux".into(),
            client: "127.0.0.1".into(),
            id_issued_at: signed_in_at,
            id_presented: true,
            confirmed_at: signed_in_at,
        }
    }

    #[test]
    fn fresh_activity_is_active_without_a_write() {
        let state = signed_in(true, 1_000, 1_000);
        assert_eq!(policy().verdict(&state, 1_030), Verdict::Active);
    }

    #[test]
    fn activity_after_the_refresh_interval_slides_the_expiry() {
        let state = signed_in(true, 1_000, 1_000);
        assert_eq!(policy().verdict(&state, 1_060), Verdict::Refresh);
        assert_eq!(policy().idle_deadline(&state), 1_000 + DAY);
    }

    #[test]
    fn idle_longer_than_the_timeout_expires_with_or_without_remember() {
        for remember in [true, false] {
            let state = signed_in(remember, 0, 0);
            assert_eq!(policy().verdict(&state, DAY - 1), Verdict::Refresh);
            assert_eq!(policy().verdict(&state, DAY), Verdict::Expired);
        }
    }

    #[test]
    fn the_absolute_lifetime_caps_even_a_busy_session() {
        let state = signed_in(true, 0, 30 * DAY - 10);
        assert_eq!(policy().idle_deadline(&state), 30 * DAY);
        assert_eq!(policy().verdict(&state, 30 * DAY), Verdict::Expired);
    }

    #[test]
    fn remember_me_chooses_a_dated_cookie_otherwise_a_browser_session_cookie() {
        let remembered = signed_in(true, 0, 0);
        assert_eq!(
            policy().expiry(&remembered),
            Expiry::AtDateTime(crate::clock::utc(DAY))
        );
        let not_remembered = signed_in(false, 0, 0);
        assert_eq!(policy().expiry(&not_remembered), Expiry::OnSessionEnd);
    }

    #[test]
    fn a_password_entered_allows_sensitive_actions_for_the_window_only() {
        let state = signed_in(true, 1_000, 1_000);
        assert_eq!(policy().confirmed_until(&state, 1_000), Some(1_900));
        assert_eq!(policy().confirmed_until(&state, 1_899), Some(1_900));
        assert_eq!(policy().confirmed_until(&state, 1_900), None);
        let never = SignedIn {
            confirmed_at: 0,
            ..state
        };
        assert_eq!(policy().confirmed_until(&never, 1), None);
    }

    #[test]
    fn the_dashboard_description_shows_both_deadlines() {
        let user = policy().describe(&signed_in(true, 0, 0), 0);
        assert_eq!(user.signed_in_at, 0);
        assert_eq!(user.idle_expires_at, DAY);
        assert_eq!(user.absolute_expires_at, 30 * DAY);
    }
}
