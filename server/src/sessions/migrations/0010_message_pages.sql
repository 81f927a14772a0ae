-- Issue 14: sealed page blocks. A conversation's messages are read in pages of 50 seqs; once a page is
-- complete (or its conversation closes) the session writer seals the page's payloads of one customer as
-- one AES-256-GCM block (that customer's data key, AAD `mpage:` + [conversation, page, customer, first,
-- last]) beside the rows, so a cold read opens one block instead of one ciphertext per message. The rows
-- stay the record: a block is used only when the SHA-256 it holds matches the rows' ciphertexts and
-- headers byte for byte (sessions/page-blocks.ts); anything else is opened row by row.
CREATE TABLE message_pages (
  conversation_id TEXT NOT NULL,
  page INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  block_ct BLOB NOT NULL,
  PRIMARY KEY (conversation_id, page, customer_id)
);
