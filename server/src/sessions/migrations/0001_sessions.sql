-- Data keys: per-customer AES-256 keys (and the blind-index key), stored only wrapped by the KEK.
CREATE TABLE data_keys (
  owner      TEXT PRIMARY KEY,
  kek_id     TEXT NOT NULL,
  wrapped    BLOB NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  name_ct    BLOB NOT NULL,
  created_at TEXT NOT NULL
);

-- A channel identity (openid, JID, phone, app user id, web visitor) links to one customer.
-- external ids are PII: looked up by keyed hash, stored encrypted.
CREATE TABLE customer_identities (
  channel          TEXT NOT NULL,
  external_id_hmac TEXT NOT NULL,
  customer_id      TEXT NOT NULL REFERENCES customers(id),
  external_id_ct   BLOB NOT NULL,
  phone_ct         BLOB,
  created_at       TEXT NOT NULL,
  PRIMARY KEY (channel, external_id_hmac)
);
CREATE INDEX customer_identities_customer ON customer_identities(customer_id);

CREATE TABLE conversations (
  id          TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  last_seq    INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX conversations_customer ON conversations(customer_id, status, updated_at);

CREATE TABLE sessions (
  id                TEXT PRIMARY KEY CHECK (length(id) = 20),
  conversation_id   TEXT NOT NULL REFERENCES conversations(id),
  customer_id       TEXT NOT NULL REFERENCES customers(id),
  channel           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('queued', 'offered', 'active', 'closed')),
  skill_group       TEXT NOT NULL,
  assigned_agent_id TEXT,
  offered_agent_id  TEXT,
  offer_expires_at  TEXT,
  routing_json      TEXT,
  wrap_up_code      TEXT,
  wrap_up_note_ct   BLOB,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  waiting_since     TEXT NOT NULL,
  closed_at         TEXT,
  last_message_at   TEXT NOT NULL
);
CREATE INDEX sessions_status_group ON sessions(status, skill_group);
CREATE INDEX sessions_customer_channel ON sessions(customer_id, channel, created_at);
CREATE INDEX sessions_agent ON sessions(assigned_agent_id, status);

CREATE TABLE messages (
  id                TEXT PRIMARY KEY,
  conversation_id   TEXT NOT NULL REFERENCES conversations(id),
  session_id        TEXT NOT NULL REFERENCES sessions(id),
  customer_id       TEXT NOT NULL REFERENCES customers(id),
  seq               INTEGER NOT NULL,
  channel           TEXT NOT NULL,
  direction         TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  kind              TEXT NOT NULL,
  payload_ct        BLOB NOT NULL,    -- sealed JSON {body, meta}

  content_hmac      TEXT NOT NULL,
  client_message_id TEXT NOT NULL,
  critical          INTEGER NOT NULL,
  author_id         TEXT,
  sent_at           TEXT NOT NULL,
  received_at       TEXT NOT NULL,
  UNIQUE (conversation_id, seq),
  UNIQUE (customer_id, direction, client_message_id)
);
