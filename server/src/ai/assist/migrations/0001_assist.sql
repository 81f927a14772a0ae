-- Issue 10, AI assistance (server/src/ai/assist/). Customer words are sealed (AES-256-GCM with the
-- customer's data key, the same key the session store seals their messages with: destroying it for an
-- erasure makes these unreadable too). Clear-text columns are ids, labels, numbers and times only.

-- The assisted tier's drafts and what the agent did with each (the feedback report reads them).
-- One draft per session: the one made when the contact was first offered.
CREATE TABLE assist_drafts (
  id              TEXT PRIMARY KEY,
  session_id      TEXT NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL,
  customer_id     TEXT NOT NULL,
  skill_group     TEXT NOT NULL,
  for_message_id  TEXT NOT NULL,
  source_kind     TEXT NOT NULL CHECK (source_kind IN ('kb', 'past-reply')),
  source_json     TEXT NOT NULL,
  intent          TEXT,
  created_at      TEXT NOT NULL,
  draft_ct        BLOB NOT NULL,
  outcome         TEXT CHECK (outcome IN ('accepted', 'edited', 'discarded')),
  decided_at      TEXT,
  decided_by      TEXT,
  message_id      TEXT,
  final_ct        BLOB,
  edit_distance   INTEGER,
  edit_ratio      REAL
);
CREATE INDEX assist_drafts_decided ON assist_drafts(decided_at);
CREATE INDEX assist_drafts_created ON assist_drafts(created_at);
CREATE INDEX assist_drafts_customer ON assist_drafts(customer_id);

-- The past-reply memory: an agent's reply and the customer question it answered, depersonalised
-- (PII masked, names and numbers as placeholders) and sealed; the newest 20,000 are kept.
CREATE TABLE assist_past_replies (
  id          TEXT PRIMARY KEY,
  skill_group TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  pair_ct     BLOB NOT NULL
);
CREATE INDEX assist_past_replies_created ON assist_past_replies(created_at);
CREATE INDEX assist_past_replies_customer ON assist_past_replies(customer_id);

-- One-time jobs done (the backfill of the memory from stored conversations).
CREATE TABLE assist_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
