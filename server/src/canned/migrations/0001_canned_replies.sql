-- Canned replies (issue 15, common/api/canned.ts): staff text, per skill group or personal.
-- `scope` is 'g:<skill group>' or 'u:<owner id>', so one unique index covers both kinds of shortcut.
CREATE TABLE canned_replies (
  id          TEXT PRIMARY KEY,
  scope       TEXT NOT NULL,
  shortcut    TEXT NOT NULL,
  title       TEXT NOT NULL,
  text        TEXT NOT NULL,
  skill_group TEXT,
  owner_id    TEXT,
  lang        TEXT,
  updated_by  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies(scope, shortcut);
