import type { Cluster, Redis } from 'ioredis';
import { migrate, openDatabase } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import { createRedisIo } from '../sessions/redis-io';

export interface SharedErasureLogOptions {
  redis: Cluster | Redis;
  /** The deployment's key prefix (`HUILIU_REDIS_PREFIX`): the log is `<prefix>:privacy:erased`. */
  prefix: string;
  /** This node's database file: the cursor of the entries it applied (`privacy_erasure_cursor`). */
  path: string;
  /**
   * Applies one recorded erasure to this node (its SQLite shred, caches): must be idempotent (it runs
   * again on the approving node, and after a crash between applying and moving the cursor).
   */
  apply(customerIds: readonly string[]): Promise<void>;
  /** Entries read per round trip; default 100. */
  batch?: number;
  /** Replicas that must acknowledge a recorded erasure (default 1), and how long a write retries (ms, default 20,000). */
  waitReplicas?: number;
  retryMs?: number;
  now?: () => number;
}

export interface SharedErasureLog {
  /** The log's Redis key. */
  readonly key: string;
  /**
   * Records that these customers were erased (the approving node, before the request is recorded
   * executed): one stream entry with their ids and the time, durable on the master and a replica.
   * @throws HuiliuError NOT_READY when no replica acknowledged (the request fails; filing again retries)
   */
  record(customerIds: readonly string[]): Promise<void>;
  /**
   * Applies, in order, every entry this node's file has not applied yet, moving the cursor after each.
   * One run at a time (a call while one runs waits for it, then reads on from its cursor). Answers how many
   * entries and customer ids this call applied.
   */
  catchUp(): Promise<{ entries: number; customers: number }>;
  /** Resolves when no catch-up is running (shutdown). */
  idle(): Promise<void>;
}

/**
 * Issue 14, `HUILIU_STORE=redis` (docs/store.md "Erasures a stopped node missed"): the cluster's log of
 * approved erasures. Every running node shreds its own SQLite on `customer.erased`, but a node that was
 * stopped then never sees that event; the log makes the erasure durable: the approving node appends
 * the erased customer ids (a Redis stream, ids and a time only — no PII), and every node applies the
 * entries after its cursor (kept in its own SQLite) at start, on `customer.erased`, when its cluster
 * connection is ready again, and on a timer. The stream is never trimmed: a node down for any length
 * of time, or a node added later (which applies old entries as no-ops), still sees every erasure.
 */
export function createSharedErasureLog(options: SharedErasureLogOptions): SharedErasureLog {
  const key = `${options.prefix}:privacy:erased`;
  const io = createRedisIo({
    redis: options.redis,
    waitReplicas: options.waitReplicas ?? 1,
    waitMs: 1000,
    retryMs: options.retryMs ?? 20_000,
    loadLibrary: async () => undefined,
    mapError: (error) => {
      throw error;
    },
  });
  const iso = () => new Date((options.now ?? Date.now)()).toISOString();
  const batch = options.batch ?? 100;
  // One run at a time: each call runs after the one before it (an empty read when nothing is new).
  let queue: Promise<unknown> = Promise.resolve();

  /** The cursor, on a connection opened per run (short: a few point reads and writes). */
  async function run(): Promise<{ entries: number; customers: number }> {
    const db = openDatabase(options.path);
    try {
      migrate(db, 'privacy', migrationsDir('privacy'));
      const row = db.prepare('SELECT entry_id, applied FROM privacy_erasure_cursor WHERE log = ?').get(key) as
        { entry_id: string; applied: number } | undefined;
      const save = db.prepare(
        `INSERT INTO privacy_erasure_cursor (log, entry_id, applied, updated_at) VALUES (@log, @id, @applied, @at)
         ON CONFLICT(log) DO UPDATE SET entry_id = @id, applied = @applied, updated_at = @at`,
      );
      let cursor = row?.entry_id ?? '0-0';
      let applied = row?.applied ?? 0;
      const done = { entries: 0, customers: 0 };
      for (;;) {
        const entries = (await io.read(() => options.redis.xrange(key, `(${cursor}`, '+', 'COUNT', batch))) as [string, string[]][];
        if (entries.length === 0) return done;
        for (const [id, fields] of entries) {
          const ids = (fieldOf(fields, 'ids') ?? '').split(',').filter(Boolean);
          if (ids.length) await options.apply(ids);
          cursor = id;
          applied++;
          save.run({ log: key, id, applied, at: iso() });
          done.entries++;
          done.customers += ids.length;
        }
      }
    } finally {
      db.close();
    }
  }

  return {
    key,

    async record(customerIds) {
      if (customerIds.length === 0) return;
      // A re-sent entry (a reply lost in a failover) is applied twice: shredding is idempotent.
      await io.durable((p) => p.xadd(key, '*', 'ids', customerIds.join(','), 'at', iso()), { idempotent: true });
    },

    catchUp() {
      const next = queue.then(run);
      queue = next.catch(() => undefined);
      return next;
    },

    async idle() {
      await queue;
    },
  };
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
