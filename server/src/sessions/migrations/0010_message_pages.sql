-- Issue 14: sealed page blocks. A conversation's messages are read in pages of 50 seqs; once a page is
-- complete (or its conversation closes) the session writer seals the page's payloads of one customer as
-- one AES-256-GCM block (that customer's data key, AAD `mpage:` + [conversation, page, customer, first,
-- last]) beside the rows, so a cold read opens one block instead of one ciphertext per message. The rows
-- stay the record: a block's payload is used only for a row whose stored ciphertext and header are byte
-- for byte the ones the block holds beside it (sessions/page-blocks.ts); anything else is opened row by row.
CREATE TABLE message_pages (
  conversation_id TEXT NOT NULL,
  page INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  block_ct BLOB NOT NULL,
  PRIMARY KEY (conversation_id, page, customer_id)
);
