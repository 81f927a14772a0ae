import { isDeepStrictEqual } from 'node:util';
import { HuiliuError } from '../../../common/errors/codes';
import { RoutingDecisionSchema, type RoutingDecision } from '../../../common/routing/types';
import type { LoggedOffer, LogPage, RoutingLogEntry } from '../sessions/store';

/**
 * The routing decisions port (issue 14): the append-only decision log that explains each routing
 * decision and that the what-if simulator replays (DESIGN §5, docs/routing.md, docs/what-if.md).
 * Adapters: `decisions.sqlite.ts` (the `routing_decisions` table of the sessions database, the rows the
 * wide `SessionStore` writes) and `decisions.redis.ts` (Redis Cluster, time-bucketed); one contract
 * suite (`decisions.contract.ts`) runs against both. Layout and limits: docs/store.md "The routing
 * decisions port".
 *
 * The log holds no customer content: scores, factor notes made by the router, numeric facts, message
 * and agent ids, skill-group ids (migration 0003's rule; RoutingDecisionSchema's reason params are
 * "never free text a person typed"). So nothing in it is sealed.
 */

/** One decision to append. */
export interface DecisionInput {
  /**
   * The entry's identity, chosen by the caller (e.g. a UUID per routing attempt), 1–128 printable
   * ASCII characters without spaces. Appending the same id again answers the stored entry
   * (`duplicate: true`); the same id with another session, time or decision → IDEMPOTENCY_CONFLICT.
   */
  id: string;
  sessionId: string;
  /**
   * When the decision was made, ISO 8601 with milliseconds in UTC (`toISOString()`), the caller's
   * clock. The log's order and windows use it; a retry must send the same `at`.
   */
  at: string;
  decision: RoutingDecision;
}

/** An entry of the log as the port answers it: the wide store's `RoutingLogEntry` plus its id and indexed columns. */
export interface LoggedDecision extends RoutingLogEntry {
  /** The id it was appended with; null for rows the wide SQLite store wrote (they have none). */
  id: string | null;
  /** `decision.trigger ?? 'new'` (the `cause` column). */
  cause: string;
  /** `decision.offeredTo` when the decision made an offer, else null (the `offered_to` column). */
  offeredTo: string | null;
}

export interface DecisionAppend {
  entry: LoggedDecision;
  /** True when an entry with this id was already in the log (nothing was written). */
  duplicate: boolean;
}

/** Which entries a window read answers. */
export type LogFilter =
  /** Every entry. */
  | 'all'
  /** First decisions only (`cause = 'new'`): the contacts of the window, what `replayContacts` reads. */
  | 'new'
  /** Offers only (`offeredTo` not null): what `offersBetween` reads. */
  | 'offers';

export interface RoutingLog {
  readonly kind: 'sqlite' | 'redis';
  /**
   * Appends one decision; append-only (no update or delete path: the wide store has no retention of
   * this log either). Resolves once durable (SQLite: committed with synchronous=FULL; Redis: `WAIT` for
   * a replica).
   * @throws HuiliuError VALIDATION_FAILED (bad id, time or decision), IDEMPOTENCY_CONFLICT (the id was
   *   appended with other content), SESSION_NOT_FOUND (SQLite only: the session row must exist),
   *   NOT_READY (Redis: not confirmed on a replica in time; retry with the same input)
   */
  append(input: DecisionInput): Promise<DecisionAppend>;
  /** A session's decisions, in (at, seq) order (the wide store's `decisions`). */
  ofSession(sessionId: string): Promise<LoggedDecision[]>;
  /**
   * Entries with `at` in [from, to) (ISO 8601), in (at, seq) order, after the keyset cursor
   * `page.after` (the last entry of the previous page), at most `page.limit` (default 1,000, at most
   * 10,000). Paging with the cursor is stable: entries appended meanwhile at a later time show up on a
   * later page, none is answered twice or skipped. `filter` (default `all`) selects entries.
   * @throws HuiliuError VALIDATION_FAILED (times not ISO 8601 / `to` before `from`; Redis: a window of more than 62 days)
   */
  between(from: string, to: string, page?: LogPage & { filter?: LogFilter }): Promise<LoggedDecision[]>;
  /** `between(…, filter 'offers')` as the wide store's `offersBetween` answers it (with `at >= from`). */
  offers(from: string, to: string, page?: LogPage): Promise<LoggedOffer[]>;
  shutdown(): Promise<void>;
}

const ID = /^[\x21-\x7e]{1,128}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Rows per window page: default 1,000, at most 10,000. */
export const logLimit = (limit: number | undefined) =>
  Math.max(1, Math.min(Math.trunc(typeof limit === 'number' && Number.isFinite(limit) ? limit : 1000), 10_000));

/** Checks an append and answers the decision as it will be stored (zod-parsed: unknown fields dropped). */
export function checkDecision(input: DecisionInput): RoutingDecision {
  if (typeof input.id !== 'string' || !ID.test(input.id))
    throw new HuiliuError('VALIDATION_FAILED', 'decision id: 1–128 printable ASCII characters');
  if (typeof input.at !== 'string' || !ISO_MS.test(input.at) || Number.isNaN(Date.parse(input.at)))
    throw new HuiliuError('VALIDATION_FAILED', 'decision at: ISO 8601 UTC with milliseconds');
  if (typeof input.sessionId !== 'string' || input.sessionId.length === 0 || input.sessionId.length > 64)
    throw new HuiliuError('VALIDATION_FAILED', 'decision sessionId');
  const parsed = RoutingDecisionSchema.safeParse(input.decision);
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', `decision: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Checks a window's bounds; answers them in ms. */
export function checkWindow(from: string, to: string): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (typeof from !== 'string' || typeof to !== 'string' || Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs < fromMs)
    throw new HuiliuError('VALIDATION_FAILED', 'window: from and to must be ISO 8601 times, from ≤ to');
  return { fromMs, toMs };
}

/** Checks a page's cursor (`after`): an ISO 8601 time and a non-negative integer seq. */
export function checkAfter(page: LogPage): { atMs: number; at: string; seq: number } | null {
  if (!page.after) return null;
  const atMs = typeof page.after.at === 'string' ? Date.parse(page.after.at) : NaN;
  if (Number.isNaN(atMs) || !Number.isSafeInteger(page.after.seq) || page.after.seq < 0)
    throw new HuiliuError('VALIDATION_FAILED', 'page.after: { at: ISO 8601, seq: integer ≥ 0 }');
  return { atMs, at: new Date(atMs).toISOString(), seq: page.after.seq };
}

/** The `cause` and `offered_to` columns of a decision, as the wide store's writer fills them. */
export const causeOf = (d: RoutingDecision) => d.trigger ?? 'new';

/**
 * A retry (same id) found `stored`: the same entry → fine; other content → IDEMPOTENCY_CONFLICT.
 * Compared on values (`decision` as stored), so key order does not matter.
 */
export function sameAppend(stored: LoggedDecision, input: DecisionInput, decision: RoutingDecision): void {
  if (
    stored.sessionId !== input.sessionId ||
    stored.at !== input.at ||
    !isDeepStrictEqual(stored.decision, JSON.parse(JSON.stringify(decision)))
  )
    throw new HuiliuError('IDEMPOTENCY_CONFLICT', 'This decision id was logged with other content.');
}

export const toOffer = (e: LoggedDecision): LoggedOffer => ({ seq: e.seq, at: e.at, sessionId: e.sessionId, agentId: e.offeredTo! });
