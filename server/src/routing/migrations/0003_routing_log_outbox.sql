-- Issue 14 (HUILIU_STORE=redis): how far this database's routing_decisions rows have been copied to the
-- routing decisions port on the Redis Cluster (decisions.outbox.ts). One row; rows with a larger seq
-- are the outbox. Embedded mode never writes it.
CREATE TABLE routing_log_outbox (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  pushed_seq INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
