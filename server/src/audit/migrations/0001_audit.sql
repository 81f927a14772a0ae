-- The audit log (issue 17, docs/audit.md): append-only, hash-chained, MACed entries. `seq` is the
-- storage order; the chain is `prev_hash` → `hash`. Searched by user and time (newest first).
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor_kind  TEXT NOT NULL,
  actor_id    TEXT NOT NULL,
  actor_name  TEXT,
  action      TEXT NOT NULL,
  target_kind TEXT,
  target_id   TEXT,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL,
  ip          TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  mac         TEXT NOT NULL
);
CREATE INDEX audit_log_actor_at ON audit_log(actor_id, at, seq);
CREATE INDEX audit_log_name_at ON audit_log(actor_name, at, seq);
CREATE INDEX audit_log_at ON audit_log(at, seq);

-- One row each: `head` (the newest entry's seq and hash, MACed) and `anchor` (the hash of the last
-- entry retention removed, MACed).
CREATE TABLE audit_meta (
  name  TEXT PRIMARY KEY,
  seq   INTEGER NOT NULL,
  hash  TEXT NOT NULL,
  mac   TEXT NOT NULL
);
