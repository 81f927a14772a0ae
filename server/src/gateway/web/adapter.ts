import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HuiliuError } from '../../../../common/errors/codes';
import { textOf, type Envelope } from '../../../../common/message/envelope';
import { WidgetClientFrameSchema, type WidgetMessage, type WidgetServerFrame } from '../../../../common/web/widget-protocol';
import type { Bus, Subscription } from '../../bus/bus';
import type { ServerConfig } from '../../config/config';
import { TokenBucket } from '../../http/token-bucket';
import type { Logger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import type { Ingest } from '../ingest';
import { normalizeWidgetMessage, visitorExternalId } from './normalize';
import type { VisitorTokens } from './visitor-token';

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
  heartbeatMs?: number;
}

export interface WebChannelAdapter {
  /** Takes over an HTTP upgrade on the widget path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

const MAX_FRAME_BYTES = 64 * 1024;
// A person types well under one message a second; a burst of 20 covers a pasted list or an outbox flush.
const MESSAGE_BURST = 20;
const MESSAGES_PER_SECOND = 1;

function toWidgetMessage(e: Envelope): WidgetMessage {
  return { id: e.id, seq: e.seq, direction: e.direction, text: textOf(e), sentAt: e.sentAt, clientMessageId: e.clientMessageId };
}

interface Visitor {
  token: string;
  name?: string | undefined;
  customerId: string | null;
}

/**
 * The web chat channel adapter (`WB`): the widget's resumable WebSocket (DESIGN §6, §7). Frames in,
 * `normalize` → `Ingest`; replies out from the bus to every open tab of the visitor; a returning
 * visitor gets exactly the messages after the `seq` they last saw.
 */
export async function createWebChannelAdapter(opts: WebChannelAdapterOptions): Promise<WebChannelAdapter> {
  const { store, ingest, bus, config } = opts;
  const log = opts.logger.child({ component: 'gateway.web' });
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const subs: Subscription[] = [];
  const byCustomer = new Map<string, Set<WebSocket>>();

  const send = (socket: WebSocket, frame: WidgetServerFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const toCustomer = (customerId: string, frame: WidgetServerFrame) => {
    for (const s of byCustomer.get(customerId) ?? []) send(s, frame);
  };
  const attach = (customerId: string, socket: WebSocket) => {
    let set = byCustomer.get(customerId);
    if (!set) byCustomer.set(customerId, (set = new Set()));
    set.add(socket);
  };
  const detach = (customerId: string | null, socket: WebSocket) => {
    if (!customerId) return;
    const set = byCustomer.get(customerId);
    set?.delete(socket);
    if (set?.size === 0) byCustomer.delete(customerId);
  };

  subs.push(
    await bus.subscribe('message.out', 'gateway.web', ({ envelope }) => {
      if (envelope.channel !== 'WB') return;
      toCustomer(envelope.customerId, { type: 'message', message: toWidgetMessage(envelope) });
    }),
    await bus.subscribe('session.changed', 'gateway.web', async ({ sessionId, status, reason }) => {
      if (!sessionId.startsWith('WB')) return;
      if (reason === 'released') {
        const released = await store.getSession(sessionId);
        if (released) toCustomer(released.customerId, { type: 'status', status: 'waiting' });
        return;
      }
      if (status !== 'active' && status !== 'closed') return;
      const session = await store.getSession(sessionId);
      if (!session) return;
      if (status === 'active' && session.assignedAgentId) {
        const agentName = opts.agentName(session.assignedAgentId) ?? 'An agent';
        toCustomer(session.customerId, { type: 'status', status: 'agent-joined', agentName });
      } else if (status === 'closed') {
        toCustomer(session.customerId, { type: 'status', status: 'closed' });
      }
    }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  wss.on('connection', onConnection);

  function onConnection(socket: WebSocket): void {
    let visitor: Visitor | null = null;
    const messages = new TokenBucket(MESSAGE_BURST, MESSAGES_PER_SECOND);
    let alive = true;
    socket.on('pong', () => (alive = true));
    const beat = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, heartbeatMs);
    beat.unref();

    const fail = (code: HuiliuError['code'], message: string, clientMessageId?: string) =>
      send(socket, { type: 'error', code, message, ...(clientMessageId ? { clientMessageId } : {}) });

    // Frames are handled one at a time, in order, so acks and replays keep the customer's order.
    let chain = Promise.resolve();
    socket.on('message', (raw, isBinary) => {
      chain = chain
        .then(() => handle(raw.toString(), isBinary))
        .catch((error: unknown) => {
          log.error({ err: error }, 'widget frame failed');
          fail('INTERNAL', 'Something went wrong; your message was not stored. Please retry.');
        });
    });

    async function handle(text: string, isBinary: boolean): Promise<void> {
      if (isBinary) return fail('VALIDATION_FAILED', 'Frames are JSON text.');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return fail('INVALID_JSON', 'Frames are JSON text.');
      }
      const parsed = WidgetClientFrameSchema.safeParse(json);
      if (!parsed.success) {
        const cm = (json as { clientMessageId?: unknown } | null)?.clientMessageId;
        return fail(
          'VALIDATION_FAILED',
          parsed.error.issues[0]?.message ?? 'invalid frame',
          typeof cm === 'string' ? cm.slice(0, 128) : undefined,
        );
      }
      const frame = parsed.data;
      switch (frame.type) {
        case 'ping':
          return send(socket, { type: 'pong', ...(frame.t !== undefined ? { t: frame.t } : {}) });
        case 'hello': {
          // A token we did not issue is replaced by a new one: it resumes nothing.
          const known = frame.visitorToken !== undefined && opts.visitorTokens.verify(frame.visitorToken);
          const token = known ? frame.visitorToken! : opts.visitorTokens.issue();
          const customer = known ? await store.findCustomerByIdentity('WB', visitorExternalId(token)) : null;
          if (visitor) detach(visitor.customerId, socket);
          visitor = { token, name: frame.name, customerId: customer?.id ?? null };
          const session = customer ? await store.latestSession(customer.id, 'WB') : null;
          if (customer) attach(customer.id, socket);
          send(socket, {
            type: 'welcome',
            visitorToken: token,
            sessionId: session?.id ?? null,
            conversationId: session?.conversationId ?? null,
            heartbeatMs,
          });
          if (session) {
            const afterSeq = frame.conversationId === session.conversationId ? (frame.lastSeq ?? 0) : 0;
            for (const m of await store.listMessages(session.conversationId, { afterSeq })) {
              send(socket, { type: 'message', message: toWidgetMessage(m) });
            }
            if (session.status === 'active' && session.assignedAgentId) {
              send(socket, { type: 'status', status: 'agent-joined', agentName: opts.agentName(session.assignedAgentId) ?? 'An agent' });
            } else if (session.status === 'closed') {
              send(socket, { type: 'status', status: 'closed' });
            }
          }
          return;
        }
        case 'message': {
          if (!visitor) return fail('VALIDATION_FAILED', 'Say hello first.', frame.clientMessageId);
          if (!messages.take()) return fail('RATE_LIMITED', 'Too many messages; this one will be retried.', frame.clientMessageId);
          try {
            const result = await ingest.accept(normalizeWidgetMessage(frame, visitor, new Date()), config.channels.web.defaultSkillGroup);
            if (!visitor.customerId) {
              visitor.customerId = result.envelope.customerId;
              attach(visitor.customerId, socket);
            }
            send(socket, {
              type: 'ack',
              clientMessageId: frame.clientMessageId,
              messageId: result.envelope.id,
              seq: result.envelope.seq,
              sessionId: result.session.id,
              conversationId: result.envelope.conversationId,
            });
            if (result.newSession) send(socket, { type: 'status', status: 'waiting' });
          } catch (error) {
            if (error instanceof HuiliuError) return fail(error.code, error.message, frame.clientMessageId);
            throw error;
          }
          return;
        }
      }
    }

    socket.on('close', () => {
      clearInterval(beat);
      detach(visitor?.customerId ?? null, socket);
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    async close() {
      await Promise.all(subs.map((s) => s.unsubscribe()));
      // Open WebSockets would otherwise keep the HTTPS server from closing.
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
