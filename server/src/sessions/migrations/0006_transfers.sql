-- Issue 11, transfers: an agent passes a contact to another agent, a skill group or the expert tier.
-- The pending transfer is state in the store (not in a server's memory), so two servers on one
-- database agree on it: at most one pending transfer per session (the partial unique index), and a
-- warm transfer is accepted by exactly one conditional write.
--   target_json    the target as asked ({kind, agentId?, skillGroup?}): ids only
--   skill_group    the group the contact is in once transferred
--   offered_agent_id / expires_at   warm: who must accept, and by when
--   decision_json  the routing decision with `transfer` (trigger 'transferred'); a warm transfer's
--                  becomes the session's routing when it is accepted
--   note_ct, summary_ct, decline_reason_ct   sealed with the customer's data key (staff text about
--                  the customer, and the AI summary of the conversation)
CREATE TABLE transfers (
  id                TEXT PRIMARY KEY,
  session_id        TEXT NOT NULL REFERENCES sessions(id),
  customer_id       TEXT NOT NULL REFERENCES customers(id),
  from_agent_id     TEXT NOT NULL,
  mode              TEXT NOT NULL CHECK (mode IN ('warm', 'cold')),
  status            TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'cancelled', 'routed')),
  target_json       TEXT NOT NULL,
  skill_group       TEXT NOT NULL,
  offered_agent_id  TEXT,
  expires_at        TEXT,
  decision_json     TEXT NOT NULL,
  note_ct           BLOB,
  summary_ct        BLOB,
  decline_reason_ct BLOB,
  created_at        TEXT NOT NULL,
  decided_at        TEXT,
  decided_by        TEXT
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers(session_id) WHERE status = 'pending';
CREATE INDEX transfers_session ON transfers(session_id, created_at);
CREATE INDEX transfers_offered ON transfers(offered_agent_id, status);
CREATE INDEX transfers_status ON transfers(status, expires_at);
