-- Issue 15: CSAT asked on the customer's own channel after an agent closes a WeChat, XMPP or app
-- conversation. One row per closed session that was asked: its answer window, and which inbound message
-- answered it (a channel's retry of that message is recognised by its id and changes nothing).
-- Ids, a language tag and times only: the rating itself is the session store's (session_ratings).
CREATE TABLE csat_surveys (
  session_id          TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  customer_id         TEXT NOT NULL,
  conversation_id     TEXT NOT NULL,
  -- 'zh' | 'en': the customer's language when asked (the prompt's and the thank-you's).
  lang                TEXT NOT NULL,
  requested_at        TEXT NOT NULL,
  -- Epoch milliseconds: a rating reply after this is an ordinary message.
  expires_at          INTEGER NOT NULL,
  -- The channel's id of the message that answered (WeChat MsgId, XMPP clientMessageId …), once answered.
  answered_message_id TEXT,
  answered_at         TEXT
);
CREATE INDEX csat_surveys_customer ON csat_surveys(customer_id, channel, requested_at);

-- Issue 15: the app webhook outbox also carries events that are no stored message
-- (`conversation.csat_requested`): their JSON body (ids, language, expiry; no customer text) is kept
-- here, and `message_id` holds the event id.
ALTER TABLE app_webhook_deliveries ADD COLUMN event_json TEXT;
