"""Lua scripts that make each :class:`~aiops_core.checkpoint.redis.RedisStore` operation atomic.

Each script touches only one thread's two keys (same hash slot, thanks to the ``{thread_id}`` hash
tag) unless ``ARGV`` asks it to maintain the listing indexes as well, which the store does only
on a single Redis server or behind Sentinel; on a cluster the store updates the indexes itself.

Thread hash fields: ``owner``, ``title``, ``model``, ``created``, ``updated`` (microseconds of
the Redis server clock) and one ``m:<key>`` field per metadata key holding its JSON value, so
that metadata merges need no JSON handling in Lua.
"""

from __future__ import annotations

__all__ = ["APPEND", "DELETE", "LOAD", "OPS_MS"]

OPS_MS = 300_000
"""How long (ms) an append's operation id is remembered to make a resent append harmless."""

# KEYS: info, messages, ops
# ARGV: thread_id, owner, title, model, expected ('' = any), ttl_ms ('' = none),
#       index prefix ('' = caller maintains indexes), n_meta_set, n_meta_del, n_records,
#       operation id, n_meta_expected, then expected meta pairs (key, JSON value or '' for
#       "absent"), meta set pairs, meta del keys, records
# The ops hash remembers recent operation ids for OPS_MS, so a client that resends an append
# after losing the reply (redis-py retries on connection errors) does not store the turn twice.
APPEND = """
local OPS_MS = OPS_MS_VALUE
local info, msgs, ops = KEYS[1], KEYS[2], KEYS[3]
local tid, owner, title, model = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local expected, ttl, index = ARGV[5], ARGV[6], ARGV[7]
local n_set, n_del, n_rec = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local op = ARGV[11]
local done = redis.call('HGET', ops, op)
if done then
  return {'ok', tonumber(done), redis.call('HGETALL', info)}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cur = redis.call('HMGET', info, 'owner', 'updated')
local found = 0
local stored_owner = cur[1]
if cur[2] then
  if owner ~= '' and stored_owner and stored_owner ~= '' and stored_owner ~= owner then
    return {'owner'}
  end
  found = redis.call('LLEN', msgs)
else
  -- a new thread: drop any message list left without its hash
  redis.call('DEL', msgs)
  stored_owner = owner
end
if expected ~= '' and tonumber(expected) ~= found then
  return {'conflict', found}
end
local n_exp = tonumber(ARGV[12])
local pos = 13
for i = 1, n_exp do
  local have = redis.call('HGET', info, 'm:' .. ARGV[pos])
  local want = ARGV[pos + 1]
  if (want == '' and have) or (want ~= '' and have ~= want) then
    return {'metadata', ARGV[pos]}
  end
  pos = pos + 2
end
local updated = now
if cur[2] and tonumber(cur[2]) >= now then updated = tonumber(cur[2]) + 1 end
if not cur[2] then
  redis.call('HSET', info, 'created', now, 'owner', owner)
end
redis.call('HSET', info, 'updated', updated)
if title ~= '' then redis.call('HSET', info, 'title', title) end
if model ~= '' then redis.call('HSET', info, 'model', model) end
for i = 1, n_set do
  redis.call('HSET', info, 'm:' .. ARGV[pos], ARGV[pos + 1])
  pos = pos + 2
end
for i = 1, n_del do
  redis.call('HDEL', info, 'm:' .. ARGV[pos])
  pos = pos + 1
end
local last = pos + n_rec - 1
while pos <= last do
  local stop = math.min(pos + 999, last)
  redis.call('RPUSH', msgs, unpack(ARGV, pos, stop))
  pos = stop + 1
end
if ttl ~= '' then
  redis.call('PEXPIRE', info, ttl)
  if redis.call('EXISTS', msgs) == 1 then redis.call('PEXPIRE', msgs, ttl) end
end
if index ~= '' then
  redis.call('ZADD', index .. 'updated', updated, tid)
  if stored_owner and stored_owner ~= '' then
    redis.call('ZADD', index .. 'owner:' .. stored_owner, updated, tid)
  end
end
redis.call('HSET', ops, op, found + n_rec)
redis.call('PEXPIRE', ops, OPS_MS)
return {'ok', found + n_rec, redis.call('HGETALL', info)}
"""

APPEND = APPEND.replace("OPS_MS_VALUE", str(OPS_MS))

# KEYS: info, messages; ARGV: first record (0, or -N for the last N), since_summary ('1' or '')
# -> {hash fields, message records, message count}
# With since_summary the load starts at the summary's "upto" when the summary is valid by the
# rule of checkpoint.base.stored_summary.
LOAD = """
local n = redis.call('LLEN', KEYS[2])
local first = tonumber(ARGV[1])
if first < 0 then first = math.max(n + first, 0) end
if ARGV[2] == '1' then
  local raw = redis.call('HGET', KEYS[1], 'm:summary')
  if raw then
    local ok, s = pcall(cjson.decode, raw)
    if ok and type(s) == 'table' and type(s.text) == 'string' and type(s.upto) == 'number'
        and s.upto >= 0 and s.upto < 1000000000 and s.upto == math.floor(s.upto)
        and s.upto > first then
      first = s.upto
    end
  end
end
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], first, -1), n}
"""

# KEYS: info, messages, ops
# ARGV: thread_id, owner ('' = any), index prefix ('' = caller maintains), cutoff ('' = always)
# -> {'missing'} | {'owner'} | {'kept'} | {'deleted', stored owner}
DELETE = """
local cur = redis.call('HMGET', KEYS[1], 'owner', 'updated')
if not cur[2] then return {'missing'} end
local owner, index, cutoff = ARGV[2], ARGV[3], ARGV[4]
local stored = cur[1] or ''
if owner ~= '' and stored ~= '' and stored ~= owner then return {'owner'} end
if cutoff ~= '' and tonumber(cur[2]) >= tonumber(cutoff) then return {'kept'} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if index ~= '' then
  redis.call('ZREM', index .. 'updated', ARGV[1])
  if stored ~= '' then redis.call('ZREM', index .. 'owner:' .. stored, ARGV[1]) end
end
return {'deleted', stored}
"""
