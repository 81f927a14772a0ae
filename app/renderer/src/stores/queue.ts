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

/** Left messages first, then by priority (highest first), then by how long they have waited. */
export function sortQueue(items: SessionSummary[]): SessionSummary[] {
  return [...items].sort(
    (a, b) =>
      leftMessage(b) - leftMessage(a) || (b.priority ?? 0) - (a.priority ?? 0) || Date.parse(a.waitingSince) - Date.parse(b.waitingSince),
  );
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
