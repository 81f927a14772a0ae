-- Channel accounts (issue 7 §1): the credentials and settings of each channel connection as data —
-- app keys today; WeChat official accounts, an XMPP component, a SIP trunk next. A key the caller
-- presents (the app channel's X-Huiliu-Key) is stored as SHA-256 only; secrets the server must use
-- itself (an AppSecret, a SIP password) are sealed with a per-account data key wrapped by the KEK.
CREATE TABLE channel_accounts (
  id             TEXT PRIMARY KEY,
  channel        TEXT NOT NULL,
  -- The app id, the WeChat AppID, the component JID: scopes the channel's customer ids.
  account_id     TEXT NOT NULL,
  name           TEXT NOT NULL,
  skill_group    TEXT,
  key_hash       TEXT UNIQUE,
  kek_id         TEXT,
  wrapped_key    BLOB,
  sealed_secrets BLOB,
  created_at     TEXT NOT NULL
);
CREATE INDEX channel_accounts_channel ON channel_accounts(channel, account_id);

-- The newest delivery state of each outbound message, as its channel reported it (one row per
-- message; the dispatcher never moves a state backwards).
CREATE TABLE message_deliveries (
  message_id    TEXT PRIMARY KEY,
  channel       TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('sent', 'delivered', 'read', 'failed')),
  error_code    TEXT,
  error_message TEXT,
  updated_at    TEXT NOT NULL
);
