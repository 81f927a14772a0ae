-- migration: rebuilds tables
-- Issue 10, the AI tier (DESIGN §5): a session the AI is answering has status 'bot'. SQLite cannot
-- widen a CHECK in place, so `sessions` is rebuilt with the same columns plus two:
--   handover_json       why, when and by whom the contact left the AI for a person (ids, labels,
--                       numbers only: no customer text), null while it never was with the AI;
--   handover_summary_ct the conversation summary made at the hand-over, sealed with the customer's key.
-- Messages get `author_kind` (customer | agent | ai | system; null on older rows: derived).
CREATE TABLE sessions_v5 (
  id                  TEXT PRIMARY KEY CHECK (length(id) = 20),
  conversation_id     TEXT NOT NULL REFERENCES conversations(id),
  customer_id         TEXT NOT NULL REFERENCES customers(id),
  channel             TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('bot', 'queued', 'offered', 'active', 'closed')),
  skill_group         TEXT NOT NULL,
  assigned_agent_id   TEXT,
  offered_agent_id    TEXT,
  offer_expires_at    TEXT,
  routing_json        TEXT,
  wrap_up_code        TEXT,
  wrap_up_note_ct     BLOB,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  waiting_since       TEXT NOT NULL,
  closed_at           TEXT,
  last_message_at     TEXT NOT NULL,
  handover_json       TEXT,
  handover_summary_ct BLOB
);
INSERT INTO sessions_v5 (id, conversation_id, customer_id, channel, status, skill_group, assigned_agent_id, offered_agent_id,
    offer_expires_at, routing_json, wrap_up_code, wrap_up_note_ct, created_at, updated_at, waiting_since, closed_at, last_message_at)
  SELECT id, conversation_id, customer_id, channel, status, skill_group, assigned_agent_id, offered_agent_id,
    offer_expires_at, routing_json, wrap_up_code, wrap_up_note_ct, created_at, updated_at, waiting_since, closed_at, last_message_at
  FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_v5 RENAME TO sessions;
CREATE INDEX sessions_status_group ON sessions(status, skill_group);
CREATE INDEX sessions_customer_channel ON sessions(customer_id, channel, created_at);
CREATE INDEX sessions_agent ON sessions(assigned_agent_id, status);
CREATE INDEX sessions_offered ON sessions(offered_agent_id, status);

ALTER TABLE messages ADD COLUMN author_kind TEXT CHECK (author_kind IN ('customer', 'agent', 'ai', 'system'));
