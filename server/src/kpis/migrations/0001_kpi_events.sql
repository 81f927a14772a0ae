-- The contact event log (issue 16, docs/kpis.md): append-only facts the KPIs are computed from.
-- Ids, codes, times and numbers only: no customer content. `id` makes appends idempotent.
CREATE TABLE kpi_events (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL,
  at              INTEGER NOT NULL,
  session_id      TEXT,
  conversation_id TEXT,
  customer_id     TEXT,
  skill_group     TEXT,
  channel         TEXT,
  tier            TEXT,
  agent_id        TEXT,
  data            TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX kpi_events_at ON kpi_events(at);
CREATE INDEX kpi_events_session ON kpi_events(session_id, kind);
CREATE INDEX kpi_events_conversation ON kpi_events(conversation_id, kind);

CREATE TRIGGER kpi_events_no_update BEFORE UPDATE ON kpi_events
BEGIN SELECT RAISE(ABORT, 'kpi_events is append-only'); END;
CREATE TRIGGER kpi_events_no_delete BEFORE DELETE ON kpi_events
BEGIN SELECT RAISE(ABORT, 'kpi_events is append-only'); END;
