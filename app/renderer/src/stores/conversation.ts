import type { MessageView, SessionDetail, WrapUpCode } from '../../../../common/api/sessions';
import type { ChannelCode } from '../../../../common/message/session-id';
import type { MessageDelivery } from '../../../../common/socket/agent-events';
import type { MessageAnnotation } from '../../../../common/api/attachments';
import { LOCAL_HISTORY_SIZE } from '../../../../common/ipc/local-store';
import type { LocalSync } from '../bridge/local-sync';
import type { Slice } from './types';
import { shownSessionId } from './shown';
import { errorKey } from '../error-text';

export interface PendingReply {
  clientMessageId: string;
  text: string;
  error: string | null;
  /** The AI draft the reply was written from (the server records what the agent changed). */
  draftId?: string;
  /** The session it was written in (issue 15: shown with that conversation only). */
  sessionId?: string;
  /** Issue 15: `queued` in the outbox while the link is down; `refused` by the server for good (`code` says why). */
  status?: 'queued' | 'refused';
  code?: string;
}

/** The open chat followed its customer to another channel (issue 12): from which session and channel to which. */
export interface FollowedMove {
  fromSessionId: string;
  fromChannel: ChannelCode;
  toSessionId: string;
  toChannel: ChannelCode;
}

/** A session id starts with its channel's code (DESIGN §3). */
const channelOf = (sessionId: string) => sessionId.slice(0, 2) as ChannelCode;

/** How many `movedTo` hops an open follows at most (a customer bouncing between channels is a short chain). */
const MAX_FOLLOW_HOPS = 5;

export interface ConversationSlice {
  openSessionId: string | null;
  /** Set when the open chat followed the customer to another channel; cleared when the agent opens another chat. */
  followed: FollowedMove | null;
  detail: SessionDetail | null;
  /** Issue 15: the locally kept last interactions of the session being opened, until the server answers. */
  localPreview: { sessionId: string; messages: MessageView[] } | null;
  pending: PendingReply[];
  workError: string | null;
  /** An older page is being fetched (the "Show earlier messages" button waits). */
  loadingOlder: boolean;
  /** How far each of the agent's replies got on the customer's channel, by message id. */
  deliveries: Record<string, MessageDelivery>;
  receiveDelivery(delivery: MessageDelivery): void;
  /** Opens a session; one closed because the customer went on elsewhere (`movedTo`) opens where they went. */
  openSession(sessionId: string): Promise<void>;
  /**
   * The customer of the open chat went on from it to `sessionId` (a queue row whose `movedFrom` is the
   * open session): the workstation shows that one instead, keeping the composer and pending replies.
   */
  followMove(sessionId: string): Promise<void>;
  /** Reads the open session again (a conversation with the AI, whose messages are not pushed). */
  refreshOpen(sessionId: string): Promise<void>;
  /** Prepends the page of messages just before the oldest one shown (C8: long conversations). */
  loadOlder(): Promise<void>;
  accept(sessionId: string): Promise<void>;
  /** Declines an offer made to you: it goes to the next agent now. */
  decline(sessionId: string): Promise<void>;
  /** Sends a reply; `draftId`: the AI draft it was written from (the draft then leaves the detail). */
  send(text: string, draftId?: string): Promise<void>;
  retry(clientMessageId: string): Promise<void>;
  /** Wraps up the open contact: disposition code, optional note, and the agent's FCR word (absent: code `resolved`). */
  closeSession(wrapUpCode: WrapUpCode, note?: string, resolvedOnFirstContact?: boolean): Promise<void>;
  receiveMessage(message: MessageView): void;
  /** Text read from an image of the open conversation (issue 10): shown under the image. */
  receiveAnnotation(annotation: MessageAnnotation): void;
  /**
   * These customers' data was erased (issue 17, `customer:erased`): the open conversation of one of
   * them closes, with its messages, pending replies, deliveries and AI suggestions; nothing of theirs
   * stays in this window's memory. Their queue rows are the server's `[erased]` markers.
   */
  forgetCustomers(customerIds: readonly string[]): void;
  resetWork(): void;
}

/** A failure as the store keeps it: words the UI translates when it shows them (error-text.ts). */
const describe = (error: unknown) => errorKey(error, 'noAnswerRetry');

function withMessages(detail: SessionDetail, incoming: readonly MessageView[]): SessionDetail {
  const known = new Set(detail.messages.map((m) => m.id));
  const fresh = incoming.filter((m) => !known.has(m.id));
  if (fresh.length === 0) return detail;
  // seq is the conversation's order of record; merging never drops what is already shown.
  const messages = [...detail.messages, ...fresh].sort((a, b) => a.seq - b.seq);
  return { ...detail, messages };
}
const withMessage = (detail: SessionDetail, message: MessageView) => withMessages(detail, [message]);

/**
 * The server's page merged with the locally held interactions by seq (issue 15, mergeBySeq: no
 * duplicate, a held seq never overwritten — here the server's copy is the one held). Local messages
 * older than the page are left out, so paging back (`beforeSeq` = the oldest shown) stays gap-free.
 */
function reconcileWithLocal(local: LocalSync, detail: SessionDetail, held: readonly MessageView[]): SessionDetail {
  if (held.length === 0 || detail.messages.length === 0) return detail;
  const oldest = detail.messages[0]!.seq;
  const merged = local.reconcile(
    detail.messages,
    held.filter((m) => m.seq >= oldest),
  );
  return merged.added === 0 ? detail : { ...detail, messages: merged.messages };
}

export const createConversationSlice: Slice<ConversationSlice> = (set, get) => {
  async function deliver(item: PendingReply): Promise<void> {
    const { connection } = get();
    // The reply goes to the conversation it was typed in, whatever is open by now.
    const sessionId = item.sessionId ?? shownSessionId(get());
    if (!connection || !sessionId) return;
    try {
      const message = await connection.request('message:send', {
        sessionId,
        clientMessageId: item.clientMessageId,
        text: item.text,
        ...(item.draftId ? { draftId: item.draftId } : {}),
      });
      set((s) => ({
        pending: s.pending.filter((p) => p.clientMessageId !== item.clientMessageId),
        detail: s.detail && s.detail.id === message.sessionId ? withMessage(s.detail, message) : s.detail,
      }));
    } catch (error) {
      set((s) => ({
        pending: s.pending.map((p) => (p.clientMessageId === item.clientMessageId ? { ...p, error: describe(error) } : p)),
      }));
    }
  }

  /** Reads a session into the open chat; follows `movedTo` (hops so far: `hops`) to where the customer is now. */
  async function load(sessionId: string, hops: number): Promise<void> {
    const conn = get().connection;
    if (!conn) return;
    set({ openSessionId: sessionId, workError: null });
    // Issue 15: the local last interactions are on screen at once, while the server answers.
    const row = get().queue[sessionId];
    const held = row ? await get().local.openConversation(row.conversationId) : [];
    if (held.length > 0 && get().openSessionId === sessionId && get().detail?.id !== sessionId)
      set({ localPreview: { sessionId, messages: held } });
    try {
      let detail = await conn.request('session:open', { sessionId });
      if (get().openSessionId !== sessionId) return;
      detail = reconcileWithLocal(get().local, detail, held);
      if (detail.movedTo && hops < MAX_FOLLOW_HOPS) {
        const followed = get().followed;
        set({
          followed: {
            fromSessionId: followed?.fromSessionId ?? detail.id,
            fromChannel: followed?.fromChannel ?? detail.channel,
            toSessionId: detail.movedTo,
            toChannel: channelOf(detail.movedTo),
          },
        });
        get().removeQueueItem(detail.id);
        await load(detail.movedTo, hops + 1);
        return;
      }
      set((s) => {
        // Read now: the count goes (the map holds only chats with something unread, not every one opened).
        const { [sessionId]: _read, ...unread } = s.unread;
        return { detail, localPreview: null, unread };
      });
      void get().local.remember(detail.conversationId, detail.customerId, detail.messages.slice(-LOCAL_HISTORY_SIZE));
    } catch (error) {
      set({ workError: describe(error) });
    }
  }

  return {
    openSessionId: null,
    followed: null,
    detail: null,
    localPreview: null,
    pending: [],
    workError: null,
    loadingOlder: false,
    deliveries: {},
    receiveDelivery(delivery) {
      set((s) => ({ deliveries: { ...s.deliveries, [delivery.messageId]: delivery } }));
    },
    async loadOlder() {
      const { connection, detail, loadingOlder } = get();
      const oldest = detail?.messages[0];
      if (!connection || !detail || !oldest || !detail.hasOlderMessages || loadingOlder) return;
      set({ loadingOlder: true });
      try {
        const page = await connection.request('session:history', { sessionId: detail.id, beforeSeq: oldest.seq });
        set((s) =>
          s.detail && s.detail.id === detail.id
            ? { detail: { ...withMessages(s.detail, page.messages), hasOlderMessages: page.hasOlder }, loadingOlder: false }
            : { loadingOlder: false },
        );
      } catch (error) {
        set({ workError: describe(error), loadingOlder: false });
      }
    },
    async openSession(sessionId) {
      set((s) => ({ followed: null, openOnAccept: s.openOnAccept === sessionId ? s.openOnAccept : null }));
      await load(sessionId, 0);
    },
    async followMove(sessionId) {
      const { openSessionId, detail } = get();
      if (!openSessionId || openSessionId === sessionId) return;
      if (detail && detail.id === openSessionId)
        set({
          followed: { fromSessionId: detail.id, fromChannel: detail.channel, toSessionId: sessionId, toChannel: channelOf(sessionId) },
        });
      await load(sessionId, 1);
    },
    async accept(sessionId) {
      const conn = get().connection;
      if (!conn) return;
      set({ workError: null });
      const summary = get().queue[sessionId];
      // Issue 15: through the outbox with a key of its own (one accept per session at a time); opened
      // when acked, now or after a reconnect (`openOnAccept`).
      if (summary) {
        set({ openOnAccept: sessionId });
        const key = `accept-${sessionId}`;
        const queued = await get().queueCritical({
          kind: 'accept',
          clientMessageId: key,
          conversationId: summary.conversationId,
          customerId: summary.customerId,
          payload: { sessionId },
        });
        if (queued) return;
      }
      try {
        const detail = await conn.request('offer:accept', { sessionId });
        get().dropOffer(sessionId);
        get().upsertQueueItem(detail);
        set({ openSessionId: sessionId, detail, pending: [], queueFilter: 'mine' });
      } catch (error) {
        set({ workError: describe(error) });
      }
    },
    async decline(sessionId) {
      const conn = get().connection;
      if (!conn) return;
      set({ workError: null });
      try {
        await conn.request('offer:decline', { sessionId });
        get().dropOffer(sessionId);
      } catch (error) {
        set({ workError: describe(error) });
      }
    },
    async send(text, draftId) {
      const { detail } = get();
      // The composer on screen is the shown conversation's, even while another one is being opened.
      const sessionId = shownSessionId(get());
      const item: PendingReply = {
        clientMessageId: crypto.randomUUID(),
        text,
        error: null,
        ...(draftId ? { draftId } : {}),
        ...(sessionId ? { sessionId } : {}),
      };
      set((s) => ({
        pending: [...s.pending, item],
        // The draft is used: it is not offered again when the detail is shown.
        ...(draftId && s.detail?.draft?.id === draftId ? { detail: { ...s.detail, draft: undefined } } : {}),
      }));
      // Issue 15: into the outbox first (it survives a dead link or a crash), then sent in order.
      if (detail && detail.id === sessionId) {
        const queued = await get().queueCritical({
          kind: 'reply',
          clientMessageId: item.clientMessageId,
          conversationId: detail.conversationId,
          customerId: detail.customerId,
          payload: { sessionId, clientMessageId: item.clientMessageId, text, ...(draftId ? { draftId } : {}) },
        });
        if (queued) return;
      }
      await deliver(item);
    },
    async retry(clientMessageId) {
      const item = get().pending.find((p) => p.clientMessageId === clientMessageId);
      if (!item) return;
      set((s) => ({ pending: s.pending.map((p) => (p.clientMessageId === clientMessageId ? { ...p, error: null } : p)) }));
      // A reply still in the outbox goes with the outbox (in order); a refused one is sent again directly.
      if (item.status === 'queued' && (await get().local.pendingKeys()).has(clientMessageId)) return get().drainOutbox();
      set((s) => ({
        pending: s.pending.map((p) => (p.clientMessageId === clientMessageId ? { ...p, status: undefined, code: undefined } : p)),
      }));
      await deliver(item);
    },
    async closeSession(wrapUpCode, note, resolvedOnFirstContact) {
      const fcr = resolvedOnFirstContact === undefined ? {} : { resolvedOnFirstContact };
      const { connection, detail } = get();
      // The wrap-up on screen closes the shown conversation, not one being opened meanwhile.
      const sessionId = shownSessionId(get());
      if (!connection || !sessionId) return;
      // Issue 15: a wrap-up goes through the outbox too; sent again it answers the same (server-side idempotent).
      if (detail && detail.id === sessionId) {
        const queued = await get().queueCritical({
          kind: 'wrap-up',
          clientMessageId: `wrap-up-${sessionId}`,
          conversationId: detail.conversationId,
          customerId: detail.customerId,
          payload: { sessionId, wrapUpCode, ...(note ? { note } : {}), ...fcr },
        });
        if (queued) return;
      }
      try {
        const summary = await connection.request('session:close', {
          sessionId,
          wrapUpCode,
          ...(note ? { note } : {}),
          ...fcr,
        });
        get().removeQueueItem(summary.id);
        set((s) => ({ detail: s.detail ? { ...s.detail, status: 'closed', wrapUpCode } : null }));
      } catch (error) {
        set({ workError: describe(error) });
      }
    },
    async refreshOpen(sessionId) {
      // A conversation with the AI gets no message pushes (no agent has it): its queue row moving says
      // the AI or the customer wrote, and the open transcript is read again.
      const conn = get().connection;
      if (!conn || get().openSessionId !== sessionId) return;
      try {
        const detail = await conn.request('session:open', { sessionId });
        if (get().openSessionId === sessionId)
          set((s) => ({ detail: s.detail ? { ...detail, messages: withMessages(detail, s.detail.messages).messages } : detail }));
      } catch {
        /* the next change tries again; the queue row already shows the newest message */
      }
    },
    receiveMessage(message) {
      set((s) => {
        // Issue 16: an agent's reply answers the response the row's SLA chip was counting down to.
        const row = s.queue[message.sessionId];
        const answered =
          message.direction === 'out' && message.author === 'agent' && row?.sla
            ? { queue: { ...s.queue, [message.sessionId]: { ...row, sla: undefined } } }
            : {};
        if (s.detail && s.detail.conversationId === message.conversationId) {
          const detail = withMessage(s.detail, message);
          void s.local.remember(detail.conversationId, detail.customerId, detail.messages.slice(-LOCAL_HISTORY_SIZE));
          return { ...answered, detail };
        }
        return { ...answered, unread: { ...s.unread, [message.sessionId]: (s.unread[message.sessionId] ?? 0) + 1 } };
      });
    },
    receiveAnnotation({ messageId, conversationId, ocr }) {
      set((s) =>
        s.detail && s.detail.conversationId === conversationId
          ? { detail: { ...s.detail, messages: s.detail.messages.map((m) => (m.id === messageId ? { ...m, ocr } : m)) } }
          : {},
      );
    },
    forgetCustomers(customerIds) {
      const detail = get().detail;
      if (!detail || !customerIds.includes(detail.customerId)) return;
      set({
        openSessionId: null,
        followed: null,
        detail: null,
        localPreview: null,
        pending: [],
        deliveries: {},
        suggestions: null,
        workError: null,
      });
    },
    resetWork() {
      set({
        openSessionId: null,
        followed: null,
        detail: null,
        localPreview: null,
        pending: [],
        workError: null,
        outboxRefusals: [],
        openOnAccept: null,
        queue: {},
        offers: {},
        unread: {},
        deliveries: {},
        suggestions: null,
        incomingTransfers: {},
        outgoingTransfers: {},
        transferNotice: null,
        transferTargets: null,
      });
    },
  };
};
