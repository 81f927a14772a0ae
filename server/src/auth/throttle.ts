import { createHash } from 'node:crypto';
import { clientNetwork } from '../http/client-network';
import { rateLimited } from '../http/errors';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/sqlite';

/** At most `attempts` login attempts per fixed window of `windowMs` milliseconds. */
export interface AttemptLimit {
  attempts: number;
  windowMs: number;
}

/**
 * The login throttle's keys (DESIGN §8). Every attempt counts under all three, whether or not the
 * username exists, so the answer never tells which usernames do.
 */
export interface LoginLimits {
  /** One username from one client address: the ordinary guesser. */
  perUserAndClient: AttemptLimit;
  /**
   * One username from any address: a ceiling a botnet cannot get around by rotating addresses. It does
   * not apply from the user's known clients (see `knownClientMs`), so it cannot lock the user out there.
   */
  perUser: AttemptLimit;
  /** One client address across usernames: password spraying. */
  perClient: AttemptLimit;
  /**
   * How long (ms) a client network stays known to a user after a successful sign-in from it. Default
   * 30 days; every success from it starts the period again.
   */
  knownClientMs?: number;
}

/** How long a client stays known after a successful sign-in unless `LoginLimits.knownClientMs` says otherwise: 30 days. */
export const KNOWN_CLIENT_MS = 30 * 24 * 3600_000;

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perUserAndClient: { attempts: 10, windowMs: 5 * 60_000 },
  perUser: { attempts: 30, windowMs: 60 * 60_000 },
  perClient: { attempts: 100, windowMs: 5 * 60_000 },
};

/**
 * A reserved attempt. A failure keeps it counted. `release()` gives it back (an attempt refused before
 * the password was looked at); `succeeded()` gives it back and remembers the client as known to the user.
 */
export interface AttemptReservation {
  release(): void;
  succeeded(): void;
}

interface CounterRow {
  count: number;
  window_end: number;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * Counts login attempts in SQLite, atomically and before the password is checked: `reserve` is one
 * synchronous IMMEDIATE transaction, so concurrent logins (in this process or another on the same
 * file) can never all pass a check that only one of them should pass. Counters survive restarts.
 *
 * A refused attempt raises its key's count above the limit; from then on releases of attempts still
 * in flight do nothing, so a success never lifts a lockout already reached. Windows are fixed: at most
 * `attempts` per window, the lockout ends with the window (that is the `Retry-After`).
 */
export class LoginThrottle {
  private readonly select: Statement<[string], CounterRow>;
  private readonly bumpRefused: Statement<[string]>;
  private readonly count: Statement<[string, number, number, number, number], CounterRow>;
  private readonly refund: Statement<[string, number, number]>;
  private readonly prune: Statement<[number]>;
  private readonly selectKnown: Statement<[string, number], { last_success: number }>;
  private readonly markKnown: Statement<[string, number]>;
  private readonly pruneKnown: Statement<[number]>;
  private readonly knownClientMs: number;
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.select = db.prepare<[string], CounterRow>('SELECT count, window_end FROM login_attempts WHERE key_hash = ?');
    this.bumpRefused = db.prepare<[string]>('UPDATE login_attempts SET count = count + 1 WHERE key_hash = ?');
    // Positional: key, window end, now, now, window end.
    this.count = db.prepare<[string, number, number, number, number], CounterRow>(
      `INSERT INTO login_attempts (key_hash, count, window_end) VALUES (?, 1, ?)
         ON CONFLICT (key_hash) DO UPDATE SET
           count = CASE WHEN window_end <= ? THEN 1 ELSE count + 1 END,
           window_end = CASE WHEN window_end <= ? THEN ? ELSE window_end END
         RETURNING count, window_end`,
    );
    this.refund = db.prepare<[string, number, number]>(
      'UPDATE login_attempts SET count = count - 1 WHERE key_hash = ? AND window_end = ? AND count <= ? AND count > 0',
    );
    this.prune = db.prepare<[number]>('DELETE FROM login_attempts WHERE window_end <= ?');
    this.selectKnown = db.prepare<[string, number], { last_success: number }>(
      'SELECT last_success FROM login_known_clients WHERE key_hash = ? AND last_success > ?',
    );
    this.markKnown = db.prepare<[string, number]>(
      `INSERT INTO login_known_clients (key_hash, last_success) VALUES (?, ?)
         ON CONFLICT (key_hash) DO UPDATE SET last_success = MAX(last_success, excluded.last_success)`,
    );
    this.pruneKnown = db.prepare<[number]>('DELETE FROM login_known_clients WHERE last_success <= ?');
    this.knownClientMs = limits.knownClientMs ?? KNOWN_CLIENT_MS;
  }

  /**
   * Reserves one attempt for `username` from `client` (the request's client address) under every key,
   * or throws RATE_LIMITED (details `{retryAfterSeconds}`) without counting it under the keys that are
   * not exhausted. From a client known to the user (a success from its network within `knownClientMs`)
   * the per-username key is neither checked nor counted. Synchronous on purpose: call it before the
   * first `await` of a login.
   */
  reserve(username: string, clientAddress: string): AttemptReservation {
    const name = username.normalize('NFKC').toLowerCase();
    const client = clientNetwork(clientAddress);
    // JSON arrays, not joined strings: no two different (name, client) pairs give the same key.
    const knownKey = keyHash(['known', name, client]);
    const perUserAndClient = { key: keyHash(['user+client', name, client]), limit: this.limits.perUserAndClient };
    const perUser = { key: keyHash(['user', name]), limit: this.limits.perUser };
    const perClient = { key: keyHash(['client', client]), limit: this.limits.perClient };
    const now = this.now();
    const outcome = this.db
      .transaction(() => {
        if (now - this.lastPrune >= PRUNE_EVERY_MS) {
          this.prune.run(now);
          this.pruneKnown.run(now - this.knownClientMs);
          this.lastPrune = now;
        }
        // The real user at a network they signed in from is not held back by guesses made elsewhere;
        // guesses from that network still meet the per-user-and-client and per-client limits.
        const known = this.selectKnown.get(knownKey, now - this.knownClientMs) !== undefined;
        const keys = known ? [perUserAndClient, perClient] : [perUserAndClient, perUser, perClient];
        const current = keys.map(({ key, limit }) => {
          const row = this.select.get(key);
          return row && row.window_end > now ? row : { count: 0, window_end: now + limit.windowMs };
        });
        const full = keys.filter((k, i) => current[i]!.count >= k.limit.attempts);
        if (full.length > 0) {
          for (const k of full) this.bumpRefused.run(k.key);
          const waitMs = Math.max(...keys.map((k, i) => (current[i]!.count >= k.limit.attempts ? current[i]!.window_end - now : 0)));
          return { ok: false as const, waitMs };
        }
        const windows = keys.map(({ key, limit }) => this.count.get(key, now + limit.windowMs, now, now, now + limit.windowMs)!.window_end);
        return { ok: true as const, keys, windows };
      })
      .immediate();
    if (!outcome.ok) throw rateLimited(outcome.waitMs / 1000, 'Too many sign-in attempts; try again later.');
    let released = false;
    const giveBack = (known: boolean) => {
      if (released) return;
      released = true;
      this.db.transaction(() => {
        outcome.keys.forEach(({ key, limit }, i) => this.refund.run(key, outcome.windows[i]!, limit.attempts));
        if (known) this.markKnown.run(knownKey, this.now());
      })();
    };
    return { release: () => giveBack(false), succeeded: () => giveBack(true) };
  }
}

// One rule for "the same client" across every limit: IPv4 as is, IPv6 by its /64.
export { clientNetwork };

const keyHash = (parts: readonly string[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/**
 * Bounds how many expensive jobs (argon2id verifications, 19 MiB each) run at once: at most `max`
 * run, at most `maxWaiting` wait, and any more are refused at once with RATE_LIMITED (retry in 1 s).
 * The refusal is decided synchronously when `run` is called, so callers can count on it before any await.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly max: number,
    readonly maxWaiting: number,
  ) {}

  /** True when `run` would refuse now. */
  get full(): boolean {
    return this.active >= this.max && this.waiting.length >= this.maxWaiting;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.full) return Promise.reject(rateLimited(1, 'The server is busy signing people in; try again in a moment.'));
    const start = async (): Promise<T> => {
      try {
        return await job();
      } finally {
        this.active -= 1;
        this.waiting.shift()?.();
      }
    };
    if (this.active < this.max) {
      this.active += 1;
      return start();
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.active += 1;
        start().then(resolve, reject);
      });
    });
  }
}
