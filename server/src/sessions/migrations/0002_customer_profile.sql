-- Later contact details update the customer (issue 6, C10). The current values stay sealed in
-- customers.name_ct / customer_identities.phone_ct; a keyed hash of each lets the hot path see
-- "unchanged" without decrypting, and every change is kept, sealed, in customer_profile_changes.
ALTER TABLE customers ADD COLUMN name_hmac TEXT;
ALTER TABLE customer_identities ADD COLUMN phone_hmac TEXT;

CREATE TABLE customer_profile_changes (
  id          TEXT PRIMARY KEY,           -- UUIDv7: time-ordered
  customer_id TEXT NOT NULL REFERENCES customers(id),
  field       TEXT NOT NULL CHECK (field IN ('name', 'phone')),
  channel     TEXT NOT NULL,
  previous_ct BLOB,
  value_ct    BLOB NOT NULL,
  changed_at  TEXT NOT NULL
);
CREATE INDEX customer_profile_changes_customer ON customer_profile_changes(customer_id, id);
