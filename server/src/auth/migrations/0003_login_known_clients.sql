-- Client networks a user has signed in from successfully ("known clients", issue 6 review): from one
-- of them the per-username ceiling across addresses does not apply, so a botnet guessing a name cannot
-- lock its agent out at the office. The key is SHA-256 of the JSON form ["known", name, client] (client:
-- IPv4 address or IPv6 /64, as the throttle counts it), so names and addresses are not kept in clear.
-- `last_success` is ms since the epoch; rows older than the known-client period are pruned.
CREATE TABLE login_known_clients (
  key_hash     TEXT PRIMARY KEY,
  last_success INTEGER NOT NULL
);
CREATE INDEX login_known_clients_last_success ON login_known_clients(last_success);
