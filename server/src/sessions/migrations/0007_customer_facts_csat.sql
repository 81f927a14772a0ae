-- Issue 11: what routing's valueScore reads of a customer besides their contact history
-- (docs/customer-facts.md).

-- Value facts set by an import or the app channel's customer.attributes: sealed JSON
-- {spend?:{value,source,at}, csat?:{value,source,at}} with the customer's data key, so an erasure
-- that destroys the key takes them too.
CREATE TABLE customer_facts (
  customer_id TEXT PRIMARY KEY REFERENCES customers(id),
  facts_ct    BLOB NOT NULL,
  updated_at  TEXT NOT NULL
);

-- A customer's rating (CSAT) of one closed session: once per session (the primary key decides).
-- The score is an operational measure like the wrap-up code, in the clear for KPIs; the comment is
-- the customer's own words, sealed.
CREATE TABLE session_ratings (
  session_id  TEXT PRIMARY KEY REFERENCES sessions(id),
  customer_id TEXT NOT NULL REFERENCES customers(id),
  score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment_ct  BLOB,
  rated_at    TEXT NOT NULL
);
CREATE INDEX session_ratings_customer ON session_ratings(customer_id, rated_at);
CREATE INDEX session_ratings_time ON session_ratings(rated_at);
