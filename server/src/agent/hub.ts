import { randomUUID } from 'node:crypto';
import type { SlaStatus } from '../../../common/api/sla';
import type { AuditEntryInput, AuditOutcome } from '../audit/audit';
import { maskSummary, maskText } from '../../../common/privacy/staff-view';
import type { Server as HttpsServer } from 'node:https';
import { Server, type Namespace, type Socket } from 'socket.io';
import { HuiliuError, fail, ok, zodDetails, type Result } from '../../../common/errors/codes';
import type { UserView } from '../../../common/api/auth';
import {
  AGENT_NAMESPACE,
  AcceptOfferSchema,
  DeclineOfferSchema,
  CloseSessionSchema,
  OpenSessionSchema,
  QueueListSchema,
  ReleaseSessionSchema,
  SendMessageSchema,
  SessionHistorySchema,
  SetPresenceSchema,
  DiscardDraftSchema,
  SuggestRepliesSchema,
  SummarizeSessionSchema,
  DeclineTransferSchema,
  TransferIdSchema,
  TransferSessionSchema,
  TransferTargetsQuerySchema,
  AgentTypingSchema,
  SessionReadSchema,
  type AgentClientEvent,
  type AgentClientToServerEvents,
  type AgentServerToClientEvents,
} from '../../../common/socket/agent-events';
import type { z } from 'zod';
import type { MessageView, SessionSummary } from '../../../common/api/sessions';
import {
  AddNoteSchema,
  BargeSchema,
  ReassignSchema,
  SuperviseAgentsSchema,
  SupervisePresenceSchema,
  SuperviseSessionSchema,
  WhisperSchema,
} from '../../../common/api/supervision';
import type { SupervisionService } from '../conversations/supervision';
import type { IdentityStore } from '../auth/identity';
import { can, scopeOf, type Action } from '../auth/policy';
import { BoardSubscribeSchema, BoardUnsubscribeSchema } from '../../../common/api/board';
import type { LiveBoard } from '../board/service';
import { canSeeInQueue, queueAudience, queueRooms, queueRoomsOf, seesTeam, queueWatchers, visibleGroups } from '../auth/rbac';
import type { Bus, Subscription } from '../bus/bus';
import { newEvent, sessionFacts } from '../bus/events';
import type { IncomingMessage } from 'node:http';
import { TokenBucket } from '../http/token-bucket';
import { clientErrorInfo } from '../http/errors';
import type { Limits } from '../http/limits';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import type { ConversationService } from '../conversations/service';
import type { AssistService } from '../ai/assist/service';
import type { TransferService } from '../conversations/transfers';
import { LRUCache } from 'lru-cache';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { AfterCallWork } from '../routing/after-call-work';
import {
  emotionErrorReporter,
  messageEmotions,
  newestInbound,
  ERASED_CUSTOMER_NAME,
  queueRow,
  queueRowFacts,
  type QueueRowFacts,
  toMessageView,
  type EmotionOf,
  newestShown,
} from '../sessions/views';
import type { SessionFacts } from '../../../common/events/events';
import type { AgentReceipts } from '../gateway/web/receipts';
import {
  SessionViewSchema,
  TAKEOVER_LIST_MAX,
  TakeoverAnswerSchema,
  TakeoverListSchema,
  TakeoverRequestSchema,
  type HeldContact,
} from '../../../common/api/collision';
import { createCollisionService, type CollisionService } from '../collision/service';

interface SocketData {
  user: UserView;
  token: string;
  tokenHash: string;
  /** When the token expires, ms since the epoch: the socket is disconnected then. */
  expiresAt: number;
}
type AgentSocket = Socket<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>;
type AgentNamespace = Namespace<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Socket events whose answer shows a conversation (issue 17, docs/audit.md: a view of a customer or
 * conversation is audited like the REST reads): each, allowed or not, is a `session.view` entry with
 * `detail.via = "socket"` and the event's name, as `installAuditHook` records `GET /api/v1/sessions/:id`.
 */
const SOCKET_VIEWS: Partial<Record<AgentClientEvent, { action: string; kind: 'session' | 'agent' }>> = {
  'session:open': { action: 'session.view', kind: 'session' },
  'session:history': { action: 'session.view', kind: 'session' },
  'session:summary': { action: 'session.view', kind: 'session' },
  // Issue 16: a lead's read-only open of a conversation is a view like any other.
  'supervise:open': { action: 'session.view', kind: 'session' },
  // Issues 15, 16 (docs/supervision.md): notes and every supervision act are staff actions, audited
  // allowed or refused under their own act name (never with the text written).
  'note:add': { action: 'session.note', kind: 'session' },
  'supervise:whisper': { action: 'session.whisper', kind: 'session' },
  'supervise:barge': { action: 'session.barge', kind: 'session' },
  'supervise:reassign': { action: 'session.reassign', kind: 'session' },
  'supervise:presence': { action: 'agent.presence', kind: 'agent' },
  // Issue 15 (docs/collision.md): asking for a take-over is audited; the holder's answer is audited by the collision service.
  'takeover:request': { action: 'session.takeover.request', kind: 'session' },
};

/** The audit entry of one socket view: actor, target (the payload's `sessionId` when it is a string), outcome, client address. */
function socketViewEntry(
  socket: AgentSocket,
  event: AgentClientEvent,
  view: { action: string; kind: string },
  payload: unknown,
  outcome: AuditOutcome,
  code: string | undefined,
  limits: Limits,
): AuditEntryInput {
  const user = socket.data.user;
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const key = view.kind === 'agent' ? 'agentId' : 'sessionId';
  const id = typeof p[key] === 'string' ? p[key].slice(0, 64) : undefined;
  let ip: string | undefined;
  try {
    ip = limits.clientIp(socket.request);
  } catch {
    ip = undefined;
  }
  return {
    actor: { kind: 'staff', id: user.id, name: user.username },
    action: view.action,
    ...(id ? { target: { kind: view.kind, id } } : {}),
    outcome,
    ...(ip ? { ip } : {}),
    detail: {
      via: 'socket',
      event,
      ...(typeof p['beforeSeq'] === 'number' ? { beforeSeq: p['beforeSeq'] } : {}),
      ...(typeof p['presence'] === 'string' ? { presence: p['presence'].slice(0, 32) } : {}),
      ...(isReassignTarget(p['to']) ? { to: p['to'].kind === 'agent' ? `agent:${p['to'].agentId}` : 'queue' } : {}),
      ...(code ? { code } : {}),
    },
  };
}

/** A reassign target as the audit keeps it (only the two shapes it may have; anything else is left out). */
function isReassignTarget(v: unknown): v is { kind: 'queue' } | { kind: 'agent'; agentId: string } {
  const t = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return t['kind'] === 'queue' || (t['kind'] === 'agent' && typeof t['agentId'] === 'string' && t['agentId'].length <= 64);
}

/** The socket.io room of the leads watching one conversation (issue 16, `supervise:open`). */
export const superviseRoom = (sessionId: string) => `supervise:${sessionId}`;
/**
 * The socket.io room of the staff who may ask to take over a group's held contacts (issue 15: agents
 * and leads of the group, `session.takeover`): the Team tab's pushes (`takeover:held`).
 */
export const teamRoom = (skillGroup: string) => `team:${skillGroup}`;

export interface AgentHubDeps {
  httpServer: HttpsServer;
  auth: IdentityStore;
  store: SessionStore;
  bus: Bus;
  pool: AgentPool;
  router: Router;
  /** After-call work (issue 11): its presence changes are pushed to the agent; setting a presence ends it. */
  afterCallWork?: Pick<AfterCallWork, 'cancel' | 'onChange'>;
  /** The conversation use cases: every session act of a socket event goes through them. */
  conversations: ConversationService;
  /**
   * AI assistance use cases (issue 10): `ai:suggest`, `draft:discard`, `session:summary`. Absent: those
   * events answer NOT_FOUND.
   */
  assist?: Pick<AssistService, 'suggest' | 'discardDraft' | 'summaryFor'>;
  /** Transfers (issue 11): `session:transfer`, `transfer:*`, and their pushes. Absent: those events answer NOT_FOUND. */
  transfers?: Pick<TransferService, 'transfer' | 'accept' | 'decline' | 'cancel' | 'targets' | 'view' | 'offer' | 'offersFor'>;
  /**
   * Typing and read receipts (issue 13, gateway/web/receipts.ts): `agent:typing`, `session:read`.
   * Absent: those events answer NOT_FOUND.
   */
  receipts?: AgentReceipts;
  /**
   * Internal notes and supervision (issues 15, 16): `note:add`, `supervise:*`, and the `note.added`
   * pushes. Absent: those events answer NOT_FOUND.
   */
  supervision?: SupervisionService;
  /** The lead's live board (issue 16): `board:subscribe` / `board:update`. Absent: those events answer NOT_FOUND. */
  board?: Pick<LiveBoard, 'snapshot' | 'subscribe' | 'skillGroups'>;
  /** Records an agent's view of a conversation over the socket (issue 17: views are audited like the REST ones). */
  audit?: (entry: AuditEntryInput) => void;
  logger: Logger;
  /** Per-IP connection caps and refusal counters shared with the other sockets. */
  limits: Limits;
  metrics: Metrics;
  /**
   * Reads a customer message's emotion (issue 9: `LanguageCore.emotion`) for pushed messages and queue
   * rows. Absent: pushes carry no emotion.
   */
  emotionOf?: EmotionOf;
  /**
   * Asked before each emotion read for a push (a token bucket in the server: `ai.liveEmotionPerSecond`);
   * false sends the push without it. Absent = always read.
   */
  emotionBudget?: () => boolean;
  /** Issue 16: the SLA of a session's waiting response, carried on its queue row (sla/tracker.ts). */
  slaOf?: (sessionId: string) => SlaStatus | undefined;
  /** Issue 15: chats an agent may hold at once (routing config `capacity.chat`), shown with their load (`agent:load`). Absent: 0. */
  chatCapacity?: () => number | Promise<number>;
  /** Issue 15: how long a holder has to answer a take-over request (ms); default `TAKEOVER_TIMEOUT_MS`. */
  takeoverTimeoutMs?: number;
  now?: () => number;
}

export interface AgentHub {
  close(): Promise<void>;
}

const agentRoom = queueRooms.agent;

/**
 * The action each client → server event needs (issue 7 §4), checked before its handler runs; the
 * handler's use case then checks the session's group. Typed complete over the event map, and
 * server/test/security/policy-coverage.test.ts walks `AGENT_CLIENT_EVENTS` against it.
 */
export const AGENT_EVENT_POLICY: Record<AgentClientEvent, Action> = {
  'queue:list': 'queue.view',
  'offer:accept': 'session.handle',
  'offer:decline': 'session.handle',
  'session:open': 'session.view',
  'session:history': 'session.view',
  'message:send': 'session.handle',
  'session:close': 'session.handle',
  'session:release': 'session.handle',
  'presence:set': 'presence.set',
  'ai:suggest': 'session.handle',
  'draft:discard': 'session.handle',
  'session:summary': 'session.view',
  // Transfers (issue 11): handling a contact's own group is checked again by the use case.
  'session:transfer': 'session.handle',
  'transfer:accept': 'session.handle',
  'transfer:decline': 'session.handle',
  'transfer:cancel': 'session.handle',
  'transfer:targets': 'session.handle',
  // Issue 13: typing goes to your own chat's customer; a read mark is allowed wherever you may look.
  'agent:typing': 'session.handle',
  'session:read': 'session.view',
  // Issues 15, 16: a note is part of handling; supervision is leads' (their groups) and admins'.
  'note:add': 'session.note',
  'supervise:open': 'session.supervise',
  'supervise:leave': 'session.supervise',
  'supervise:whisper': 'session.supervise',
  'supervise:barge': 'session.barge',
  'supervise:reassign': 'session.supervise',
  'supervise:presence': 'presence.supervise',
  'supervise:agents': 'presence.supervise',
  // Issue 16: the live board; each group asked for is checked against the same act by the handler.
  'board:subscribe': 'board.view',
  'board:unsubscribe': 'board.view',
  // Issue 15: viewing is reading (the group is checked by the collision service); a take-over is handling.
  'session:view': 'session.view',
  'session:unview': 'session.view',
  // Issue 15: the held contacts one may ask to take over (the groups one handles: checked by the handler).
  'takeover:list': 'session.takeover',
  'takeover:request': 'session.takeover',
  'takeover:answer': 'session.takeover',
};
/** How many waiting contacts a queue list carries (the longest-waiting first). */
export const QUEUE_WAITING_MAX = 500;
/** How many contacts with the AI a queue list carries (the longest with it first). */
export const QUEUE_WITH_AI_MAX = 200;
/**
 * Customer names the hub shows in queue rows, by customer id: at most `max`, each re-read from the
 * store after `ttlMs` (bounds a change the hub does not hear of; a name a channel gives arrives with
 * `message.in` and replaces the entry at once).
 */
const CUSTOMER_NAMES = { max: 10_000, ttlMs: 60_000 };

/**
 * The staff real-time path: socket.io namespace `/agent` (DESIGN §6). Transport only: every client →
 * server event is rate-limited, token-checked, validated with its zod schema, handed to the
 * conversation use cases (which apply RBAC) and acked `{ok,data}|{ok:false,error}`; bus events are
 * pushed to the sockets that may see them.
 */
export async function createAgentHub(deps: AgentHubDeps): Promise<AgentHub> {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'agent-hub' });
  const emotions = deps.emotionOf && messageEmotions(deps.emotionOf, { onError: emotionErrorReporter(log), allow: deps.emotionBudget });
  const io = new Server<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>(deps.httpServer, {
    serveClient: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxHttpBufferSize: 256 * 1024,
    // Other paths' upgrades belong to the UpgradeRouter; engine.io must not destroy them.
    destroyUpgrade: false,
    // A transport that never joins the namespace (no auth) is dropped after 10 s, not the default 45.
    connectTimeout: 10_000,
    // Open agent sockets per client IP are capped (issue 6 A3): a flood of handshakes is refused
    // before engine.io allocates anything for it.
    allowRequest: (req, callback) => {
      const release = deps.limits.openConnection(deps.limits.clientIp(req), 'agent');
      if (!release) return callback('Too many connections from this address', false);
      pendingRelease.set(req, release);
      // A handshake that never becomes a connection (an upgrade ws refuses, a client gone mid-way)
      // raises no engine event; its TCP socket closing gives the slot back. Once the connection
      // exists, the engine socket's close does (a polling session outlives its first request).
      req.socket.once('close', () => takeRelease(req)?.());
      callback(null, true);
    },
  });
  const agentLimits = deps.limits.config.agent;
  const pendingRelease = new WeakMap<IncomingMessage, () => void>();
  const takeRelease = (req: IncomingMessage) => {
    const release = pendingRelease.get(req);
    pendingRelease.delete(req);
    return release;
  };
  io.engine.on('connection', (raw: { request: IncomingMessage; once(event: 'close', fn: () => void): void }) => {
    const release = takeRelease(raw.request);
    if (release) raw.once('close', release);
  });
  io.engine.on('connection_error', (error: { req: IncomingMessage }) => takeRelease(error.req)?.());

  // Backpressure (issue 6 A2): a socket whose unsent bytes pass the high-water mark is a slow or
  // hostile consumer; it is disconnected (its client reconnects and resyncs from a fresh hello).
  const sweep = setInterval(() => {
    for (const socket of nsp.sockets.values()) {
      if (unsentBytes(socket) > agentLimits.sendBufferBytes) {
        deps.metrics.agentDisconnected.inc({ reason: 'slow_consumer' });
        log.warn({ user: socket.data.user?.id }, 'agent socket disconnected: send buffer over the limit');
        socket.disconnect(true);
        socket.conn.close();
      }
    }
  }, 1000);
  sweep.unref();
  const nsp: AgentNamespace = io.of(AGENT_NAMESPACE);
  // Issue 16: `huiliu_socket_connections{kind="agent"}`, read at each scrape.
  deps.metrics.socketCounts.agent = () => nsp.sockets.size;
  // After-call work began or ended without the agent asking: their workstation shows it.
  deps.afterCallWork?.onChange((agentId, presence, until) => nsp.to(agentRoom(agentId)).emit('presence:changed', { presence, until }));
  const subs: Subscription[] = [];

  // Issue 15 (docs/collision.md): viewers of each conversation and take-over requests, pushed to this node's sockets.
  const viewersNodeId = randomUUID();
  const collision: CollisionService | null = deps.transfers
    ? createCollisionService({
        store: deps.store,
        transfers: deps.transfers,
        directory: deps.auth,
        logger: deps.logger,
        now,
        ...(deps.takeoverTimeoutMs !== undefined ? { timeoutMs: deps.takeoverTimeoutMs } : {}),
        // Several nodes on one bus: each publishes its viewers (`session.viewing`, fan-out) and merges the others'.
        share: {
          nodeId: viewersNodeId,
          publish: (sessionId, viewers, ttlMs) =>
            void deps.bus
              .publish(newEvent('session.viewing', { actor: 'system', sessionId, payload: { nodeId: viewersNodeId, ttlMs, viewers } }))
              .catch((err: unknown) => log.warn({ err, sessionId }, 'viewers not shared with the other nodes')),
        },
        push: {
          viewers: (socketIds, payload) => nsp.to(socketIds).emit('session:viewers', payload),
          requested: (holderId, view) => nsp.to(agentRoom(holderId)).emit('takeover:requested', view),
          updated: (agentIds, view) => nsp.to(agentIds.map(agentRoom)).emit('takeover:updated', view),
        },
        audit: (e) =>
          deps.audit?.({
            actor: { kind: 'staff', id: e.actorId, name: e.actorName },
            action: e.action,
            target: { kind: 'session', id: e.sessionId },
            outcome: e.outcome === 'ok' ? 'ok' : 'failed',
            detail: { via: 'socket', event: 'takeover:answer', ...e.detail },
          }),
      })
    : null;
  const collisionOf = () => {
    if (!collision) throw new HuiliuError('NOT_FOUND', 'Collision control needs transfers, which are not enabled on this server.');
    return collision;
  };
  const logCollision = (error: unknown) => log.error({ err: error }, 'viewer list update failed');
  /** Issue 15: an agent's presence and load against capacity, to their own sockets here. */
  async function pushLoad(agentId: string): Promise<void> {
    if (!present(agentRoom(agentId))) return;
    const state = deps.pool.get(agentId);
    const capacity = (await deps.chatCapacity?.()) ?? 0;
    nsp
      .to(agentRoom(agentId))
      .emit('agent:load', { presence: state?.presence ?? 'offline', activeChats: state?.activeChats ?? 0, capacity });
  }
  const stopLoad = deps.pool.onChange((agent) => {
    void pushLoad(agent.id).catch((error: unknown) => log.error({ err: error }, 'load push failed'));
  });

  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    const verified = deps.auth.verifyToken(typeof token === 'string' ? token : undefined);
    if (!verified) return next(Object.assign(new Error('UNAUTHENTICATED'), { data: new HuiliuError('UNAUTHENTICATED').toInfo() }));
    if (!can(verified.user, 'queue.view'))
      return next(Object.assign(new Error('FORBIDDEN'), { data: new HuiliuError('FORBIDDEN').toInfo() }));
    socket.data.user = verified.user;
    socket.data.token = token as string;
    socket.data.tokenHash = verified.tokenHash;
    socket.data.expiresAt = verified.expiresAt;
    next();
  });

  /** When each socket's token ends (absolute or idle lifetime, whichever is first): the socket ends with it. */
  const expiries = new WeakMap<AgentSocket, ReturnType<typeof setTimeout>>();
  function armExpiry(socket: AgentSocket): void {
    clearTimeout(expiries.get(socket));
    // Node timers hold at most 2^31-1 ms (~24.8 days); a longer-lived token's client just reconnects then.
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(0, socket.data.expiresAt - now()), 2 ** 31 - 1));
    expiry.unref();
    expiries.set(socket, expiry);
  }

  /** Per-socket event budget: one person's clicks fit easily; a script flooding events does not. */
  const events = new WeakMap<AgentSocket, TokenBucket>();
  // DESIGN §6: logout (and disabling a user) ends that token's sockets at once, not at their next event;
  // the disconnect handler below then takes the agent out of routing.
  /** Sockets ended by a sign-out: their agent left on purpose, so their chats need not wait for a reconnect. */
  const signedOut = new WeakSet<AgentSocket>();
  const stopRevocations = deps.auth.onRevoked((revocation) => {
    for (const socket of nsp.sockets.values()) {
      const { tokenHash, user } = socket.data;
      if (revocation.kind === 'token' ? tokenHash === revocation.tokenHash : user.id === revocation.userId) {
        signedOut.add(socket);
        socket.disconnect(true);
      }
    }
  });

  async function queueFor(user: UserView) {
    const groups = visibleGroups(user);
    const scope = groups ? { skillGroups: groups } : {};
    // Waiting contacts: the QUEUE_WAITING_MAX most urgent (priority, then longest wait), so a flood
    // cannot make the list unbounded nor hide a high-priority contact behind older low-priority ones.
    // Chats being handled are listed apart, so no number of waiting contacts can push an agent's own
    // open chats out of their queue.
    // Contacts with the AI (issue 10) are listed apart too, newest activity aside: at most
    // QUEUE_WITH_AI_MAX, so a busy AI tier cannot push waiting contacts out of the list.
    const [waiting, active, withAi] = await Promise.all([
      deps.store.listSessions({ status: ['queued', 'offered'], ...scope, order: 'priority', limit: QUEUE_WAITING_MAX }),
      seesTeam(user)
        ? deps.store.listSessions({ status: ['active'], ...scope, limit: 5000 })
        : deps.store.listSessions({ status: ['active'], assignedAgentId: user.id }),
      deps.store.listSessions({ status: ['bot'], ...scope, limit: QUEUE_WITH_AI_MAX }),
    ]);
    const listed = [...active, ...waiting, ...withAi].filter((s) => canSeeInQueue(user, s));
    for (const s of listed) listedInQueue(s);
    return Promise.all(listed.map((s) => summaryOf(queueRowFacts(s))));
  }

  /**
   * Issue 15 (`takeover:list`, docs/collision.md): the active contacts colleagues hold in the groups
   * `user` handles (`session.takeover` scope; `skillGroup` narrows it: FORBIDDEN when it is not one of
   * them, whether it exists or not), most recently active first, at most TAKEOVER_LIST_MAX. The
   * user's own chats are not listed. Each row names the holder.
   */
  async function heldContacts(user: UserView, skillGroup: string | undefined): Promise<HeldContact[]> {
    collisionOf();
    if (skillGroup !== undefined && !can(user, 'session.takeover', { skillGroup })) throw new HuiliuError('FORBIDDEN');
    const groups = skillGroup !== undefined ? [skillGroup] : (scopeOf(user, 'session.takeover') ?? []);
    if (groups.length === 0) return [];
    const active = await deps.store.listSessions({ status: ['active'], skillGroups: groups, limit: 5000 });
    const held = active
      .filter((s) => s.assignedAgentId !== null && s.assignedAgentId !== user.id)
      .sort((a, b) => Date.parse(b.lastMessageAt) - Date.parse(a.lastMessageAt))
      .slice(0, TAKEOVER_LIST_MAX);
    return Promise.all(
      held.map(async (s) => {
        const holderId = s.assignedAgentId!;
        showHeld(s.id, { skillGroup: s.skillGroup, holderId });
        return { summary: await summaryOf(queueRowFacts(s)), holder: holderOf(holderId) };
      }),
    );
  }

  const holderOf = (holderId: string) => ({ id: holderId, name: deps.auth.userById(holderId)?.displayName ?? holderId });
  /**
   * Issue 15: the group and holder of each held contact this node listed (`takeover:list`) or pushed
   * (`takeover:held`) as held, so the Team tabs of its old group hear when it leaves that group.
   */
  const heldShown = new LRUCache<string, { skillGroup: string; holderId: string }>({ max: 10_000 });
  /**
   * Issue 18: contacts this node knows no Team tab here shows as held (new ones, and those whose end it
   * pushed), so a change that leaves them not held pushes nothing (a call being offered was a
   * `takeover:held` to every colleague). Forgotten (bounded) means unknown: the removal is pushed.
   */
  const heldCleared = new LRUCache<string, true>({ max: 10_000 });
  const showHeld = (sessionId: string, shown: { skillGroup: string; holderId: string }) => {
    heldShown.set(sessionId, shown);
    heldCleared.delete(sessionId);
  };

  /**
   * Issue 15 (docs/collision.md "Team tab"): a contact's change to the Team tabs of its group on this
   * node — held by a colleague: its row (`row`, else read from the store) to the group's team room but
   * its holder; otherwise (queued, closed, moved to another group, taken by the viewer) its removal
   * to whoever may show it (the group's team room, the group it was last shown in, the new holder).
   */
  async function pushHeld(
    sessionId: string,
    facts: SessionFacts,
    row?: SessionSummary,
    changeId?: string,
    change?: QueueRowFacts,
  ): Promise<void> {
    const before = heldShown.get(sessionId);
    const room = teamRoom(facts.skillGroup);
    const gone = { sessionId, held: null };
    if (before && before.skillGroup !== facts.skillGroup && present(teamRoom(before.skillGroup)))
      nsp.to(teamRoom(before.skillGroup)).emit('takeover:held', gone);
    const holderId = facts.status === 'active' ? facts.assignedAgentId : null;
    const cleared = !before && heldCleared.has(sessionId);
    if (!holderId) {
      heldShown.delete(sessionId);
      if (cleared) return;
      heldCleared.set(sessionId, true);
      // The last holder never had it on their own Team tab.
      if (present(room)) (before ? nsp.to(room).except(agentRoom(before.holderId)) : nsp.to(room)).emit('takeover:held', gone);
      return;
    }
    // The new holder's own chats are not on their Team tab (one not shown here as held is not on it).
    if (!cleared && before?.holderId !== holderId && present(agentRoom(holderId))) nsp.to(agentRoom(holderId)).emit('takeover:held', gone);
    if (!present(room)) {
      heldShown.delete(sessionId);
      return;
    }
    let summary = row;
    if (!summary) {
      const stored = await storedRow(sessionId, changeId, change);
      if (!stored) return;
      summary = stored.summary;
    }
    showHeld(sessionId, { skillGroup: facts.skillGroup, holderId });
    nsp
      .to(room)
      .except(agentRoom(holderId))
      .emit('takeover:held', { sessionId, held: { summary, holder: holderOf(holderId) } });
  }

  /**
   * Issue 15: a message of a conversation to the sockets viewing it read-only (a colleague who may ask
   * to take it over), not to its holder (who has it already) nor to supervising leads (the supervise
   * room has it).
   */
  function pushToViewers(sessionId: string, assignedAgentId: string | null, view: MessageView): void {
    const sockets = collision?.viewerSockets(sessionId) ?? [];
    if (sockets.length === 0) return;
    let target = nsp.to(sockets).except(superviseRoom(sessionId));
    if (assignedAgentId) target = target.except(agentRoom(assignedAgentId));
    target.emit('message:new', view);
  }

  // What the pushes below cost when nobody is listening (issue 8: the message.in push was ~12 % of
  // the server's CPU with no agent connected): nothing. socket.io encodes a broadcast before it looks
  // for recipients, so every push first asks whether a room it targets has a socket on this node.
  // Rooms are this node's (in-memory adapter): each node pushes to its own sockets (bus fan-out).
  const present = (room: string) => (nsp.adapter.rooms.get(room)?.size ?? 0) > 0;
  /** Every room that may show a session of these facts, in any state it can reach without changing group. */
  const mayShow = (facts: Pick<SessionFacts, 'status' | 'skillGroup' | 'assignedAgentId' | 'offeredAgentId'>) => [
    ...queueWatchers(facts),
    ...[facts.assignedAgentId, facts.offeredAgentId].filter((id): id is string => id !== null).map(agentRoom),
  ];

  /** A message of a watched conversation to the leads supervising it, but not twice to its own agent. */
  function pushToSupervisors(sessionId: string, assignedAgentId: string | null, event: 'message:new', view: MessageView): void {
    const room = superviseRoom(sessionId);
    if (!present(room)) return;
    const target = assignedAgentId ? nsp.to(room).except(agentRoom(assignedAgentId)) : nsp.to(room);
    target.emit(event, view);
  }

  const customerNames = new LRUCache<string, string>({ max: CUSTOMER_NAMES.max, ttl: CUSTOMER_NAMES.ttlMs, perf: { now } });
  /** The customer's name for a queue row, from the cache (a decrypt and a channels query saved) or the store. */
  async function customerName(customerId: string): Promise<string | null> {
    const cached = customerNames.get(customerId);
    if (cached !== undefined) return cached;
    const customer = await deps.store.getCustomer(customerId);
    if (customer) customerNames.set(customerId, customer.name);
    return customer?.name ?? null;
  }
  /**
   * A session's queue row from its facts: its newest message read from the store, the name from the
   * cache; with emotions, the customer's newest message too (read only when an agent replied last).
   */
  async function summaryOf(facts: QueueRowFacts) {
    try {
      const [name, newest] = await Promise.all([customerName(facts.customerId), newestShown(deps.store, facts.conversationId)]);
      const inbound = emotions ? await newestInbound(deps.store, facts.conversationId, newest) : null;
      return queueRow(facts, name, newest, inbound ? emotions?.(inbound) : undefined, deps.slaOf?.(facts.id));
    } catch (error) {
      // Issue 17: an erased customer's open contact stays in the queue as a marker row, no preview.
      if (!(error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED')) throw error;
      return queueRow(facts, ERASED_CUSTOMER_NAME, null);
    }
  }
  /**
   * When the newest `session.changed` this hub handled for a session was stored (its facts' `updatedAt`, else
   * the event's time; ms since the epoch).
   * Events of different types may be handled out of order: a message whose event is not newer than
   * the session's last change reads the session instead of trusting the facts it carries.
   */
  const lastChange = new LRUCache<string, number>({ max: 10_000 });
  /** The session's facts a `session.changed` carries (its state after the change), as a queue row's facts. */
  const changeFacts = (id: string, conversationId: string, payload: SessionFacts): QueueRowFacts => ({
    id,
    conversationId,
    status: payload.status,
    channel: payload.channel,
    customerId: payload.customerId,
    skillGroup: payload.skillGroup,
    assignedAgentId: payload.assignedAgentId,
    offeredAgentId: payload.offeredAgentId,
    offerExpiresAt: payload.offerExpiresAt,
    tier: payload.tier,
    priority: payload.priority,
    createdAt: payload.createdAt,
    waitingSince: payload.waitingSince,
    lastMessageAt: payload.lastMessageAt,
    ...(payload.handover !== undefined ? { handover: payload.handover } : {}),
    ...(payload.movedFrom ? { movedFrom: payload.movedFrom } : {}),
  });
  /**
   * Issue 18: what this node's queue watchers show of a session after its last push here: whether its
   * group's waiting room shows it as a waiting row (`waiting`), and which agents had a version of
   * their own (offered to them, or their active chat). With it, an offer to one agent goes only to that
   * agent and the leads, and a held contact's close only to its agent and the leads, instead of to the
   * whole group. Unknown (never pushed here, forgotten, listed to a socket in another state): pushed
   * to everyone who may show it, as before.
   */
  const queueShown = new LRUCache<string, { skillGroup: string; waiting: boolean; agents: string[] }>({ max: 10_000 });
  /** A message's queue row went to `queueAudience(facts)`: what the watchers show now. */
  function shownByMessage(sessionId: string, facts: SessionFacts): void {
    const known = queueShown.get(sessionId);
    const own = facts.status === 'active' ? facts.assignedAgentId : facts.offeredAgentId;
    if (facts.status !== 'active') {
      // A waiting row to the whole group: the same version everywhere, but for the agent it is offered to.
      queueShown.set(sessionId, { skillGroup: facts.skillGroup, waiting: true, agents: own ? [own] : [] });
    } else if (known && known.skillGroup === facts.skillGroup && own) {
      // An active row goes to its agent and the leads only: the waiting room shows what it showed.
      if (!known.agents.includes(own)) queueShown.set(sessionId, { ...known, agents: [...known.agents, own] });
    } else queueShown.delete(sessionId);
  }
  /** A session listed to a socket (hello, `queue:list`): what it shows must agree with `queueShown`, or that is forgotten. */
  function listedInQueue(s: SessionRecord): void {
    const known = queueShown.get(s.id);
    if (!known) return;
    const waiting = s.status !== 'active' && s.status !== 'closed';
    const own = s.status === 'active' ? s.assignedAgentId : s.offeredAgentId;
    if (known.skillGroup !== s.skillGroup || known.waiting !== waiting || (own && !known.agents.includes(own))) queueShown.delete(s.id);
  }

  /**
   * Wraps a handler: rate limit, token, the event's policy (`AGENT_EVENT_POLICY`, FORBIDDEN), then the
   * payload's schema; answers the ack with a Result, never throws.
   */
  function handle<S extends z.ZodType, T>(
    socket: AgentSocket,
    event: AgentClientEvent,
    schema: S,
    fn: (payload: z.infer<S>) => Promise<T>,
  ) {
    const action = AGENT_EVENT_POLICY[event];
    return async (payload: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: Result<T>) => void) : () => undefined;
      const bucket = events.get(socket);
      if (!bucket?.take()) {
        // The wait until the socket's bucket holds a token again: the desk re-sends the event then.
        const verdict = deps.limits.refuse('agent_socket_events', bucket ? bucket.msUntilNext() : 1000 / agentLimits.eventsPerSecond);
        return reply(fail('RATE_LIMITED', undefined, { retryAfterMs: verdict.ok ? 0 : verdict.retryAfterMs }));
      }
      // The token is checked on every event, not only at connect: a logout or expiry ends the socket.
      const verified = deps.auth.verifyToken(socket.data.token);
      if (!verified) {
        reply(fail('UNAUTHENTICATED'));
        socket.disconnect(true);
        return;
      }
      // An event is a use of the session: its idle end moves on (issue 17), and so does the socket's.
      if (verified.expiresAt !== socket.data.expiresAt) {
        socket.data.expiresAt = verified.expiresAt;
        armExpiry(socket);
      }
      const view = SOCKET_VIEWS[event];
      const audit = (outcome: AuditOutcome, code?: string) => {
        if (view && deps.audit) deps.audit(socketViewEntry(socket, event, view, payload, outcome, code, deps.limits));
      };
      if (!can(socket.data.user, action)) {
        audit('denied', 'FORBIDDEN');
        return reply(fail('FORBIDDEN'));
      }
      const parsed = schema.safeParse(payload ?? {});
      if (!parsed.success) return reply(fail('VALIDATION_FAILED', undefined, zodDetails(parsed.error)));
      try {
        const result = await fn(parsed.data);
        audit('ok');
        reply(ok(result));
      } catch (error) {
        audit(
          error instanceof HuiliuError && error.code === 'FORBIDDEN' ? 'denied' : 'failed',
          error instanceof HuiliuError ? error.code : 'INTERNAL',
        );
        if (error instanceof HuiliuError) return reply({ ok: false, error: clientErrorInfo(error) });
        log.error({ err: error, user: socket.data.user.id }, 'agent event failed');
        reply(fail('INTERNAL'));
      }
    };
  }

  nsp.on('connection', async (socket: AgentSocket) => {
    const user = socket.data.user;
    events.set(socket, new TokenBucket(agentLimits.eventBurst, agentLimits.eventsPerSecond));
    // Revoked between the middleware and now: the revocation listener could not see this socket yet.
    if (!deps.auth.verify(socket.data.token)) return void socket.disconnect(true);
    armExpiry(socket);
    let inPool = false;
    // Room membership is the queue policy (rbac.queueRoomsOf): pushes reach only who may see them.
    void socket.join(queueRoomsOf(user));
    // Issue 15: the Team tab's pushes, for the groups whose held contacts this user may ask to take over.
    if (collision) void socket.join((scopeOf(user, 'session.takeover') ?? []).map(teamRoom));
    const takesContacts = user.roles.includes('agent') || user.roles.includes('lead');
    // Handlers are registered before any await, so no event sent right after connect is lost.
    // One registration path: the event's name picks its policy (AGENT_EVENT_POLICY) and its handler.
    // The wrapped listener takes unknown payload and ack, so it fits every event's signature.
    const on = <S extends z.ZodType, T>(event: AgentClientEvent, schema: S, fn: (payload: z.infer<S>) => Promise<T>) =>
      socket.on(event, handle(socket, event, schema, fn) as never);

    on('queue:list', QueueListSchema, async () => queueFor(user));

    const conversations = deps.conversations;
    on('offer:accept', AcceptOfferSchema, ({ sessionId }) => conversations.accept(user, sessionId));
    on('offer:decline', DeclineOfferSchema, async ({ sessionId, reason }) => {
      await deps.router.declined(sessionId, user.id, reason);
      return { declined: true as const };
    });
    on('session:open', OpenSessionSchema, ({ sessionId }) => conversations.open(user, sessionId));
    on('session:history', SessionHistorySchema, (input) => conversations.history(user, input));
    on('message:send', SendMessageSchema, (input) => conversations.reply(user, input));
    on('session:close', CloseSessionSchema, (input) => conversations.close(user, input));
    on('session:release', ReleaseSessionSchema, ({ sessionId }) => conversations.release(user, sessionId));

    const assist = () => {
      if (!deps.assist) throw new HuiliuError('NOT_FOUND', 'AI assistance is not enabled on this server.');
      return deps.assist;
    };
    // Staff see AI texts masked (issue 17); a reply written from them gets the values back (conversations.reply).
    on('ai:suggest', SuggestRepliesSchema, async ({ sessionId }) => (await assist().suggest(user, sessionId)).map(maskText));
    on('draft:discard', DiscardDraftSchema, async ({ sessionId, draftId }) => assist().discardDraft(user, sessionId, draftId));
    on('session:summary', SummarizeSessionSchema, async ({ sessionId }) => maskSummary(await assist().summaryFor(user, sessionId)));

    // Transfers (issue 11): the use cases check the session, the sender and the receiver.
    const transfers = () => {
      if (!deps.transfers) throw new HuiliuError('NOT_FOUND', 'Transfers are not enabled on this server.');
      return deps.transfers;
    };
    on('session:transfer', TransferSessionSchema, (input) => transfers().transfer(user, input));
    on('transfer:accept', TransferIdSchema, ({ transferId }) => transfers().accept(user, transferId));
    on('transfer:decline', DeclineTransferSchema, ({ transferId, reason }) => transfers().decline(user, transferId, reason));
    on('transfer:cancel', TransferIdSchema, ({ transferId }) => transfers().cancel(user, transferId));
    on('transfer:targets', TransferTargetsQuerySchema, ({ sessionId }) => transfers().targets(user, sessionId));

    // Issue 13: the agent's typing to the visitor, and how far they read (shown in the web widget).
    const receipts = () => {
      if (!deps.receipts) throw new HuiliuError('NOT_FOUND', 'Receipts are not enabled on this server.');
      return deps.receipts;
    };
    on('agent:typing', AgentTypingSchema, (input) => receipts().typing(user, input));
    on('session:read', SessionReadSchema, (input) => receipts().read(user, input));

    // Notes and supervision (issues 15, 16): the use cases check the session's group for each act.
    const supervision = () => {
      if (!deps.supervision) throw new HuiliuError('NOT_FOUND', 'Supervision is not enabled on this server.');
      return deps.supervision;
    };
    on('note:add', AddNoteSchema, (input) => supervision().note(user, input));
    on('supervise:open', SuperviseSessionSchema, async ({ sessionId }) => {
      const detail = await supervision().open(user, sessionId);
      // Live from now on: the conversation's new messages and notes (left on leave or disconnect).
      await socket.join(superviseRoom(detail.id));
      // Issue 15: a lead's supervision view counts as viewing the conversation.
      if (collision && !socket.disconnected)
        await collision.view({ socketId: socket.id, user, via: 'supervising' }, detail.id).catch(logCollision);
      return detail;
    });
    on('supervise:leave', SuperviseSessionSchema, async ({ sessionId }) => {
      await socket.leave(superviseRoom(sessionId));
      await collision?.unview(socket.id, sessionId).catch(logCollision);
      return { left: true as const };
    });
    on('supervise:whisper', WhisperSchema, (input) => supervision().whisper(user, input));
    on('supervise:barge', BargeSchema, (input) => supervision().barge(user, input));
    on('supervise:reassign', ReassignSchema, (input) => supervision().reassign(user, input));
    on('supervise:agents', SuperviseAgentsSchema, async () => supervision().agents(user));
    on('supervise:presence', SupervisePresenceSchema, async ({ agentId, presence }) => {
      const change = await supervision().setPresence(user, agentId, presence);
      nsp.to(agentRoom(agentId)).emit('presence:changed', { presence, until: null, by: { id: user.id, name: user.displayName } });
      return change.agent;
    });

    // Issue 16: the live board. Scope is the policy's (`board.view`): leads their groups, admins all.
    let stopBoard: (() => void) | null = null;
    on('board:subscribe', BoardSubscribeSchema, async ({ skillGroups }) => {
      const board = deps.board;
      if (!board) throw new HuiliuError('NOT_FOUND', 'The live board is not enabled on this server.');
      const groups = [...new Set(skillGroups ?? scopeOf(user, 'board.view') ?? board.skillGroups())];
      if (groups.some((skillGroup) => !can(user, 'board.view', { skillGroup }))) throw new HuiliuError('FORBIDDEN');
      stopBoard?.();
      // Subscribed before the snapshot is read, so no change falls between the two (the client keeps the newer by `at`).
      stopBoard = board.subscribe(groups, (snapshot) => socket.emit('board:update', snapshot));
      if (socket.disconnected) stopBoard();
      return board.snapshot(groups);
    });
    on('board:unsubscribe', BoardUnsubscribeSchema, async () => {
      stopBoard?.();
      stopBoard = null;
      return { unsubscribed: true as const };
    });

    // Issue 15 (docs/collision.md): who views a conversation, and take-over requests.
    on('session:view', SessionViewSchema, ({ sessionId }) =>
      collisionOf().view({ socketId: socket.id, user, via: 'workstation' }, sessionId),
    );
    on('session:unview', SessionViewSchema, async ({ sessionId }) => {
      await collisionOf().unview(socket.id, sessionId);
      return { left: true as const };
    });
    on('takeover:list', TakeoverListSchema, ({ skillGroup }) => heldContacts(user, skillGroup));
    on('takeover:request', TakeoverRequestSchema, ({ sessionId }) => collisionOf().request(user, sessionId));
    on('takeover:answer', TakeoverAnswerSchema, ({ takeoverId, accept }) => collisionOf().answer(user, takeoverId, accept));

    on('presence:set', SetPresenceSchema, async ({ presence }) => {
      deps.afterCallWork?.cancel(user.id);
      deps.pool.setPresence(user.id, presence, now());
      if (presence === 'available') await deps.router.agentAvailable(user.id);
      else await deps.router.agentGone(user.id);
      return { presence };
    });

    socket.on('disconnect', (reason) => {
      clearTimeout(expiries.get(socket));
      stopBoard?.();
      // Issue 15: a socket that ends (disconnect, sign-out, expiry) views nothing any more.
      void collision?.dropSocket(socket.id).catch(logCollision);
      // Only a connection that was counted in the pool may be taken out of it, or a socket closed
      // mid-greeting would take away another connection of the same agent.
      if (inPool && deps.pool.disconnect(user.id)) {
        if (signedOut.has(socket)) {
          void deps.router
            .agentSignedOut(user.id)
            .catch((error: unknown) => log.error({ err: error }, 're-offering after sign-out failed'));
        } else {
          deps.router.agentDisconnected(user.id);
        }
        void deps.router.agentGone(user.id).catch((error: unknown) => log.error({ err: error }, 're-offering after disconnect failed'));
      }
      // Issue 15: why (socket.io's reason: `ping timeout`, `transport close`, `server namespace disconnect`…); no PII.
      log.info({ user: user.username, reason }, 'agent disconnected');
    });

    try {
      if (takesContacts) {
        const active = await deps.store.listSessions({ status: ['active'], assignedAgentId: user.id });
        if (socket.disconnected) return; // gone while we looked: do not leave a ghost in the pool
        deps.pool.connect(
          { id: user.id, username: user.username, displayName: user.displayName, skillGroups: user.skillGroups, expert: user.expert },
          active.length,
          now(),
        );
        inPool = true;
      }
      log.info({ user: user.username }, 'agent connected');
      const groups = visibleGroups(user);
      const [queue, waitingTotal] = await Promise.all([
        queueFor(user),
        deps.store.countSessions({ status: ['queued', 'offered'], ...(groups ? { skillGroups: groups } : {}) }),
      ]);
      socket.emit('hello', { user, queue, presence: deps.pool.get(user.id)?.presence ?? 'available', waitingTotal });
      if (takesContacts) await pushLoad(user.id);
      // Issue 15 ("an offer is never lost"): offers made to this agent before this socket connected
      // (a second tab or device, a reload while another socket lived on) come again with their
      // expiry, so this socket shows the countdown and raises the tone and notification too.
      if (takesContacts)
        for (const session of await deps.store.listSessions({ status: ['offered'], offeredAgentId: user.id })) {
          if (!session.offerExpiresAt || Date.parse(session.offerExpiresAt) <= now()) continue;
          socket.emit('offer:new', {
            sessionId: session.id,
            expiresAt: session.offerExpiresAt,
            summary: await summaryOf(queueRowFacts(session)),
          });
        }
      // Warm transfers still waiting for this agent (offered while they were away or reloading).
      if (takesContacts && deps.transfers)
        for (const offer of await deps.transfers.offersFor(user.id)) socket.emit('transfer:offered', offer);
      // Take-overs still pending (issue 15): the holder who reloaded while asked gets the prompt again,
      // the requester their "asked" state; otherwise the request would only expire unseen.
      if (takesContacts)
        for (const t of collision?.pendingFor(user.id) ?? [])
          socket.emit(t.holder.id === user.id ? 'takeover:requested' : 'takeover:updated', t);
      if (takesContacts) await deps.router.agentAvailable(user.id);
    } catch (error) {
      // The client reconnects and gets a fresh hello; a half-greeted socket is worse than none.
      log.error({ err: error, user: user.username }, 'agent greeting failed');
      socket.disconnect(true);
    }
  });

  /** How long the row read for one `session.changed` is kept for the other pushes of that change (ms). */
  const CHANGE_ROW_MS = 1_000;
  /** Rows read for a `session.changed`, by the event's id (see `storedRow`). */
  const changeRows = new Map<string, Promise<{ session: QueueRowFacts; summary: SessionSummary } | null>>();
  /**
   * A session as stored now and its queue row. With `changeId` (a `session.changed` event's id) the
   * queue push and the Team tab push of that change share one read (issue 18: each change read the
   * session and its newest message twice). A shared row is read after its change was stored, as each
   * read was before; and each subscription handles changes in order, so the last row it pushes for a
   * session was read after the session's last change.
   */
  function storedRow(
    sessionId: string,
    changeId?: string,
    change?: QueueRowFacts,
  ): Promise<{ session: QueueRowFacts; summary: SessionSummary } | null> {
    const read = async () => {
      // Issue 18: the change's event carries the session's facts after it; only the newest message is read.
      const stored = change ? null : await deps.store.getSession(sessionId);
      const session = change ?? (stored ? queueRowFacts(stored) : null);
      return session ? { session, summary: await summaryOf(session) } : null;
    };
    if (!changeId) return read();
    let row = changeRows.get(changeId);
    if (!row) {
      row = read();
      changeRows.set(changeId, row);
      // A failed read is not shared: the bus's retry of a push reads again.
      row.then(
        () => setTimeout(() => changeRows.delete(changeId), CHANGE_ROW_MS).unref(),
        () => changeRows.delete(changeId),
      );
    }
    return row;
  }

  async function pushSession(sessionId: string, changeId?: string, withdrawnFrom?: string, change?: QueueRowFacts) {
    // A close is only removals: no row to build (its newest message is not read).
    const stored = change?.status === 'closed' ? { session: change, summary: null } : await storedRow(sessionId, changeId, change);
    if (!stored) return;
    const { session, summary } = stored;
    const known = queueShown.get(sessionId);
    const same = known?.skillGroup === session.skillGroup ? known : undefined;
    const leads = [queueRooms.group(session.skillGroup), queueRooms.all];
    const agentsOf = (ids: (string | null | undefined)[]) => [...new Set(ids.filter((id): id is string => !!id))];
    if (session.status === 'offered' && same?.waiting && summary) {
      // Issue 18: the group's agents show it waiting already, and an offer to one of them changes
      // nothing they can do with it: the row goes to the agent it is offered to, the agents who had
      // their own version of it (an offer that moved on) and the leads.
      const agents = agentsOf([session.offeredAgentId, withdrawnFrom, ...same.agents]);
      nsp.to([...agents.map(agentRoom), ...leads]).emit('queue:upsert', summary);
      queueShown.set(sessionId, { skillGroup: session.skillGroup, waiting: true, agents: agentsOf([session.offeredAgentId]) });
    } else {
      const audience = queueAudience(session);
      if (audience.length && summary) nsp.to(audience).emit('queue:upsert', summary);
      // Whoever may have shown it and may no longer (taken by a colleague, closed) drops it (B6). When
      // the group's waiting room no longer shows it (removed there when it was taken), only the agents
      // who had their own version of it and the leads do.
      const watchers =
        same && !same.waiting && session.status !== 'queued' && session.status !== 'bot'
          ? [...agentsOf([...same.agents, session.assignedAgentId, session.offeredAgentId, withdrawnFrom]).map(agentRoom), ...leads]
          : queueWatchers(session);
      nsp.to(watchers).except(audience).emit('queue:remove', { sessionId });
      if (session.status === 'closed') queueShown.delete(sessionId);
      else
        queueShown.set(sessionId, {
          skillGroup: session.skillGroup,
          waiting: session.status !== 'active',
          agents: agentsOf([session.status === 'active' ? session.assignedAgentId : session.offeredAgentId]),
        });
    }
    if (session.status === 'offered' && session.offeredAgentId && summary) {
      nsp.to(agentRoom(session.offeredAgentId)).emit('offer:new', { sessionId, expiresAt: session.offerExpiresAt ?? '', summary });
    }
  }

  subs.push(
    // Fan-out: every node pushes to the agent sockets connected to it (DESIGN §1 "Events").
    await deps.bus.subscribeAll('session.changed', async ({ id, at, sessionId, conversationId, payload }) => {
      // A contact moved to a group a watching lead does not supervise: they stop getting it live.
      const watchers = nsp.adapter.rooms.get(superviseRoom(sessionId));
      if (watchers)
        for (const id of [...watchers]) {
          const watcher = nsp.sockets.get(id);
          if (watcher && !can(watcher.data.user, 'session.supervise', { skillGroup: payload.skillGroup }))
            void watcher.leave(superviseRoom(sessionId));
        }
      // When the change was stored (its facts' `updatedAt`), not when its event was published: a router
      // that awaited the cluster copy of its offer published it after a lead's later take of the contact
      // (scale-out lane), and that stale offer was pushed to the agent as current.
      const changedAt = Date.parse(payload.updatedAt ?? at);
      // A change older than one already handled here (a redelivery, another node's late event): read the session.
      const current = changedAt > (lastChange.get(sessionId) ?? -Infinity);
      if (current) lastChange.set(sessionId, changedAt);
      // The agent whose offer this change withdrew drops it now, not when its timer would have run out.
      const withdrawnFrom = payload.offerWithdrawnFrom && agentRoom(payload.offerWithdrawnFrom);
      if (withdrawnFrom && present(withdrawnFrom)) {
        const reason = payload.reason === 'accepted' ? 'taken' : (payload.trigger ?? payload.reason);
        nsp.to(withdrawnFrom).emit('offer:revoked', { sessionId, reason });
      }
      // The row is read fresh (the newest message is its preview); only when someone here may show it.
      if (mayShow(payload).some(present))
        await pushSession(sessionId, id, payload.offerWithdrawnFrom, current ? changeFacts(sessionId, conversationId, payload) : undefined);
      // Nobody here was told: what the next socket shows comes from its hello.
      else queueShown.delete(sessionId);
    }),
    // Every customer message: the agent who has the chat gets it, the queue rows that show the
    // session get its preview. Built from what the event carries (session facts, message, name);
    // the store is read only for a customer name not yet known or for facts older than a change
    // already pushed, and nothing at all is done when nobody here may show the session.
    await deps.bus.subscribeAll('message.in', async ({ at, sessionId, conversationId, payload }) => {
      const { envelope } = payload;
      if (payload.customerName) customerNames.set(envelope.customerId, payload.customerName);
      pushToSupervisors(sessionId, payload.session.assignedAgentId, 'message:new', toMessageView(envelope));
      pushToViewers(sessionId, payload.session.assignedAgentId, toMessageView(envelope));
      if (!mayShow(payload.session).some(present)) return;
      let facts: SessionFacts = payload.session;
      if (Date.parse(payload.session.updatedAt ?? at) <= (lastChange.get(sessionId) ?? -Infinity)) {
        const stored = await deps.store.getSession(sessionId);
        if (!stored) return;
        facts = sessionFacts(stored);
      }
      const assigned = facts.assignedAgentId && agentRoom(facts.assignedAgentId);
      // The customer's message is the newest: its emotion is the bubble's and the queue row's (read once).
      if (assigned && present(assigned)) nsp.to(assigned).emit('message:new', toMessageView(envelope, emotions));
      const audience = queueAudience(facts).filter(present);
      if (audience.length === 0) return;
      const name = await customerName(envelope.customerId);
      const row = queueRow({ ...facts, id: sessionId, conversationId }, name, envelope, emotions?.(envelope), deps.slaOf?.(sessionId));
      nsp.to(audience).emit('queue:upsert', row);
      shownByMessage(sessionId, facts);
    }),
    await deps.bus.subscribeAll('message.out', async ({ sessionId, payload: { envelope, session } }) => {
      pushToSupervisors(sessionId, session.assignedAgentId, 'message:new', toMessageView(envelope));
      pushToViewers(sessionId, session.assignedAgentId, toMessageView(envelope));
      const room = session.assignedAgentId && agentRoom(session.assignedAgentId);
      if (room && present(room)) nsp.to(room).emit('message:new', toMessageView(envelope));
      // A message on a contact nobody has yet — the AI's answer, the hand-over notice — moves its queue
      // row (the preview) for whoever watches the queue here.
      else if (!session.assignedAgentId && session.status !== 'closed' && mayShow(session).some(present)) await pushSession(sessionId);
    }),
    // The dispatcher's record of how far a reply got, to the agent who has the chat (their bubble's tick).
    await deps.bus.subscribeAll('delivery.changed', ({ sessionId, payload: { messageId, state, error, session } }) => {
      const room = session.assignedAgentId && agentRoom(session.assignedAgentId);
      if (!room || !present(room)) return;
      nsp.to(room).emit('message:delivery', { messageId, sessionId, state, ...(error ? { error } : {}) });
    }),
    // Issue 17: an erased customer's data is gone; every agent here drops what it cached of them.
    await deps.bus.subscribeAll('customer.erased', ({ payload: { customerIds } }) => {
      for (const id of customerIds) customerNames.delete(id);
      nsp.emit('customer:erased', { customerIds });
    }),
    // Issue 12: the customer is typing (volatile), to the session's assigned agent only — not the queue.
    await deps.bus.subscribeAll('customer.typing', ({ sessionId, payload: { typing, session } }) => {
      const room = session.assignedAgentId && agentRoom(session.assignedAgentId);
      if (!room || !present(room)) return;
      nsp.to(room).volatile.emit('customer:typing', { sessionId, typing });
    }),
  );

  // Issue 15: a contact that changed hands or closed: its viewers see the new holder, its pending take-overs end.
  if (collision)
    subs.push(
      await deps.bus.subscribeAll('session.changed', async ({ id, sessionId, conversationId, payload }) => {
        await collision.sessionChanged(sessionId).catch(logCollision);
        // The Team tabs of the contact's group (and of the group it left) follow it.
        await pushHeld(sessionId, payload, undefined, id, changeFacts(sessionId, conversationId, payload)).catch(logCollision);
      }),
      // A held contact's newest message moves its Team row (preview, last activity), as the queue's rows.
      await deps.bus.subscribeAll('message.in', async ({ sessionId, conversationId, payload: { envelope, session, newSession } }) => {
        // A new contact is on nobody's Team tab yet.
        if (newSession && session.status !== 'active') heldCleared.set(sessionId, true);
        if (session.status !== 'active' || !session.assignedAgentId || !present(teamRoom(session.skillGroup))) return;
        const name = await customerName(envelope.customerId);
        const row = queueRow({ ...session, id: sessionId, conversationId }, name, envelope, undefined, deps.slaOf?.(sessionId));
        await pushHeld(sessionId, session, row).catch(logCollision);
      }),
      await deps.bus.subscribeAll('message.out', async ({ sessionId, conversationId, payload: { envelope, session } }) => {
        if (session.status !== 'active' || !session.assignedAgentId || !present(teamRoom(session.skillGroup))) return;
        const name = await customerName(session.customerId);
        const row = queueRow({ ...session, id: sessionId, conversationId }, name, envelope, undefined, deps.slaOf?.(sessionId));
        await pushHeld(sessionId, session, row).catch(logCollision);
      }),
    );

  // Issue 15: the viewers other nodes have of a conversation, merged into the lists pushed here.
  if (collision)
    subs.push(
      await deps.bus.subscribeAll('session.viewing', async ({ sessionId, payload: { nodeId, ttlMs, viewers } }) => {
        await collision.applyRemote(nodeId, sessionId, viewers, ttlMs).catch(logCollision);
      }),
    );

  // Issues 15, 16: a note to the contact's agent (a whisper: to the agent it was meant for) and to the leads watching.
  subs.push(
    await deps.bus.subscribeAll('note.added', ({ sessionId, payload: { envelope, session } }) => {
      const view = toMessageView(envelope);
      const data = (envelope.body as { data?: { whisper?: unknown; to?: { id?: unknown } | null } }).data;
      const target = data?.whisper === true ? (typeof data.to?.id === 'string' ? data.to.id : null) : session.assignedAgentId;
      const rooms = [...(target ? [agentRoom(target)] : []), superviseRoom(sessionId)].filter(present);
      if (rooms.length) nsp.to(rooms).emit('note:new', view);
    }),
  );

  // Issue 10: the text OCR read from a customer's image, to the agent who has the chat (masked in the event).
  subs.push(
    await deps.bus.subscribeAll(
      'message.annotated',
      ({ sessionId, conversationId, payload: { messageId, attachmentId, ocr, session } }) => {
        const room = session.assignedAgentId && agentRoom(session.assignedAgentId);
        if (room && present(room)) nsp.to(room).emit('message:annotated', { messageId, sessionId, conversationId, attachmentId, ocr });
      },
    ),
  );

  // Issue 11: a transfer made or changed on any node — the offer to the receiving agent, the news to both sides.
  if (deps.transfers) {
    const transfers = deps.transfers;
    subs.push(
      await deps.bus.subscribeAll('transfer.changed', async ({ payload }) => {
        const to = payload.offeredAgentId && agentRoom(payload.offeredAgentId);
        const rooms = [agentRoom(payload.fromAgentId), ...(to ? [to] : [])].filter(present);
        if (rooms.length === 0) return;
        if (payload.status === 'pending' && to && present(to)) {
          const offer = await transfers.offer(payload.transferId);
          if (offer) nsp.to(to).emit('transfer:offered', offer);
        }
        const view = await transfers.view(payload.transferId);
        if (view) nsp.to(rooms).emit('transfer:updated', view);
      }),
    );
  }

  return {
    async close() {
      clearInterval(sweep);
      stopRevocations();
      stopLoad();
      collision?.stop();
      await Promise.all(subs.map((s) => s.unsubscribe()));
      // Close the transports only: clients see "transport close" and reconnect to the next server
      // (a server-side disconnect would tell them not to). Not io.close(): that would also close the
      // HTTPS server, which Fastify owns and closes.
      io.engine.close();
    },
  };
}

/** Bytes queued to a socket.io client and not yet taken by the network: engine.io's queue + ws's buffer. */
function unsentBytes(socket: { conn: unknown }): number {
  const conn = socket.conn as { writeBuffer?: { data?: unknown }[]; transport?: { socket?: { bufferedAmount?: number } } };
  let queued = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) queued += typeof packet.data === 'string' ? packet.data.length : 0;
  return queued;
}
