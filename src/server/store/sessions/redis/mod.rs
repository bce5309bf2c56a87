//! Session records and their index in Redis (`SESSION_STORE=redis`), the
//! origin article's third method: every instance reads and writes the same
//! records, and Redis expires each one itself.
//!
//! Keys, all under the configured prefix `P` (`session:` by default):
//! - `P{id}`: the record, in tower-sessions-redis-store's encoding (MessagePack
//!   of the whole record) with Redis's expiry at the record's (`EXAT`);
//! - `Puser:{user_id}`: the index of that user's signed-in sessions, a hash
//!   from each session's public handle to its entry (the session id and what
//!   the account page shows), expiring with the user's last session;
//! - `Pended:{user_id}`: notes of the sessions ended to make room;
//! - `Pgone:{user_id}`: the marker of a deleted user, whose sign-ins still in
//!   flight must store nothing.
//!
//! tower-sessions-redis-store itself is not used: it has no key prefix, its
//! save is an insert-or-update whose outcome it drops (a save after a
//! sign-out would bring the session back), and it keeps no index. Its client,
//! fred, is; and each write that touches a record and its index is one Lua
//! script, so Redis runs it whole, with nothing between its steps. Scripts
//! name the records they reach through the index by their key, so the keys
//! must live on one server: Redis Cluster is not supported (a primary with
//! replicas or Sentinel is).

mod scripts;

use super::{
    decode, encode, id_hash, signed_in, unchanged, EndedSession, IndexedSession, RedisError,
    Replaced, RetiredId, Rotation, SessionBackend, StoreError, Write, Written, ENDED_KEPT_MAX,
    ENDED_KEPT_SECS, GONE_KEPT_SECS,
};
use crate::server::store::{
    health::{Health, Probe},
    record::SignedIn,
};
use async_trait::async_trait;
use fred::{
    clients::{Client, Pool},
    interfaces::{ClientLike, KeysInterface},
    types::{
        config::{Config, ReconnectPolicy},
        scripts::Script,
        Builder, FromValue, MultipleValues,
    },
};
use scripts::{DELETE, ENDED, END_USER, LIST, REPLACE, REVOKE, REVOKE_ALL_BUT, ROTATE, WRITE};
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// Connections to Redis, used in turn.
const CONNECTIONS: usize = 4;

/// How long a command or a connection attempt may take before it fails: like
/// the database's acquire timeout, what the first request to meet an outage
/// may wait (the ones after it fail at once).
const TIMEOUT: Duration = Duration::from_secs(1);

/// One session in a user's index.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    id: String,
    device: String,
    client: String,
    remember: bool,
    signed_in_at: i64,
    last_seen: i64,
    /// When the record expires, Unix seconds.
    expires: i64,
}

/// Records and their index in one Redis database.
#[derive(Clone)]
pub struct RedisSessions {
    pool: Pool,
    prefix: String,
    health: Health,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisSessions {
    /// Connects to the Redis at `url`, keys under `prefix`; fails when the
    /// server cannot be reached now.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, RedisError> {
        let config = Config::from_url(url)?;
        let pool = Builder::from_config(config)
            .with_connection_config(|connection| {
                connection.connection_timeout = TIMEOUT;
                connection.internal_command_timeout = TIMEOUT;
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = TIMEOUT;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .build_pool(CONNECTIONS)?;
        pool.init().await?;
        let probed = pool.clone();
        let probe: Probe = Arc::new(move || {
            let pool = probed.clone();
            Box::pin(async move {
                let client = pool.next_connected();
                client.is_connected() && client.ping::<()>(None).await.is_ok()
            })
        });
        Ok(Self {
            pool,
            prefix: prefix.to_string(),
            health: Health::new("redis", probe),
        })
    }

    /// A connected client, or `Unavailable` at once: while Redis is away a
    /// command is not queued to wait for it.
    fn client(&self) -> Result<&Client, RedisError> {
        if self.health.is_down() {
            return Err(RedisError::Unavailable);
        }
        let client = self.pool.next_connected();
        if !client.is_connected() {
            self.health.went_down(&"no connection to Redis");
            return Err(RedisError::Unavailable);
        }
        Ok(client)
    }

    /// Runs one of the scripts on a connected client, its outcome reported
    /// to the health.
    async fn run<R, V>(&self, script: &Script, keys: Vec<String>, args: V) -> Result<R, RedisError>
    where
        R: FromValue,
        V: TryInto<MultipleValues> + Send,
        V::Error: Into<fred::error::Error> + Send,
    {
        let answer = script.evalsha_with_reload(self.client()?, keys, args).await;
        self.observed(answer.map_err(RedisError::from))
    }

    /// Reports a command's outcome to the health and hands it on.
    fn observed<T>(&self, result: Result<T, RedisError>) -> Result<T, RedisError> {
        self.health.observe(result, RedisError::is_unavailable)
    }

    fn record_key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    fn index_key(&self, user_id: i64) -> String {
        format!("{}user:{user_id}", self.prefix)
    }

    /// A retired id of a rotated session, by its hash.
    fn retired_key(&self, id: &Id) -> String {
        format!("{}retired:{}", self.prefix, id_hash(id))
    }

    /// The hashes of a session's retired ids.
    fn family_key(&self, handle: &str) -> String {
        format!("{}family:{handle}", self.prefix)
    }

    /// The notes of the user's sessions ended to make room, newest first.
    fn ended_key(&self, user_id: i64) -> String {
        format!("{}ended:{user_id}", self.prefix)
    }

    /// The marker of a deleted user (`end_user`).
    fn gone_key(&self, user_id: i64) -> String {
        format!("{}gone:{user_id}", self.prefix)
    }

    /// The stored bytes of record `id`: one round trip.
    async fn read_bytes(&self, id: &Id) -> Result<Option<Vec<u8>>, RedisError> {
        let read = self.client()?.get(self.record_key(id)).await;
        self.observed(read.map_err(RedisError::from))
    }

    #[cfg(test)]
    /// Index entries under this prefix, of every user.
    pub async fn index_entries(&self) -> i64 {
        use fred::interfaces::LuaInterface;
        self.pool
            .next()
            .eval(
                "local n = 0
                 for _, key in ipairs(redis.call('KEYS', ARGV[1] .. 'user:*')) do
                   n = n + redis.call('HLEN', key)
                 end
                 return n",
                Vec::<String>::new(),
                vec![self.prefix.clone()],
            )
            .await
            .unwrap()
    }

    #[cfg(test)]
    /// When Redis deletes record `id`, Unix seconds.
    pub async fn expires_at(&self, id: &Id) -> i64 {
        self.pool.expire_time(self.record_key(id)).await.unwrap()
    }
}

/// A signed-in record's entry in its user's index, as JSON.
fn index_entry(record: &Record, state: &SignedIn) -> Result<String, StoreError> {
    let entry = Entry {
        id: record.id.to_string(),
        device: state.device.clone(),
        client: state.client.clone(),
        remember: state.remember,
        signed_in_at: state.signed_in_at,
        last_seen: state.last_seen,
        expires: record.expiry_date.unix_timestamp(),
    };
    Ok(serde_json::to_string(&entry).map_err(RedisError::from)?)
}

#[async_trait]
impl SessionBackend for RedisSessions {
    /// One script (`WRITE`): the record with `SET … NX` to create or `XX` to
    /// update, then its index entry, and on a signed-in create the sessions
    /// past the limit with their notes. Redis runs a script whole, so
    /// concurrent sign-ins take their turn.
    async fn write(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        mode: Write,
    ) -> Result<Written, StoreError> {
        let data = encode(record)?;
        let expires = record.expiry_date.unix_timestamp();
        let (condition, max_per_user, now) = match mode {
            Write::Create { max_per_user, now } => ("NX", max_per_user, now),
            Write::Update => ("XX", 0, 0),
        };
        let mut keys = vec![self.record_key(&record.id)];
        let mut args: Vec<fred::types::Value> =
            vec![data.as_slice().into(), expires.into(), condition.into()];
        if let Some(state) = signed_in {
            keys.push(self.index_key(state.user_id));
            keys.push(self.ended_key(state.user_id));
            keys.push(self.gone_key(state.user_id));
            args.push(state.handle.as_str().into());
            args.push(index_entry(record, state)?.into());
            args.push(i64::try_from(max_per_user).unwrap_or(i64::MAX).into());
            args.push(now.into());
            args.push(self.prefix.as_str().into());
            args.push((ENDED_KEPT_MAX as i64).into());
            args.push(ENDED_KEPT_SECS.into());
        }
        let answer: Vec<String> = self.run(&WRITE, keys, args).await?;
        let Some((written, notes)) = answer.split_first() else {
            return Ok(Written::Nothing);
        };
        match written.as_str() {
            "1" => {}
            "gone" => return Err(StoreError::Ended),
            _ => return Ok(Written::Nothing),
        }
        let made_room = notes
            .iter()
            .map(|note| serde_json::from_str(note).map_err(RedisError::from))
            .collect::<Result<_, _>>()?;
        Ok(Written::Stored { made_room })
    }

    /// One script (`REPLACE`): compared with the bytes `expected` was read
    /// from, the record and its index entry written.
    async fn replace(
        &self,
        record: &Record,
        signed_in: Option<&SignedIn>,
        expected: &Record,
    ) -> Result<Replaced, StoreError> {
        let Some(stored) = self.read_bytes(&record.id).await? else {
            return Ok(Replaced::Gone);
        };
        if !unchanged(expected, &decode(&stored)?) {
            return Ok(Replaced::Changed);
        }
        let data = encode(record)?;
        let mut keys = vec![self.record_key(&record.id)];
        let mut args: Vec<fred::types::Value> = vec![
            data.as_slice().into(),
            record.expiry_date.unix_timestamp().into(),
            stored.as_slice().into(),
        ];
        if let Some(state) = signed_in {
            keys.push(self.index_key(state.user_id));
            keys.push(self.gone_key(state.user_id));
            args.push(state.handle.as_str().into());
            args.push(index_entry(record, state)?.into());
        }
        let answer: String = self.run(&REPLACE, keys, args).await?;
        Ok(match answer.as_str() {
            "done" => Replaced::Done,
            "changed" => Replaced::Changed,
            _ => Replaced::Gone,
        })
    }

    /// One script (`ROTATE`): the new record, the index entry moved to it,
    /// the old record deleted and its hash kept in the session's family
    /// until `retired_until`.
    async fn rotate(
        &self,
        old: &Id,
        read: &Record,
        record: &Record,
        signed_in: &SignedIn,
        now: i64,
        retired_until: i64,
    ) -> Result<Rotation, StoreError> {
        // The script moves the record only while it still holds these bytes
        // (none: it tells a rotated id from a gone one).
        let stored = self.read_bytes(old).await?.unwrap_or_default();
        if !stored.is_empty() && !unchanged(read, &decode(&stored)?) {
            return Ok(Rotation::Changed);
        }
        let data = encode(record)?;
        let keys = vec![
            self.record_key(old),
            self.record_key(&record.id),
            self.index_key(signed_in.user_id),
            self.retired_key(old),
            self.family_key(&signed_in.handle),
        ];
        let args: Vec<fred::types::Value> = vec![
            data.as_slice().into(),
            record.expiry_date.unix_timestamp().into(),
            signed_in.handle.as_str().into(),
            record.id.to_string().into(),
            now.into(),
            retired_until.into(),
            id_hash(old).into(),
            signed_in.user_id.into(),
            old.to_string().into(),
            stored.as_slice().into(),
        ];
        let answer: Vec<String> = self.run(&ROTATE, keys, args).await?;
        Ok(match answer.as_slice() {
            [done] if done == "rotated" => Rotation::Rotated,
            [done, successor] if done == "already" => match successor.parse() {
                Ok(successor) => Rotation::AlreadyRotated { successor },
                Err(_) => Rotation::Gone,
            },
            [done] if done == "taken" => Rotation::IdTaken,
            [done] if done == "changed" => Rotation::Changed,
            _ => Rotation::Gone,
        })
    }

    /// The retired key, which expires when the session could have ended at
    /// the latest and is deleted with the session.
    async fn retired_id(&self, id: &Id) -> Result<Option<RetiredId>, StoreError> {
        #[derive(Deserialize)]
        struct Kept {
            successor: String,
            retired_at: i64,
            user_id: i64,
            handle: String,
        }
        let read: Result<Option<String>, _> = self.client()?.get(self.retired_key(id)).await;
        let Some(kept) = self.observed(read.map_err(RedisError::from))? else {
            return Ok(None);
        };
        let kept: Kept = serde_json::from_str(&kept).map_err(RedisError::from)?;
        Ok(kept.successor.parse().ok().map(|successor| RetiredId {
            successor,
            retired_at: kept.retired_at,
            user_id: kept.user_id,
            handle: kept.handle,
        }))
    }

    async fn ended_sessions_of(
        &self,
        user_id: i64,
        since: i64,
    ) -> Result<Vec<EndedSession>, StoreError> {
        let notes: Vec<String> = self
            .run(
                &ENDED,
                vec![self.ended_key(user_id)],
                vec![ENDED_KEPT_MAX as i64],
            )
            .await?;
        let mut ended = Vec::new();
        for note in notes {
            let note: EndedSession = serde_json::from_str(&note).map_err(RedisError::from)?;
            if note.ended_at >= since {
                ended.push(note);
            }
        }
        Ok(ended)
    }

    async fn read(&self, id: &Id) -> Result<Option<Record>, StoreError> {
        match self.read_bytes(id).await? {
            Some(data) => decode(&data).map(Some),
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), StoreError> {
        // The index entry goes too, when the record says whose it is.
        let state = match self.read_bytes(id).await? {
            Some(data) => decode(&data).ok().and_then(|record| signed_in(&record)),
            None => None,
        };
        let mut keys = vec![self.record_key(id)];
        let mut args = Vec::new();
        if let Some(state) = state {
            keys.push(self.index_key(state.user_id));
            args.push(state.handle);
            args.push(self.prefix.clone());
        }
        self.run::<i64, _>(&DELETE, keys, args).await?;
        Ok(())
    }

    async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IndexedSession>, StoreError> {
        let listed: Vec<String> = self
            .run(
                &LIST,
                vec![self.index_key(user_id)],
                vec![self.prefix.clone()],
            )
            .await?;
        let mut sessions = Vec::with_capacity(listed.len() / 2);
        for pair in listed.chunks_exact(2) {
            let entry: Entry = serde_json::from_str(&pair[1]).map_err(RedisError::from)?;
            if entry.expires > now.unix_timestamp() {
                sessions.push(IndexedSession {
                    handle: pair[0].clone(),
                    device: entry.device,
                    client: entry.client,
                    remember: entry.remember,
                    signed_in_at: entry.signed_in_at,
                    last_seen: entry.last_seen,
                });
            }
        }
        sessions
            .sort_by_key(|session| std::cmp::Reverse((session.last_seen, session.signed_in_at)));
        Ok(sessions)
    }

    async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        let ended: i64 = self
            .run(
                &REVOKE,
                vec![self.index_key(user_id)],
                vec![self.prefix.clone(), handle.to_string()],
            )
            .await?;
        Ok(ended > 0)
    }

    async fn revoke_all_but(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        let ended: i64 = self
            .run(
                &REVOKE_ALL_BUT,
                vec![self.index_key(user_id)],
                vec![self.prefix.clone(), keep.unwrap_or_default().to_string()],
            )
            .await?;
        Ok(u64::try_from(ended).unwrap_or_default())
    }

    /// One script (`END_USER`): the marker, then every session in the index
    /// with its retired ids, the index and the notes.
    async fn end_user(&self, user_id: i64) -> Result<u64, StoreError> {
        let ended: i64 = self
            .run(
                &END_USER,
                vec![
                    self.index_key(user_id),
                    self.ended_key(user_id),
                    self.gone_key(user_id),
                ],
                vec![self.prefix.clone(), GONE_KEPT_SECS.to_string()],
            )
            .await?;
        Ok(u64::try_from(ended).unwrap_or_default())
    }

    /// Redis deletes each record at its expiry (and the index drops its
    /// entry when it is next read): nothing to do.
    async fn purge_expired(&self, _now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn expires_records_itself(&self) -> bool {
        true
    }

    fn health(&self) -> &Health {
        &self.health
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
