-- Issue 12: one customer across channels (DESIGN §3).
-- A merge never moves or re-seals data: each customer row keeps its identities, sessions and messages
-- (sealed with its own key). `merged_into` is the merge tree's edge; `group_id` is the tree's root,
-- kept current by merge and undo, and everything "about this person" reads the whole group.
ALTER TABLE customers ADD COLUMN merged_into TEXT REFERENCES customers(id);
ALTER TABLE customers ADD COLUMN group_id TEXT;
UPDATE customers SET group_id = id;
CREATE INDEX customers_group ON customers(group_id);
CREATE INDEX customers_merged_into ON customers(merged_into);

-- Verified cross-channel identifiers (WeChat unionid, phone, e-mail): looked up by keyed hash, the
-- value sealed with the owning customer's key. One owner per identifier.
CREATE TABLE customer_links (
  kind        TEXT NOT NULL CHECK (kind IN ('wechat-unionid', 'phone', 'email')),
  value_hmac  TEXT NOT NULL,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  value_ct    BLOB NOT NULL,
  -- Who vouched for it: a channel code (the channel asserted it) or `agent:<staff id>`.
  source      TEXT NOT NULL,
  -- 1: the source is trusted to verify (WeChat's unionid, an app with mergeOnVerified, an agent): the
  -- link can merge and cannot be taken. 0: recorded only; a trusted arrival of the same value takes it.
  trusted     INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (kind, value_hmac)
);
CREATE INDEX customer_links_customer ON customer_links(customer_id);

-- Every merge, and its undo: the audit record of who joined which two people, why, and who undid it.
CREATE TABLE customer_merges (
  id          TEXT PRIMARY KEY,          -- UUIDv7
  survivor_id TEXT NOT NULL REFERENCES customers(id),
  merged_id   TEXT NOT NULL REFERENCES customers(id),
  by          TEXT NOT NULL,             -- staff id, or `system` for a merge on a verified link
  reason      TEXT NOT NULL,             -- `agent` or `link:<kind>`
  at          TEXT NOT NULL,
  undone_at   TEXT,
  undone_by   TEXT
);
CREATE INDEX customer_merges_survivor ON customer_merges(survivor_id);
CREATE INDEX customer_merges_merged ON customer_merges(merged_id);

-- A session the customer left for another channel within the continuity window: closed, pointing at
-- the session that carries the conversation on (and that one back at it).
ALTER TABLE sessions ADD COLUMN moved_to TEXT;
ALTER TABLE sessions ADD COLUMN moved_from TEXT;
CREATE INDEX sessions_conversation ON sessions(conversation_id, status);

-- The customer's timeline across conversations and channels, newest first (UUIDv7 ids are time-ordered).
CREATE INDEX messages_customer ON messages(customer_id, id);
