import { HuiliuError } from '../../../common/errors/codes';
import type { RoutingDecision } from '../../../common/routing/types';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { LogPage } from '../sessions/store';
import {
  causeOf,
  checkAfter,
  checkDecision,
  checkWindow,
  logLimit,
  sameAppend,
  toOffer,
  type DecisionInput,
  type LogFilter,
  type LoggedDecision,
  type RoutingLog,
} from './decisions';

export interface SqliteRoutingLogOptions {
  /** The sessions database (`huiliu.db`), or `:memory:`. */
  path: string;
}

/** A `routing_decisions` row (migration 0003). */
interface Row {
  seq: number;
  session_id: string;
  at: string;
  config_version: number;
  cause: string;
  offered_to: string | null;
  decision_json: string;
}

/**
 * The port's id lives in the row's `decision_json` as `logId` (an additive field; the table has no id
 * column and a migration number is not worth a column here): rows the wide store writes have none.
 * The lookup walks the (session_id, seq) index: a session has a handful of decisions.
 */
const SQL = {
  byId: `SELECT * FROM routing_decisions WHERE session_id = ? AND decision_json ->> '$.logId' = ?`,
  insert: `INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
  ofSession: 'SELECT * FROM routing_decisions WHERE session_id = ? ORDER BY at, seq',
  window: (filter: LogFilter) =>
    `SELECT * FROM routing_decisions
     WHERE at >= @from AND at < @to AND (at > @afterAt OR (at = @afterAt AND seq > @afterSeq))
     ${filter === 'new' ? "AND cause = 'new'" : filter === 'offers' ? 'AND offered_to IS NOT NULL' : ''}
     ORDER BY at, seq LIMIT @limit`,
};

function toEntry(row: Row): LoggedDecision {
  const { logId, ...decision } = JSON.parse(row.decision_json) as RoutingDecision & { logId?: string };
  return {
    seq: row.seq,
    id: logId ?? null,
    sessionId: row.session_id,
    at: row.at,
    configVersion: row.config_version,
    cause: row.cause,
    offeredTo: row.offered_to,
    decision,
  };
}

const isoOf = (t: string) => new Date(Date.parse(t)).toISOString();

/**
 * The routing decisions port on the embedded schema: the `routing_decisions` table the wide store's
 * writer appends to (same columns, same `cause`/`offered_to`/`config_version` values), so either reads
 * the other's rows. The table is append-only (its trigger refuses UPDATE). Each append is one
 * IMMEDIATE transaction (the id lookup and the insert), so two processes on one file cannot both
 * insert the same id.
 */
export async function createSqliteRoutingLog(options: SqliteRoutingLogOptions): Promise<RoutingLog> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'sessions', migrationsDir('sessions'));
  const q = {
    byId: db.prepare(SQL.byId),
    insert: db.prepare(SQL.insert),
    ofSession: db.prepare(SQL.ofSession),
    window: { all: db.prepare(SQL.window('all')), new: db.prepare(SQL.window('new')), offers: db.prepare(SQL.window('offers')) },
  };
  const appendTx = db.transaction((input: DecisionInput, decision: RoutingDecision) => {
    const found = q.byId.get(input.sessionId, input.id) as Row | undefined;
    if (found) return { row: found, duplicate: true };
    const row = q.insert.get(
      input.sessionId,
      input.at,
      decision.offerConfigVersion ?? decision.configVersion,
      causeOf(decision),
      decision.offeredTo,
      JSON.stringify({ ...decision, logId: input.id }),
    ) as Row;
    return { row, duplicate: false };
  });

  const window = (from: string, to: string, page: LogPage & { filter?: LogFilter } = {}) => {
    checkWindow(from, to);
    const after = checkAfter(page);
    return (
      q.window[page.filter ?? 'all'].all({
        from: isoOf(from),
        to: isoOf(to),
        afterAt: after?.at ?? '',
        afterSeq: after?.seq ?? 0,
        limit: logLimit(page.limit),
      }) as Row[]
    ).map(toEntry);
  };

  return {
    kind: 'sqlite',
    async append(input) {
      const decision = checkDecision(input);
      let result: { row: Row; duplicate: boolean };
      try {
        result = appendTx.immediate(input, decision);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new HuiliuError('SESSION_NOT_FOUND');
        throw error;
      }
      const entry = toEntry(result.row);
      if (result.duplicate) sameAppend(entry, input, decision);
      return { entry, duplicate: result.duplicate };
    },
    async ofSession(sessionId) {
      return (q.ofSession.all(sessionId) as Row[]).map(toEntry);
    },
    async between(from, to, page) {
      return window(from, to, page);
    },
    async offers(from, to, page = {}) {
      return window(from, to, { ...page, filter: 'offers' }).map(toOffer);
    },
    async shutdown() {
      db.close();
    },
  };
}
