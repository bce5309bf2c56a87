//! The Lua scripts that change a record and its index together: Redis runs
//! each whole, with nothing between its steps. They name the records they
//! reach through the index by key, so every key must live on one server.

use fred::types::scripts::Script;
use std::sync::LazyLock;

/// Writes a record (`ARGV[3]`: `NX` to create, `XX` to update one that still
/// exists) and, when `KEYS[2]` is given, its index entry; the index expires
/// no earlier than its latest record. Answers 1, or 0 when nothing was
/// written (the id is taken, or the record is gone).
pub(super) static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "if not redis.call('SET', KEYS[1], ARGV[1], ARGV[3], 'EXAT', ARGV[2]) then return 0 end
         if KEYS[2] then
           redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
           if redis.call('EXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
             redis.call('EXPIREAT', KEYS[2], ARGV[2])
           end
         end
         return 1",
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
