/**
 * The Redis function library of the customers adapter (customers.redis.ts, docs/store.md "Customers and
 * identities"). Its own library (`huiliu_cust`) beside the conversations one (`huiliu_conv`); function
 * names are global across libraries in Redis, so every one here starts with `cust_`. Each function
 * touches keys of ONE hash slot only:
 * - `cust_create`, `cust_import`, `cust_profile`: a customer's own keys (tag = the customer id),
 * - `cust_claim_identity`, `cust_release_identity`: one identity lookup (tag = channel + blind index),
 * - `cust_link`, `cust_release_link`: one link lookup (tag = kind + blind index).
 * Values hold no plaintext: customer content arrives sealed (base64) and the lookups are keyed HMACs.
 */
export const CUSTOMER_LIBRARY_NAME = 'huiliu_cust';
/** Bump with any change below: the adapter reloads the library when a node runs an older version (never a newer one). */
export const CUSTOMER_LIBRARY_VERSION = 2;

export const CUSTOMER_LIBRARY = `#!lua name=${CUSTOMER_LIBRARY_NAME}

local function cust_version() return ${CUSTOMER_LIBRARY_VERSION} end

-- KEYS customer (hash), identities (hash)  ARGV id, sealed name (b64), name hmac, createdAt, identity field, identity record (JSON)
-- Writes a new customer with their first identity; a customer that exists already is left as it is. Reply 1 | 0.
local function cust_create(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then return 0 end
  redis.call('HSET', keys[1], 'id', args[1], 'createdAt', args[4], 'name', args[2], 'nameHmac', args[3])
  redis.call('HSET', keys[2], args[5], args[6])
  return 1
end

-- KEYS customer (hash)  ARGV id, sealed name (b64), name hmac, createdAt
-- The copy of a customer a node's SQLite made before redis mode (port-copy.ts), under that SQLite id and
-- without an identity yet (each is claimed after). A customer that exists already is left as it is. Reply 1 | 0.
local function cust_import(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then return 0 end
  redis.call('HSET', keys[1], 'id', args[1], 'createdAt', args[4], 'name', args[2], 'nameHmac', args[3])
  return 1
end

-- KEYS identity lookup (string)  ARGV customerId
-- The first claimer owns the identity (SET NX semantics); reply: the owner (the caller's id when it won).
local function cust_claim_identity(keys, args)
  local owner = redis.call('GET', keys[1])
  if owner then return owner end
  redis.call('SET', keys[1], args[1])
  return args[1]
end

-- KEYS identity lookup  ARGV customerId — deletes it only while it still names that customer. Reply 1 | 0.
local function cust_release_identity(keys, args)
  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end

-- KEYS link lookup (hash: c = customer, t = trusted 0|1, at)  ARGV customerId, mode ('verify' | 'record'), nowIso
-- verify (an agent or a trusted source): nobody → theirs, trusted ('new'); theirs → 'have' (made trusted:
-- 'taken'); another's untrusted → theirs ('taken', previous holder); another's trusted → 'conflict'.
-- record (typed by the customer): nobody → theirs, untrusted ('new'); anyone → 'held', unchanged.
-- Reply {outcome, holder before (or the caller)}.
local function cust_link(keys, args)
  local holder = redis.call('HGET', keys[1], 'c')
  local verify = args[2] == 'verify'
  if not holder then
    redis.call('HSET', keys[1], 'c', args[1], 't', verify and 1 or 0, 'at', args[3])
    return {'new', args[1]}
  end
  if not verify then return {'held', holder} end
  local trusted = redis.call('HGET', keys[1], 't') == '1'
  if holder == args[1] then
    if trusted then return {'have', holder} end
    redis.call('HSET', keys[1], 't', 1)
    return {'taken', holder}
  end
  if trusted then return {'conflict', holder} end
  redis.call('HSET', keys[1], 'c', args[1], 't', 1, 'at', args[3])
  return {'taken', holder}
end

-- KEYS link lookup  ARGV customerId — deletes it only while that customer holds it. Reply 1 | 0.
local function cust_release_link(keys, args)
  if redis.call('HGET', keys[1], 'c') == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end

-- KEYS customer, identities, changes (list)
-- ARGV field ('name' | 'phone'), identity field, expected current hmac ('' = none), new sealed value (b64), new hmac, change (JSON)
-- Compare-and-set of the name (on the customer) or the phone (on one identity) by their keyed hashes, and
-- the change appended to the history, together. Reply 'ok', 'stale' (it changed meanwhile: read again), 'gone'.
local function cust_profile(keys, args)
  if redis.call('EXISTS', keys[1]) == 0 then return 'gone' end
  if args[1] == 'name' then
    if (redis.call('HGET', keys[1], 'nameHmac') or '') ~= args[3] then return 'stale' end
    redis.call('HSET', keys[1], 'name', args[4], 'nameHmac', args[5])
  else
    local raw = redis.call('HGET', keys[2], args[2])
    if not raw then return 'gone' end
    local rec = cjson.decode(raw)
    if (rec.phh or '') ~= args[3] then return 'stale' end
    rec.ph = args[4]
    rec.phh = args[5]
    redis.call('HSET', keys[2], args[2], cjson.encode(rec))
  end
  redis.call('RPUSH', keys[3], args[6])
  return 'ok'
end

redis.register_function('cust_version', cust_version)
redis.register_function('cust_create', cust_create)
redis.register_function('cust_import', cust_import)
redis.register_function('cust_claim_identity', cust_claim_identity)
redis.register_function('cust_release_identity', cust_release_identity)
redis.register_function('cust_link', cust_link)
redis.register_function('cust_release_link', cust_release_link)
redis.register_function('cust_profile', cust_profile)
`;
