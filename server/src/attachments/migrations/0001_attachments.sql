-- Attachments customers send (issue 10: images on the app channel) and the text OCR read from them.
-- The bytes and the text are sealed with the customer's data key (data_keys, sessions/migrations/0001)
-- under AAD `att:<id>:bytes` / `att:<id>:ocr`; nothing readable is stored. Ids, sizes and the OCR
-- status, language and confidence are not personal and stay plain. No foreign keys into the session
-- store's tables: the two capabilities migrate on their own.
CREATE TABLE attachments (
  id              TEXT PRIMARY KEY,
  customer_id     TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  mime            TEXT NOT NULL,
  size            INTEGER NOT NULL,
  width           INTEGER NOT NULL,
  height          INTEGER NOT NULL,
  bytes_ct        BLOB NOT NULL,
  created_at      TEXT NOT NULL,
  ocr_status      TEXT NOT NULL CHECK (ocr_status IN ('pending', 'done', 'failed', 'skipped')),
  ocr_lang        TEXT,
  ocr_confidence  REAL,
  ocr_ct          BLOB,
  ocr_at          TEXT
);
CREATE INDEX attachments_customer ON attachments(customer_id);
CREATE INDEX attachments_message ON attachments(message_id);
CREATE INDEX attachments_created ON attachments(created_at, id);
CREATE INDEX attachments_pending ON attachments(created_at) WHERE ocr_status = 'pending';

-- The blind index of OCR text: one row per distinct term (attachments/terms.ts) and attachment, the
-- term as an HMAC-SHA-256 under the `index:attachments` data key. A search hashes its terms the same
-- way; the terms themselves are never stored.
CREATE TABLE attachment_terms (
  term_hmac     TEXT NOT NULL,
  attachment_id TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
  PRIMARY KEY (term_hmac, attachment_id)
) WITHOUT ROWID;
CREATE INDEX attachment_terms_attachment ON attachment_terms(attachment_id);
