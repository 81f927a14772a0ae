-- Login attempt counters (DESIGN §8), kept in the database so a restart does not clear a lockout.
-- One row per throttle key: the key is stored as SHA-256 of its JSON form (["user+client", name, ip],
-- ["user", name], ["client", ip]), so guessed usernames — sometimes a mistyped password — and client
-- addresses are not kept in clear. `count` is the attempts of the fixed window ending at `window_end`
-- (ms since the epoch); a count above the key's limit means an attempt was already refused in it.
CREATE TABLE login_attempts (
  key_hash   TEXT PRIMARY KEY,
  count      INTEGER NOT NULL,
  window_end INTEGER NOT NULL
);
CREATE INDEX login_attempts_window_end ON login_attempts(window_end);
