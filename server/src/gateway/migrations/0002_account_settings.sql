-- Issue 12: a channel account's non-secret settings (a WeChat account's AppID, API base URL and
-- message mode; an XMPP component's server address and domain) as JSON. Secrets stay sealed.
ALTER TABLE channel_accounts ADD COLUMN settings_json TEXT;
-- Accounts without a caller key (WeChat, XMPP) are one row per (channel, account id): a restart or
-- a config reload updates that row instead of adding another.
CREATE UNIQUE INDEX channel_accounts_keyless ON channel_accounts(channel, account_id) WHERE key_hash IS NULL;
