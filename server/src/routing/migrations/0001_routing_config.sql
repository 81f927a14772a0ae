-- Versioned routing configuration (issue 7, DESIGN §5): every change is a new row, numbered by the
-- store; a version is never rewritten or reused, so a past decision's config can always be read back.
CREATE TABLE routing_config_versions (
  version      INTEGER PRIMARY KEY AUTOINCREMENT,
  config_json  TEXT NOT NULL,              -- RoutingConfig without `version` (the row's key is the version)
  published_by TEXT NOT NULL,              -- a user id, or 'config-file' for the HUILIU_CONFIG seed
  published_at TEXT NOT NULL
);
CREATE TRIGGER routing_config_versions_immutable BEFORE UPDATE ON routing_config_versions
BEGIN
  SELECT RAISE(ABORT, 'routing_config_versions is append-only');
END;
CREATE TRIGGER routing_config_versions_kept BEFORE DELETE ON routing_config_versions
BEGIN
  SELECT RAISE(ABORT, 'routing_config_versions is append-only');
END;
