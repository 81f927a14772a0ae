import { BLOCK_RECORDS } from './record-block';

/**
 * The Redis function library of the conversations adapter (conversations.redis.ts, docs/store.md).
 * Redis 7 functions, not EVAL scripts: `FUNCTION LOAD` is replicated, so a replica promoted by a
 * failover already has the library. Every function touches keys of ONE hash slot only:
 * - `conv_*` the keys of one conversation (tag = its opening session's `sessionHashTag`),
 * - `queue_*` the three status indexes of one skill group and their bookkeeping hash (tag = the group).
 * Errors are replied with a stable code as the message (`SESSION_NOT_FOUND`, …) that the adapter maps
 * to `HuiliuError`.
 */
export const LIBRARY_NAME = 'huiliu_conv';
/** Bump with any change below: the adapter reloads the library when a node runs an older version (never a newer one). */
export const LIBRARY_VERSION = 4;
/** Seqs per sealed page block (record-block.ts BLOCK_RECORDS; library version 4). */
const PAGE = BLOCK_RECORDS;

export const LIBRARY = `#!lua name=${LIBRARY_NAME}

local function version() return ${LIBRARY_VERSION} end

-- KEYS conv, session, sessions-of-conversation  ARGV conversationId, customerId, sessionId, channel, skillGroup, nowIso
-- Opens a queued session (and the conversation when new). Reply {created 0|1, session HGETALL}.
local function conv_open(keys, args)
  if redis.call('EXISTS', keys[2]) == 1 then
    return {0, redis.call('HGETALL', keys[2])}
  end
  if redis.call('HEXISTS', keys[1], 'customerId') == 0 then
    redis.call('HSET', keys[1], 'customerId', args[2], 'createdAt', args[6])
  end
  redis.call('HSET', keys[1], 'status', 'open', 'updatedAt', args[6])
  redis.call('SADD', keys[3], args[3])
  redis.call('HSET', keys[2], 'id', args[3], 'conversationId', args[1], 'customerId', args[2], 'channel', args[4],
    'status', 'queued', 'skillGroup', args[5], 'createdAt', args[6], 'updatedAt', args[6], 'waitingSince', args[6],
    'lastMessageAt', args[6], 'ver', 1)
  return {1, redis.call('HGETALL', keys[2])}
end

-- The seqs the archive took and trim removed from the head of the messages list (issue 14, docs/store.md
-- "Trim after archive"): element i of the list is seq base+i+1, so seq stays gap-free across a trim.
local function base_of(conv) return tonumber(redis.call('HGET', conv, 'base') or '0') end

-- Sealed page blocks (record-block.ts, docs/store.md "Sealed page blocks"): hash field = page index, page k
-- holding seqs k*${PAGE}+1 .. k*${PAGE}+${PAGE}. Value: 1 | u32 firstSeq | u16 count | owner … | sealed.
local function page_of(seq) return math.floor((seq - 1) / ${PAGE}) end
local function block_count(block) return string.byte(block, 6) * 256 + string.byte(block, 7) end

-- KEYS conv, messages, blocks  ARGV page, firstSeq, count, block
-- Stores a page's sealed block, derived data beside the records (no WAIT: a lost block only means the
-- records are opened one by one). Refused (0) unless every seq it covers is still in the list and not
-- removed by retention, so a block never brings back what a trim or a prune removed; and unless it covers
-- more seqs than the stored one (a block only grows; a block of another version is left alone). Reply 1
-- stored, 0 refused.
local function conv_block(keys, args)
  local first, count = tonumber(args[2]), tonumber(args[3])
  if (first - 1) % ${PAGE} ~= 0 or page_of(first) ~= tonumber(args[1]) or count < 1 or count > ${PAGE} then return 0 end
  local base = base_of(keys[1])
  if first <= base then return 0 end
  local records = redis.call('LRANGE', keys[2], first - base - 1, first - base + count - 2)
  if #records ~= count then return 0 end
  for _, r in ipairs(records) do if #r == 0 then return 0 end end
  local stored = redis.call('HGET', keys[3], args[1])
  if stored and (string.byte(stored, 1) ~= 1 or block_count(stored) >= count) then return 0 end
  redis.call('HSET', keys[3], args[1], args[4])
  return 1
end

-- KEYS session, conv, messages (list: element i is seq base+i+1), idempotency (hash)
-- ARGV direction, clientMessageId, contentHmac, record, nowIso
-- Appends one message with the next gap-free seq, idempotent on (direction, clientMessageId) in the
-- conversation. Reply {'ok', seq} or {'dup', seq, stored record} ({'dup', seq}: trimmed, in the archive).
local function conv_append(keys, args)
  local status = redis.call('HGET', keys[1], 'status')
  if not status then return redis.error_reply('SESSION_NOT_FOUND') end
  local base = base_of(keys[2])
  local field = args[1] .. ':' .. args[2]
  local seen = redis.call('HGET', keys[4], field)
  if seen then
    local sep = string.find(seen, ':', 1, true)
    local seq = tonumber(string.sub(seen, 1, sep - 1))
    if string.sub(seen, sep + 1) ~= args[3] then return redis.error_reply('IDEMPOTENCY_CONFLICT') end
    -- A write, so the WAIT after this reply also covers the first append of this message.
    redis.call('HINCRBY', keys[2], 'retries', 1)
    if seq <= base then return {'dup', seq} end
    return {'dup', seq, redis.call('LINDEX', keys[3], seq - base - 1)}
  end
  if status == 'closed' then return redis.error_reply('SESSION_CLOSED') end
  local seq = base + redis.call('RPUSH', keys[3], args[4])
  redis.call('HSET', keys[4], field, seq .. ':' .. args[3])
  redis.call('HSET', keys[1], 'lastMessageAt', args[5], 'updatedAt', args[5])
  return {'ok', seq}
end

-- KEYS conv, messages, sessions-of-conversation, [blocks when ARGV[4] is 'b'], then the state hash of
-- EVERY session in that set
-- ARGV throughSeq, checkSeq, checkRecord ('' / 0: no check), 'b' (version 4: KEYS[4] is the blocks hash,
-- whose pages holding a trimmed seq are deleted with the trim)
-- Trims the seqs up to throughSeq (durably in the archive, the caller says) from the list's head and
-- raises base, only while no session of the conversation is open: a customer writing again opens a
-- session first (conv_open adds it to the set), so a trim and an append never interleave wrongly.
-- checkRecord must be the list's record at checkSeq byte for byte (what the archive holds).
-- Reply {'trimmed', base} | {'done', base} (nothing left to trim) | {'open'} | {'sessions'} (the set
-- changed since the caller read it: read again) | {'short'} (fewer seqs than throughSeq) | {'changed'}.
local function conv_trim(keys, args)
  local first_session = 4
  if args[4] == 'b' then first_session = 5 end
  if redis.call('SCARD', keys[3]) ~= #keys - first_session + 1 then return {'sessions'} end
  for i = first_session, #keys do
    local status = redis.call('HGET', keys[i], 'status')
    if status and status ~= 'closed' then return {'open'} end
  end
  local through = tonumber(args[1])
  local base = base_of(keys[1])
  if through <= base then return {'done', base} end
  if through > base + redis.call('LLEN', keys[2]) then return {'short'} end
  local check = tonumber(args[2])
  if check > base and redis.call('LINDEX', keys[2], check - base - 1) ~= args[3] then return {'changed'} end
  redis.call('LTRIM', keys[2], through - base, -1)
  redis.call('HSET', keys[1], 'base', through)
  if first_session == 5 then
    -- Every page holding a trimmed seq (HKEYS: the hash holds the hot pages only), also ones an older
    -- adapter's trim left behind.
    local last = page_of(through)
    for _, page in ipairs(redis.call('HKEYS', keys[4])) do
      if tonumber(page) <= last then redis.call('HDEL', keys[4], page) end
    end
  end
  return {'trimmed', through}
end

-- KEYS conv, messages, session, context, [blocks (version 4)]  ARGV sessionId, seq… (the seqs the caller
-- found of this session); the blocks of the pages holding a removed record are deleted with it
-- Retention (issue 17): replaces each listed record still in the list by '' (a tombstone; seqs keep their
-- place) when its header names this session, and deletes the session's sealed context. Only a closed
-- session. Reply the number of records removed, or SESSION_NOT_CLOSED.
local function conv_prune(keys, args)
  local status = redis.call('HGET', keys[3], 'status')
  if status and status ~= 'closed' then return redis.error_reply('SESSION_NOT_CLOSED') end
  local base = base_of(keys[1])
  local needle = '"s":"' .. args[1] .. '"'
  local n = 0
  for i = 2, #args do
    local index = tonumber(args[i]) - base - 1
    if index >= 0 then
      local record = redis.call('LINDEX', keys[2], index)
      if record and #record > 3 then
        local length = string.byte(record, 2) * 256 + string.byte(record, 3)
        if string.find(string.sub(record, 4, 3 + length), needle, 1, true) then
          redis.call('LSET', keys[2], index, '')
          if keys[5] then redis.call('HDEL', keys[5], page_of(tonumber(args[i]))) end
          n = n + 1
        end
      end
    end
  end
  redis.call('DEL', keys[4])
  return n
end

-- KEYS session  ARGV agentId, nowIso. Reply {changed 0|1, session HGETALL}.
local function conv_claim(keys, args)
  local s = redis.call('HMGET', keys[1], 'status')
  if not s[1] then return redis.error_reply('SESSION_NOT_FOUND') end
  if s[1] == 'queued' or s[1] == 'offered' then
    redis.call('HSET', keys[1], 'status', 'active', 'assignedAgentId', args[1], 'updatedAt', args[2])
    redis.call('HDEL', keys[1], 'offeredAgentId', 'offerExpiresAt')
    redis.call('HINCRBY', keys[1], 'ver', 1)
    return {1, redis.call('HGETALL', keys[1])}
  end
  return {0, redis.call('HGETALL', keys[1])}
end

-- KEYS session  ARGV agentId, wrapUpCode, nowIso. Reply session HGETALL.
local function conv_close(keys, args)
  local s = redis.call('HMGET', keys[1], 'status', 'assignedAgentId')
  if not s[1] then return redis.error_reply('SESSION_NOT_FOUND') end
  if s[1] == 'closed' then return redis.error_reply('SESSION_CLOSED') end
  if s[2] ~= args[1] then return redis.error_reply('NOT_ASSIGNED') end
  redis.call('HSET', keys[1], 'status', 'closed', 'wrapUpCode', args[2], 'closedAt', args[3], 'updatedAt', args[3])
  redis.call('HDEL', keys[1], 'offeredAgentId', 'offerExpiresAt')
  redis.call('HINCRBY', keys[1], 'ver', 1)
  return redis.call('HGETALL', keys[1])
end

-- KEYS session  ARGV status, skillGroup, assignedAgentId, offeredAgentId, offerExpiresAt, waitingSince,
-- wrapUpCode, closedAt, nowIso ('' = none). Copies the state the source of truth decided (store.ported.ts).
-- Reply session HGETALL, or SESSION_NOT_FOUND.
local FOLLOWED = {'status', 'skillGroup', 'assignedAgentId', 'offeredAgentId', 'offerExpiresAt', 'waitingSince', 'wrapUpCode', 'closedAt'}
local function conv_follow(keys, args)
  if redis.call('EXISTS', keys[1]) == 0 then return redis.error_reply('SESSION_NOT_FOUND') end
  for i, f in ipairs(FOLLOWED) do
    if args[i] == '' then redis.call('HDEL', keys[1], f) else redis.call('HSET', keys[1], f, args[i]) end
  end
  redis.call('HSET', keys[1], 'updatedAt', args[9])
  redis.call('HINCRBY', keys[1], 'ver', 1)
  return redis.call('HGETALL', keys[1])
end

-- KEYS session, context  ARGV sealed context. Reply 1, or SESSION_NOT_FOUND.
local function conv_put_context(keys, args)
  if redis.call('EXISTS', keys[1]) == 0 then return redis.error_reply('SESSION_NOT_FOUND') end
  redis.call('SET', keys[2], args[1])
  return 1
end

-- The queue indexes of one skill group: KEYS queued, offered, active (sorted sets: score = waitingSince
-- in ms, member = session id), meta (hash: 'p:<id>' writers in flight, 'v:<id>' newest version seen).
local STATUSES = {'queued', 'offered', 'active'}

-- Makes the index hold exactly the given state of the session (closed or gone: in no index).
local function reconcile(keys, id, status, score)
  for i, s in ipairs(STATUSES) do
    if s == status then redis.call('ZADD', keys[i], score, id) else redis.call('ZREM', keys[i], id) end
  end
end

-- Before a state write: ARGV id, status the write may leave it in ('' none), score.
-- Adds that entry first, so the index never misses a session's current state; counts the writer in flight.
local function queue_before(keys, args)
  for i, s in ipairs(STATUSES) do
    if s == args[2] then redis.call('ZADD', keys[i], tonumber(args[3]), args[1]) end
  end
  redis.call('HINCRBY', keys[4], 'p:' .. args[1], 1)
  return 1
end

-- After a state write: ARGV id, version, final status, score. Reconciles only when no other writer is in
-- flight and this is the newest version seen: otherwise an older answer could drop a newer entry.
local function queue_after(keys, args)
  local id, ver = args[1], tonumber(args[2])
  local pending = redis.call('HINCRBY', keys[4], 'p:' .. id, -1)
  if pending <= 0 then redis.call('HDEL', keys[4], 'p:' .. id) end
  local newest = tonumber(redis.call('HGET', keys[4], 'v:' .. id) or '0')
  if ver > newest then newest = ver; redis.call('HSET', keys[4], 'v:' .. id, ver) end
  if pending > 0 or ver < newest then return 0 end
  reconcile(keys, id, args[3], tonumber(args[4]))
  if args[3] ~= 'queued' and args[3] ~= 'offered' and args[3] ~= 'active' then redis.call('HDEL', keys[4], 'v:' .. id) end
  return 1
end

-- A reader (or the repair sweep) read the session's state: ARGV id, version, status ('gone' when the
-- session does not exist), score, force ('1': repair after a crashed writer, ignores writers in flight).
local function queue_fix(keys, args)
  local id, ver = args[1], tonumber(args[2])
  local pending = tonumber(redis.call('HGET', keys[4], 'p:' .. id) or '0')
  local newest = tonumber(redis.call('HGET', keys[4], 'v:' .. id) or '0')
  if args[5] ~= '1' and (pending > 0 or ver < newest) then return 0 end
  if args[5] == '1' then redis.call('HDEL', keys[4], 'p:' .. id) end
  reconcile(keys, id, args[3], tonumber(args[4]))
  if args[3] == 'queued' or args[3] == 'offered' or args[3] == 'active' then
    redis.call('HSET', keys[4], 'v:' .. id, ver)
  else
    redis.call('HDEL', keys[4], 'v:' .. id)
  end
  return 1
end

redis.register_function('huiliu_version', version)
redis.register_function('conv_open', conv_open)
redis.register_function('conv_append', conv_append)
redis.register_function('conv_trim', conv_trim)
redis.register_function('conv_prune', conv_prune)
redis.register_function('conv_block', conv_block)
redis.register_function('conv_claim', conv_claim)
redis.register_function('conv_close', conv_close)
redis.register_function('conv_put_context', conv_put_context)
redis.register_function('conv_follow', conv_follow)
redis.register_function('queue_before', queue_before)
redis.register_function('queue_after', queue_after)
redis.register_function('queue_fix', queue_fix)
`;
