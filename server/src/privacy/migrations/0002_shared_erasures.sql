-- Issue 14, HUILIU_STORE=redis: how far this node's file has applied the cluster's log of erasures
-- (erasure-log.redis.ts), so an erasure approved on another node while this one was down is applied at
-- its next start. Ids only.
CREATE TABLE privacy_erasure_cursor (
  log        TEXT PRIMARY KEY,   -- the log's Redis key (prefix included)
  entry_id   TEXT NOT NULL,      -- the last stream entry applied
  applied    INTEGER NOT NULL,   -- entries applied so far
  updated_at TEXT NOT NULL
);
