import { NotifySchema } from '../../../../common/ipc/desktop-bridge';
import type { Presence, SettablePresence } from '../../../../common/socket/agent-events';
import { truncateText } from '../../../../common/text/text';
import type { AgentConnection } from '../api/agent-socket';
import type { Slice, WorkstationDeps } from './types';
import { deskT } from './desk-words';
import { errorKey } from '../error-text';
import { deskName } from './desk-words';

// The bridge refuses longer notifications; read its limits rather than repeat them.
const NOTIFY_TITLE_MAX = NotifySchema.shape.title.maxLength ?? 120;
const NOTIFY_BODY_MAX = NotifySchema.shape.body.maxLength ?? 300;

export interface ConnectionSlice {
  link: 'offline' | 'connecting' | 'online';
  presence: Presence;
  /** When after-call work ends (ISO 8601), while `presence` is `after-call-work`. */
  presenceUntil: string | null;
  linkError: string | null;
  /**
   * Why the agent socket last went down (socket.io's disconnect reason, e.g. `ping timeout`,
   * `transport close`, `io server disconnect`) and how often it has (issue 15 diagnostics; no PII).
   * Shown as `data-link-reason` / `data-link-drops` on the top bar's link state.
   */
  linkDrop: { reason: string; count: number } | null;
  connection: AgentConnection | null;
  /** Sessions whose customer is typing now (issue 12, volatile): set by `customer:typing`, cleared by their message or after 30 s. */
  customerTyping: Record<string, true>;
  goOnline(token: string): void;
  goOffline(): void;
  setPresence(presence: SettablePresence): Promise<void>;
}

/** A "typing…" left on (a client that went away without `paused`) goes after this long (ms, XEP-0085 §5.2: 30 s). */
const TYPING_TTL_MS = 30_000;
/** How long after its `queue:remove` the open conversation is read again (ms): see the handler. */
const REMOVED_REREAD_MS = 250;

export const createConnectionSlice =
  (deps: WorkstationDeps): Slice<ConnectionSlice> =>
  (set, get) => {
    const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
    let stopReconnectNow: (() => void) | undefined;
    const setTyping = (sessionId: string, typing: boolean) => {
      clearTimeout(typingTimers.get(sessionId));
      typingTimers.delete(sessionId);
      if (typing)
        typingTimers.set(
          sessionId,
          setTimeout(() => setTyping(sessionId, false), TYPING_TTL_MS),
        );
      if (typing === Boolean(get().customerTyping[sessionId])) return;
      const next = { ...get().customerTyping };
      if (typing) next[sessionId] = true;
      else delete next[sessionId];
      set({ customerTyping: next });
    };
    return {
      link: 'offline',
      presence: 'available',
      presenceUntil: null,
      linkError: null,
      linkDrop: null,
      connection: null,
      customerTyping: {},
      goOnline(token) {
        get().connection?.close();
        const connection = deps.connect(token);
        set({ connection, link: 'connecting', linkError: null });
        const { socket } = connection;
        socket.on('connect', () => set({ link: 'online', linkError: null }));
        // Issue 15: main (resume, unlock, network back) or the browser (`online`) says the link is worth trying now.
        stopReconnectNow?.();
        stopReconnectNow = deps.bridge.onReconnectNow?.(() => {
          if (!socket.connected) socket.connect();
        });
        socket.on('disconnect', (reason) => {
          set({ link: 'connecting', linkDrop: { reason, count: (get().linkDrop?.count ?? 0) + 1 } });
          // After a server-side disconnect socket.io does not retry by itself; a token that is no
          // longer valid is refused on connect and ends the session there.
          if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
        });
        socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
          if (err.data?.code === 'UNAUTHENTICATED') {
            // The token expired or was revoked: back to the sign-in screen.
            // A lapsed token keeps the local store: unsent replies go after the next sign-in.
            void get().logout({ keepLocal: true });
            set({ linkError: errorKey(null, 'sessionEnded') });
          } else {
            set({ link: 'connecting', linkError: errorKey(null, 'retrying') });
          }
        });
        socket.on('hello', ({ user, queue, presence, waitingTotal }) => {
          // Pending transfers offered to me are pushed again right after the greeting.
          set({ user, presence, incomingTransfers: {} });
          get().replaceQueue(queue, waitingTotal);
          // Issue 15: the local store is this agent's; what waited in the outbox goes now, in order.
          void get().resumeLocal(user.id);
          // After a reconnect, refresh the open conversation: we may have missed messages.
          const open = get().openSessionId;
          if (open) void get().openSession(open);
          // A supervised conversation's live room is this connection's: join it again (issue 16).
          const watched = get().supervisedId;
          if (watched) void get().openSupervision(watched);
        });
        socket.on('queue:upsert', (summary) => {
          const before = get().queue[summary.id];
          get().upsertQueueItem(summary);
          // Issue 12: the customer of the open chat went on on another channel; the chat follows them.
          if (summary.movedFrom && get().openSessionId === summary.movedFrom) {
            void get().followMove(summary.id);
            return;
          }
          // The open conversation is with the AI, or just left it: its transcript is read again.
          const moved = !before || before.lastMessageAt !== summary.lastMessageAt || before.status !== summary.status;
          if (moved && get().openSessionId === summary.id && (summary.status === 'bot' || before?.status === 'bot'))
            void get().refreshOpen(summary.id);
        });
        socket.on('queue:remove', ({ sessionId }) => {
          get().removeQueueItem(sessionId);
          // The open conversation left this agent's list: closed by the server (a call hung up once its
          // transcript drained, the customer's channel), transferred, or taken by a colleague. It is
          // read again so it shows that (closed note, wrap-up), whenever the change comes — a beat later,
          // so a removal that is half of a channel switch (the new session's row follows in the same
          // burst and the chat follows it, issue 12) does not read the closed one for nothing.
          if (get().openSessionId === sessionId)
            setTimeout(() => {
              if (get().openSessionId === sessionId) void get().refreshOpen(sessionId);
            }, REMOVED_REREAD_MS);
        });
        socket.on('offer:new', (offer) => {
          // The server sends the offer again whenever the offered contact changes (a new message, the
          // AI's notice): the queue takes the update, but the agent is told of each offer once.
          const announced = get().offers[offer.sessionId] !== undefined;
          get().addOffer(offer);
          // Issue 15: a tone and an OS notification kept until the offer is answered (stores/outbox.ts).
          if (!announced) get().offerArrived(offer);
        });
        socket.on('offer:revoked', ({ sessionId }) => get().dropOffer(sessionId));
        socket.on('presence:changed', ({ presence, until, by }) => {
          set({ presence, presenceUntil: until });
          // Issue 16: a lead changed it; the top bar says who.
          get().receivePresenceChange({ presence, ...(by ? { by } : {}) });
        });
        socket.on('message:new', (message) => {
          if (message.direction === 'in') setTyping(message.sessionId, false);
          get().receiveMessage(message);
          // A conversation this lead supervises (issue 16) gets its live messages too.
          get().receiveSupervised(message);
        });
        // Issues 15, 16: an internal note or a lead's whisper in my chat or one I supervise.
        socket.on('note:new', (note) => {
          if (get().detail?.conversationId === note.conversationId) get().receiveMessage(note);
          get().receiveSupervised(note);
        });
        socket.on('customer:typing', ({ sessionId, typing }) => setTyping(sessionId, typing));
        socket.on('message:annotated', (annotation) => get().receiveAnnotation(annotation));
        socket.on('message:delivery', (delivery) => get().receiveDelivery(delivery));
        // Transfers (issue 11): a warm transfer offered to me, and news of transfers I sent or was offered.
        socket.on('transfer:offered', (offer) => {
          get().receiveTransferOffer(offer);
          void deps.bridge.notify({
            title: truncateText(
              deskT(deps.i18n)('notify.transferTitle', {
                from: offer.transfer.from.name,
                name: deskName(deps.i18n, offer.session.customerName),
              }),
              NOTIFY_TITLE_MAX,
              '…',
            ),
            body: truncateText(offer.transfer.note ?? offer.session.lastMessagePreview, NOTIFY_BODY_MAX, '…'),
            sessionId: offer.session.id,
          });
        });
        socket.on('transfer:updated', (transfer) => get().receiveTransferUpdate(transfer));
        // Issue 17: an erased customer's data leaves this window at once, and the desktop's local store (issue 15).
        socket.on('customer:erased', ({ customerIds }) => {
          get().forgetCustomers(customerIds);
          void get().local.eraseCustomers(customerIds);
        });
      },
      goOffline() {
        stopReconnectNow?.();
        stopReconnectNow = undefined;
        get().connection?.close();
        set({ connection: null, link: 'offline' });
      },
      async setPresence(presence) {
        const conn = get().connection;
        if (!conn) return;
        const res = await conn.request('presence:set', { presence });
        set({ presence: res.presence, presenceUntil: null, presenceChangedBy: null });
      },
    };
  };
