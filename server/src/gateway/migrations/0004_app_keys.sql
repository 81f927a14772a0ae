-- Issue 13: app keys managed by admins. An app created in the workstation is a keyless AP row of
-- channel_accounts (managed_by = 'admin'); its keys live here, several active at once so a key can be
-- rotated without downtime. Keys are stored as SHA-256 only, with a non-secret hint (last 4 chars).
-- Config-defined keys stay in channel_accounts.key_hash (managed_by NULL): they get a hint and a
-- last-used time too.
ALTER TABLE channel_accounts ADD COLUMN key_hint TEXT;
ALTER TABLE channel_accounts ADD COLUMN last_used_at TEXT;
ALTER TABLE channel_accounts ADD COLUMN managed_by TEXT;
CREATE TABLE app_keys (
  id           TEXT PRIMARY KEY,
  -- The app's keyless channel_accounts row (its settings, skill group and sealed webhook secret).
  account_row  TEXT NOT NULL REFERENCES channel_accounts(id),
  app_id       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  hint         TEXT NOT NULL,
  -- What the admin called it ("iOS app 2026"), to tell keys apart; optional.
  label        TEXT,
  created_at   TEXT NOT NULL,
  -- Written at most once a minute per key and node.
  last_used_at TEXT,
  revoked_at   TEXT
);
CREATE INDEX app_keys_app ON app_keys(app_id, created_at);
-- Bumped by every change to admin-managed apps and keys: each node compares it on every key lookup
-- and empties its key cache when it moved, so a revoked key is refused at once on every node
-- sharing this database.
CREATE TABLE app_key_generation (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO app_key_generation (id, generation) VALUES (1, 0);
