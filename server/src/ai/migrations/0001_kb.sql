-- The knowledge base (issue 9): FAQ entries, one per (intent, lang), and its numbered versions. KB
-- content is not customer data, so it is stored in the clear; lists are JSON arrays of strings.
CREATE TABLE kb_entries (
  id             TEXT PRIMARY KEY,          -- a UUID
  intent         TEXT NOT NULL,
  lang           TEXT NOT NULL CHECK (lang IN ('zh', 'en')),
  questions_json TEXT NOT NULL,
  answer         TEXT NOT NULL,
  tags_json      TEXT NOT NULL,
  skill_group    TEXT,                      -- NULL: a hand-over goes to the contact's own group
  related_json   TEXT NOT NULL,             -- follow-up intents, kept as given (may name no entry)
  version        INTEGER NOT NULL,          -- the KB version that last changed this entry
  updated_at     TEXT NOT NULL,
  updated_by     TEXT NOT NULL,
  UNIQUE (intent, lang)
);
CREATE INDEX kb_entries_lang ON kb_entries (lang, intent);

-- One row per change (a create, update, delete or whole import): the KB version is max(version), 0
-- when empty. Written in the same transaction as the change; never rewritten or reused.
CREATE TABLE kb_versions (
  version    INTEGER PRIMARY KEY,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  summary    TEXT NOT NULL
);
CREATE TRIGGER kb_versions_immutable BEFORE UPDATE ON kb_versions
BEGIN
  SELECT RAISE(ABORT, 'kb_versions is append-only');
END;
CREATE TRIGGER kb_versions_kept BEFORE DELETE ON kb_versions
BEGIN
  SELECT RAISE(ABORT, 'kb_versions is append-only');
END;
