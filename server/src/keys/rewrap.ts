import { existsSync } from 'node:fs';
import { readWrappedSecret, writeWrappedSecret } from './secret-file';
import { HuiliuError } from '../../../common/errors/codes';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/sqlite';
import type { KekStatus, KeyProvider, WrappedKey } from './provider';

/** A wrapped data key that is not under the current KEK yet: where it is (`id`) and its wrapping. */
export interface StaleWrappedKey {
  id: string;
  kekId: string;
  wrapped: Buffer;
}

/** A re-wrapped key to write back only if `id` is still wrapped by `kekId` (compare-and-set). */
export interface WrappedKeyReplacement {
  id: string;
  kekId: string;
  next: WrappedKey;
}

/**
 * Somewhere the server keeps data keys wrapped by a KEK (a table, a set of files, another database):
 * what KEK rotation needs to count and re-wrap them. Adapters: SQLite tables and wrapped-secret files
 * (here), the PostgreSQL audit log's key (audit/audit.pg.ts).
 */
export interface WrappedKeyHolder {
  /** For progress messages, e.g. `data_keys`. */
  readonly name: string;
  /** Wrapped keys per KEK id. */
  census(): Promise<Map<string, number>>;
  /** Up to `limit` keys not wrapped by `currentKek`, ordered by `id`, after `after` (`''` = from the start). */
  stale(currentKek: string, after: string, limit: number): Promise<StaleWrappedKey[]>;
  /** Writes the replacements whose key is still wrapped as read (compare-and-set); answers how many were written. */
  replace(updates: readonly WrappedKeyReplacement[]): Promise<number>;
}

const addCounts = (into: Map<string, number>, from: Map<string, number>) => {
  for (const [kek, n] of from) into.set(kek, (into.get(kek) ?? 0) + n);
};

/**
 * A SQLite table whose rows hold a data key wrapped by a KEK: its key column and the two wrapped-key
 * columns (identifiers are constants of this module, never input).
 */
export function sqliteWrappedKeys(db: Db, t: { table: string; id: string; kekId: string; wrapped: string }): WrappedKeyHolder {
  // Prepared at first use: the holder may be built before the tables' migrations ran.
  let q: { census: Statement; stale: Statement; update: Statement } | undefined;
  const stmts = () =>
    (q ??= {
      census: db.prepare(`SELECT ${t.kekId} AS kek, COUNT(*) AS n FROM ${t.table} WHERE ${t.kekId} IS NOT NULL GROUP BY ${t.kekId}`),
      stale: db.prepare(
        `SELECT ${t.id} AS id, ${t.kekId} AS kekId, ${t.wrapped} AS wrapped FROM ${t.table}
         WHERE ${t.kekId} IS NOT NULL AND ${t.kekId} <> ? AND ${t.id} > ? ORDER BY ${t.id} LIMIT ?`,
      ),
      update: db.prepare(`UPDATE ${t.table} SET ${t.kekId} = ?, ${t.wrapped} = ? WHERE ${t.id} = ? AND ${t.kekId} = ?`),
    });
  return {
    name: t.table,
    async census() {
      return new Map((stmts().census.all() as { kek: string; n: number }[]).map((r) => [r.kek, r.n]));
    },
    async stale(currentKek, after, limit) {
      return stmts().stale.all(currentKek, after, limit) as StaleWrappedKey[];
    },
    async replace(updates) {
      const { update } = stmts();
      return db.transaction(() => updates.reduce((n, u) => n + update.run(u.next.kekId, u.next.wrapped, u.id, u.kekId).changes, 0))();
    },
  };
}

/** Wrapped-secret files (`*.wrapped`, keys/secret-file.ts): re-wrapped into a temporary file, then renamed. */
export function wrappedSecretFiles(files: () => string[]): WrappedKeyHolder {
  const present = () =>
    files()
      .filter((f) => existsSync(f))
      .sort();
  return {
    name: 'wrapped secret files',
    async census() {
      const counts = new Map<string, number>();
      for (const f of present()) addCounts(counts, new Map([[readWrappedSecret(f).kekId, 1]]));
      return counts;
    },
    async stale(currentKek, after, limit) {
      return present()
        .filter((f) => f > after)
        .map((f) => ({ id: f, ...readWrappedSecret(f) }))
        .filter((k) => k.kekId !== currentKek)
        .slice(0, limit);
    },
    async replace(updates) {
      let written = 0;
      for (const u of updates) {
        if (!existsSync(u.id) || readWrappedSecret(u.id).kekId !== u.kekId) continue;
        writeWrappedSecret(u.id, u.next);
        written++;
      }
      return written;
    },
  };
}

/**
 * Every place the embedded server keeps a wrapped data key in its database (one SQLite file): the
 * session store's data keys (customers, the blind index, attachments, the SQLite audit log's MAC key)
 * and the channel accounts' sealed secrets.
 */
export function sqliteKeyHolders(db: Db): WrappedKeyHolder[] {
  return [
    sqliteWrappedKeys(db, { table: 'data_keys', id: 'owner', kekId: 'kek_id', wrapped: 'wrapped' }),
    sqliteWrappedKeys(db, { table: 'channel_accounts', id: 'id', kekId: 'kek_id', wrapped: 'wrapped_key' }),
  ];
}

/** What the key admin shows (`GET /api/v1/admin/keys`, issue 14). */
export interface KeyAdminStatus {
  provider: 'local' | 'pkcs11';
  current: string;
  /** Every KEK the provider holds, with how many wrapped data keys (rows and files) each still has. */
  keks: { kekId: string; current: boolean; wrappedKeys: number }[];
  /** Wrapped data keys whose KEK the provider no longer holds (unreadable; should be 0). */
  orphaned: number;
  rewrap: { running: boolean; rewrapped: number; failed: number; lastError: string | null; finishedAt: string | null };
}

/**
 * Key-encryption-key rotation without downtime (issue 14, DESIGN §8): `rotate` makes a new KEK
 * current (new data keys use it at once, in every thread) and re-wraps every stored data key in the
 * background — unwrap with the old KEK, wrap with the new one, write back only if the row still holds
 * the old wrapping (compare-and-set) — in batches of `batch`, yielding between them, so reads and
 * writes go on throughout: a data key is readable under either KEK at every moment. `retire` destroys
 * an earlier KEK once nothing is wrapped by it. Wrapped-secret files (`*.wrapped`, keys/secret-file.ts)
 * are re-wrapped too (written to a temporary file, then renamed).
 */
export class KeyRotation {
  private running: Promise<void> | null = null;
  private stopping = false;
  private progress = { rewrapped: 0, failed: 0, lastError: null as string | null, finishedAt: null as string | null };

  /**
   * @param deps.holders every place wrapped data keys live (e.g. `sqliteKeyHolders(db)`, the wrapped
   *   secret files, the PostgreSQL audit log's key); `batch` keys per step (default 200)
   */
  constructor(
    private readonly deps: { holders: readonly WrappedKeyHolder[]; keys: KeyProvider; batch?: number; log?: (msg: string) => void },
  ) {}

  /** Wrapped keys per KEK id, over every holder. */
  private async census(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const h of this.deps.holders) addCounts(counts, await h.census());
    return counts;
  }

  async status(): Promise<KeyAdminStatus> {
    const kek: KekStatus = this.deps.keys.kekStatus();
    const counts = await this.census();
    const held = [kek.current, ...kek.previous];
    return {
      provider: this.deps.keys.kind,
      current: kek.current,
      keks: held.map((id) => ({ kekId: id, current: id === kek.current, wrappedKeys: counts.get(id) ?? 0 })),
      orphaned: [...counts].filter(([id]) => !held.includes(id)).reduce((n, [, c]) => n + c, 0),
      rewrap: { running: this.running !== null, ...this.progress },
    };
  }

  /** Rotates and starts re-wrapping in the background; answers the status at once. */
  async rotate(): Promise<KeyAdminStatus> {
    await this.deps.keys.rotateKek();
    void this.start();
    return this.status();
  }

  /** Starts (or joins) a background re-wrap of everything not under the current KEK. */
  start(): Promise<void> {
    this.running ??= this.rewrapAll().finally(() => {
      this.running = null;
      this.progress.finishedAt = new Date().toISOString();
    });
    return this.running;
  }

  /** Waits for a re-wrap in progress (tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  /**
   * Resumes a re-wrap a restart cut short: when earlier KEKs still wrap data keys, re-wrapping starts
   * in the background. Called once at start; answers whether it started one.
   */
  async resume(): Promise<boolean> {
    const stale = (await this.status()).keks.some((k) => !k.current && k.wrappedKeys > 0);
    if (stale) void this.start();
    return stale;
  }

  /** Shutdown: the batch in progress is written, the rest waits for `resume` at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /**
   * Passes until one ran entirely under one current KEK: a rotation during a pass makes the keys it
   * already wrapped (with the KEK that was current then) stale, so another pass follows.
   */
  private async rewrapAll(): Promise<void> {
    this.progress = { rewrapped: 0, failed: 0, lastError: null, finishedAt: null };
    let current: string;
    do {
      current = this.deps.keys.kekStatus().current;
      for (const holder of this.deps.holders) await this.pass(holder);
    } while (!this.stopping && this.deps.keys.kekStatus().current !== current);
    this.deps.log?.(`KEK re-wrap finished: ${this.progress.rewrapped} re-wrapped, ${this.progress.failed} failed`);
  }

  private async pass(holder: WrappedKeyHolder): Promise<void> {
    const { keys } = this.deps;
    const batch = this.deps.batch ?? 200;
    let after = '';
    for (;;) {
      const rows = await holder.stale(keys.kekStatus().current, after, batch);
      if (rows.length === 0 || this.stopping) return;
      const updates: WrappedKeyReplacement[] = [];
      for (const row of rows) {
        try {
          const plain = await keys.unwrapDataKey({ kekId: row.kekId, wrapped: row.wrapped });
          updates.push({ id: row.id, kekId: row.kekId, next: await keys.wrapDataKey(plain) });
          plain.fill(0);
        } catch (error) {
          this.progress.failed++;
          this.progress.lastError = `${holder.name} ${row.kekId}: ${(error as Error).message}`;
        }
      }
      try {
        this.progress.rewrapped += await holder.replace(updates);
      } catch (error) {
        // The holder is unreachable (e.g. PostgreSQL down): the rest waits for the next pass or start.
        this.progress.failed += updates.length;
        this.progress.lastError = `${holder.name}: ${(error as Error).message}`;
        return;
      }
      after = rows.at(-1)!.id;
      // Let the event loop serve sockets between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Destroys an earlier KEK.
   * @throws HuiliuError KEK_IN_USE while data keys are still wrapped by it (re-wrap first), NOT_FOUND, VALIDATION_FAILED (the current one)
   */
  async retire(kekId: string): Promise<KeyAdminStatus> {
    if (kekId === this.deps.keys.kekStatus().current) {
      throw new HuiliuError('VALIDATION_FAILED', 'the current KEK cannot be retired; rotate first');
    }
    // A batch being re-wrapped may hold keys wrapped by this KEK that the census cannot see yet.
    if (this.running) throw new HuiliuError('KEK_IN_USE', 'A re-wrap is running; retire once it has finished.');
    const inUse = (await this.census()).get(kekId) ?? 0;
    if (inUse > 0)
      throw new HuiliuError('KEK_IN_USE', `${inUse} data keys are still wrapped by ${kekId}; let the re-wrap finish`, {
        wrappedKeys: inUse,
      });
    await this.deps.keys.retireKek(kekId);
    return this.status();
  }
}
