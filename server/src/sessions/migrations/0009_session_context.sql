-- Issue 14: a session's context (the customer's profile, the current issue, AI-recommended scripts),
-- one sealed JSON document per session (AES-256-GCM with the customer's data key, AAD
-- `session:<id>:context`), written through the conversations port (conversations.ts).
CREATE TABLE session_context (
  session_id TEXT PRIMARY KEY REFERENCES sessions(id),
  context_ct BLOB NOT NULL,
  updated_at TEXT NOT NULL
);
