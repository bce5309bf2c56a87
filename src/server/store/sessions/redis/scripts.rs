//! The Lua scripts that change a record and its index together: Redis runs
//! each whole, with nothing between its steps. They name the records they
//! reach through the index by key, so every key must live on one server.

use fred::types::scripts::Script;
use std::sync::LazyLock;

/// A Lua function the scripts that end sessions begin with: deletes the
/// retired ids of the session `handle` (keys under `prefix`).
macro_rules! end_family {
    () => {
        "local function end_family(prefix, handle)
           local family = prefix .. 'family:' .. handle
           for _, hash in ipairs(redis.call('SMEMBERS', family)) do
             redis.call('DEL', prefix .. 'retired:' .. hash)
           end
           redis.call('DEL', family)
         end
         "
    };
}

/// A Lua function, after `end_family!`: ends every session in the index
/// `index` but the one named `keep` (none when empty), with its retired ids
/// (records keyed `prefix` and their id); how many live ones ended.
macro_rules! end_sessions {
    () => {
        "local function end_sessions(prefix, index, keep)
           local all = redis.call('HGETALL', index)
           local ended = 0
           for i = 1, #all, 2 do
             if all[i] ~= keep then
               redis.call('HDEL', index, all[i])
               end_family(prefix, all[i])
               ended = ended + redis.call('DEL', prefix .. cjson.decode(all[i + 1]).id)
             end
           end
           return ended
         end
         "
    };
}

/// Writes a record (`ARGV[3]`: `NX` to create, `XX` to update one that still
/// exists) and, when `KEYS[2]` is given, its index entry (`ARGV[4]` its
/// handle, `ARGV[5]` the entry); the index expires no earlier than its latest
/// record. With a limit (`ARGV[6]` above 0, on a create), the user's other
/// live sessions past the newest `ARGV[6] - 1` end, least recently active
/// first, each noted at `ARGV[7]` in the list `KEYS[3]` (the newest
/// `ARGV[9]` kept, for `ARGV[10]` seconds); records are keyed `ARGV[8]` and
/// their id. Answers `'gone'` when the user's marker `KEYS[4]` says they were
/// deleted (nothing is written), `'0'` when nothing was written (the id is
/// taken, or the record is gone), else `'1'` and the notes of the sessions
/// ended.
pub(super) static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(concat!(
        end_family!(),
        "if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 1 then return {'gone'} end
         if not redis.call('SET', KEYS[1], ARGV[1], ARGV[3], 'EXAT', ARGV[2]) then return {'0'} end
         local answer = {'1'}
         if not KEYS[2] then return answer end
         redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
         if redis.call('EXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
           redis.call('EXPIREAT', KEYS[2], ARGV[2])
         end
         local max = tonumber(ARGV[6] or '0')
         if max == 0 then return answer end
         local all = redis.call('HGETALL', KEYS[2])
         local others = {}
         for i = 1, #all, 2 do
           if all[i] ~= ARGV[4] then
             local entry = cjson.decode(all[i + 1])
             if redis.call('EXISTS', ARGV[8] .. entry.id) == 1 then
               table.insert(others, {all[i], entry})
             else
               redis.call('HDEL', KEYS[2], all[i])
             end
           end
         end
         table.sort(others, function(a, b)
           if a[2].last_seen ~= b[2].last_seen then return a[2].last_seen < b[2].last_seen end
           return a[2].signed_in_at < b[2].signed_in_at
         end)
         for i = 1, #others - (max - 1) do
           local entry = others[i][2]
           redis.call('HDEL', KEYS[2], others[i][1])
           redis.call('DEL', ARGV[8] .. entry.id)
           end_family(ARGV[8], others[i][1])
           local note = cjson.encode({device = entry.device, client = entry.client,
             signed_in_at = entry.signed_in_at, last_seen = entry.last_seen,
             ended_at = tonumber(ARGV[7])})
           redis.call('LPUSH', KEYS[3], note)
           table.insert(answer, note)
         end
         if #answer > 1 then
           redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[9]) - 1)
           redis.call('EXPIRE', KEYS[3], ARGV[10])
         end
         return answer"
    ))
});

/// Deletes a record and, when `KEYS[2]` is given, the session it belongs to
/// (index entry `ARGV[1]`): the record the entry names too, should a
/// rotation have moved the session since the caller read it, and its
/// retired ids (keys under `ARGV[2]`).
pub(super) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(concat!(
        end_family!(),
        "redis.call('DEL', KEYS[1])
         if KEYS[2] then
           local entry = redis.call('HGET', KEYS[2], ARGV[1])
           if entry then redis.call('DEL', ARGV[2] .. cjson.decode(entry).id) end
           redis.call('HDEL', KEYS[2], ARGV[1])
           end_family(ARGV[2], ARGV[1])
         end
         return 1"
    ))
});

/// The handles and index entries of `KEYS[1]` whose record still exists, in
/// turn; entries whose record expired are dropped on the way.
pub(super) static LIST: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local all = redis.call('HGETALL', KEYS[1])
         local live = {}
         for i = 1, #all, 2 do
           if redis.call('EXISTS', ARGV[1] .. cjson.decode(all[i + 1]).id) == 1 then
             table.insert(live, all[i])
             table.insert(live, all[i + 1])
           else
             redis.call('HDEL', KEYS[1], all[i])
           end
         end
         return live",
    )
});

/// Ends the session the user's index names `ARGV[2]`, with its retired ids:
/// 1 if a live one ended.
pub(super) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(concat!(
        end_family!(),
        "local entry = redis.call('HGET', KEYS[1], ARGV[2])
         if not entry then return 0 end
         redis.call('HDEL', KEYS[1], ARGV[2])
         end_family(ARGV[1], ARGV[2])
         return redis.call('DEL', ARGV[1] .. cjson.decode(entry).id)"
    ))
});

/// Ends every session in the user's index except the one named `ARGV[2]`
/// (none when empty): how many live ones ended.
pub(super) static REVOKE_ALL_BUT: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(concat!(
        end_family!(),
        end_sessions!(),
        "return end_sessions(ARGV[1], KEYS[1], ARGV[2])"
    ))
});

/// A user is being deleted: sets their marker `KEYS[3]` for `ARGV[2]`
/// seconds (a sign-in still in flight then writes nothing), and ends every
/// session in their index `KEYS[1]` with its retired ids (records keyed
/// `ARGV[1]` and their id), deleting the index and the notes `KEYS[2]`: how
/// many live ones ended.
pub(super) static END_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(concat!(
        end_family!(),
        end_sessions!(),
        "redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
         local ended = end_sessions(ARGV[1], KEYS[1], '')
         redis.call('DEL', KEYS[1], KEYS[2])
         return ended"
    ))
});

/// Replaces the record `KEYS[1]` with `ARGV[1]` (expiring at `ARGV[2]`)
/// only while it holds `ARGV[3]`, the record the new one was merged onto;
/// for a signed-in record, its entry `ARGV[5]` under the handle `ARGV[4]` in
/// the index `KEYS[2]`, unless the user's marker `KEYS[3]` says they were
/// deleted. Answers `'done'`, `'changed'` or `'gone'`.
pub(super) static REPLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local stored = redis.call('GET', KEYS[1])
         if not stored then return 'gone' end
         if stored ~= ARGV[3] then return 'changed' end
         if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then return 'gone' end
         redis.call('SET', KEYS[1], ARGV[1], 'XX', 'EXAT', ARGV[2])
         if KEYS[2] then
           redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
           if redis.call('EXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
             redis.call('EXPIREAT', KEYS[2], ARGV[2])
           end
         end
         return 'done'",
    )
});

/// Moves the live session whose record is `KEYS[1]` (id `ARGV[9]`, handle
/// `ARGV[3]` in the index `KEYS[3]`) to the record `KEYS[2]` (id `ARGV[4]`,
/// data `ARGV[1]`, expiring at `ARGV[2]`), and keeps the old id as the
/// retired key `KEYS[4]` in the session's family `KEYS[5]` (member
/// `ARGV[7]`, the old id's hash) until `ARGV[6]`, retired at `ARGV[5]`, of
/// user `ARGV[8]`, while `KEYS[1]` still holds `ARGV[10]`, the record the
/// move was made from. Answers `{'rotated'}`, `{'already', successor}` when
/// the old id was rotated before, `{'gone'}` when it is no live session,
/// `{'changed'}` when a request wrote it meanwhile, or `{'taken'}` when the
/// new id is.
pub(super) static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local retired = redis.call('GET', KEYS[4])
         if retired then return {'already', cjson.decode(retired).successor} end
         local stored = redis.call('GET', KEYS[1])
         if not stored then return {'gone'} end
         if stored ~= ARGV[10] then return {'changed'} end
         local entry = redis.call('HGET', KEYS[3], ARGV[3])
         if not entry then return {'gone'} end
         entry = cjson.decode(entry)
         if entry.id ~= ARGV[9] then return {'gone'} end
         if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EXAT', ARGV[2]) then return {'taken'} end
         redis.call('DEL', KEYS[1])
         entry.id = ARGV[4]
         entry.expires = tonumber(ARGV[2])
         redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(entry))
         if redis.call('EXPIRETIME', KEYS[3]) < tonumber(ARGV[2]) then
           redis.call('EXPIREAT', KEYS[3], ARGV[2])
         end
         redis.call('SET', KEYS[4], cjson.encode({successor = ARGV[4],
           retired_at = tonumber(ARGV[5]), user_id = tonumber(ARGV[8]), handle = ARGV[3]}),
           'EXAT', ARGV[6])
         redis.call('SADD', KEYS[5], ARGV[7])
         if redis.call('EXPIRETIME', KEYS[5]) < tonumber(ARGV[6]) then
           redis.call('EXPIREAT', KEYS[5], ARGV[6])
         end
         return {'rotated'}",
    )
});

/// The newest `ARGV[1]` notes of the list `KEYS[1]`.
pub(super) static ENDED: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua("return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)")
});
