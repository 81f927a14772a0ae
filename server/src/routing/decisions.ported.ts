import { HuiliuError } from '../../../common/errors/codes';
import type { LogPage, LogRead, ReplayContact, RoutingLogEntry, SessionRecord, SessionStore } from '../sessions/store';
import type { LoggedDecision, RoutingLog } from './decisions';
import type { RoutingLogOutbox } from './decisions.outbox';

export interface PortedDecisionsOptions {
  /** The routing decisions port every read goes to (the Redis adapter). */
  log: RoutingLog;
  /** Copies the wide store's committed decision rows to `log` (decisions.outbox.ts). */
  outbox: RoutingLogOutbox;
  /**
   * A session this node's store does not hold (another node admitted it): the replay's session facts
   * come from here (the conversations port's copy of the session on the cluster), or null.
   */
  remoteSession?: (sessionId: string) => Promise<SessionRecord | null>;
  /**
   * Longest a write waits for the outbox's copy of its decision, ms (default 1,000). Past it the write
   * resolves (its state and decision are committed in SQLite) and the copy goes on behind it: during a
   * cluster outage a copy retries for the adapter's `retryMs` (20 s), and copies queue one behind the
   * other, so without a bound a save waited one to three times that on top of the session mirror.
   */
  copyWaitMs?: number;
  /**
   * Longest a decision read waits for the cluster, ms (default 3,000): for the outbox's copy of this
   * node's committed decisions and then the port's answer. Past it — or when the port fails
   * (`NOT_READY`, a connection error) — the read answers from this node's SQLite, marked
   * `partial: true` (`LogRead`). A frozen cluster never answers (no command timeout), so without the
   * bound a read waited until the cluster was back.
   */
  readWaitMs?: number;
  /** A read was answered from this node's SQLite (`partial`): why (the error, or null after `readWaitMs`). */
  onLocalRead?: (op: 'decisions' | 'decisionsBetween' | 'replayContacts' | 'offersBetween', error: unknown) => void;
}

/** Answers `null` after `ms` unless `work` settled first (its result, or its rejection). */
function within<T>(work: Promise<T>, ms: number): Promise<{ value: T } | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then((value) => ({ value })),
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, ms)))),
  ]).finally(() => clearTimeout(timer));
}

/** Session reads in flight at once while a replay page is joined to its sessions. */
const SESSION_READS = 32;

/** The port's entry as the wide store's `RoutingLogEntry` (its seq is the port's). */
const toLogEntry = (e: LoggedDecision): RoutingLogEntry => ({
  seq: e.seq,
  sessionId: e.sessionId,
  at: e.at,
  configVersion: e.configVersion,
  decision: e.decision,
});

/** A first decision and its session as `replayContacts` answers them (the SQLite query's columns). */
function toReplayContact(e: LoggedDecision, s: SessionRecord): ReplayContact {
  const d = e.decision;
  return {
    seq: e.seq,
    at: e.at,
    decidedAt: d.decidedAt,
    sessionId: e.sessionId,
    channel: s.channel,
    status: s.status,
    skillGroup: d.skillGroup,
    valueScore: d.valueScore,
    difficultyScore: d.difficultyScore,
    valueFacts: d.facts?.value ?? null,
    candidateIds: (d.candidates ?? []).map((c) => c.agentId).filter((id): id is string => typeof id === 'string'),
    assignedAgentId: s.assignedAgentId,
    createdAt: s.createdAt,
    closedAt: s.closedAt,
    lastMessageAt: s.lastMessageAt,
    handover: s.handover ? { at: s.handover.at, by: s.handover.by } : null,
  };
}

/**
 * `HUILIU_STORE=redis` (issue 14, docs/store.md "Routing decisions in redis mode"): the routing
 * decision log of `store` moves to the routing decisions port, shared by every node of the cluster.
 *
 * - Writes: `saveRouting`, `startBot`, `startTransfer` and `undoTransfer` stay `store`'s (SQLite decides offers and
 *   capacity and logs the decision in the same transaction, as embedded); after each, the outbox copies
 *   the committed rows to the port before the call resolves, waiting at most `copyWaitMs` (1 s) for it.
 *   A copy that fails or is slow does not fail or hold up the call (the state change is already
 *   committed): the row stays in the outbox and is copied by the outbox's retry timer, the next save or
 *   the next start (`onError` of the outbox logs it).
 * - Reads: `decisions` (a session's history: the privacy export), `decisionsBetween`, `replayContacts`
 *   (the what-if replay) and `offersBetween` read the port, so each node sees every node's decisions.
 *   Each first waits for the outbox to copy what this node's SQLite committed (a decision whose save is
 *   still copying), so a node reads its own decisions once committed, as embedded.
 *   `seq` is the port's (not the SQLite row's); the replay pages with `(at, seq)` as before. A replay
 *   contact's session facts come from `store` when this node holds the session, else `remoteSession`;
 *   a first decision whose session neither knows is left out (as the SQLite join leaves it out).
 * - `decisionsBetween`'s `afterSeq` pages by the port's (at, seq) order: the entries after the one with
 *   that seq (the last of the previous page).
 * - A read the cluster does not answer within `readWaitMs` (3 s, copy included), or that fails
 *   (`NOT_READY`, a connection error), answers from `store` (this node's SQLite: its decisions only),
 *   marked `partial: true` (`LogRead`); `onLocalRead` reports it. Until the cluster call that read gave
 *   up on settles (at most 10 × `readWaitMs`), later reads answer locally at once (a frozen cluster costs
 *   one read `readWaitMs`, not every read).
 * - `shutdown` closes the outbox and the port before `store`.
 */
export function routeDecisions(store: SessionStore, options: PortedDecisionsOptions): SessionStore {
  const { log, outbox } = options;
  /**
   * Copies what this node's SQLite committed so far (a write's decision, or one committed by a call
   * still copying); a failure stays in the outbox (retried, logged there). Reads run it first, so a
   * node reads its own decisions as soon as SQLite committed them (as in embedded mode).
   */
  const copied = () =>
    outbox.flush().then(
      () => true,
      () => false,
    );
  const copyWaitMs = options.copyWaitMs ?? 1000;
  /** `copied()` for a write: waits at most `copyWaitMs` (the copy goes on; reads still wait for it). */
  const copiedForWrite = async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([copied(), new Promise<void>((resolve) => (timer = setTimeout(resolve, copyWaitMs)))]);
    clearTimeout(timer);
  };
  const readWaitMs = options.readWaitMs ?? 3000;

  /**
   * A decision read on the cluster, or this node's SQLite when the cluster cannot answer within
   * `readWaitMs`: first this node's committed decisions are copied (read your own writes), then `shared`
   * reads the port. A copy that failed or did not finish in time means the cluster lacks some of this
   * node's decisions, so the read goes local too. Errors that are the request's (`VALIDATION_FAILED`: a
   * window too long for the port) are thrown as before. The local answer carries `partial: true`.
   */
  async function read<T>(
    op: Parameters<NonNullable<PortedDecisionsOptions['onLocalRead']>>[0],
    shared: () => Promise<T[]>,
    local: () => Promise<T[]>,
  ): Promise<LogRead<T>> {
    let why: unknown = null;
    // A read before this one timed out and its cluster call is still unanswered: the cluster is still
    // frozen, so this one answers locally at once instead of waiting readWaitMs too (every API read of
    // a frozen cluster took 3 s; an export read one session's decisions after another: 3 s each).
    if (stalled) {
      options.onLocalRead?.(op, why);
      return Object.assign(await local(), { partial: true as const });
    }
    const deadline = Date.now() + readWaitMs;
    const copying = copied();
    const copy = await within(copying, readWaitMs);
    if (!copy) stall(copying);
    if (copy?.value === true) {
      const work = shared();
      try {
        const answer = await within(work, deadline - Date.now());
        if (answer) return answer.value;
        work.catch(() => undefined); // still running on a frozen cluster: its late answer or error is dropped
        stall(work);
      } catch (error) {
        if (error instanceof HuiliuError && error.code !== 'NOT_READY') throw error;
        why = error;
      }
    }
    options.onLocalRead?.(op, why);
    return Object.assign(await local(), { partial: true as const });
  }
  /**
   * The cluster call a read gave up waiting for, until it settles or `10 × readWaitMs` pass (a call
   * that never settles must not keep every read local: the next read then probes the cluster again).
   */
  let stalled: Promise<unknown> | null = null;
  function stall(pending: Promise<unknown>): void {
    let timer: NodeJS.Timeout | undefined;
    const settled: Promise<unknown> = Promise.race([
      pending.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, readWaitMs * 10);
        timer.unref();
      }),
    ]);
    stalled = settled;
    void settled.then(() => {
      clearTimeout(timer);
      if (stalled === settled) stalled = null;
    });
  }

  async function sessionsOf(ids: readonly string[]): Promise<(SessionRecord | null)[]> {
    const out: (SessionRecord | null)[] = new Array<SessionRecord | null>(ids.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        const id = ids[i]!;
        out[i] = (await store.getSession(id)) ?? (options.remoteSession ? await options.remoteSession(id) : null);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SESSION_READS, ids.length) }, worker));
    return out;
  }

  return {
    ...store,

    async saveRouting(sessionId, decision, offer, seen) {
      const saved = await store.saveRouting(sessionId, decision, offer, seen);
      if (saved.applied) await copiedForWrite();
      return saved;
    },

    async startBot(sessionId, decision) {
      const saved = await store.startBot(sessionId, decision);
      if (saved.applied) await copiedForWrite();
      return saved;
    },

    async startTransfer(input) {
      const started = await store.startTransfer(input);
      await copiedForWrite();
      return started;
    },

    async undoTransfer(transferId, restore) {
      const undone = await store.undoTransfer(transferId, restore);
      if (undone.changed) await copiedForWrite();
      return undone;
    },

    decisions(sessionId) {
      return read(
        'decisions',
        async () => (await log.ofSession(sessionId)).map(toLogEntry),
        () => store.decisions(sessionId),
      );
    },

    decisionsBetween(from, to, { afterSeq = 0, limit = 1000 } = {}) {
      return read(
        'decisionsBetween',
        () => sharedBetween(from, to, afterSeq, limit),
        () => store.decisionsBetween(from, to, { afterSeq, limit }),
      );
    },

    replayContacts(from, to, page = {}) {
      return read(
        'replayContacts',
        () => sharedReplay(from, to, page),
        () => store.replayContacts(from, to, page),
      );
    },

    offersBetween(from, to, page) {
      return read(
        'offersBetween',
        () => log.offers(from, to, page),
        () => store.offersBetween(from, to, page),
      );
    },

    async shutdown() {
      await outbox.close();
      await log.shutdown();
      await store.shutdown();
    },
  };

  async function sharedBetween(from: string, to: string, afterSeq: number, limit: number): Promise<RoutingLogEntry[]> {
    const want = Math.max(1, Math.min(limit, 10_000));
    const out: RoutingLogEntry[] = [];
    let found = afterSeq === 0;
    for (let after: { at: string; seq: number } | undefined; out.length < want;) {
      const page = await log.between(from, to, { ...(after ? { after } : {}), limit: 1000 });
      for (const e of page) {
        if (found) out.push(toLogEntry(e));
        else if (e.seq === afterSeq) found = true;
      }
      if (page.length < 1000) break;
      after = { at: page.at(-1)!.at, seq: page.at(-1)!.seq };
    }
    return out.slice(0, want);
  }

  async function sharedReplay(from: string, to: string, page: LogPage): Promise<ReplayContact[]> {
    const want = Math.max(1, Math.min(page.limit ?? 1000, 10_000));
    const out: ReplayContact[] = [];
    // Entries whose session is unknown are skipped; reading on keeps a page full, so a short page still means the end.
    for (let after = page.after; out.length < want;) {
      const ask = want - out.length;
      const entries = await log.between(from, to, { ...(after ? { after } : {}), limit: ask, filter: 'new' });
      const sessions = await sessionsOf(entries.map((e) => e.sessionId));
      entries.forEach((e, i) => {
        const s = sessions[i];
        if (s) out.push(toReplayContact(e, s));
      });
      if (entries.length < ask) break;
      after = { at: entries.at(-1)!.at, seq: entries.at(-1)!.seq };
    }
    return out;
  }
}
