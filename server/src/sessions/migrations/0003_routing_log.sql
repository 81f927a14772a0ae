-- Routing state fit for replay and several nodes (issue 7, DESIGN §5).
-- Capacity counts offers from the store, not from one process's memory: offered sessions per agent.
CREATE INDEX sessions_offered ON sessions(offered_agent_id, status);

-- Every routing decision, first scoring and each re-offer, appended with its inputs; never rewritten.
-- Scores, factor notes, facts (numbers and message ids) and agent ids only: no message text, no PII.
CREATE TABLE routing_decisions (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id     TEXT NOT NULL REFERENCES sessions(id),
  at             TEXT NOT NULL,
  config_version INTEGER NOT NULL,
  cause          TEXT NOT NULL,
  offered_to     TEXT,
  decision_json  TEXT NOT NULL
);
CREATE INDEX routing_decisions_session ON routing_decisions(session_id, seq);
CREATE INDEX routing_decisions_at ON routing_decisions(at, seq);
CREATE TRIGGER routing_decisions_append_only BEFORE UPDATE ON routing_decisions
BEGIN
  SELECT RAISE(ABORT, 'routing_decisions is append-only');
END;
