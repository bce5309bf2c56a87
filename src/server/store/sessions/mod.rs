//! Session records and the index from users to their sessions: one contract,
//! [`SessionBackend`], with one implementation per backend (`sql`: SQLite and
//! PostgreSQL, in tower-sessions-sqlx-store's table; `redis`), and
//! [`Sessions`], the value the app holds, which speaks tower-sessions'
//! `SessionStore` to the session layer over whichever backend runs.
//!
//! The rules every backend keeps (the store-agnostic suite in `tests.rs`
//! proves them on each):
//! - a record is stored in one encoding (MessagePack of the whole record,
//!   `encode`/`decode` here) with its expiry, and a read past that expiry
//!   finds nothing;
//! - `update` only ever writes a record that still exists. tower-sessions'
//!   own save is an insert-or-update, so a request that loaded a session
//!   before a sign-out deleted it and saved after (a sliding refresh) brought
//!   the session back; here that save changes nothing and fails with
//!   [`StoreError::Ended`], and the session layer clears the cookie;
//! - a record that carries the signed-in state (`record::SignedIn`) is indexed
//!   by its user in the same atomic step that writes it; deleting the record
//!   (sign-out, expiry, revocation, the purge) takes its index entry along;
//! - revocation names a session by its public handle, so nothing outside the
//!   seam ever holds another session's id;
//! - a user has at most `max_per_user` live signed-in sessions: the write
//!   that creates one more ends the least recently active ones in the same
//!   atomic step (taking its turn per user on every instance), and keeps a
//!   note of each ([`EndedSession`]) for its owner's account page;
//! - a signed-in session's id may be rotated: the record moves to a new id
//!   with its index entry, exactly once per id whatever runs at once, and the
//!   old id is kept only as a hash, with its session, to say what it was
//!   when it comes back ([`Retired`]): a way to the successor (within the
//!   grace, or while the successor was never presented), or a reuse, which
//!   ends the session in the same atomic step;
//! - a user about to be deleted has every session ended for good
//!   (`end_user`): a sign-in of theirs still in flight stores nothing after
//!   it, and its create fails with [`StoreError::Ended`] (on SQL, once the
//!   user's row is gone, which the index refers to; on Redis, from a marker
//!   the same script sets).
//!
//! Expired records are deleted by the backend itself (Redis) or by the purge
//! (`purge`), on the server's clock.

mod error;
mod purge;
mod redis;
mod sql;
#[cfg(test)]
mod tests;

pub use error::{BackendError, RedisError, SessionFault, StoreError};
pub use purge::{purge_continuously, purge_now};
pub use redis::RedisSessions;
pub use sql::SqlSessions;

use super::{health::Health, record::SignedIn, record::SIGNED_IN_KEY};
use crate::clock::Clock;
use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

/// One signed-in session as the index keeps it: what its owner sees on the
/// account page. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexedSession {
    pub handle: String,
    pub device: String,
    pub client: String,
    pub remember: bool,
    pub signed_in_at: i64,
    pub last_seen: i64,
}

/// A session the server ended on its own (to make room for a new sign-in
/// past the limit per user), as its owner is told. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct EndedSession {
    pub device: String,
    pub client: String,
    pub signed_in_at: i64,
    pub last_seen: i64,
    pub ended_at: i64,
}

/// How long, and how many, notes of ended sessions are kept per user.
pub const ENDED_KEPT_SECS: i64 = 30 * 86_400;
pub const ENDED_KEPT_MAX: usize = 20;

/// How long a store that cannot refer to the user's row (Redis) remembers
/// that a user was deleted, refusing their sign-ins still in flight: far
/// longer than a sign-in takes (its password hash waits a few seconds at
/// most), and ids are never given out again.
pub const GONE_KEPT_SECS: i64 = 86_400;

/// What became of an id presented that has no live record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retired {
    /// No live session knows it: never issued, expired, or its session ended.
    Unknown,
    /// The id the live id `successor` replaced, presented within the grace
    /// or while `successor` was never presented (its answer was lost): the
    /// browser gets `successor`.
    Replaced { successor: Id },
    /// Presented after its successor was used, or older than the id the
    /// live one replaced: someone else holds a copy. The session (signed in
    /// on `device` from `client`) has ended.
    Reused {
        user_id: i64,
        handle: String,
        device: String,
        client: String,
    },
}

/// A retired id as the backend keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredId {
    /// The id that replaced it: live, or retired in turn.
    pub successor: Id,
    pub retired_at: i64,
    pub user_id: i64,
    pub handle: String,
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The session lives on under the new id; the old one is retired.
    Rotated,
    /// Another request rotated the old id first: the session lives on under
    /// `successor`, and nothing was written.
    AlreadyRotated { successor: Id },
    /// The old id is no live session (it ended meanwhile).
    Gone,
    /// The new id is taken (128 random bits: in theory): nothing was written.
    IdTaken,
    /// The old record is no longer the one the move was made from (a request
    /// wrote it meanwhile): nothing was written; read it again (#35).
    Changed,
}

/// What a conditional update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// The record holds something else now: nothing was written.
    Changed,
    /// The record is gone: nothing was written.
    Gone,
}

/// Whether the record a rotation or an update read is still what the store
/// holds: the same data and expiry (the encoding's key order may differ).
pub(super) fn unchanged(read: &Record, stored: &Record) -> bool {
    read.data == stored.data && read.expiry_date == stored.expiry_date
}

/// How often a rotation reads the record again when requests write it
/// meanwhile, before it leaves the id to a later request.
const ROTATION_TRIES: usize = 4;

/// How often a request's write is merged again onto a record that other
/// requests write at the same moment.
const SAVE_TRIES: usize = 8;

/// The hash a retired id is kept as: blake2s-256, in hex.
fn id_hash(id: &Id) -> String {
    crate::digest::secret_hash(&id.to_string())
}

/// Which records a write may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new record: nothing is written when its id is taken. A signed-in
    /// record leaves its user at most `max_per_user` live sessions (0: no
    /// limit), ending the least recently active others, at `now` (Unix
    /// seconds).
    Create { max_per_user: usize, now: i64 },
    /// A record that still exists: nothing is written when it is gone.
    Update,
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// Nothing: the id was taken (create) or the record gone (update).
    Nothing,
    /// The record, and the sessions it ended to make room (least recently
    /// active first).
    Stored { made_room: Vec<EndedSession> },
}

/// What a backend keeps: records, their index by user, their expiry.
#[async_trait]
pub trait SessionBackend: std::fmt::Debug + Send + Sync + 'static {
    /// Writes `record` as `mode` allows, with its index entry when
    /// `signed_in` (moving it on an update), and on a create the sessions it
    /// ends to keep the user within the limit and their notes, in one atomic
    /// step.
    async fn write(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        mode: Write,
    ) -> Result<Written, StoreError>;

    /// Moves the live signed-in session `old` to `record` (a new id, the same
    /// signed-in state `signed_in`, its index entry moved along) and retires
    /// `old` at `now`, kept until `retired_until` (Unix seconds) at the
    /// latest; exactly one successor per id, whatever runs at once. Only
    /// while `old` still holds `read` (the record `record` was made from):
    /// else `Changed`, so that no write made meanwhile is lost.
    async fn rotate(
        &self,
        old: &Id,
        read: &Record,
        record: &Record,
        signed_in: &SignedIn,
        now: i64,
        retired_until: i64,
    ) -> Result<Rotation, StoreError>;

    /// Updates the record `record.id` (and its index entry) only while it
    /// still holds `expected`, the record `record` was merged onto: one
    /// step, so that no write made meanwhile is overwritten (#35).
    async fn replace(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        expected: &Record,
    ) -> Result<Replaced, StoreError>;

    /// The retired id `id`, while its session lives (or until the session
    /// could have ended, for a backend that cannot tell).
    async fn retired_id(&self, id: &Id) -> Result<Option<RetiredId>, StoreError>;

    /// The notes of `user_id`'s sessions ended by the server since `since`
    /// (Unix seconds), newest first, at most [`ENDED_KEPT_MAX`].
    async fn ended_sessions_of(
        &self,
        user_id: i64,
        since: i64,
    ) -> Result<Vec<EndedSession>, StoreError>;

    /// The record `id`, if there is one (expired or not: [`Sessions`] checks).
    async fn read(&self, id: &Id) -> Result<Option<Record>, StoreError>;

    /// Deletes record `id` and its index entry.
    async fn delete(&self, id: &Id) -> Result<(), StoreError>;

    /// The sessions of `user_id` whose record has not expired at `now`, most
    /// recently active first.
    async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, StoreError>;

    /// Ends the session of `user_id` named `handle`; `false` when the user has
    /// no such session (whether or not another user has).
    async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, StoreError>;

    /// Ends every session of `user_id` but the one named `keep` (all when
    /// `None`); how many ended.
    async fn revoke_all_but(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError>;

    /// Ends every session of `user_id` and their notes, because the user is
    /// being deleted: how many live ones ended. A signed-in create for the
    /// user after this fails with [`StoreError::Ended`] and stores nothing:
    /// Redis keeps a marker for [`GONE_KEPT_SECS`]; on SQL the index row of
    /// such a create refers to a user row that is gone (the caller deletes
    /// it, and calls this again should a create have come between).
    async fn end_user(&self, user_id: i64) -> Result<u64, StoreError>;

    /// Deletes the records that expired before `now`, and the notes of ended
    /// sessions older than [`ENDED_KEPT_SECS`]; how many records went. A
    /// backend that expires records itself has nothing to do.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Whether the backend deletes expired records itself (Redis).
    fn expires_records_itself(&self) -> bool {
        false
    }

    /// Whether the backend answers, as this process last found it.
    fn health(&self) -> &Health;

    /// Closes the backend's own connections (the database is closed by its
    /// owner).
    async fn close(&self) {}
}

/// The one encoding of a record in every backend: MessagePack of the whole
/// record, as tower-sessions' own stores write it.
fn encode(record: &Record) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec(record).map_err(|error| StoreError::Encoding(error.to_string()))
}

fn decode(data: &[u8]) -> Result<Record, StoreError> {
    rmp_serde::from_slice(data).map_err(|error| StoreError::Encoding(error.to_string()))
}

/// What a request that loaded `loaded` and leaves `mine` writes when the
/// store meanwhile holds `current` (another request's write, or a rotation
/// that moved the session to `current.id`): `current`, with what this
/// request changed. A value is compared key by key, and a JSON object (the
/// signed-in state) field by field, so a request that only slid the expiry
/// does not undo what another request set beside it (#35).
fn merged(loaded: &Record, mine: &Record, current: &Record) -> Record {
    let mut merged = current.clone();
    for (key, value) in &mine.data {
        let before = loaded.data.get(key);
        if before == Some(value) {
            continue;
        }
        let value = match (before, value, current.data.get(key)) {
            (
                Some(serde_json::Value::Object(before)),
                serde_json::Value::Object(mine),
                Some(serde_json::Value::Object(now)),
            ) => {
                let mut fields = now.clone();
                for (field, value) in mine {
                    if before.get(field) != Some(value) {
                        fields.insert(field.clone(), value.clone());
                    }
                }
                fields.retain(|field, _| mine.contains_key(field) || !before.contains_key(field));
                serde_json::Value::Object(fields)
            }
            _ => value.clone(),
        };
        merged.data.insert(key.clone(), value);
    }
    merged
        .data
        .retain(|key, _| mine.data.contains_key(key) || !loaded.data.contains_key(key));
    if mine.expiry_date != loaded.expiry_date {
        merged.expiry_date = mine.expiry_date;
    }
    merged
}

/// A record read from the store, unless past its expiry (as tower-sessions'
/// own stores: such a record is not there).
fn live(record: Option<Record>) -> Option<Record> {
    record.filter(|record| record.expiry_date > OffsetDateTime::now_utc())
}

/// The signed-in state a record carries, if any: what the index is made of.
fn signed_in(record: &Record) -> Option<SignedIn> {
    let value = record.data.get(SIGNED_IN_KEY)?;
    match serde_json::from_value(value.clone()) {
        Ok(state) => Some(state),
        Err(error) => {
            tracing::warn!(error = %error, "a session record's signed-in state is unreadable; not indexed");
            None
        }
    }
}

/// The application's session store: the backend the settings chose, as the
/// session layer (tower-sessions' `SessionStore`) and the account pages (the
/// index, revocation) use it.
#[derive(Clone, Debug)]
pub struct Sessions {
    backend: Arc<dyn SessionBackend>,
    /// Live signed-in sessions per user at most; 0: no limit.
    max_per_user: usize,
    clock: Clock,
}

impl Sessions {
    /// Without a limit per user, on the system's clock.
    pub fn new(backend: impl SessionBackend) -> Self {
        Self {
            backend: Arc::new(backend),
            max_per_user: 0,
            clock: Clock::default(),
        }
    }

    /// At most `max_per_user` live signed-in sessions per user (0: no limit),
    /// counted on `clock`.
    pub fn with_max_per_user(self, max_per_user: usize, clock: Clock) -> Self {
        Self {
            max_per_user,
            clock,
            ..self
        }
    }

    /// Moves the live signed-in session `old` to a new id (see
    /// [`SessionBackend::rotate`]), its id issued now and not yet presented;
    /// the new id when it moved or another request moved it first, `None`
    /// when the session is gone.
    pub async fn rotate(&self, old: &Id, retired_until: i64) -> Result<Option<Id>, StoreError> {
        for _ in 0..ROTATION_TRIES {
            let Some(record) = self.backend.read(old).await? else {
                return self.successor_of(old).await;
            };
            let Some(mut state) = signed_in(&record) else {
                return Err(StoreError::Encoding(
                    "only a signed-in session rotates".into(),
                ));
            };
            state.id_issued_at = self.clock.now();
            state.id_presented = false;
            let mut moved = record.clone();
            let value = serde_json::to_value(&state)
                .map_err(|error| StoreError::Encoding(error.to_string()))?;
            moved.data.insert(SIGNED_IN_KEY.to_string(), value);
            loop {
                moved.id = Id::default();
                match self
                    .backend
                    .rotate(
                        old,
                        &record,
                        &moved,
                        &state,
                        self.clock.now(),
                        retired_until,
                    )
                    .await?
                {
                    Rotation::Rotated => return Ok(Some(moved.id)),
                    Rotation::AlreadyRotated { successor } => return Ok(Some(successor)),
                    Rotation::Gone => return Ok(None),
                    Rotation::IdTaken => continue,
                    Rotation::Changed => break,
                }
            }
        }
        // Written to on every try: the session keeps its id for now, and a
        // later request rotates it.
        Ok(None)
    }

    /// Writes onto the record `target` what a request changed: `mine`, as
    /// it leaves the record it loaded as `loaded` (`merged`), compared with
    /// what the store holds at each try and written only while it still
    /// holds that. `false` when `target` is no live record; unavailable
    /// (503, to retry) when other requests wrote it at every try, so that a
    /// write is never lost nor forced over theirs.
    pub async fn save_changes(
        &self,
        loaded: &Record,
        mine: &Record,
        target: Id,
    ) -> Result<bool, StoreError> {
        for _ in 0..SAVE_TRIES {
            let Some(current) = live(self.backend.read(&target).await?) else {
                return Ok(false);
            };
            let mut record = merged(loaded, mine, &current);
            record.id = target;
            let state = signed_in(&record);
            match self
                .backend
                .replace(&record, state.as_ref(), &current)
                .await?
            {
                Replaced::Done => return Ok(true),
                Replaced::Gone => return Ok(false),
                Replaced::Changed => continue,
            }
        }
        Err(StoreError::Unavailable(BackendError::Text(
            "a session record written by too many requests at once".into(),
        )))
    }

    /// The id that replaced `id`, if it was rotated.
    async fn successor_of(&self, id: &Id) -> Result<Option<Id>, StoreError> {
        Ok(self
            .backend
            .retired_id(id)
            .await?
            .map(|retired| retired.successor))
    }

    /// What the presented `id`, which has no live record, was, with a grace
    /// of `grace_secs` after its rotation. The id a live session replaced
    /// leads to it within the grace, and after it while no request has
    /// presented the new id; any other retired id of a live session is a
    /// reuse, and the session ends (whichever id it has by then).
    pub async fn retired(&self, id: &Id, grace_secs: i64) -> Result<Retired, StoreError> {
        let Some(retired) = self.backend.retired_id(id).await? else {
            return Ok(Retired::Unknown);
        };
        let now = self.clock.now();
        let successor = self.backend.read(&retired.successor).await?;
        let live = successor.filter(|record| record.expiry_date > self.clock.now_utc());
        if let Some(state) = live.as_ref().and_then(signed_in) {
            if now < retired.retired_at + grace_secs || !state.id_presented {
                return Ok(Retired::Replaced {
                    successor: retired.successor,
                });
            }
        }
        let owner = self
            .backend
            .sessions_of(retired.user_id, self.clock.now_utc())
            .await?
            .into_iter()
            .find(|session| session.handle == retired.handle);
        match owner {
            Some(owner)
                if self
                    .backend
                    .revoke(retired.user_id, &retired.handle)
                    .await? =>
            {
                Ok(Retired::Reused {
                    user_id: retired.user_id,
                    handle: retired.handle,
                    device: owner.device,
                    client: owner.client,
                })
            }
            _ => Ok(Retired::Unknown),
        }
    }

    /// Live signed-in sessions per user at most; 0: no limit.
    pub fn max_per_user(&self) -> usize {
        self.max_per_user
    }

    /// The notes of the sessions of `user_id` that the server ended within
    /// the last [`ENDED_KEPT_SECS`], newest first.
    pub async fn ended_sessions_of(&self, user_id: i64) -> Result<Vec<EndedSession>, StoreError> {
        let since = self.clock.now() - ENDED_KEPT_SECS;
        self.backend.ended_sessions_of(user_id, since).await
    }

    /// The live sessions of `user_id` at `now`, most recently active first.
    pub async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, StoreError> {
        self.backend.sessions_of(user_id, now).await
    }

    /// Ends the session of `user_id` named `handle`; `false` when the user has
    /// no such session.
    pub async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        self.backend.revoke(user_id, handle).await
    }

    /// Ends every session of `user_id` except the one named `keep` (all of
    /// them when `None`), and returns how many ended.
    pub async fn revoke_all_but(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.backend.revoke_all_but(user_id, keep).await
    }

    /// Ends every session of `user_id` for good, as their account is deleted
    /// (see [`SessionBackend::end_user`]); how many live ones ended.
    pub async fn end_user(&self, user_id: i64) -> Result<u64, StoreError> {
        self.backend.end_user(user_id).await
    }

    /// Deletes every record that expired before `now`; how many went.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.backend.purge_expired(now).await
    }

    /// Whether the store deletes expired records itself (Redis), so that
    /// `purge_expired` has nothing to do.
    pub fn expires_records_itself(&self) -> bool {
        self.backend.expires_records_itself()
    }

    /// Whether the store answers, as this process last found it.
    pub fn health(&self) -> &Health {
        self.backend.health()
    }

    /// Closes the store's own connections.
    pub async fn close(&self) {
        self.backend.close().await;
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let signed_in = signed_in(record);
        let mode = Write::Create {
            max_per_user: self.max_per_user,
            now: self.clock.now(),
        };
        // A new id until one is free (a collision of 128 random bits is
        // theoretical, but an existing record must never be overwritten).
        loop {
            match self.backend.write(record, signed_in.as_ref(), mode).await? {
                Written::Nothing => record.id = Id::default(),
                Written::Stored { made_room } => {
                    if let Some(state) = &signed_in {
                        audit_made_room(state, &made_room, self.max_per_user);
                    }
                    return Ok(());
                }
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let signed_in = signed_in(record);
        match self
            .backend
            .write(record, signed_in.as_ref(), Write::Update)
            .await?
        {
            Written::Stored { .. } => Ok(()),
            Written::Nothing => Err(StoreError::Ended.into()),
        }
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        Ok(live(self.backend.read(session_id).await?))
    }

    /// Deletes the record, and the session under its new id if a rotation
    /// moved it while the deleting request ran (a sign-out that loaded the
    /// old id must not leave the moved session open).
    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.backend.delete(session_id).await?;
        if let Some(moved) = self.backend.retired_id(session_id).await? {
            self.backend.revoke(moved.user_id, &moved.handle).await?;
        }
        Ok(())
    }
}

/// One audit line per session ended to make room for the sign-in `state`.
fn audit_made_room(state: &SignedIn, made_room: &[EndedSession], max_per_user: usize) {
    for ended in made_room {
        tracing::info!(
            target: "audit",
            event = "session_ended",
            reason = "session_limit",
            user_id = state.user_id,
            max_per_user,
            ended_device = ended.device.as_str(),
            ended_client = ended.client.as_str(),
            ended_last_seen = ended.last_seen,
            client = state.client.as_str(),
            outcome = "success"
        );
    }
}
