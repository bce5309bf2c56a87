//! The Lua scripts that change a record and its index together: Redis runs
//! each whole, with nothing between its steps. They name the records they
//! reach through the index by key, so every key must live on one server.

use fred::types::scripts::Script;
use std::sync::LazyLock;

/// Writes a record (`ARGV[3]`: `NX` to create, `XX` to update one that still
/// exists) and, when `KEYS[2]` is given, its index entry (`ARGV[4]` its
/// handle, `ARGV[5]` the entry); the index expires no earlier than its latest
/// record. With a limit (`ARGV[6]` above 0, on a create), the user's other
/// live sessions past the newest `ARGV[6] - 1` end, least recently active
/// first, each noted at `ARGV[7]` in the list `KEYS[3]` (the newest
/// `ARGV[9]` kept, for `ARGV[10]` seconds); records are keyed `ARGV[8]` and
/// their id. Answers `'0'` when nothing was written (the id is taken, or the
/// record is gone), else `'1'` and the notes of the sessions ended.
pub(super) static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "if not redis.call('SET', KEYS[1], ARGV[1], ARGV[3], 'EXAT', ARGV[2]) then return {'0'} end
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
         return answer",
    )
});

/// Deletes a record and, when `KEYS[2]` is given, its index entry `ARGV[1]`.
pub(super) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "redis.call('DEL', KEYS[1])
         if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
         return 1",
    )
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

/// Ends the session the user's index names `ARGV[2]`: 1 if a live one ended.
pub(super) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local entry = redis.call('HGET', KEYS[1], ARGV[2])
         if not entry then return 0 end
         redis.call('HDEL', KEYS[1], ARGV[2])
         return redis.call('DEL', ARGV[1] .. cjson.decode(entry).id)",
    )
});

/// Ends every session in the user's index except the one named `ARGV[2]`
/// (none when empty): how many live ones ended.
pub(super) static REVOKE_ALL_BUT: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local all = redis.call('HGETALL', KEYS[1])
         local ended = 0
         for i = 1, #all, 2 do
           if all[i] ~= ARGV[2] then
             redis.call('HDEL', KEYS[1], all[i])
             ended = ended + redis.call('DEL', ARGV[1] .. cjson.decode(all[i + 1]).id)
           end
         end
         return ended",
    )
});

/// The newest `ARGV[1]` notes of the list `KEYS[1]`.
pub(super) static ENDED: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua("return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)")
});
