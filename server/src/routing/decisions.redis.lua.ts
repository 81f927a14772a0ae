/**
 * The Redis function library of the routing decisions adapter (decisions.redis.ts, docs/store.md "The
 * routing decisions port"). Its own library (`huiliu_rlog`), beside the conversations adapter's
 * `huiliu_conv`. Every function touches the keys of ONE bucket (one minute × one shard, one hash slot):
 * - `rlog_append` — idempotent on the entry id: the stored body when the id is there, else the bucket's
 *   next number `n` (INCR), the body under the id, the entry in the window indexes;
 * - `rlog_session` — the entry's copy in its session's zset (another slot: the session's);
 * - `rlog_page` — one page of a window index (ZRANGE BYLEX) with the bodies.
 *
 * A member of an index is `<atMs, 13 digits>:<bucket, 10 digits>:<n, 7 digits>:<id>`: lexicographic
 * order is (at, seq) order, because seq = bucket × 2^20 + n (decisions.redis.ts). Large numbers are
 * never formatted in Lua (its doubles print with 14 digits); the adapter computes seq.
 */
export const RLOG_LIBRARY_NAME = 'huiliu_rlog';
/** Bump with any change below: the adapter reloads the library when a node runs an older version (never a newer one). */
export const RLOG_LIBRARY_VERSION = 1;

export const RLOG_LIBRARY = `#!lua name=${RLOG_LIBRARY_NAME}

local function rlog_version() return ${RLOG_LIBRARY_VERSION} end

-- KEYS bodies (hash id -> n7 .. body), all (zset), new (zset), offers (zset), counter (string)
-- ARGV id, atMs (13 digits), bucket (10 digits), isNew 0|1, isOffer 0|1, body (JSON)
-- Reply {'dup', stored} or {'new', stored}; stored = n (7 digits) .. body.
-- A duplicate is written again (same value), so the caller's WAIT also covers an earlier attempt that
-- was sent on another connection (before a failover).
local function rlog_append(keys, args)
  local stored = redis.call('HGET', keys[1], args[1])
  if stored then
    redis.call('HSET', keys[1], args[1], stored)
    return {'dup', stored}
  end
  local n = redis.call('INCR', keys[5])
  if n >= 1048576 then return redis.error_reply('LOG_BUCKET_FULL') end
  local n7 = string.format('%07d', n)
  local member = args[2] .. ':' .. args[3] .. ':' .. n7 .. ':' .. args[1]
  stored = n7 .. args[6]
  redis.call('HSET', keys[1], args[1], stored)
  redis.call('ZADD', keys[2], 0, member)
  if args[4] == '1' then redis.call('ZADD', keys[3], 0, member) end
  if args[5] == '1' then redis.call('ZADD', keys[4], 0, member) end
  return {'new', stored}
end

-- KEYS index (zset), bodies (hash)  ARGV min, max (ZRANGE BYLEX bounds), limit
-- Reply {member1, stored1, member2, stored2, ...} in (at, seq) order.
local function rlog_page(keys, args)
  local members = redis.call('ZRANGE', keys[1], args[1], args[2], 'BYLEX', 'LIMIT', 0, tonumber(args[3]))
  local out = {}
  for _, m in ipairs(members) do
    out[#out + 1] = m
    out[#out + 1] = redis.call('HGET', keys[2], string.sub(m, 34)) or ''
  end
  return out
end

-- KEYS the session's entries (zset)  ARGV seq, member (the entry JSON)
-- Adds the session's copy; when it is already there, removes and adds it again (same state, but a
-- write this call's WAIT covers, as above). Reply 1 when added, 0 when it was there.
local function rlog_session(keys, args)
  if redis.call('ZADD', keys[1], 'NX', args[1], args[2]) == 1 then return 1 end
  redis.call('ZREM', keys[1], args[2])
  redis.call('ZADD', keys[1], args[1], args[2])
  return 0
end

redis.register_function('rlog_version', rlog_version)
redis.register_function('rlog_append', rlog_append)
redis.register_function('rlog_session', rlog_session)
redis.register_function{function_name = 'rlog_page', callback = rlog_page, flags = {'no-writes'}}
`;
