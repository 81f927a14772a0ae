-- The web channel's own state (issue 13), in the server's database file beside the session store.
-- Nothing personal: ids, topic ids, skill groups and seq numbers only (the pre-chat name and contact
-- details are stored sealed by the session store, as the customer's name and untrusted links).

-- The visitor's answer to the pre-chat form: the topic they picked and the skill group it maps to
-- (their next web session opens there), and when they answered (so the form is not shown again).
CREATE TABLE widget_pre_chat (
  customer_id  TEXT PRIMARY KEY,
  topic        TEXT,
  skill_group  TEXT,
  saved_at     TEXT NOT NULL
);

-- Read marks of a conversation, one per side: `agent` (staff read the customer's messages up to
-- up_to_seq) and `customer` (the visitor saw the replies up to it). Only ever raised.
CREATE TABLE read_marks (
  conversation_id TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('agent', 'customer')),
  up_to_seq       INTEGER NOT NULL CHECK (up_to_seq >= 0),
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (conversation_id, side)
) WITHOUT ROWID;
