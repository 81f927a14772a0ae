-- Issue 14, HUILIU_STORE=redis: the blind hashes of identities the cluster's erasure log says were
-- erased (erasure-log.redis.ts), kept in this node's file so its copy of pre-redis customers
-- (customers/port-copy.ts) skips — and shreds here — a customer holding one of them since before the
-- erasure: another file's copy must not put the erased person back on the port. No plaintext: the
-- value is `<channel>:<HMAC of the external id>` under the port's blind-index key. Rows older than the
-- log's retention are pruned with the log.
CREATE TABLE privacy_erased_identities (
  identity  TEXT PRIMARY KEY,   -- `<channel>:<64 hex>`, as the port's identity lookups name it
  erased_at TEXT NOT NULL        -- the latest erasure of it (ISO 8601, the approving node's clock)
);
