-- Issue 13: the app channel's outbound webhooks. One row per (outbound message, app): the outbox a
-- worker drains with retries, so a delivery still pending survives a restart. Only ids are kept —
-- the text and the app's user id are read again from the session store at each attempt (they stay
-- sealed there), and the signing secret stays sealed in channel_accounts.
CREATE TABLE app_webhook_deliveries (
  id              TEXT PRIMARY KEY,
  message_id      TEXT NOT NULL,
  -- The app id (channel_accounts.account_id of an AP account).
  app_id          TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  customer_id     TEXT NOT NULL,
  -- The session's facts as the dispatcher saw them (ids and states only): delivery.changed carries them.
  session_json    TEXT NOT NULL,
  -- pending: waiting for its next attempt; delivered: a 2xx; dead: dead-lettered (retries exhausted
  -- or refused for good), until an admin re-queues it.
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- Epoch milliseconds; a claimed row is pushed past its send timeout (a lease), so a node that
  -- died mid-send leaves it due again.
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  dead_reason     TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (message_id, app_id)
);
CREATE INDEX app_webhook_deliveries_due ON app_webhook_deliveries(status, next_attempt_at);
CREATE INDEX app_webhook_deliveries_dead ON app_webhook_deliveries(status, app_id, updated_at);
