import { HuiliuError } from '../../../common/errors/codes';
import type { RoutingDecision } from '../../../common/routing/types';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { RoutingLog } from './decisions';

export interface RoutingLogOutboxOptions {
  /** The sessions database (`huiliu.db`) whose `routing_decisions` rows are copied. */
  path: string;
  /** The port the rows are copied to (the Redis adapter in `HUILIU_STORE=redis`). */
  log: RoutingLog;
  /** Rows read and appended per step (default 200). */
  batch?: number;
  /** A copy failed and will be retried (`retryInMs`); the rows stay in the outbox meanwhile. */
  onError?: (error: unknown, retryInMs: number) => void;
  /**
   * A row the port refuses for good (not a valid decision, its `decision_json` not JSON, or its id was
   * logged with other content): skipped, never retried.
   */
  onSkipped?: (error: HuiliuError, row: { seq: number; sessionId: string }) => void;
  /** First retry delay after a failure, ms (default 500; doubles up to `maxRetryMs`). */
  retryMs?: number;
  /** Longest retry delay, ms (default 30,000). */
  maxRetryMs?: number;
}

export interface RoutingLogOutbox {
  /**
   * Copies every row committed before this call (and any left from earlier failures) to the port, in
   * seq order, then moves the cursor. Calls made while a copy runs share the next copy. Rejects with
   * the port's error when a copy fails (the rows stay; a retry is scheduled by itself).
   */
  flush(): Promise<void>;
  /** Rows not copied yet (above the cursor), counted (`count(*)`): for tests. */
  pending(): number;
  /**
   * The outbox's backlog for metrics, cheap enough for every scrape (two index lookups, no count):
   * `rows` = the largest committed seq − the cursor (the table is append-only and its seq
   * AUTOINCREMENT, so this is the number of rows above the cursor), `oldestAt` = the `at` of the first
   * row above the cursor (the SQLite writer's clock), null when none is waiting. Null once closed.
   */
  backlog(): { rows: number; oldestAt: string | null } | null;
  /** The outbox's cursor: the largest `routing_decisions.seq` known to be in the port. */
  pushedSeq(): number;
  /** Stops the retry timer, waits for a running copy and closes the connection. */
  close(): Promise<void>;
}

/** A `routing_decisions` row (migration sessions/0003) with its id nonce (`routing_log_ids`), if any. */
interface Row {
  seq: number;
  session_id: string;
  at: string;
  decision_json: string;
  nonce: string | null;
}

/**
 * The id a row is appended to the port with: `<sessionId>/<seq>.<nonce>` — the session, the row's seq
 * in this database and the row's nonce (`routing_log_ids`, 12 random hex digits drawn by a trigger in
 * the row's own transaction); `<sessionId>/<seq>` for a row committed before the trigger existed (the
 * ids such rows were copied with before). All parts are fixed once the row is committed, so every retry
 * — after a failed append, a crash, a restart, or by another process on the same file — sends the same
 * id and the row's own `at`, and the port answers the stored entry instead of a second one.
 *
 * The nonce is what keeps an id unique when the file goes back in time: a restored backup (an older copy
 * of `huiliu.db`) hands out again the seqs of the decisions made after the backup, which the cluster
 * already has under `<sessionId>/<seq>` with other content. Without the nonce the port refused the new
 * decision (`IDEMPOTENCY_CONFLICT` in the same minute's bucket, skipped and lost from the shared log) or
 * stored a second entry under the same id (another minute). With it the new row has another id (a
 * collision needs the same session, seq and 48 random bits), and the decisions the restore dropped from
 * SQLite stay in the shared log (docs/store.md "A restored backup"). Sessions live in one database (the
 * node that admitted them), so the id is unique across nodes with separate files.
 */
export const outboxId = (sessionId: string, seq: number, nonce: string | null = null) =>
  nonce === null ? `${sessionId}/${seq}` : `${sessionId}/${seq}.${nonce}`;

/**
 * The id nonces of `outboxId`: one row per `routing_decisions` row inserted since this first ran on the
 * file, drawn in the inserting transaction (the wide store's writer does not change). Created here, not
 * in a routing migration: those also run on databases without the sessions tables (the config store's
 * own tests), where the trigger cannot be created. Idempotent; the table is append-only like the log.
 */
const ID_NONCES_SQL = `
CREATE TABLE IF NOT EXISTS routing_log_ids (
  seq   INTEGER PRIMARY KEY,
  nonce TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS routing_log_ids_nonce AFTER INSERT ON routing_decisions
BEGIN
  INSERT INTO routing_log_ids (seq, nonce) VALUES (NEW.seq, lower(hex(randomblob(6))));
END;
CREATE TRIGGER IF NOT EXISTS routing_log_ids_append_only BEFORE UPDATE ON routing_log_ids
BEGIN
  SELECT RAISE(ABORT, 'routing_log_ids is append-only');
END;`;

/** Errors of a row that no retry can fix. */
const PERMANENT = new Set(['VALIDATION_FAILED', 'IDEMPOTENCY_CONFLICT']);

/**
 * `HUILIU_STORE=redis` (issue 14, docs/store.md "Routing decisions in redis mode"): the transactional
 * outbox from the wide SQLite store's `routing_decisions` table to the routing decisions port.
 *
 * The wide store keeps deciding: `saveRouting`, `startBot` and warm transfers write the session state
 * and its decision row in one SQLite transaction, exactly as in embedded mode. That committed row is the
 * outbox entry: this copier appends rows with `seq` above the cursor (`routing_log_outbox.pushed_seq`,
 * migration routing/0003) to the port, each with `outboxId` and the row's `at`, and then moves the
 * cursor past the rows the port confirmed (durably: the Redis adapter answers after `WAIT`). Hence:
 * - no decision is lost when an append fails: the row stays above the cursor and is copied on the next
 *   `flush` (the next save, the retry timer with back-off, or the next start);
 * - no decision is logged twice: a re-copied row has the same id and `at` (the port's idempotency);
 * - a crash between the append and the cursor write only re-copies rows (answered as duplicates).
 * Rows go in seq order, which is commit order (SQLite has one writer at a time), so the cursor never
 * passes an uncommitted row. On a database that has decisions from before this ran, the first flush
 * copies them all (a one-time backfill, `batch` rows per step).
 */
export async function createRoutingLogOutbox(options: RoutingLogOutboxOptions): Promise<RoutingLogOutbox> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'routing', migrationsDir('routing'));
  db.transaction(() => db.exec(ID_NONCES_SQL)).immediate();
  db.prepare(`INSERT OR IGNORE INTO routing_log_outbox (id, pushed_seq, updated_at) VALUES (1, 0, ?)`).run(new Date().toISOString());
  const q = {
    cursor: db.prepare('SELECT pushed_seq FROM routing_log_outbox WHERE id = 1'),
    rows: db.prepare(
      `SELECT d.seq, d.session_id, d.at, d.decision_json, i.nonce FROM routing_decisions d
       LEFT JOIN routing_log_ids i ON i.seq = d.seq WHERE d.seq > ? ORDER BY d.seq LIMIT ?`,
    ),
    behind: db.prepare('SELECT count(*) AS n FROM routing_decisions WHERE seq > ?'),
    last: db.prepare('SELECT max(seq) AS seq FROM routing_decisions'),
    oldest: db.prepare('SELECT at FROM routing_decisions WHERE seq > ? ORDER BY seq LIMIT 1'),
    move: db.prepare('UPDATE routing_log_outbox SET pushed_seq = max(pushed_seq, ?), updated_at = ? WHERE id = 1'),
  };
  const batch = Math.max(1, options.batch ?? 200);
  const firstRetry = options.retryMs ?? 500;
  const maxRetry = options.maxRetryMs ?? 30_000;
  const cursor = () => (q.cursor.get() as { pushed_seq: number }).pushed_seq;

  /** Copies rows above the cursor until none is left; throws the first transient failure. */
  async function copy(): Promise<void> {
    for (;;) {
      const from = cursor();
      const rows = q.rows.all(from, batch) as Row[];
      if (rows.length === 0) return;
      // In parallel within a step; the cursor moves only past the leading rows that are in the port.
      const results = await Promise.allSettled(
        rows.map((r) => {
          let decision: RoutingDecision;
          try {
            decision = JSON.parse(r.decision_json) as RoutingDecision;
          } catch {
            // A damaged row (the table is append-only): no retry can fix it, so it must not hold up the rest.
            return Promise.reject(new HuiliuError('VALIDATION_FAILED', 'routing_decisions.decision_json: not JSON'));
          }
          return options.log.append({ id: outboxId(r.session_id, r.seq, r.nonce), sessionId: r.session_id, at: r.at, decision });
        }),
      );
      let done = from;
      let failure: unknown = null;
      for (let i = 0; i < rows.length; i++) {
        const result = results[i]!;
        if (result.status === 'rejected') {
          const error = result.reason as unknown;
          if (error instanceof HuiliuError && PERMANENT.has(error.code)) {
            options.onSkipped?.(error, { seq: rows[i]!.seq, sessionId: rows[i]!.session_id });
          } else {
            failure = error;
            break;
          }
        }
        done = rows[i]!.seq;
      }
      if (done > from) q.move.run(done, new Date().toISOString());
      if (failure !== null) throw failure;
    }
  }

  let tail: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let delay = firstRetry;
  let closed = false;

  function flush(): Promise<void> {
    if (closed) return Promise.reject(new HuiliuError('NOT_READY', 'The routing log outbox is closed.'));
    // A copy not started yet covers this call's rows too: share it.
    if (next) return next;
    const run = tail.then(async () => {
      next = null;
      if (closed) return;
      try {
        await copy();
        delay = firstRetry;
      } catch (error) {
        const retryIn = delay;
        delay = Math.min(delay * 2, maxRetry);
        options.onError?.(error, retryIn);
        if (!closed && !timer) {
          timer = setTimeout(() => {
            timer = undefined;
            flush().catch(() => undefined);
          }, retryIn);
          timer.unref();
        }
        throw error;
      }
    });
    next = run;
    tail = run.catch(() => undefined);
    return run;
  }

  return {
    flush,
    pending: () => (q.behind.get(cursor()) as { n: number }).n,
    pushedSeq: cursor,
    backlog() {
      if (closed) return null;
      const from = cursor();
      const last = (q.last.get() as { seq: number | null }).seq ?? 0;
      if (last <= from) return { rows: 0, oldestAt: null };
      const oldest = q.oldest.get(from) as { at: string } | undefined;
      return { rows: last - from, oldestAt: oldest?.at ?? null };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await tail;
      db.close();
    },
  };
}
