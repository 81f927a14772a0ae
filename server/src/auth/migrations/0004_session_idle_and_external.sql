-- Sessions that expire when idle (issue 17, ASVS 5.0 V7.3.1): `last_used_at` is the last time (ms since
-- the epoch) a request or socket event used the token; NULL on rows from before this migration, which
-- then count from `created_at`.
ALTER TABLE auth_tokens ADD COLUMN last_used_at INTEGER;

-- Staff who sign in through an enterprise OpenID provider (issue 17): one row per (issuer, subject),
-- the provider's stable identifiers (OIDC Core §2 `iss` + `sub`), linked to the local user it created.
CREATE TABLE external_identities (
  issuer     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (issuer, subject)
);
