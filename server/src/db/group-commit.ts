import type { Statement } from 'better-sqlite3';
import type { Db } from './sqlite';

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitHooks {
  /** Inside the open transaction, after the batch's writes and before COMMIT (crash tests hold it here). */
  beforeCommit?: (jobs: number) => void;
  /** After the batch's COMMIT returned (and, with `durable`, before that resolved). */
  afterCommit?: (jobs: number) => void;
  /**
   * How a committed batch becomes durable when the connection does not fsync at COMMIT
   * (`synchronous=NORMAL`, see `WalSync`): its writes are answered only once this resolves, and all
   * rejected if it rejects. The next batch runs meanwhile. Absent: COMMIT itself is durable (FULL).
   */
  durable?: () => Promise<void>;
  /**
   * With `durable`: asked after a COMMIT when no other write is queued; true when it made the batch
   * durable on this thread already (`WalSync.syncNowIfIdle`), and the writes are answered at once.
   * Only for a thread that does nothing but write: the sync blocks it.
   */
  durableNow?: () => boolean;
}

/**
 * Group commit: writes queued in the same turn of the event loop run in one SQLite transaction, each
 * in its own savepoint, and are answered only after that transaction is durable (its COMMIT under
 * synchronous=FULL, or the `durable` hook's sync). One fsync then covers many messages, and an ack
 * still means "on disk". A write that throws rolls back its own savepoint only; if the commit itself
 * fails, every write of the group is rejected.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private readonly sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 256,
    private readonly hooks: GroupCommitHooks = {},
  ) {
    // Prepared once: a savepoint per write costs two statement steps, not a transaction wrapper each.
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT job'),
      release: db.prepare('RELEASE job'),
      rollbackTo: db.prepare('ROLLBACK TO job'),
    };
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const { sql } = this;
    try {
      // BEGIN IMMEDIATE: the write lock is taken before the first read, so a second process on the same
      // database waits (busy_timeout) instead of failing a read-then-write upgrade on a stale snapshot.
      sql.begin.run();
      try {
        for (const job of batch) {
          sql.savepoint.run();
          try {
            outcomes.push({ ok: true, value: job.fn() });
            sql.release.run();
          } catch (error) {
            sql.rollbackTo.run();
            sql.release.run();
            outcomes.push({ ok: false, error });
          }
        }
        this.hooks.beforeCommit?.(batch.length);
        sql.commit.run();
      } catch (error) {
        if (this.db.inTransaction) sql.rollback.run();
        throw error;
      }
      this.hooks.afterCommit?.(batch.length);
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    const answer = () =>
      batch.forEach((job, i) => {
        const o = outcomes[i]!;
        if (o.ok) job.resolve(o.value);
        else job.reject(o.error);
      });
    if (!this.hooks.durable) return answer();
    if (this.queue.length === 0 && this.hooks.durableNow?.()) return answer();
    this.hooks.durable().then(answer, (error: unknown) => {
      for (const job of batch) job.reject(error);
    });
  }
}
