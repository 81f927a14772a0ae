-- Issue 18: a routing decision's `candidates` (every agent looked at, and why; ≈ 300 bytes an agent)
-- beside the session row instead of inside its `routing_json`, so the many reads of a session do not
-- read and parse them. The session detail view reads them from here; routing_decisions keeps every
-- decision whole, as before.
CREATE TABLE session_routing_candidates (
  session_id      TEXT PRIMARY KEY REFERENCES sessions(id),
  candidates_json TEXT NOT NULL
);
INSERT INTO session_routing_candidates (session_id, candidates_json)
  SELECT id, routing_json -> '$.candidates' FROM sessions WHERE json_type(routing_json, '$.candidates') = 'array';
UPDATE sessions SET routing_json = json_remove(routing_json, '$.candidates')
  WHERE json_type(routing_json, '$.candidates') IS NOT NULL;
