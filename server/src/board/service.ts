import { LRUCache } from 'lru-cache';
import { slaWarnAt, type BoardGroup, type BoardRules, type BoardSla, type BoardSnapshot } from '../../../common/api/board';
import { HuiliuError } from '../../../common/errors/codes';
import { authorOf, type Envelope } from '../../../common/message/envelope';
import type { Bus, Subscription } from '../bus/bus';
import type { KpiEventLog } from '../kpis/log.sqlite';
import type { Logger } from '../logging/logger';
import type { AgentPool } from '../routing/agent-pool';
import { newestShown, type MessageEmotions } from '../sessions/views';
import type { SessionStore } from '../sessions/store';
import type { SlaTracker } from '../sla/tracker';
import { buildGroupBoard, groupQueueKpis, QueueOutcomes, type ContactTrack, type GroupQueueKpis } from './snapshot';

/** Defaults of the board's rules (docs/lead-board.md). */
export const BOARD_DEFAULTS = { slaWarnShare: 0.8, silenceSeconds: 120, pushIntervalMs: 1000 } as const;
/** Open sessions one snapshot reads at most (all watched groups together). */
const OPEN_SESSIONS_MAX = 5000;
/** Facts the KPI log may receive late (the recorder is a bus consumer): each refresh re-reads this much back (ms). */
const LOG_OVERLAP_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export interface LiveBoardDeps {
  store: Pick<SessionStore, 'listSessions' | 'getCustomer' | 'lastMessage' | 'recentMessages'>;
  bus: Pick<Bus, 'subscribeAll'>;
  pool: Pick<AgentPool, 'all' | 'onChange'>;
  /** The contact event log (kpis/): service level and abandonment. Absent: those read null. */
  kpiLog?: Pick<KpiEventLog, 'read'>;
  /** `kpis.serviceLevel` of the config: thresholds in seconds and the goal. */
  serviceLevel: { readonly voiceSeconds: number; readonly chatSeconds: number; readonly target: number };
  /** Chats an agent holds at once (routing config `capacity.chat`). */
  chatCapacity: () => Promise<number>;
  /** Every skill group id (what "all groups" means for an admin). */
  skillGroups: () => readonly string[];
  /**
   * The SLA clocks (sla/tracker.ts): each contact's row carries its clock, and a clock's start, stop or
   * breach re-pushes the group. Absent: every contact falls back to the service-level threshold.
   */
  sla?: Pick<SlaTracker, 'statusOf' | 'onChange'>;
  /** Share of the SLA target (or, with no clock, of the service-level threshold) after which a contact is flagged (default 0.8). */
  slaWarnShare?: number;
  /** Seconds an agent's customer may wait for an answer before the contact is flagged (default 120). */
  silenceSeconds?: number;
  /** Pushes to a subscriber come at most this often (ms, default 1000). */
  pushIntervalMs?: number;
  /** The emotion of a customer message (the hub's reader, with its budget). Absent: no emotion flags. */
  emotions?: MessageEmotions;
  /** Where "today" starts for `now` (ms); default: midnight of the server's local time zone. */
  dayStart?: (now: number) => number;
  logger: Pick<Logger, 'warn' | 'error'>;
  now?: () => number;
}

/** A subscriber's push function; it receives only the groups it watches that changed. */
export type BoardListener = (snapshot: BoardSnapshot) => void;

export interface LiveBoard {
  /** The rules and every group's board (the caller has checked the groups against the policy). */
  snapshot(groups: readonly string[]): Promise<BoardSnapshot>;
  /** Pushes the watched groups when they change, coalesced to one push per `pushIntervalMs`. Returns the unsubscribe. */
  subscribe(groups: readonly string[], listener: BoardListener): () => void;
  /** Every skill group id. */
  skillGroups(): readonly string[];
  close(): Promise<void>;
}

const localMidnight = (now: number) => {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
};

/**
 * The team lead's live board (issue 16): keeps what the store does not say — each open contact's
 * unanswered customer message and emotion (from `message.in` / `message.out`), customer names, and
 * today's queue facts of the KPI log — and, when bus events (session changes, messages) or the agent
 * pool (connect, presence, load) touch a watched group, rebuilds that group once and pushes it to its
 * subscribers, at most once per `pushIntervalMs` (no timer polls the store: no event, no work).
 */
export async function createLiveBoard(deps: LiveBoardDeps): Promise<LiveBoard> {
  const now = deps.now ?? Date.now;
  const dayStart = deps.dayStart ?? localMidnight;
  const interval = deps.pushIntervalMs ?? BOARD_DEFAULTS.pushIntervalMs;
  const rules: BoardRules = {
    thresholds: { voice: deps.serviceLevel.voiceSeconds, chat: deps.serviceLevel.chatSeconds },
    slaWarnShare: deps.slaWarnShare ?? BOARD_DEFAULTS.slaWarnShare,
    silenceSeconds: deps.silenceSeconds ?? BOARD_DEFAULTS.silenceSeconds,
  };

  const tracks = new LRUCache<string, ContactTrack>({ max: 50_000 });
  const names = new LRUCache<string, string>({ max: 20_000, ttl: 10 * 60_000 });
  const groupOf = new LRUCache<string, string>({ max: 50_000 });
  const listeners = new Map<BoardListener, ReadonlySet<string>>();
  const dirty = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** One timer at the earliest SLA warn point ahead among the watched contacts (a push when it turns "about to breach"). */
  let warnTimer: ReturnType<typeof setTimeout> | null = null;
  let warnTimerAt = Infinity;
  const warnAt = new Map<string, { at: number; group: string }>();
  let flushing: Promise<void> | null = null;
  let lastFlush = -Infinity;
  let closed = false;

  // Today's (and yesterday's) queue outcomes from the KPI log, refreshed incrementally (from `cursor` − overlap).
  const outcomes = new QueueOutcomes();
  let cursor: number | null = null;
  function refreshQueueFacts(t: number): void {
    if (!deps.kpiLog) return;
    const keepFrom = dayStart(t) - DAY_MS;
    const from = cursor === null ? keepFrom : Math.max(keepFrom, cursor - LOG_OVERLAP_MS);
    for (const e of deps.kpiLog.read(from, t + 1)) outcomes.add(e);
    cursor = t;
    outcomes.prune(keepFrom);
  }

  const watched = () => {
    const all = new Set<string>();
    for (const groups of listeners.values()) for (const g of groups) all.add(g);
    return all;
  };

  function touch(group: string | undefined): void {
    if (!group || closed) return;
    dirty.add(group);
    schedule();
  }

  function schedule(): void {
    if (timer || closed || dirty.size === 0) return;
    // Coalescing: at most one rebuild per interval; a first change after a quiet spell waits 100 ms so
    // the facts the other consumers write for the same event (the KPI recorder) are in.
    const delay = Math.max(100, lastFlush + interval - now());
    timer = setTimeout(() => {
      timer = null;
      flushing = flush().finally(() => {
        flushing = null;
        schedule();
      });
    }, delay);
    timer.unref?.();
  }

  async function flush(): Promise<void> {
    lastFlush = now();
    const interesting = watched();
    const groups = [...dirty].filter((g) => interesting.has(g));
    dirty.clear();
    if (groups.length === 0) return;
    let snapshot: BoardSnapshot;
    try {
      snapshot = await build(groups);
    } catch (error) {
      deps.logger.error({ err: error }, 'live board rebuild failed');
      return;
    }
    armWarn(snapshot.groups);
    for (const [listener, mine] of listeners) {
      const part = snapshot.groups.filter((g) => mine.has(g.skillGroup));
      if (part.length > 0) listener({ rules, groups: part });
    }
  }

  /** Records the next warn point of each contact of the rebuilt groups and arms one timer at the earliest. */
  function armWarn(groups: readonly BoardGroup[]): void {
    const t = now();
    const rebuilt = new Set(groups.map((g) => g.skillGroup));
    for (const [id, w] of warnAt) if (rebuilt.has(w.group) || w.at <= t) warnAt.delete(id);
    for (const g of groups)
      for (const c of g.contacts) {
        const at = slaWarnAt(c.sla, rules);
        if (at !== null && at > t && !c.trouble.includes('sla-risk')) warnAt.set(c.sessionId, { at, group: g.skillGroup });
      }
    let next: { at: number; group: string } | null = null;
    for (const w of warnAt.values()) if (!next || w.at < next.at) next = w;
    if (!next || closed || next.at >= warnTimerAt) return;
    if (warnTimer) clearTimeout(warnTimer);
    warnTimerAt = next.at;
    warnTimer = setTimeout(
      () => {
        warnTimer = null;
        warnTimerAt = Infinity;
        const due = now();
        for (const [id, w] of warnAt)
          if (w.at <= due) {
            warnAt.delete(id);
            touch(w.group);
          }
        armWarn([]);
      },
      Math.max(0, next.at - t),
    );
    warnTimer.unref?.();
  }

  async function customerName(customerId: string): Promise<string | undefined> {
    const cached = names.get(customerId);
    if (cached !== undefined) return cached;
    try {
      const customer = await deps.store.getCustomer(customerId);
      if (customer) names.set(customerId, customer.name);
      return customer?.name;
    } catch (error) {
      if (error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED') return undefined;
      throw error;
    }
  }

  /** A contact the board has heard nothing of yet (opened before this process): its newest message says where it stands. */
  async function seedTrack(sessionId: string, conversationId: string): Promise<void> {
    try {
      const last = await newestShown(deps.store, conversationId);
      if (tracks.has(sessionId)) return; // an event came first: it is newer
      const inbound = last !== null && authorOf(last) === 'customer';
      tracks.set(sessionId, {
        unansweredSince: inbound ? Date.parse(last.receivedAt) : null,
        emotion: inbound ? (deps.emotions?.(last)?.label ?? null) : null,
      });
    } catch (error) {
      if (!(error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED')) throw error;
      tracks.set(sessionId, { unansweredSince: null, emotion: null });
    }
  }

  const slaOf = (sessionId: string): BoardSla | null => deps.sla?.statusOf(sessionId) ?? null;

  async function build(groups: readonly string[]): Promise<BoardSnapshot> {
    const t = now();
    const [sessions, chatCapacity] = await Promise.all([
      deps.store.listSessions({ status: ['bot', 'queued', 'offered', 'active'], skillGroups: groups, limit: OPEN_SESSIONS_MAX }),
      deps.chatCapacity(),
    ]);
    for (const s of sessions) groupOf.set(s.id, s.skillGroup);
    await Promise.all(sessions.filter((s) => !tracks.has(s.id)).map((s) => seedTrack(s.id, s.conversationId)));
    const nameMap = new Map<string, string>();
    await Promise.all(
      [...new Set(sessions.map((s) => s.customerId))].map(async (id) => {
        const name = await customerName(id);
        if (name !== undefined) nameMap.set(id, name);
      }),
    );
    const trackMap = new Map<string, ContactTrack>();
    for (const s of sessions) {
      const track = tracks.get(s.id);
      if (track) trackMap.set(s.id, track);
    }
    refreshQueueFacts(t);
    const empty: GroupQueueKpis = {
      last15m: { rate: null, answeredWithin: 0, answered: 0, abandonedAfter: 0 },
      today: { rate: null, answeredWithin: 0, answered: 0, abandonedAfter: 0 },
      abandonment: { rate: null, abandoned: 0, queued: 0 },
    };
    const agents = deps.pool.all();
    const out: BoardGroup[] = groups.map((skillGroup) =>
      buildGroupBoard({
        skillGroup,
        sessions,
        names: nameMap,
        tracks: trackMap,
        agents,
        chatCapacity,
        kpis: deps.kpiLog ? groupQueueKpis(outcomes, skillGroup, t, dayStart(t), rules) : empty,
        slaOf,
        target: deps.serviceLevel.target,
        rules,
        now: t,
      }),
    );
    return { rules, groups: out };
  }

  function onCustomerMessage(sessionId: string, envelope: Envelope): void {
    const track = tracks.get(sessionId) ?? { unansweredSince: null, emotion: null };
    track.unansweredSince ??= Date.parse(envelope.receivedAt);
    const emotion = deps.emotions?.(envelope);
    if (emotion) track.emotion = emotion.label;
    tracks.set(sessionId, track);
  }

  const subs: Subscription[] = [];
  subs.push(
    await deps.bus.subscribeAll('session.changed', ({ sessionId, payload }) => {
      const before = groupOf.get(sessionId);
      if (before && before !== payload.skillGroup) touch(before);
      groupOf.set(sessionId, payload.skillGroup);
      if (payload.status === 'closed') {
        tracks.delete(sessionId);
        groupOf.delete(sessionId);
      }
      touch(payload.skillGroup);
    }),
    await deps.bus.subscribeAll('message.in', ({ sessionId, payload }) => {
      if (payload.customerName) names.set(payload.envelope.customerId, payload.customerName);
      if (!watched().has(payload.session.skillGroup)) {
        // Nobody watches: remember only that the customer waits for an answer, so a later subscriber sees it.
        const track = tracks.get(sessionId) ?? { unansweredSince: null, emotion: null };
        track.unansweredSince ??= Date.parse(payload.envelope.receivedAt);
        tracks.set(sessionId, track);
        return;
      }
      onCustomerMessage(sessionId, payload.envelope);
      groupOf.set(sessionId, payload.session.skillGroup);
      touch(payload.session.skillGroup);
    }),
    await deps.bus.subscribeAll('message.out', ({ sessionId, payload }) => {
      const kind = authorOf(payload.envelope);
      // Staff and AI words answer the customer; system notices (a hand-over, a transfer record) do not.
      if (kind === 'agent' || kind === 'ai') {
        const track = tracks.get(sessionId);
        if (track) track.unansweredSince = null;
        else tracks.set(sessionId, { unansweredSince: null, emotion: null });
        touch(payload.session.skillGroup);
      }
    }),
    await deps.bus.subscribeAll('customer.erased', ({ payload: { customerIds } }) => {
      for (const id of customerIds) names.delete(id);
      for (const g of watched()) touch(g);
    }),
  );
  // A clock started, stopped, rescheduled or breached (this node's tracker), and breaches from the bus.
  const stopSla = deps.sla?.onChange((_sessionId, group) => touch(group)) ?? (() => undefined);
  subs.push(await deps.bus.subscribeAll('sla.breached', ({ payload }) => touch(payload.session.skillGroup)));
  const stopPool = deps.pool.onChange((agent) => {
    for (const g of agent.skillGroups) touch(g);
  });

  return {
    async snapshot(groups) {
      const snapshot = await build(groups);
      // A subscriber's first answer: its contacts' warn points are timed too (no event may follow).
      armWarn(snapshot.groups);
      return snapshot;
    },
    subscribe(groups, listener) {
      listeners.set(listener, new Set(groups));
      return () => void listeners.delete(listener);
    },
    skillGroups: deps.skillGroups,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (warnTimer) clearTimeout(warnTimer);
      stopSla();
      stopPool();
      listeners.clear();
      await flushing;
      await Promise.all(subs.map((s) => s.unsubscribe()));
    },
  };
}
