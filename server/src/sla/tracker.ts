import { HuiliuError } from '../../../common/errors/codes';
import type { SlaKind, SlaPolicy, SlaStatus } from '../../../common/api/sla';
import type { SessionFacts } from '../../../common/events/events';
import { authorOf } from '../../../common/message/envelope';
import type { AuditEntryInput } from '../audit/audit';
import type { Bus, Subscription } from '../bus/bus';
import { newEvent, sessionFacts } from '../bus/events';
import { kpiEvent } from '../kpis/events';
import type { KpiEventLog } from '../kpis/log.sqlite';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { SessionStore } from '../sessions/store';
import { dueTime } from './clock';
import { policyFor } from './policy-store';

/** The longest a single timer is set for (ms): Node's setTimeout limit is 2^31−1. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How many open sessions are read back at a start. */
const REBUILD_LIMIT = 100_000;

/** A response the clock is timing. Times in ms since the epoch. */
interface Pending {
  kind: SlaKind;
  startedAt: number;
  /** Null: the calendar has no business time ahead (never due). */
  dueAt: number | null;
  targetSeconds: number;
  policy: Pick<SlaPolicy, 'skillGroup' | 'channel'> | null;
  breached: boolean;
}

interface Tracked {
  sessionId: string;
  conversationId: string;
  facts: SessionFacts;
  /** An agent (or a lead barging in) replied at least once: later customer messages start `next` clocks. */
  responded: boolean;
  pending: Pending | null;
}

export interface SlaTrackerDeps {
  bus: Bus;
  store: Pick<SessionStore, 'listSessions' | 'recentMessages'>;
  /** The policies in force (read at each clock start and on `reschedule`). */
  policies: () => readonly SlaPolicy[];
  /** Breaches are facts of the KPI log: its unique id makes each one count once across nodes and restarts. */
  log: Pick<KpiEventLog, 'append'>;
  audit?: (entry: AuditEntryInput) => void;
  metrics?: Pick<Metrics, 'slaPolicyBreaches'>;
  logger: Logger;
  now?: () => number;
}

export interface SlaTracker {
  /** Reads the open sessions back (their pending responses, breaches already due fire), then follows the bus. */
  start(): Promise<void>;
  /** The SLA of a session's waiting response for its queue row (with the policy's target in seconds); undefined when none is waiting. */
  statusOf(sessionId: string): (SlaStatus & { targetSeconds: number }) | undefined;
  /**
   * Calls `listener` with the session's skill group whenever one of its clocks starts, stops, is
   * rescheduled or breaches (on this node). Returns the unsubscribe.
   */
  onChange(listener: (sessionId: string, skillGroup: string) => void): () => void;
  /** Recomputes every pending due time under the policies now in force (after a publish). */
  reschedule(): void;
  /** Fires every breach due by now (the timer calls it; tests may too). */
  tick(): void;
  stop(): Promise<void>;
}

/** A min-heap of (due time, session, started-at) entries; stale ones are skipped when popped. */
class DueHeap {
  private readonly items: { dueAt: number; sessionId: string; startedAt: number }[] = [];
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(item: { dueAt: number; sessionId: string; startedAt: number }) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.dueAt <= a[i]!.dueAt) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.dueAt < a[m]!.dueAt) m = l;
        if (r < a.length && a[r]!.dueAt < a[m]!.dueAt) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  clear() {
    this.items.length = 0;
  }
}

/**
 * The SLA clocks of open sessions (issue 16, docs/sla.md). Follows the bus on every node (fan-out):
 * a contact queued for a person starts the `first` clock at its `waitingSince`; the first agent (or
 * barge) reply stops it; after that, a customer message nobody answered starts a `next` clock, which
 * the next agent reply stops; a close stops every clock. Due times come from the session's policy
 * (`policyFor`) and the business-time clock (`dueTime`), and wait in a min-heap under one timer, so
 * nothing polls the store. A breach is appended to the KPI log once (deterministic id); the node whose
 * append was new counts it (`huiliu_sla_policy_breaches_total`), audits it (actor `system`) and
 * publishes `sla.breached`.
 */
export function createSlaTracker(deps: SlaTrackerDeps): SlaTracker {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'sla' });
  const sessions = new Map<string, Tracked>();
  const heap = new DueHeap();
  const subs: Subscription[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let timerAt = Infinity;
  let stopped = false;
  const listeners = new Set<(sessionId: string, skillGroup: string) => void>();
  function changed(t: Pick<Tracked, 'sessionId' | 'facts'>): void {
    for (const l of listeners) {
      try {
        l(t.sessionId, t.facts.skillGroup);
      } catch (error) {
        log.warn({ err: error, sessionId: t.sessionId }, 'an SLA change listener failed');
      }
    }
  }

  function arm(): void {
    const next = heap.peek();
    if (stopped || !next) return;
    if (timer && timerAt <= next.dueAt) return;
    if (timer) clearTimeout(timer);
    timerAt = next.dueAt;
    timer = setTimeout(
      () => {
        timer = null;
        timerAt = Infinity;
        tick();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next.dueAt - now())),
    );
    timer.unref();
  }

  function startClock(t: Tracked, kind: SlaKind, startedAt: number): void {
    const policy = policyFor(deps.policies(), t.facts.skillGroup, t.facts.channel);
    if (!policy) {
      if (t.pending) changed(t);
      t.pending = null;
      return;
    }
    const targetSeconds = kind === 'first' ? policy.firstResponseSeconds : policy.nextResponseSeconds;
    const dueAt = dueTime(policy.calendar, startedAt, targetSeconds);
    t.pending = {
      kind,
      startedAt,
      dueAt,
      targetSeconds,
      policy: { skillGroup: policy.skillGroup, channel: policy.channel },
      breached: false,
    };
    changed(t);
    if (dueAt !== null) {
      heap.push({ dueAt, sessionId: t.sessionId, startedAt });
      arm();
    }
  }

  function breach(t: Tracked, p: Pending): void {
    p.breached = true;
    changed(t);
    const dueAt = p.dueAt!;
    const appended = deps.log.append([
      kpiEvent({
        id: `sla:${t.sessionId}:${p.kind}:${p.startedAt}`,
        kind: 'sla.breached',
        at: dueAt,
        sessionId: t.sessionId,
        conversationId: t.conversationId,
        customerId: t.facts.customerId,
        skillGroup: t.facts.skillGroup,
        channel: t.facts.channel,
        tier: t.facts.tier,
        agentId: t.facts.assignedAgentId,
        data: { slaKind: p.kind },
      }),
    ]);
    if (appended === 0) return;
    deps.metrics?.slaPolicyBreaches.inc({ skill_group: t.facts.skillGroup, channel: t.facts.channel, kind: p.kind });
    const policy = p.policy ?? { skillGroup: '*', channel: '*' };
    deps.audit?.({
      at: new Date(dueAt).toISOString(),
      actor: { kind: 'system', id: 'sla' },
      action: 'sla.breached',
      target: { kind: 'session', id: t.sessionId },
      outcome: 'ok',
      detail: {
        kind: p.kind,
        skillGroup: t.facts.skillGroup,
        channel: t.facts.channel,
        targetSeconds: p.targetSeconds,
        startedAt: new Date(p.startedAt).toISOString(),
        dueAt: new Date(dueAt).toISOString(),
      },
    });
    void deps.bus
      .publish(
        newEvent('sla.breached', {
          actor: 'system',
          sessionId: t.sessionId,
          conversationId: t.conversationId,
          payload: {
            kind: p.kind,
            targetSeconds: p.targetSeconds,
            startedAt: new Date(p.startedAt).toISOString(),
            dueAt: new Date(dueAt).toISOString(),
            policy,
            session: t.facts,
          },
        }),
      )
      .catch((error: unknown) => log.warn({ err: error, sessionId: t.sessionId }, 'publishing an SLA breach failed'));
  }

  function tick(): void {
    const t0 = now();
    for (let top = heap.peek(); top && top.dueAt <= t0; top = heap.peek()) {
      heap.pop();
      const t = sessions.get(top.sessionId);
      const p = t?.pending;
      // Stale: answered, closed or rescheduled since it was pushed.
      if (!t || !p || p.breached || p.startedAt !== top.startedAt || p.dueAt !== top.dueAt) continue;
      try {
        breach(t, p);
      } catch (error) {
        log.error({ err: error, sessionId: t.sessionId }, 'recording an SLA breach failed');
      }
    }
    arm();
  }

  const track = (sessionId: string, conversationId: string, facts: SessionFacts): Tracked => {
    let t = sessions.get(sessionId);
    if (!t) {
      t = { sessionId, conversationId, facts, responded: false, pending: null };
      sessions.set(sessionId, t);
    }
    t.facts = facts;
    return t;
  };

  async function rebuild(): Promise<void> {
    const open = await deps.store.listSessions({ status: ['queued', 'offered', 'active'], limit: REBUILD_LIMIT });
    for (const s of open) {
      let page: Awaited<ReturnType<typeof deps.store.recentMessages>>;
      try {
        page = await deps.store.recentMessages(s.conversationId, { limit: 200 });
      } catch (error) {
        // An erased customer's contact (issue 17): its messages cannot be read, and there is no one to answer on time.
        if (error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED') continue;
        throw error;
      }
      const t = track(s.id, s.conversationId, sessionFacts(s));
      const mine = page.messages.filter((m) => m.sessionId === s.id);
      const lastReply = mine.findLastIndex((m) => authorOf(m) === 'agent');
      t.responded = lastReply >= 0;
      if (!t.responded) {
        // A contact still with nobody's reply: timed from when it queued.
        if (s.status !== 'active' || mine.length > 0) startClock(t, 'first', Date.parse(s.waitingSince));
        continue;
      }
      const unanswered = mine.slice(lastReply + 1).find((m) => m.direction === 'in');
      if (unanswered) startClock(t, 'next', Date.parse(unanswered.receivedAt));
    }
    tick();
  }

  return {
    async start() {
      await rebuild();
      subs.push(
        await deps.bus.subscribeAll('session.changed', (e) => {
          const s = e.payload;
          if (s.reason === 'closed' || s.reason === 'moved' || s.status === 'closed') {
            // Resolved: the clock stops for good.
            const gone = sessions.get(e.sessionId);
            sessions.delete(e.sessionId);
            if (gone?.pending) changed(gone);
            return;
          }
          if (s.status === 'bot') return;
          const { reason: _r, trigger: _t, offerWithdrawnFrom: _o, movedTo: _m, wrapUpCode: _w, ...facts } = s;
          const t = track(e.sessionId, e.conversationId, facts);
          if ((s.status === 'queued' || s.status === 'offered') && !t.responded && !t.pending) {
            startClock(t, 'first', Date.parse(s.waitingSince));
          }
        }),
        await deps.bus.subscribeAll('message.in', (e) => {
          const t = sessions.get(e.sessionId);
          if (!t) return;
          t.facts = e.payload.session;
          if (t.responded && !t.pending) startClock(t, 'next', Date.parse(e.payload.envelope.receivedAt));
        }),
        await deps.bus.subscribeAll('message.out', (e) => {
          if (authorOf(e.payload.envelope) !== 'agent') return;
          const t = sessions.get(e.sessionId);
          if (!t) return;
          t.responded = true;
          const had = t.pending !== null;
          t.pending = null;
          if (had) changed(t);
        }),
      );
    },

    statusOf(sessionId) {
      const p = sessions.get(sessionId)?.pending;
      if (!p) return undefined;
      return {
        kind: p.kind,
        dueAt: p.dueAt === null ? null : new Date(p.dueAt).toISOString(),
        breached: p.breached,
        targetSeconds: p.targetSeconds,
      };
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    reschedule() {
      heap.clear();
      for (const t of sessions.values()) {
        const p = t.pending;
        // A breach already recorded stays recorded; only clocks still running take the new targets.
        if (p && !p.breached) startClock(t, p.kind, p.startedAt);
      }
      if (timer) clearTimeout(timer);
      timer = null;
      timerAt = Infinity;
      tick();
    },

    tick,

    async stop() {
      stopped = true;
      listeners.clear();
      if (timer) clearTimeout(timer);
      timer = null;
      for (const s of subs.splice(0)) await s.unsubscribe();
    },
  };
}
