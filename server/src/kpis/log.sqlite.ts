import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { KpiEvent, KpiEventData, KpiEventKind } from './events';

const MIGRATIONS = migrationsDir('kpis');

/**
 * The contact event log (issue 16) on SQLite: one append-only table (triggers refuse UPDATE and
 * DELETE) in the server's database file, on its own connection. Synchronous (better-sqlite3): each
 * call is one short statement or transaction.
 */
export interface KpiEventLog {
  /** Appends the events whose `id` is new; returns how many were new (a redelivered fact adds nothing). */
  append(events: readonly KpiEvent[]): number;
  /**
   * The events with `at` in [from, to) (ms), oldest first, and, for each agent, the newest
   * `agent.state` before `from` (the state the agent was in when the window opened).
   */
  read(from: number, to: number): KpiEvent[];
  /** Whether the session has a fact of this kind. */
  has(sessionId: string, kind: KpiEventKind): boolean;
  /** Whether another session of the conversation was closed before (a new session is then a reopen). */
  closedBefore(conversationId: string, sessionId: string): boolean;
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

/** Opens (and migrates, component `kpis`) the log in the database file at `path`. */
export function createSqliteKpiEventLog(options: { path: string }): KpiEventLog {
  const db: Db = openDatabase(options.path);
  migrate(db, 'kpis', MIGRATIONS);
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
  return {
    append: (events) => (events.length === 0 ? 0 : appendAll(events)),
    read(from, to) {
      const before = (q.statesBefore.all(from) as Row[]).map(toEvent);
      return [...before, ...(q.range.all(from, to) as Row[]).map(toEvent)];
    },
    has: (sessionId, kind) => q.has.get(sessionId, kind) !== undefined,
    closedBefore: (conversationId, sessionId) => q.closedBefore.get(conversationId, sessionId) !== undefined,
    close: () => db.close(),
  };
}
