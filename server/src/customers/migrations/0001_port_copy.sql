-- Issue 14, HUILIU_STORE=redis: how far this node's SQLite file has handed its customers to the Redis
-- customers port (port-copy.ts). One row per job; no customer content, ids only.
CREATE TABLE customer_port_copy (
  name       TEXT PRIMARY KEY,   -- 'customers'
  cursor     TEXT NOT NULL,      -- the last customer id copied (customers are copied in id order)
  copied     INTEGER NOT NULL,   -- customers copied so far
  done_at    TEXT,               -- when every customer was copied (later starts copy nothing)
  updated_at TEXT NOT NULL
);
