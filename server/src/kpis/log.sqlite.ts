import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';
import { migrate, openDatabase, SIDE_CONNECTION_CHECKPOINT_PAGES, type Db } from '../db/sqlite';
import { WalSync } from '../db/wal-sync';
import type { Logger } from '../logging/logger';
import { migrationsDir } from '../runtime/paths';
import type { KpiEvent, KpiEventData, KpiEventKind } from './events';

const MIGRATIONS = migrationsDir('kpis');

/** How long `appendSoon` collects facts before one transaction writes them (ms). */
export const KPI_BATCH_MS = 50;

/**
 * The contact event log (issue 16) on SQLite: one append-only table (triggers refuse UPDATE and
 * DELETE) in the server's database file, on its own connection. Synchronous (better-sqlite3): each
 * call is one short statement or transaction. The connection runs `synchronous=NORMAL`: an append's
 * COMMIT writes the WAL without an fsync on the server's thread, and `WalSync` fdatasyncs the WAL
 * right after on libuv's pool (`durable()` resolves then). Nobody is acked on a KPI fact (they are
 * derived from bus events after the fact), so the event loop does not wait for the disk; a power cut
 * can lose the facts of the last sync's few milliseconds (issue 18: an fsync per fact cost a call
 * ~36 ms of blocked event loop, docs/benchmarks.md "SIP call setup").
 */
export interface KpiEventLog {
  /** Appends the events whose `id` is new; returns how many were new (a redelivered fact adds nothing). */
  append(events: readonly KpiEvent[]): number;
  /**
   * Appends the events with the others collected in the next `batchMs` (default 50 ms), in one
   * transaction (then, or before any read, `append` or `durable` of this log, so reads and order are
   * as with `append`): for facts nobody waits on (the recorder's, a call's), one short write instead
   * of many — issue 18: each commit on the server's thread also waits for the session writer's lock on
   * the same file, and a call makes ≈ 11 facts over ≈ 4 requests.
   */
  appendSoon(events: readonly KpiEvent[]): void;
  /**
   * The events with `at` in [from, to) (ms), oldest first, and, for each agent, the newest
   * `agent.state` before `from` (the state the agent was in when the window opened).
   */
  read(from: number, to: number): KpiEvent[];
  /** Whether the session has a fact of this kind (appended, or collected by `appendSoon` and not yet written). */
  has(sessionId: string, kind: KpiEventKind): boolean;
  /** Whether another session of the conversation was closed before (a new session is then a reopen). */
  closedBefore(conversationId: string, sessionId: string): boolean;
  /** Resolves once every fact appended before the call is on disk (rejects with the fdatasync error). */
  durable(): Promise<void>;
  /** Syncs what was appended (on this thread) and closes the connection. */
  close(): void;
}

interface Row {
  id: string;
  kind: KpiEventKind;
  at: number;
  session_id: string | null;
  conversation_id: string | null;
  customer_id: string | null;
  skill_group: string | null;
  channel: ChannelCode | null;
  tier: Tier | null;
  agent_id: string | null;
  data: string;
}

const toEvent = (r: Row): KpiEvent => ({
  id: r.id,
  kind: r.kind,
  at: r.at,
  sessionId: r.session_id,
  conversationId: r.conversation_id,
  customerId: r.customer_id,
  skillGroup: r.skill_group,
  channel: r.channel,
  tier: r.tier,
  agentId: r.agent_id,
  data: JSON.parse(r.data) as KpiEventData,
});

/**
 * Opens (and migrates, component `kpis`) the log in the database file at `path`. `logger` hears of a
 * failed `appendSoon` batch (nobody else waits on it; its facts are lost, as an unrecorded bus event's).
 */
export function createSqliteKpiEventLog(options: {
  path: string;
  logger?: Pick<Logger, 'error'>;
  /** How long `appendSoon` collects facts before it writes them (ms, default 50; 0: at the end of the turn). */
  batchMs?: number;
}): KpiEventLog {
  const batchMs = options.batchMs ?? KPI_BATCH_MS;
  const db: Db = openDatabase(options.path, { synchronous: 'NORMAL' });
  // The WAL is shared with the session writer (same file), whose thread checkpoints at SQLite's 1,000
  // pages; this connection commits on the server's thread, so it checkpoints (copy + two fsyncs there)
  // only when the WAL has grown well past that — nobody else is writing the file (issue 18).
  db.pragma(`wal_autocheckpoint = ${SIDE_CONNECTION_CHECKPOINT_PAGES}`);
  migrate(db, 'kpis', MIGRATIONS);
  const wal = new WalSync(`${options.path}-wal`);
  /** Starts a sync of what was just committed; its failure is seen by `durable()` and `close()`. */
  const sync = () => void wal.durable().catch(() => undefined);
  const q = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO kpi_events (id, kind, at, session_id, conversation_id, customer_id, skill_group, channel, tier, agent_id, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    range: db.prepare('SELECT * FROM kpi_events WHERE at >= ? AND at < ? ORDER BY at, seq'),
    statesBefore: db.prepare(
      `SELECT * FROM kpi_events WHERE seq IN
         (SELECT max(seq) FROM kpi_events WHERE kind = 'agent.state' AND at < ? GROUP BY agent_id)`,
    ),
    has: db.prepare('SELECT 1 FROM kpi_events WHERE session_id = ? AND kind = ? LIMIT 1'),
    closedBefore: db.prepare(`SELECT 1 FROM kpi_events WHERE conversation_id = ? AND kind = 'contact.closed' AND session_id <> ? LIMIT 1`),
  };
  const appendAll = db.transaction((events: readonly KpiEvent[]) => {
    let added = 0;
    for (const e of events) {
      added += q.insert.run(
        e.id,
        e.kind,
        e.at,
        e.sessionId,
        e.conversationId,
        e.customerId,
        e.skillGroup,
        e.channel,
        e.tier,
        e.agentId,
        JSON.stringify(e.data),
      ).changes;
    }
    return added;
  });
  let pending: KpiEvent[] = [];
  let flushing: { cancel(): void } | null = null;
  /** Writes the facts `appendSoon` collected (a failure is thrown to whoever flushes: the recorder logs it). */
  const flush = () => {
    flushing?.cancel();
    flushing = null;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    if (appendAll(batch) > 0) sync();
  };
  const flushSoon = () => {
    try {
      flush();
    } catch (error) {
      // Nobody waits on these facts: the failure goes to the server's log.
      options.logger?.error({ err: error }, 'appending KPI facts failed');
    }
  };
  return {
    append(events) {
      flush();
      if (events.length === 0) return 0;
      const added = appendAll(events);
      if (added > 0) sync();
      return added;
    },
    appendSoon(events) {
      if (events.length === 0) return;
      for (const e of events) pending.push(e);
      if (flushing) return;
      if (batchMs > 0) {
        const timer = setTimeout(flushSoon, batchMs);
        // A pending batch never keeps the process alive (`close` writes it).
        timer.unref();
        flushing = { cancel: () => clearTimeout(timer) };
      } else {
        const immediate = setImmediate(flushSoon);
        flushing = { cancel: () => clearImmediate(immediate) };
      }
    },
    read(from, to) {
      flush();
      const before = (q.statesBefore.all(from) as Row[]).map(toEvent);
      return [...before, ...(q.range.all(from, to) as Row[]).map(toEvent)];
    },
    // The facts still waiting for their transaction are looked at in memory instead of flushing them:
    // a flush per question (the recorder asks on every new session and every close) undid the batching.
    has(sessionId, kind) {
      if (pending.some((e) => e.sessionId === sessionId && e.kind === kind)) return true;
      return q.has.get(sessionId, kind) !== undefined;
    },
    closedBefore(conversationId, sessionId) {
      if (pending.some((e) => e.conversationId === conversationId && e.kind === 'contact.closed' && e.sessionId !== sessionId)) return true;
      return q.closedBefore.get(conversationId, sessionId) !== undefined;
    },
    durable() {
      flush();
      return wal.durable();
    },
    close() {
      try {
        flush();
        wal.closeSync();
      } finally {
        db.close();
      }
    },
  };
}
