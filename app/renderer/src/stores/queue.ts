import type { SessionSummary } from '../../../../common/api/sessions';
import type { OfferView } from '../../../../common/socket/agent-events';
import type { Slice, WorkstationDeps } from './types';

/**
 * `waiting`: for a person; `mine`: my open chats; `ai`: contacts the AI is answering (any agent may
 * take one over); `team`: chats colleagues of my groups hold (issue 15: read them, ask to take one
 * over; listed by `takeover:list`, not from the queue rows).
 */
export type QueueFilter = 'waiting' | 'mine' | 'ai' | 'team';

export interface QueueSlice {
  queue: Record<string, SessionSummary>;
  offers: Record<string, OfferView>;
  unread: Record<string, number>;
  queueFilter: QueueFilter;
  /** Waiting contacts in all at the last greeting, when the server's list held fewer (it sends at most 500). */
  waitingTotal: number | null;
  replaceQueue(items: SessionSummary[], waitingTotal?: number): void;
  upsertQueueItem(item: SessionSummary): void;
  removeQueueItem(sessionId: string): void;
  addOffer(offer: OfferView): void;
  dropOffer(sessionId: string): void;
  setQueueFilter(filter: QueueFilter): void;
}

const waiting = (s: SessionSummary) => s.status === 'queued' || s.status === 'offered';

/** A left message: handed over by the AI while no agent was online (issue 10), seen first on return. */
const leftMessage = (s: SessionSummary) => (s.handover?.noAgentOnline ? 1 : 0);

/**
 * Left messages first, then by priority (highest first), then by how long they have waited (oldest
 * first). A new array; each row's keys are read once (not a `Date.parse` per comparison: issue 15).
 */
export function sortQueue(items: SessionSummary[]): SessionSummary[] {
  const keyed = items.map((s) => ({ s, left: leftMessage(s), prio: s.priority ?? 0, since: Date.parse(s.waitingSince) }));
  keyed.sort((a, b) => b.left - a.left || b.prio - a.prio || a.since - b.since);
  return keyed.map((k) => k.s);
}

export function visibleQueue(state: Pick<QueueSlice, 'queue' | 'queueFilter'>, userId: string | undefined): SessionSummary[] {
  if (state.queueFilter === 'team') return [];
  const all = Object.values(state.queue);
  const picked =
    state.queueFilter === 'waiting'
      ? all.filter(waiting)
      : state.queueFilter === 'ai'
        ? all.filter((s) => s.status === 'bot')
        : all.filter((s) => s.status === 'active' && s.assignedAgentId === userId);
  return sortQueue(picked);
}

/** The queue tabs' counts: waiting for a person, my open chats, with the AI. */
export type QueueCounts = readonly [waiting: number, mine: number, ai: number];

export function queueCounts(queue: Record<string, SessionSummary>, userId: string | undefined): QueueCounts {
  let waitingN = 0;
  let mine = 0;
  let ai = 0;
  for (const s of Object.values(queue)) {
    if (waiting(s)) waitingN++;
    else if (s.status === 'active' && s.assignedAgentId === userId) mine++;
    else if (s.status === 'bot') ai++;
  }
  return [waitingN, mine, ai];
}

/**
 * `visibleQueue` and `queueCounts` for a component, remembered for the last `(queue, filter, user)`:
 * the store changes for many reasons (a typing flag, a message, the open conversation) and the queue
 * of 500 rows is filtered and sorted again only when the queue itself changed (issue 15). Each
 * subscriber (component) makes its own with this, so two lists do not evict each other's result.
 */
export function queueSelectors() {
  let lastQueue: Record<string, SessionSummary> | null = null;
  let lastFilter: QueueFilter | null = null;
  let lastUser: string | undefined;
  let lastItems: SessionSummary[] = [];
  let countsQueue: Record<string, SessionSummary> | null = null;
  let countsUser: string | undefined;
  let lastCounts: QueueCounts = [0, 0, 0];
  return {
    items(state: Pick<QueueSlice, 'queue' | 'queueFilter'>, userId: string | undefined): SessionSummary[] {
      if (state.queue !== lastQueue || state.queueFilter !== lastFilter || userId !== lastUser) {
        lastItems = visibleQueue(state, userId);
        lastQueue = state.queue;
        lastFilter = state.queueFilter;
        lastUser = userId;
      }
      return lastItems;
    },
    counts(queue: Record<string, SessionSummary>, userId: string | undefined): QueueCounts {
      if (queue !== countsQueue || userId !== countsUser) {
        lastCounts = queueCounts(queue, userId);
        countsQueue = queue;
        countsUser = userId;
      }
      return lastCounts;
    },
  };
}

export const createQueueSlice =
  (deps: WorkstationDeps): Slice<QueueSlice> =>
  (set, get) => {
    /** Issue 15: an offer that left `offers` (answered, taken, revoked, expired) withdraws its notification. */
    const acknowledgeGone = (before: Record<string, unknown>, after: Record<string, unknown>) => {
      for (const id of Object.keys(before)) if (!(id in after)) void deps.bridge.acknowledgeOffer?.({ sessionId: id });
    };
    const syncBadge = () => {
      const count = Object.values(get().queue).filter(waiting).length;
      void deps.bridge.setBadge({ count });
    };
    return {
      queue: {},
      offers: {},
      unread: {},
      queueFilter: 'waiting',
      waitingTotal: null,
      replaceQueue(items, waitingTotal) {
        const shown = items.filter(waiting).length;
        set({
          queue: Object.fromEntries(items.map((s) => [s.id, s])),
          waitingTotal: waitingTotal !== undefined && waitingTotal > shown ? waitingTotal : null,
        });
        syncBadge();
      },
      upsertQueueItem(item) {
        const offersBefore = get().offers;
        set((s) => {
          const offers = { ...s.offers };
          if (item.status !== 'offered' || item.offeredAgentId !== s.user?.id) delete offers[item.id];
          const queue = { ...s.queue, [item.id]: item };
          // Issue 12: the session this one carries on from is closed; it is one chat, never two rows.
          if (item.movedFrom) {
            delete queue[item.movedFrom];
            delete offers[item.movedFrom];
          }
          return { queue, offers };
        });
        acknowledgeGone(offersBefore, get().offers);
        syncBadge();
      },
      removeQueueItem(sessionId) {
        const offersBefore = get().offers;
        set((s) => {
          const queue = { ...s.queue };
          const offers = { ...s.offers };
          delete queue[sessionId];
          delete offers[sessionId];
          return { queue, offers };
        });
        acknowledgeGone(offersBefore, get().offers);
        syncBadge();
      },
      addOffer(offer) {
        set((s) => ({ offers: { ...s.offers, [offer.sessionId]: offer }, queue: { ...s.queue, [offer.sessionId]: offer.summary } }));
        syncBadge();
      },
      dropOffer(sessionId) {
        const offersBefore = get().offers;
        set((s) => {
          const offers = { ...s.offers };
          delete offers[sessionId];
          return { offers };
        });
        acknowledgeGone(offersBefore, get().offers);
      },
      setQueueFilter(queueFilter) {
        set({ queueFilter });
      },
    };
  };
