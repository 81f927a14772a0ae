CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  roles         TEXT NOT NULL,        -- JSON array of roles
  skill_groups  TEXT NOT NULL,        -- JSON array of skill group ids
  expert        INTEGER NOT NULL DEFAULT 0,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);

-- Opaque bearer tokens; only their SHA-256 is stored, so a database copy cannot log anyone in.
CREATE TABLE auth_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX auth_tokens_user ON auth_tokens(user_id);

-- Channel credentials (the app channel's X-Huiliu-Key), stored as SHA-256. `app_id` names the
-- integrating app; it scopes that app's customer ids and survives key rotation.
CREATE TABLE channel_keys (
  key_hash    TEXT PRIMARY KEY,
  channel     TEXT NOT NULL,
  app_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  skill_group TEXT,
  created_at  TEXT NOT NULL
);
