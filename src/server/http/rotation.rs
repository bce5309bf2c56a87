//! Session id rotation as one request sees it (#22). A signed-in session's
//! id is replaced by the first request `interval_secs` after it was issued;
//! the store (`store::sessions`) keeps the replaced id as a hash and says
//! what it is when it comes back. Here, a request's view of the store:
//!
//! - an id that was replaced, presented within the grace (tabs and requests
//!   in flight across a rotation) or before its successor was ever presented
//!   (the answer carrying the new cookie was lost), is served as the
//!   successor, and the answer's cookie names the successor;
//! - an id that comes back after its successor was used, or older than the
//!   id the live one replaced, is a copy in other hands: the store has ended
//!   the session, and the request is anonymous.
//!
//! tower-sessions' `Session` keeps the id it was given, so a request served
//! as the successor saves the successor's record (the record carries its
//! id) and deletes it by the presented id, which this view maps. A request
//! that loaded an id which another request rotated while it ran finds its
//! save refused (the record moved): it is then served as the successor too,
//! so that the race signs no one out, and what it changed is saved onto the
//! successor. Every save writes only what the request changed onto what the
//! store holds at that moment (`store::sessions::merged`), so neither a
//! rotation nor another request's write beside it (the sliding expiry of a
//! page load) undoes it (#35). Residual: two requests that write within one
//! store round trip of each other may still lose the first one's change.

use crate::server::store::{Retired, Sessions, StoreError};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

/// How many rotations racing one request's write it follows to land it.
const MAX_ROTATIONS_FOLLOWED: usize = 3;

/// When a signed-in session's id is replaced, and what happens to the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationRules {
    /// A session's id is replaced by the first request this long after it
    /// was issued; 0: never.
    pub interval_secs: i64,
    /// How long a replaced id still leads to its successor.
    pub grace_secs: i64,
    /// How long a replaced id is kept at most: as long as its session could
    /// live (its absolute lifetime).
    pub keep_retired_secs: i64,
}

impl RotationRules {
    pub const OFF: Self = Self {
        interval_secs: 0,
        grace_secs: 0,
        keep_retired_secs: 0,
    };

    pub fn is_on(&self) -> bool {
        self.interval_secs > 0
    }

    /// Whether a session whose id was issued at `issued_at` gets a new one
    /// at `now`.
    pub fn due(&self, issued_at: i64, now: i64) -> bool {
        self.is_on() && now - issued_at >= self.interval_secs
    }
}

/// What the id a request presented turned out to be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Found {
    /// Itself, or nothing: the request is served as presented.
    #[default]
    AsPresented,
    /// A replaced id that leads to `0`: the request is served as it.
    Successor(Id),
    /// A replaced id in other hands: the session (signed in on `device` from
    /// `client`) has been ended.
    Reused {
        user_id: i64,
        device: String,
        client: String,
    },
}

/// The session store as one request sees it.
#[derive(Debug)]
pub struct RequestStore {
    sessions: Arc<Sessions>,
    rules: RotationRules,
    presented: Option<Id>,
    found: Mutex<Found>,
    /// The record as this request loaded it: what it changed is what
    /// differs from it.
    loaded: Mutex<Option<Record>>,
}

impl RequestStore {
    pub fn new(sessions: Arc<Sessions>, rules: RotationRules, presented: Option<Id>) -> Self {
        Self {
            sessions,
            rules,
            presented,
            found: Mutex::new(Found::AsPresented),
            loaded: Mutex::new(None),
        }
    }

    /// What the presented id turned out to be, once the record was loaded.
    pub fn found(&self) -> Found {
        self.lock().clone()
    }

    fn loaded(&self) -> Option<Record> {
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Found> {
        self.found
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The id a request that presented `id` means: its successor when it is
    /// served as one.
    fn meant(&self, id: &Id) -> Id {
        match &*self.lock() {
            Found::Successor(successor) if Some(*id) == self.presented => *successor,
            _ => *id,
        }
    }
}

#[async_trait]
impl SessionStore for RequestStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.sessions.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let Some(loaded) = self.loaded() else {
            return self.sessions.save(record).await;
        };
        // What this request changed lands on what the store holds now: on
        // another request's write beside it, and on the successor when a
        // rotation moved the session while it ran (#35).
        let mut target = record.id;
        for _ in 0..MAX_ROTATIONS_FOLLOWED {
            if self.sessions.save_changes(&loaded, record, target).await? {
                return Ok(());
            }
            if !self.rules.is_on() {
                break;
            }
            match self
                .sessions
                .retired(&target, self.rules.grace_secs)
                .await?
            {
                Retired::Replaced { successor } => {
                    *self.lock() = Found::Successor(successor);
                    target = successor;
                }
                _ => break,
            }
        }
        Err(StoreError::Ended.into())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let record = self.load_presented(id).await?;
        *self
            .loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = record.clone();
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sessions.delete(&self.meant(id)).await
    }
}

impl RequestStore {
    /// The record the presented `id` leads to, as the module doc says.
    async fn load_presented(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.sessions.load(id).await? {
            return Ok(Some(record));
        }
        if !self.rules.is_on() {
            return Ok(None);
        }
        match self.sessions.retired(id, self.rules.grace_secs).await? {
            Retired::Replaced { successor } => {
                let record = self.sessions.load(&successor).await?;
                if record.is_some() {
                    *self.lock() = Found::Successor(successor);
                }
                Ok(record)
            }
            Retired::Reused {
                user_id,
                device,
                client,
                ..
            } => {
                *self.lock() = Found::Reused {
                    user_id,
                    device,
                    client,
                };
                Ok(None)
            }
            Retired::Unknown => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_due_from_the_interval_on_and_never_when_off() {
        let rules = RotationRules {
            interval_secs: 600,
            grace_secs: 60,
            keep_retired_secs: 86_400,
        };
        assert!(!rules.due(1_000, 1_599));
        assert!(rules.due(1_000, 1_600));
        assert!(!RotationRules::OFF.due(0, i64::MAX));
    }
}
