import type { MessageView, SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import { HuiliuError, type ErrorCode, type Result } from '../../../../common/errors/codes';
import {
  LOCAL_HISTORY_SIZE,
  NotifySchema,
  OUTBOX_EVENTS,
  type OutboxEnqueue,
  type OutboxEntry,
} from '../../../../common/ipc/desktop-bridge';
import type { OfferView } from '../../../../common/socket/agent-events';
import { truncateText } from '../../../../common/text/text';
import { LocalSync } from '../bridge/local-sync';
import { playOfferTone } from '../bridge/offer-tone';
import type { Slice, WorkstationDeps } from './types';
import { deskT } from './desk-words';
import { errorKey } from '../error-text';
import { deskName } from './desk-words';

const NOTIFY_TITLE_MAX = NotifySchema.shape.title.maxLength ?? 120;
const NOTIFY_BODY_MAX = NotifySchema.shape.body.maxLength ?? 300;

/** A wrap-up or accept the server refused for good when the outbox sent it (replies show it on their bubble). */
export interface OutboxRefusal {
  kind: 'wrap-up' | 'accept';
  sessionId: string;
  code: ErrorCode;
}

export interface OutboxSlice {
  /** The local store (desktop: SQLite in main; browser: browser-local.ts), one code path for both. */
  local: LocalSync;
  /** Refused wrap-ups / accepts from the last drains, shown until dismissed. */
  outboxRefusals: OutboxRefusal[];
  /**
   * The contact the agent last clicked Accept on: opened when its accept is acked, even with another
   * conversation on screen (the agent asked for it). Cleared when they open another one meanwhile.
   */
  openOnAccept: string | null;
  /**
   * Queues a critical message (reply, wrap-up, accept) with its idempotency key, then drains the
   * outbox when online. Answers false when there is no local store (the caller sends directly).
   */
  queueCritical(entry: OutboxEnqueue): Promise<boolean>;
  /** Sends the outbox oldest first with the same keys (on every `hello`, and after each queue). */
  drainOutbox(): Promise<void>;
  /** After `hello`: binds the store to the agent, shows unsent replies as queued, drains. */
  resumeLocal(userId: string): Promise<void>;
  dismissOutboxRefusal(index: number): void;
  /** A new offer: a short tone and an OS notification kept until `offerAnswered`. */
  offerArrived(offer: OfferView): void;
  /** The offer left the queue (accepted, declined, revoked, expired): its notification is withdrawn. */
  offerAnswered(sessionId: string): void;
}

/** How long after a drain stopped on a connected link it runs again (ms). */
const RETRY_DRAIN_MS = 3000;

/** An outbox entry whose send had no answer (timeout, link down): the drain stops and keeps it. */
class NoAnswer extends Error {}

const mergeMessage = (detail: SessionDetail, message: MessageView): SessionDetail =>
  detail.messages.some((m) => m.id === message.id)
    ? detail
    : { ...detail, messages: [...detail.messages, message].sort((a, b) => a.seq - b.seq) };

export const createOutboxSlice =
  (deps: WorkstationDeps): Slice<OutboxSlice> =>
  (set, get) => {
    const local = new LocalSync(deps.bridge);
    let retryTimer: ReturnType<typeof setTimeout> | undefined;

    /** What an acked entry changes on screen (the same as a direct send's answer did). */
    function applyAck(entry: OutboxEntry, data: unknown): void {
      if (entry.kind === 'reply') {
        const message = data as MessageView;
        set((s) => ({
          pending: s.pending.filter((p) => p.clientMessageId !== entry.clientMessageId),
          detail: s.detail && s.detail.conversationId === message.conversationId ? mergeMessage(s.detail, message) : s.detail,
        }));
        const detail = get().detail;
        if (detail && detail.conversationId === message.conversationId)
          void local.remember(detail.conversationId, detail.customerId, detail.messages.slice(-LOCAL_HISTORY_SIZE));
      } else if (entry.kind === 'accept') {
        const detail = data as SessionDetail;
        get().dropOffer(detail.id);
        get().upsertQueueItem(detail);
        const { openSessionId, openOnAccept } = get();
        if (!openSessionId || openSessionId === detail.id || openOnAccept === detail.id)
          set({ openSessionId: detail.id, detail, queueFilter: 'mine', workError: null, openOnAccept: null });
      } else {
        const summary = data as SessionSummary;
        get().removeQueueItem(summary.id);
        set((s) => ({
          detail:
            s.detail && s.detail.id === summary.id ? { ...s.detail, status: 'closed', wrapUpCode: entry.payload.wrapUpCode } : s.detail,
        }));
      }
    }

    function applyRefusal(entry: OutboxEntry, code: ErrorCode, message: string): void {
      if (entry.kind === 'reply') {
        set((s) => ({
          pending: s.pending.map((p) =>
            p.clientMessageId === entry.clientMessageId
              ? { ...p, status: 'refused', code, error: errorKey(new HuiliuError(code, message), 'noAnswerRetry') }
              : p,
          ),
        }));
      } else {
        set((s) => ({ outboxRefusals: [...s.outboxRefusals, { kind: entry.kind, sessionId: entry.payload.sessionId, code }] }));
      }
    }

    async function sendEntry(entry: OutboxEntry): Promise<Result<unknown>> {
      const conn = get().connection;
      // Never hand socket.io a packet to buffer while the link is down: the next drain sends it in order.
      if (!conn || !conn.socket.connected) throw new NoAnswer();
      try {
        const data = await conn.request(OUTBOX_EVENTS[entry.kind], entry.payload as never, { retries: 0 });
        applyAck(entry, data);
        return { ok: true, data };
      } catch (error) {
        if (error instanceof HuiliuError) return { ok: false, error: error.toInfo() };
        throw new NoAnswer();
      }
    }

    const markQueued = (keys: ReadonlySet<string>) =>
      set((s) => ({
        pending: s.pending.map((p) =>
          keys.has(p.clientMessageId) && p.status !== 'refused' ? { ...p, status: 'queued', error: null } : p,
        ),
      }));

    return {
      local,
      outboxRefusals: [],
      openOnAccept: null,
      async queueCritical(entry) {
        if (!(await local.queue(entry))) return false;
        if (entry.kind === 'reply' && get().link !== 'online') markQueued(new Set([entry.clientMessageId]));
        await get().drainOutbox();
        return true;
      },
      async drainOutbox() {
        if (get().link !== 'online') return;
        const report = await local.drain(sendEntry).catch(() => null);
        if (!report) return;
        // Kept as the desk's key for the code (error-text.ts), so the bubble says it in the UI's language.
        for (const r of report.refused) applyRefusal(r.entry, r.code, errorKey(new HuiliuError(r.code), 'noAnswerRetry'));
        if (report.stoppedAt) {
          // Nothing after the entry that did not go was tried: all of them wait for the next reconnect.
          const left = await local.pendingKeys();
          markQueued(left);
          // Still connected (a slow ack, a 5xx): try again shortly rather than wait for the next reconnect.
          if (get().link === 'online' && !retryTimer)
            retryTimer = setTimeout(() => {
              retryTimer = undefined;
              void get().drainOutbox();
            }, RETRY_DRAIN_MS);
        }
      },
      async resumeLocal(userId) {
        if (!(await local.open(userId))) return;
        // Replies typed before a reload or crash are still in the outbox: show them as queued.
        const unsent = await local.pendingEntries();
        set((s) => {
          const shown = new Set(s.pending.map((p) => p.clientMessageId));
          const restored = unsent
            .filter((e) => e.kind === 'reply' && !shown.has(e.clientMessageId))
            .map((e) => ({
              clientMessageId: e.clientMessageId,
              text: e.kind === 'reply' ? e.payload.text : '',
              sessionId: e.payload.sessionId,
              error: null,
              status: 'queued' as const,
            }));
          return restored.length > 0 ? { pending: [...s.pending, ...restored] } : {};
        });
        await get().drainOutbox();
      },
      dismissOutboxRefusal(index) {
        set((s) => ({ outboxRefusals: s.outboxRefusals.filter((_, i) => i !== index) }));
      },
      offerArrived(offer) {
        playOfferTone();
        const title = truncateText(
          deskT(deps.i18n)('notify.offerTitle', { name: deskName(deps.i18n, offer.summary.customerName) }),
          NOTIFY_TITLE_MAX,
          '…',
        );
        const body = truncateText(offer.summary.lastMessagePreview, NOTIFY_BODY_MAX, '…');
        if (deps.bridge.notifyOffer) void deps.bridge.notifyOffer({ title, body, sessionId: offer.sessionId, expiresAt: offer.expiresAt });
        else void deps.bridge.notify({ title, body, sessionId: offer.sessionId });
      },
      offerAnswered(sessionId) {
        void deps.bridge.acknowledgeOffer?.({ sessionId });
      },
    };
  };
