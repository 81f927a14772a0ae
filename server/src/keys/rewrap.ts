import { existsSync } from 'node:fs';
import { readWrappedSecret, writeWrappedSecret } from './secret-file';
import { HuiliuError } from '../../../common/errors/codes';
import type { Db } from '../db/sqlite';
import type { KekStatus, KeyProvider } from './provider';

/** A table whose rows hold a data key wrapped by a KEK: its key column and the two wrapped-key columns. */
interface WrappedKeyTable {
  table: string;
  id: string;
  kekId: string;
  wrapped: string;
}

/**
 * Every place the server keeps a wrapped data key in its database (one SQLite file): the session
 * store's data keys (customers, the blind index, attachments) and the channel accounts' sealed secrets.
 */
const TABLES: readonly WrappedKeyTable[] = [
  { table: 'data_keys', id: 'owner', kekId: 'kek_id', wrapped: 'wrapped' },
  { table: 'channel_accounts', id: 'id', kekId: 'kek_id', wrapped: 'wrapped_key' },
];

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

  constructor(
    private readonly deps: { db: Db; keys: KeyProvider; wrappedFiles: () => string[]; batch?: number; log?: (msg: string) => void },
  ) {}

  /** Wrapped keys per KEK id, rows and files. */
  private census(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of TABLES) {
      const rows = this.deps.db
        .prepare(`SELECT ${t.kekId} AS kek, COUNT(*) AS n FROM ${t.table} WHERE ${t.kekId} IS NOT NULL GROUP BY ${t.kekId}`)
        .all() as { kek: string; n: number }[];
      for (const r of rows) counts.set(r.kek, (counts.get(r.kek) ?? 0) + r.n);
    }
    for (const f of this.deps.wrappedFiles()) {
      if (!existsSync(f)) continue;
      const kek = readWrappedSecret(f).kekId;
      counts.set(kek, (counts.get(kek) ?? 0) + 1);
    }
    return counts;
  }

  status(): KeyAdminStatus {
    const kek: KekStatus = this.deps.keys.kekStatus();
    const counts = this.census();
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
    this.start();
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
   * in the background. Called once at start.
   */
  resume(): void {
    if (this.status().keks.some((k) => !k.current && k.wrappedKeys > 0)) void this.start();
  }

  /** Shutdown: the batch in progress is written, the rest waits for `resume` at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /**
   * Passes until one ran entirely under one current KEK: a rotation during a pass makes the rows it
   * already wrapped (with the KEK that was current then) stale, so another pass follows.
   */
  private async rewrapAll(): Promise<void> {
    this.progress = { rewrapped: 0, failed: 0, lastError: null, finishedAt: null };
    let current: string;
    do {
      current = this.deps.keys.kekStatus().current;
      await this.pass();
    } while (!this.stopping && this.deps.keys.kekStatus().current !== current);
    this.deps.log?.(`KEK re-wrap finished: ${this.progress.rewrapped} re-wrapped, ${this.progress.failed} failed`);
  }

  private async pass(): Promise<void> {
    const { db, keys } = this.deps;
    const batch = this.deps.batch ?? 200;
    for (const t of TABLES) {
      let after = '';
      for (;;) {
        const current = keys.kekStatus().current;
        const rows = db
          .prepare(
            `SELECT ${t.id} AS id, ${t.kekId} AS kek, ${t.wrapped} AS wrapped FROM ${t.table}
             WHERE ${t.kekId} IS NOT NULL AND ${t.kekId} <> ? AND ${t.id} > ? ORDER BY ${t.id} LIMIT ?`,
          )
          .all(current, after, batch) as { id: string; kek: string; wrapped: Buffer }[];
        if (rows.length === 0 || this.stopping) break;
        const updates: { id: string; kek: string; next: { kekId: string; wrapped: Buffer } }[] = [];
        for (const row of rows) {
          try {
            const plain = await keys.unwrapDataKey({ kekId: row.kek, wrapped: row.wrapped });
            updates.push({ id: row.id, kek: row.kek, next: await keys.wrapDataKey(plain) });
            plain.fill(0);
          } catch (error) {
            this.progress.failed++;
            this.progress.lastError = `${t.table} ${row.kek}: ${(error as Error).message}`;
          }
        }
        const update = db.prepare(`UPDATE ${t.table} SET ${t.kekId} = ?, ${t.wrapped} = ? WHERE ${t.id} = ? AND ${t.kekId} = ?`);
        db.transaction(() => {
          for (const u of updates) this.progress.rewrapped += update.run(u.next.kekId, u.next.wrapped, u.id, u.kek).changes;
        })();
        after = rows.at(-1)!.id;
        // Let the event loop serve sockets between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const f of this.deps.wrappedFiles()) {
      if (!existsSync(f) || this.stopping) continue;
      const saved = readWrappedSecret(f);
      if (saved.kekId === keys.kekStatus().current) continue;
      try {
        const plain = await keys.unwrapDataKey(saved);
        const next = await keys.wrapDataKey(plain);
        plain.fill(0);
        writeWrappedSecret(f, next);
        this.progress.rewrapped++;
      } catch (error) {
        this.progress.failed++;
        this.progress.lastError = `${f}: ${(error as Error).message}`;
      }
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
    // A batch being re-wrapped may hold rows wrapped by this KEK that the census cannot see yet.
    if (this.running) throw new HuiliuError('KEK_IN_USE', 'A re-wrap is running; retire once it has finished.');
    const inUse = this.census().get(kekId) ?? 0;
    if (inUse > 0)
      throw new HuiliuError('KEK_IN_USE', `${inUse} data keys are still wrapped by ${kekId}; let the re-wrap finish`, {
        wrappedKeys: inUse,
      });
    await this.deps.keys.retireKek(kekId);
    return this.status();
  }
}
