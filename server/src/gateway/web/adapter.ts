import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ERROR_CODES, HuiliuError } from '../../../../common/errors/codes';
import { truncateText } from '../../../../common/text/text';
import { authorOf, isStaffOnly, normalizeLinkValue, textOf, type Envelope, type IdentityLink } from '../../../../common/message/envelope';
import {
  WIDGET_CLOSE,
  WidgetClientFrameSchema,
  type PreChatForm,
  type WidgetAttachment,
  type WidgetClientFrame,
  type WidgetMessage,
  type WidgetServerFrame,
} from '../../../../common/web/widget-protocol';
import { newEvent, sessionFacts } from '../../bus/events';
import type { ChannelStore } from '../channels';
import { nextSkillGroup, type WidgetStateStore } from './state';
import type { Bus, Subscription } from '../../bus/bus';
import type { ServerConfig } from '../../config/config';
import type { Limits } from '../../http/limits';
import { TokenBucket } from '../../http/token-bucket';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { SessionRecord, SessionStore } from '../../sessions/store';
import { carries, unsupportedKind, type ChannelAdapter, type ChannelCapabilities } from '../channel-adapter';
import type { Ingest } from '../ingest';
import { normalizeWidgetMessage, visitorExternalId, visitorTag } from './normalize';
import type { VisitorTokens } from './visitor-token';
import type { QueueStanding } from '../../../../common/ai/assist';
import { csatState, rateConversation } from '../../customers/csat';

export interface WebChannelAdapterOptions {
  store: SessionStore;
  ingest: Ingest;
  bus: Bus;
  config: ServerConfig;
  logger: Logger;
  /** Staff display names for "agent joined". */
  agentName: (agentId: string) => string | null;
  /** Signs and checks visitor tokens (only server-issued tokens resume a conversation). */
  visitorTokens: VisitorTokens;
  /** Per visitor / IP budgets and the open-connection count (shared with the other channels). */
  limits: Limits;
  metrics: Metrics;
  heartbeatMs?: number;
  /**
   * The hand-over use case (issue 10): the widget's "talk to a person" button calls it with the
   * visitor's open session. Absent: the button is refused (AI tier off).
   */
  handOver?: (sessionId: string) => Promise<{ standing: QueueStanding | null }>;
  /** Where a waiting session stands in its queue (position, estimated wait), for the status line. */
  standing?: (sessionId: string) => Promise<QueueStanding>;
  /**
   * Live standing (issue 11): after the queue of a waiting visitor's skill group moves, their new
   * standing is pushed at most this often per customer (ms; default 2,000), the last change always.
   */
  standingEveryMs?: number;
  /**
   * The channel's durable state (issue 13): pre-chat answers and read marks. Absent: no pre-chat form
   * is offered (a `pre-chat` frame is refused), `read` frames change nothing, and the welcome's
   * `agentReadSeq` is 0.
   */
  state?: WidgetStateStore;
  /** Delivery states (issue 13): a visitor's read receipt marks the replies they saw `read`. */
  channels?: ChannelStore;
  /**
   * Issue 13 uploads: the limits the welcome announces (null or absent: uploads are off), and how a
   * message's attachment is shown to the visitor (a fresh signed URL; see uploads.ts).
   */
  uploads?: {
    limits: { maxBytes: number; mimes: readonly string[] } | null;
    /** The attachment of `envelope` as a tab of `customerId` shows it (undefined: none, or not theirs). */
    attachmentOf(envelope: Envelope, customerId: string): Promise<WidgetAttachment | undefined>;
  };
}

export interface WebChannelAdapter extends ChannelAdapter {
  /** Takes over an HTTP upgrade on the widget path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

const CHANNEL = 'WB' as const;
/** Typing and read frames of one connection: a burst of this many, then this many a second; the rest are dropped. */
const SIGNAL_BURST = 6;
const SIGNALS_PER_SECOND = 2;
/** Replies a read receipt marks `read` at most per frame (a conversation's newest ones; older marks stay). */
const READ_MARK_MAX = 500;
/** The form as the widget sees it: topics without their skill groups. */
function publicForm(form: NonNullable<ServerConfig['widget']['preChat']>): PreChatForm {
  return { name: form.name, contact: form.contact, topics: form.topics.map((t) => ({ id: t.id, label: { ...t.label } })) };
}
/** At most one standing update per waiting customer in this window (ms): a busy queue moves many times a second. */
const STANDING_EVERY_MS = 2000;
/** Own messages a tab may have in flight before the oldest stops being held back from its echo. */
const SENDING_MAX = 256;
const CAPABILITIES: ChannelCapabilities = {
  text: true,
  image: false,
  file: false,
  audio: false,
  // Issue 13: both ways, through the widget's typing and read frames.
  typing: true,
  readReceipts: true,
  passiveReply: false,
};

function toWidgetMessage(e: Envelope): WidgetMessage {
  return {
    id: e.id,
    seq: e.seq,
    direction: e.direction,
    author: authorOf(e),
    text: textOf(e),
    sentAt: e.sentAt,
    receivedAt: e.receivedAt,
    clientMessageId: e.clientMessageId,
  };
}

interface Visitor {
  token: string;
  /** `visitorExternalId(token)`: the key of the visitor's budget and of its not-yet-stored tabs. */
  externalId: string;
  name?: string | undefined;
  customerId: string | null;
}

/** One widget connection: its socket, the visitor it said hello as, and its client address. */
interface Connection {
  socket: WebSocket;
  ip: string;
  visitor: Visitor | null;
  /**
   * clientMessageIds this connection sent and is storing: their ack tells this tab everything, so the
   * fan-out does not echo them back to it (one TLS write per message instead of two; issue 8).
   */
  sending: Set<string>;
}

/**
 * The web chat channel adapter (`WB`): the widget's resumable WebSocket (DESIGN §6, §7). Frames in,
 * limits, `normalize` → `Ingest`; every message of the conversation, inbound and outbound, out to
 * every open tab of the visitor; a returning visitor gets the messages after the `seq` they last saw,
 * one bounded page at a time. Every push respects the socket's send buffer: past
 * `limits.widget.sendBufferBytes` a volatile frame is dropped and a slow consumer is closed (1013),
 * so a client that does not read cannot grow the server's memory (issue 6 A2).
 *
 * Outbound has two roles (docs/architecture.md "Channel adapters"):
 * - `send`, called by the outbound dispatcher — a bus WORK consumer, so on ONE node per message —
 *   answers for the channel: `sent` once the message is stored and this channel is serving, `failed`
 *   for a kind the widget cannot show or when this node's channel is shut down. It does not push: the
 *   visitor's tabs may be connected to any node, and only the node running the dispatcher calls it.
 * - the FAN-OUT subscriptions below push every stored message and status to the visitor's tabs
 *   connected to THIS node, on every node. `sent` becomes `read` when the visitor's widget says they
 *   saw the reply (a `read` frame, issue 13).
 */
export async function createWebChannelAdapter(opts: WebChannelAdapterOptions): Promise<WebChannelAdapter> {
  const { store, ingest, bus, config, limits, metrics } = opts;
  const lim = config.limits.widget;
  const log = opts.logger.child({ component: 'gateway.web' });
  const heartbeatMs = opts.heartbeatMs ?? lim.heartbeatSeconds * 1000;
  const subs: Subscription[] = [];
  const byCustomer = new Map<string, Set<Connection>>();
  // Tabs of a visitor with no stored message yet: they join byCustomer when the first one is stored.
  const byNewVisitor = new Map<string, Set<Connection>>();
  // Their `visitorTag` → external id (issue 13: a first message that arrives as an upload finds its tabs by it).
  const newVisitorTags = new Map<string, string>();

  /** The message as the widget shows it, with a fresh signed link to its attachment for `customerId`'s tabs. */
  const view = async (e: Envelope, customerId: string): Promise<WidgetMessage> => {
    const attachment = await opts.uploads?.attachmentOf(e, customerId);
    return { ...toWidgetMessage(e), ...(attachment ? { attachment } : {}) };
  };
  const preChatForm = opts.state && config.widget.preChat ? config.widget.preChat : null;
  const groups = new Set(config.skillGroups.map((g) => g.id));
  /** Where the visitor's next session opens: their pre-chat topic's group (if it still exists), else the channel default. */
  const skillGroupOf = (customerId: string | null) => nextSkillGroup(opts.state, groups, config.channels.web.defaultSkillGroup, customerId);

  const closeFor = (socket: WebSocket, code: number, reason: string, label: string) => {
    if (socket.readyState !== socket.OPEN) return;
    metrics.widgetClosed.inc({ reason: label });
    socket.close(code, reason);
    // The close frame may never be read by a slow consumer: the socket is cut this much later.
    setTimeout(() => socket.terminate(), lim.slowConsumerGraceMs).unref();
  };
  /**
   * Queues one frame unless the socket's unsent bytes are over the high-water mark: then a volatile
   * frame is dropped, and for any other the client is closed with 1013 (it resumes by lastSeq on
   * reconnect, so nothing is lost). Returns whether the frame was queued.
   */
  const send = (socket: WebSocket, frame: WidgetServerFrame, volatile = false): boolean => {
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > (volatile ? lim.sendBufferBytes / 2 : lim.sendBufferBytes)) {
      if (!volatile) closeFor(socket, WIDGET_CLOSE.tryAgainLater, 'slow consumer', 'slow_consumer');
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  };
  const toCustomer = (customerId: string, frame: WidgetServerFrame) => {
    for (const c of byCustomer.get(customerId) ?? []) send(c.socket, frame);
  };
  const join = <K>(map: Map<K, Set<Connection>>, key: K, conn: Connection) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(conn);
  };
  const leave = <K>(map: Map<K, Set<Connection>>, key: K, conn: Connection) => {
    const set = map.get(key);
    set?.delete(conn);
    if (set?.size === 0) map.delete(key);
  };
  const detach = (conn: Connection) => {
    if (!conn.visitor) return;
    const { customerId } = conn.visitor;
    if (customerId) {
      leave(byCustomer, customerId, conn);
      if (!byCustomer.has(customerId)) forgetWaiting(customerId);
    } else {
      leave(byNewVisitor, conn.visitor.externalId, conn);
      if (!byNewVisitor.has(conn.visitor.externalId)) newVisitorTags.delete(visitorTag(conn.visitor.externalId));
    }
  };

  // Live standing (issue 11). The waiting session of each customer with a tab on this node, by skill
  // group; a change of any session in that group (taken, closed, released, a new one routed, on any
  // channel) may move them, so their standing is worked out again and pushed if it changed —
  // throttled per customer, the trailing change always sent.
  const standingEveryMs = opts.standingEveryMs ?? STANDING_EVERY_MS;
  const waiting = new Map<string, { sessionId: string; skillGroup: string; last?: string; at: number; timer?: NodeJS.Timeout }>();
  function watchWaiting(customerId: string, sessionId: string, skillGroup: string, shown?: QueueStanding): void {
    const entry = waiting.get(customerId);
    if (entry?.sessionId === sessionId) {
      // The same contact may wait in another group now (a transfer): follow it there.
      entry.skillGroup = skillGroup;
      if (shown) Object.assign(entry, { last: JSON.stringify(shown), at: Date.now() });
      return;
    }
    forgetWaiting(customerId);
    waiting.set(customerId, { sessionId, skillGroup, at: shown ? Date.now() : 0, ...(shown ? { last: JSON.stringify(shown) } : {}) });
  }
  function forgetWaiting(customerId: string): void {
    clearTimeout(waiting.get(customerId)?.timer);
    waiting.delete(customerId);
  }
  function queueMoved(skillGroup: string, except: string | null): void {
    for (const [customerId, entry] of waiting) {
      if (entry.skillGroup !== skillGroup || entry.sessionId === except || entry.timer) continue;
      const delay = Math.max(0, entry.at + standingEveryMs - Date.now());
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        void pushStanding(customerId, entry).catch((error: unknown) => log.warn({ err: error }, 'standing update failed'));
      }, delay);
      entry.timer.unref();
    }
  }
  async function pushStanding(customerId: string, entry: { sessionId: string; last?: string; at: number }): Promise<void> {
    if (closed || waiting.get(customerId) !== entry || !opts.standing) return;
    // Taken or closed since the change: its own status frame says so; no stale "waiting" after it.
    const session = await store.getSession(entry.sessionId);
    if (session?.status !== 'queued' && session?.status !== 'offered') return forgetWaiting(customerId);
    const standing = await opts.standing(entry.sessionId);
    const shown = JSON.stringify(standing);
    if (waiting.get(customerId) !== entry || shown === entry.last) return;
    entry.last = shown;
    entry.at = Date.now();
    toCustomer(customerId, { type: 'status', status: 'waiting', standing });
  }

  // Fan-out pushes concern this channel's own sessions only; which adapter sends an outbound message
  // is the dispatcher's choice, not a filter here.
  const ours = (channel: string) => channel === CHANNEL;
  let closed = false;
  subs.push(
    // Both directions go to every tab: another tab of the visitor sees what this one typed (D16).
    // Fan-out: every node pushes to the widget sockets connected to it (DESIGN §1 "Events").
    await bus.subscribeAll('message.in', async ({ payload: { envelope } }) => {
      if (!ours(envelope.channel)) return;
      // A first message stored over HTTP (an upload, issue 13): the visitor's tabs here join their customer now.
      const tag = envelope.meta['visitorTag'];
      if (!byCustomer.has(envelope.customerId) && typeof tag === 'string') {
        const externalId = newVisitorTags.get(tag);
        const tabs = externalId ? byNewVisitor.get(externalId) : undefined;
        if (externalId && tabs) adopt(externalId, envelope.customerId, tabs.values().next().value!);
      }
      if (!byCustomer.has(envelope.customerId)) return;
      const frame: WidgetServerFrame = { type: 'message', message: await view(envelope, envelope.customerId) };
      // The sending tab gets the ack instead; the visitor's other tabs get the message.
      for (const c of byCustomer.get(envelope.customerId) ?? []) if (!c.sending.delete(envelope.clientMessageId)) send(c.socket, frame);
    }),
    await bus.subscribeAll('message.out', async ({ payload: { envelope } }) => {
      // A kind the widget cannot show is not pushed either: `send` records it as failed.
      if (!ours(envelope.channel) || !carries(CAPABILITIES, envelope.kind)) return;
      if (!byCustomer.has(envelope.customerId)) return;
      toCustomer(envelope.customerId, { type: 'message', message: await view(envelope, envelope.customerId) });
    }),
    // Issue 13: the assigned agent's typing (volatile: dropped, never queued, for a full socket).
    await bus.subscribeAll('agent.typing', ({ payload: { typing, session } }) => {
      if (!ours(session.channel)) return;
      for (const c of byCustomer.get(session.customerId) ?? []) send(c.socket, { type: 'typing', typing }, true);
    }),
    // Issue 13: staff read the visitor's messages up to a seq: every tab shows "Read" on them.
    await bus.subscribeAll('conversation.read', ({ conversationId, payload: { side, upToSeq, session } }) => {
      if (side !== 'agent' || !ours(session.channel)) return;
      toCustomer(session.customerId, { type: 'read', conversationId, upToSeq });
    }),
    // The event carries the session's customer and agent: no store read per push.
    await bus.subscribeAll('session.changed', async ({ sessionId, payload: session }) => {
      const { status } = session;
      // Any channel's contact taken, closed or queued in a group moves the web visitors waiting there
      // (this session's own visitor too: offered means an answer is seconds away), except where the
      // lines below tell this session's visitor where they stand themselves.
      const toldBelow =
        (status === 'queued' || status === 'offered') &&
        (session.handover !== null || (session.reason === 'routed' && session.trigger === 'new'));
      if (waiting.size > 0) queueMoved(session.skillGroup, toldBelow ? sessionId : null);
      if (!ours(session.channel)) return;
      const here = byCustomer.has(session.customerId);
      if (here && (status === 'queued' || status === 'offered')) watchWaiting(session.customerId, sessionId, session.skillGroup);
      else if (waiting.get(session.customerId)?.sessionId === sessionId) forgetWaiting(session.customerId);
      if (session.reason === 'released') {
        toCustomer(session.customerId, { type: 'status', status: 'waiting' });
        return;
      }
      if (status === 'bot') return toCustomer(session.customerId, { type: 'status', status: 'bot' });
      // A new contact routed to people (not the AI): they wait for an agent.
      // With where they stand: no agent online is said at once, not after a hand-over only.
      if ((status === 'queued' || status === 'offered') && session.reason === 'routed' && session.trigger === 'new' && !session.handover) {
        if (!here) return;
        const standing = await opts.standing?.(sessionId).catch(() => undefined);
        if (standing) watchWaiting(session.customerId, sessionId, session.skillGroup, standing);
        return toCustomer(session.customerId, { type: 'status', status: 'waiting', ...(standing ? { standing } : {}) });
      }
      // Handed over by the AI and waiting for a person: where the customer stands (read only when a
      // tab of theirs is connected here).
      if ((status === 'queued' || status === 'offered') && session.handover && here) {
        const standing = await opts.standing?.(sessionId).catch(() => undefined);
        if (standing) watchWaiting(session.customerId, sessionId, session.skillGroup, standing);
        return toCustomer(session.customerId, { type: 'status', status: 'waiting', ...(standing ? { standing } : {}) });
      }
      if (status !== 'active' && status !== 'closed') return;
      if (status === 'active' && session.assignedAgentId) {
        const agentName = opts.agentName(session.assignedAgentId) ?? 'An agent';
        toCustomer(session.customerId, { type: 'status', status: 'agent-joined', agentName });
      } else if (status === 'closed') {
        // Just closed, so not rated yet: the widget offers its rating (issue 11).
        toCustomer(session.customerId, { type: 'status', status: 'closed', sessionId, rateable: true });
      }
    }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: lim.frameBytes });
  // Issue 16: `huiliu_socket_connections{kind="widget"}`, read at each scrape (ws tracks its clients).
  metrics.socketCounts.widget = () => wss.clients.size;
  wss.on('error', (error) => log.warn({ err: error }, 'widget WebSocket server error'));
  wss.on('connection', (socket: WebSocket, _req: IncomingMessage, ip: string) =>
    onConnection({ socket, ip, visitor: null, sending: new Set() }),
  );

  function onConnection(conn: Connection): void {
    const { socket, ip } = conn;
    const messages = new TokenBucket(lim.messageBurst, lim.messagesPerSecond);
    const replays = new TokenBucket(lim.replayBurst, lim.replaysPerSecond);
    // Typing and read frames (issue 13): volatile signals, the excess dropped without an answer.
    const signals = new TokenBucket(SIGNAL_BURST, SIGNALS_PER_SECOND);
    let alive = true;
    // ws closes the connection itself (1009 for an oversized frame, 1002 for a protocol error) and
    // then emits 'error': without this listener that error would end the process (issue 6 A1).
    socket.on('error', (error: Error & { code?: string }) => {
      const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too_big' : 'error';
      metrics.widgetClosed.inc({ reason });
      log.debug({ code: error.code, reason }, 'widget socket error; connection closed');
    });
    socket.on('pong', () => (alive = true));
    const beat = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, heartbeatMs);
    beat.unref();

    const fail = (
      code: HuiliuError['code'],
      message: string,
      extra: { clientMessageId?: string | undefined; retryAfterMs?: number } = {},
    ) => {
      // Counted and logged by code only (review of issue 13), like the other channels' refusals.
      if (ERROR_CODES[code].status < 500) {
        metrics.channelRejected.inc({ channel: CHANNEL, code });
        log.info({ code }, 'widget frame refused');
      }
      return send(socket, {
        type: 'error',
        code,
        message,
        ...(extra.clientMessageId ? { clientMessageId: extra.clientMessageId } : {}),
        ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
      });
    };

    // Frames are handled one at a time, in order, so acks and replays keep the customer's order.
    let chain = Promise.resolve();
    socket.on('message', (raw, isBinary) => {
      if (isBinary) return closeFor(socket, WIDGET_CLOSE.unsupportedData, 'frames are JSON text', 'policy');
      chain = chain
        .then(() => handle(raw.toString()))
        .catch((error: unknown) => {
          log.error({ err: error }, 'widget frame failed');
          fail('INTERNAL', 'Something went wrong; your message was not stored. Please retry.');
        });
    });

    /**
     * Sends one page of the conversation after `afterSeq`, then `replayed`; stops if the socket fills.
     * Only the visitor's own messages: staff-only records (a transfer) and, in a conversation the
     * customer continued from another channel (issue 12), what was said on the other channel's
     * identity stay out of this view; their seq still counts as read.
     */
    async function replay(session: { conversationId: string; customerId: string }, afterSeq: number): Promise<void> {
      const { conversationId, customerId } = session;
      const page = await store.listMessages(conversationId, { afterSeq, limit: lim.replayPageSize + 1, customerId });
      const shown = page.slice(0, lim.replayPageSize);
      for (const m of shown) {
        if (isStaffOnly(m)) continue;
        if (!send(socket, { type: 'message', message: await view(m, customerId) })) return;
      }
      send(socket, { type: 'replayed', conversationId, lastSeq: shown.at(-1)?.seq ?? afterSeq, more: page.length > shown.length });
    }

    /**
     * The pre-chat form (issue 13): checked against `widget.preChat`, the name and contact details
     * stored with the visitor's customer (created now when new; e-mail and phone as untrusted links),
     * the topic's skill group kept for their next session; `pre-chat-saved` to every tab of theirs here.
     */
    async function preChat(frame: Extract<WidgetClientFrame, { type: 'pre-chat' }>): Promise<void> {
      const visitor = conn.visitor;
      if (!visitor) return void fail('VALIDATION_FAILED', 'Say hello first.');
      if (!preChatForm || !opts.state) return void fail('VALIDATION_FAILED', 'There is no pre-chat form here.');
      if (!messages.take()) {
        const v = limits.refuse('widget_connection_messages', messages.msUntilNext());
        return void fail('RATE_LIMITED', 'Too many requests; try again shortly.', { retryAfterMs: v.ok ? 0 : v.retryAfterMs });
      }
      const name = preChatForm.name === 'off' ? undefined : frame.name;
      if (preChatForm.name === 'required' && !name) return void fail('VALIDATION_FAILED', 'Your name is required.');
      const links: IdentityLink[] = [];
      if (preChatForm.contact !== 'off') {
        for (const kind of ['email', 'phone'] as const) {
          const given = frame[kind];
          if (!given) continue;
          const value = normalizeLinkValue(kind, given);
          if (value === null)
            return void fail('VALIDATION_FAILED', kind === 'email' ? 'That is not an e-mail address.' : 'That is not a phone number.');
          links.push({ kind, value });
        }
        if (preChatForm.contact === 'required' && links.length === 0)
          return void fail('VALIDATION_FAILED', 'An e-mail address or a phone number is required.');
      }
      const topic = frame.topic === undefined ? undefined : preChatForm.topics.find((t) => t.id === frame.topic);
      if (frame.topic !== undefined && !topic) return void fail('UNKNOWN_TOPIC', 'No such topic.');
      if (!topic && preChatForm.topics.length > 0) return void fail('VALIDATION_FAILED', 'Choose a topic.');
      const { customerId } = await store.saveContactDetails(
        { channel: CHANNEL, externalId: visitor.externalId, ...(name ? { displayName: name } : {}), links },
        'WB:pre-chat',
      );
      await opts.state.savePreChat(customerId, { topic: topic?.id ?? null, skillGroup: topic?.skillGroup ?? null });
      if (!visitor.customerId) adopt(visitor.externalId, customerId, conn);
      // This tab's later messages say the same name (a hello's name would otherwise replace it).
      for (const c of byCustomer.get(customerId) ?? []) if (c.visitor && name) c.visitor.name = name;
      // Masked: which fields were given, never their values (issue 13: no raw e-mail or phone in logs).
      log.info(
        {
          customerId,
          topic: topic?.id ?? null,
          name: name !== undefined,
          email: frame.email !== undefined,
          phone: frame.phone !== undefined,
        },
        'pre-chat form saved',
      );
      toCustomer(customerId, { type: 'pre-chat-saved' });
    }

    /**
     * A read receipt (issue 13): the visitor saw their conversation up to `upToSeq` (cut to its newest
     * message). The customer read mark rises (never falls); the replies it passed over become `read`
     * (delivery state, pushed to the agent as message:delivery). Only the visitor's own current
     * conversation: another answers SESSION_NOT_FOUND.
     */
    async function readUpTo(frame: Extract<WidgetClientFrame, { type: 'read' }>): Promise<void> {
      if (!conn.visitor?.customerId) return void fail('SESSION_NOT_FOUND', 'No such conversation.');
      const session = await store.latestSession(conn.visitor.customerId, CHANNEL);
      if (!session || session.conversationId !== frame.conversationId) return void fail('SESSION_NOT_FOUND', 'No such conversation.');
      if (!opts.state || !signals.take()) return;
      const last = (await store.lastMessage(session.conversationId))?.seq ?? 0;
      const mark = await opts.state.raiseReadMark(session.conversationId, 'customer', Math.min(frame.upToSeq, last));
      if (!mark.changed) return;
      await markRepliesRead(session.conversationId, session.customerId, mark.previous, mark.upToSeq);
    }

    async function handle(text: string): Promise<void> {
      if (socket.readyState !== socket.OPEN) return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return void fail('INVALID_JSON', 'Frames are JSON text.');
      }
      const parsed = WidgetClientFrameSchema.safeParse(json);
      if (!parsed.success) {
        const cm = (json as { clientMessageId?: unknown } | null)?.clientMessageId;
        return void fail('VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'invalid frame', {
          clientMessageId: typeof cm === 'string' ? truncateText(cm, 128) : undefined,
        });
      }
      const frame = parsed.data;
      switch (frame.type) {
        case 'ping':
          return void send(socket, { type: 'pong', ...(frame.t !== undefined ? { t: frame.t } : {}) }, true);
        case 'hello': {
          // Each hello costs a replay: a widget says hello once per connection, so a burst of them
          // is an amplification attempt and ends the connection (issue 6 A2).
          if (!replays.take()) {
            limits.refuse('widget_connection_replays', replays.msUntilNext());
            return closeFor(socket, WIDGET_CLOSE.policy, 'too many hellos', 'policy');
          }
          // A token we did not issue is replaced by a new one: it resumes nothing.
          const known = frame.visitorToken !== undefined && opts.visitorTokens.verify(frame.visitorToken);
          if (!known) {
            const verdict = await limits.take([['ip_new_sessions', ip]]);
            if (!verdict.ok) {
              fail('RATE_LIMITED', 'Too many new chats from this address; try again later.', { retryAfterMs: verdict.retryAfterMs });
              return closeFor(socket, WIDGET_CLOSE.policy, 'too many new visitors', 'policy');
            }
          }
          const token = known ? frame.visitorToken! : opts.visitorTokens.issue();
          const externalId = visitorExternalId(token);
          const customer = known ? await store.findCustomerByIdentity(CHANNEL, externalId) : null;
          detach(conn);
          conn.visitor = { token, externalId, name: frame.name, customerId: customer?.id ?? null };
          const session = customer ? await store.latestSession(customer.id, CHANNEL) : null;
          if (customer) join(byCustomer, customer.id, conn);
          else {
            join(byNewVisitor, externalId, conn);
            newVisitorTags.set(visitorTag(externalId), externalId);
          }
          const [preChatDone, agentReadSeq] = await Promise.all([
            customer && preChatForm ? opts.state!.preChat(customer.id).then((a) => a !== null) : false,
            session && opts.state ? opts.state.readMark(session.conversationId, 'agent') : 0,
          ]);
          send(socket, {
            type: 'welcome',
            visitorToken: token,
            sessionId: session?.id ?? null,
            conversationId: session?.conversationId ?? null,
            heartbeatMs,
            preChat: preChatForm ? publicForm(preChatForm) : null,
            preChatDone,
            upload: opts.uploads?.limits ? { maxBytes: opts.uploads.limits.maxBytes, mimes: [...opts.uploads.limits.mimes] } : null,
            agentReadSeq,
          });
          if (session) {
            let afterSeq = frame.lastSeq ?? 0;
            if (frame.conversationId !== session.conversationId || frame.lastSeq === undefined) {
              // A tab that knows nothing of this conversation starts at its newest page.
              const last = await store.lastMessage(session.conversationId);
              afterSeq = Math.max(0, (last?.seq ?? 0) - lim.replayPageSize);
            }
            await replay(session, afterSeq);
            if (session.status === 'active' && session.assignedAgentId) {
              send(socket, { type: 'status', status: 'agent-joined', agentName: opts.agentName(session.assignedAgentId) ?? 'An agent' });
            } else if (session.status === 'closed') {
              const csat = await csatState(store, session);
              send(socket, { type: 'status', status: 'closed', sessionId: session.id, rateable: csat?.rateable === true });
            } else if (session.status === 'bot') {
              send(socket, { type: 'status', status: 'bot' });
            } else if (session.status === 'queued' || session.status === 'offered') {
              // Waiting for a person (a new contact or a handed-over one): where they stand, kept current.
              const standing = await opts.standing?.(session.id).catch(() => undefined);
              watchWaiting(customer!.id, session.id, session.skillGroup, standing);
              send(socket, { type: 'status', status: 'waiting', ...(standing ? { standing } : {}) });
            }
          }
          return;
        }
        case 'handover': {
          // "Talk to a person": the visitor's open conversation leaves the AI now (or they hear where they stand).
          if (!conn.visitor) return void fail('VALIDATION_FAILED', 'Say hello first.');
          if (!messages.take()) {
            const v = limits.refuse('widget_connection_messages', messages.msUntilNext());
            return void fail('RATE_LIMITED', 'Too many requests; try again shortly.', { retryAfterMs: v.ok ? 0 : v.retryAfterMs });
          }
          const session = conn.visitor.customerId ? await store.latestSession(conn.visitor.customerId, CHANNEL) : null;
          if (!session || session.status === 'closed') {
            return void fail('SESSION_NOT_FOUND', 'Write your question first: a person will answer it.');
          }
          if (!opts.handOver) return void fail('FORBIDDEN', 'Talking to a person is not available here.');
          const { standing } = await opts.handOver(session.id);
          if (standing) toCustomer(conn.visitor.customerId!, { type: 'status', status: 'waiting', standing });
          return;
        }
        case 'csat': {
          // Issue 11: the visitor rates their own closed web conversation, once.
          if (!conn.visitor) return void fail('VALIDATION_FAILED', 'Say hello first.');
          if (!messages.take()) {
            const v = limits.refuse('widget_connection_messages', messages.msUntilNext());
            return void fail('RATE_LIMITED', 'Too many requests; try again shortly.', { retryAfterMs: v.ok ? 0 : v.retryAfterMs });
          }
          try {
            const receipt = await rateConversation(store, {
              customerId: conn.visitor.customerId,
              channel: CHANNEL,
              sessionId: frame.sessionId,
              score: frame.score,
              comment: frame.comment,
            });
            // Every tab of the visitor on this node hides its form; a tab on another node learns it from CSAT_ALREADY_GIVEN.
            toCustomer(conn.visitor.customerId!, { type: 'csat-recorded', sessionId: receipt.sessionId, score: receipt.score });
          } catch (error) {
            if (error instanceof HuiliuError) return void fail(error.code, error.message);
            throw error;
          }
          return;
        }
        case 'history': {
          if (!conn.visitor?.customerId) return void fail('VALIDATION_FAILED', 'Say hello first.');
          if (!replays.take()) {
            const v = limits.refuse('widget_connection_replays', replays.msUntilNext());
            return void fail('RATE_LIMITED', 'Too many history requests; ask again shortly.', { retryAfterMs: v.ok ? 0 : v.retryAfterMs });
          }
          const session = await store.latestSession(conn.visitor.customerId, CHANNEL);
          // Only the visitor's own current conversation can be paged.
          if (!session || session.conversationId !== frame.conversationId) return void fail('SESSION_NOT_FOUND', 'No such conversation.');
          return replay(session, frame.afterSeq);
        }
        case 'pre-chat':
          return preChat(frame);
        case 'typing': {
          // Issue 13: volatile, to the assigned agent (customer:typing); the excess is dropped silently.
          if (!conn.visitor?.customerId || !signals.take()) return;
          const session = await store.latestSession(conn.visitor.customerId, CHANNEL);
          if (!session || session.status === 'closed') return;
          await bus.publish(
            newEvent('customer.typing', {
              actor: 'customer',
              sessionId: session.id,
              conversationId: session.conversationId,
              payload: { typing: frame.typing, session: sessionFacts(session) },
            }),
          );
          return;
        }
        case 'read':
          return readUpTo(frame);
        case 'message': {
          const visitor = conn.visitor;
          if (!visitor) return void fail('VALIDATION_FAILED', 'Say hello first.', { clientMessageId: frame.clientMessageId });
          // Every limit is checked before the message is stored, so a refused message was never acked.
          if (!messages.take()) {
            const v = limits.refuse('widget_connection_messages', messages.msUntilNext());
            return void fail('RATE_LIMITED', 'Too many messages; this one will be retried.', {
              clientMessageId: frame.clientMessageId,
              retryAfterMs: v.ok ? 0 : v.retryAfterMs,
            });
          }
          const verdict = await limits.take([
            ['visitor_messages', visitor.externalId],
            ['ip_messages', ip],
          ]);
          if (!verdict.ok) {
            return void fail('RATE_LIMITED', 'Too many messages; this one will be retried.', {
              clientMessageId: frame.clientMessageId,
              retryAfterMs: verdict.retryAfterMs,
            });
          }
          conn.sending.add(frame.clientMessageId);
          // Bounded: an id whose fan-out never reaches this tab (its first message, sent before it
          // joined its customer's tabs) is dropped once newer ones pile up.
          if (conn.sending.size > SENDING_MAX) conn.sending.delete(conn.sending.values().next().value!);
          try {
            // A pre-chat topic (issue 13) picks the group a new session opens in.
            const result = await ingest.accept(normalizeWidgetMessage(frame, visitor, new Date()), await skillGroupOf(visitor.customerId));
            if (!visitor.customerId) promote(visitor.externalId, result.envelope, conn);
            send(socket, {
              type: 'ack',
              clientMessageId: frame.clientMessageId,
              messageId: result.envelope.id,
              seq: result.envelope.seq,
              sessionId: result.session.id,
              conversationId: result.envelope.conversationId,
              receivedAt: result.envelope.receivedAt,
            });
            // A duplicate is not published again: no fan-out will take it out. A stored message's
            // fan-out may run after this ack (the bus delivers in its own turn), so it stays until then.
            if (result.duplicate) conn.sending.delete(frame.clientMessageId);
          } catch (error) {
            conn.sending.delete(frame.clientMessageId);
            if (error instanceof HuiliuError) return void fail(error.code, error.message, { clientMessageId: frame.clientMessageId });
            throw error;
          }
          return;
        }
      }
    }

    socket.on('close', () => {
      clearInterval(beat);
      detach(conn);
    });
  }

  /**
   * The visitor's first stored message made them a customer: every tab of that visitor joins the
   * customer's set, and the tabs other than the sender get the message (the bus event that carried it
   * went out before they were joined).
   */
  function promote(externalId: string, envelope: Envelope, sender: Connection): void {
    const tabs = byNewVisitor.get(externalId) ?? new Set([sender]);
    byNewVisitor.delete(externalId);
    newVisitorTags.delete(visitorTag(externalId));
    tabs.add(sender);
    for (const c of tabs) {
      if (c.visitor) c.visitor.customerId = envelope.customerId;
      join(byCustomer, envelope.customerId, c);
      if (c !== sender) void view(envelope, envelope.customerId).then((message) => send(c.socket, { type: 'message', message }));
    }
  }

  /**
   * The visitor's pre-chat form made them a customer before any message (issue 13): their tabs join
   * the customer's set, so pushes (pre-chat-saved, the first replies) reach them.
   */
  function adopt(externalId: string, customerId: string, sender: Connection): void {
    const tabs = byNewVisitor.get(externalId) ?? new Set([sender]);
    byNewVisitor.delete(externalId);
    newVisitorTags.delete(visitorTag(externalId));
    tabs.add(sender);
    for (const c of tabs) {
      if (c.visitor) c.visitor.customerId = customerId;
      join(byCustomer, customerId, c);
    }
  }

  /**
   * The web replies of the conversation in (fromSeq, toSeq] become `read` (at most READ_MARK_MAX, the
   * oldest first); each change is published as `delivery.changed`, which the agent hub pushes as
   * `message:delivery`. A state already `read` (or a later retry) changes nothing.
   */
  async function markRepliesRead(conversationId: string, customerId: string, fromSeq: number, toSeq: number): Promise<void> {
    if (!opts.channels) return;
    const sessions = new Map<string, Promise<SessionRecord | null>>();
    let afterSeq = Math.max(fromSeq, toSeq - READ_MARK_MAX);
    while (afterSeq < toSeq) {
      const page = await store.listMessages(conversationId, { afterSeq, limit: Math.min(200, toSeq - afterSeq), customerId });
      if (page.length === 0) break;
      for (const m of page) {
        if (m.seq > toSeq) break;
        if (m.direction !== 'out' || m.channel !== CHANNEL || isStaffOnly(m)) continue;
        const { record, changed } = await opts.channels.recordDelivery(m.id, CHANNEL, { state: 'read' });
        if (!changed) continue;
        let session = sessions.get(m.sessionId);
        if (!session) sessions.set(m.sessionId, (session = store.getSession(m.sessionId)));
        const facts = await session;
        if (!facts) continue;
        await bus.publish(
          newEvent('delivery.changed', {
            actor: 'customer',
            sessionId: m.sessionId,
            conversationId,
            payload: { messageId: m.id, channel: CHANNEL, state: record.state, session: sessionFacts(facts) },
          }),
        );
      }
      afterSeq = page.at(-1)!.seq;
    }
  }

  return {
    channel: CHANNEL,
    capabilities: CAPABILITIES,
    async send(envelope) {
      if (!carries(CAPABILITIES, envelope.kind)) return unsupportedKind(CHANNEL, envelope.kind);
      if (closed) return { state: 'failed', error: { code: 'CHANNEL_CLOSED', message: 'The web channel on this node is shut down.' } };
      return { state: 'sent' };
    },
    handleUpgrade(req, socket, head) {
      const ip = limits.clientIp(req);
      const release = limits.openConnection(ip);
      if (!release) {
        socket.end('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      // The raw socket closes however the connection ends, handshake failures included.
      socket.once('close', release);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, ip));
    },
    async close() {
      closed = true;
      for (const customerId of [...waiting.keys()]) forgetWaiting(customerId);
      await Promise.all(subs.map((s) => s.unsubscribe()));
      // Open WebSockets would otherwise keep the HTTPS server from closing.
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
