-- Issue 17: data-subject requests (export and erasure share one four-eyes flow) and conversation
-- retention per skill group. docs/privacy.md.
CREATE TABLE privacy_requests (
  id            TEXT PRIMARY KEY,            -- UUIDv7
  kind          TEXT NOT NULL CHECK (kind IN ('export', 'erasure')),
  status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'downloaded', 'expired', 'executed', 'failed')),
  customer_id   TEXT NOT NULL,
  session_id    TEXT,
  reason        TEXT NOT NULL,
  requested_by  TEXT NOT NULL,
  requested_at  TEXT NOT NULL,
  due_at        TEXT NOT NULL,
  decided_by    TEXT,
  decided_at    TEXT,
  expires_at    TEXT,
  completed_at  TEXT,
  -- The export bundle, sealed (AES-256-GCM) with its own data key, stored only wrapped by the KEK.
  bundle_ct     BLOB,
  bundle_kek_id TEXT,
  bundle_key    BLOB
);
CREATE INDEX privacy_requests_kind ON privacy_requests(kind, requested_at);
CREATE INDEX privacy_requests_expiry ON privacy_requests(expires_at) WHERE bundle_ct IS NOT NULL;

CREATE TABLE retention_rules (
  skill_group TEXT PRIMARY KEY,
  days        INTEGER CHECK (days IS NULL OR days >= 1),
  updated_by  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
