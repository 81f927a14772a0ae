-- Versioned SLA policies (issue 16, docs/sla.md): every published set is a new row, numbered by the
-- store; a version is never rewritten or reused, like the routing config.
CREATE TABLE sla_policy_versions (
  version       INTEGER PRIMARY KEY AUTOINCREMENT,
  policies_json TEXT NOT NULL,             -- SlaPolicySet
  published_by  TEXT NOT NULL,             -- a user id, or 'config-file' for the HUILIU_CONFIG seed
  published_at  TEXT NOT NULL,
  comment       TEXT
);
CREATE TRIGGER sla_policy_versions_immutable BEFORE UPDATE ON sla_policy_versions
BEGIN
  SELECT RAISE(ABORT, 'sla_policy_versions is append-only');
END;
CREATE TRIGGER sla_policy_versions_kept BEFORE DELETE ON sla_policy_versions
BEGIN
  SELECT RAISE(ABORT, 'sla_policy_versions is append-only');
END;
