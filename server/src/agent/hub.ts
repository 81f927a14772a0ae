import type { Server as HttpsServer } from 'node:https';
import { Server, type Namespace, type Socket } from 'socket.io';
import { HuiliuError, fail, ok, zodDetails, type Result } from '../../../common/errors/codes';
import type { UserView } from '../../../common/api/auth';
import {
  AGENT_NAMESPACE,
  AcceptOfferSchema,
  CloseSessionSchema,
  OpenSessionSchema,
  QueueListSchema,
  SendMessageSchema,
  SetPresenceSchema,
  type AgentClientToServerEvents,
  type AgentServerToClientEvents,
} from '../../../common/socket/agent-events';
import type { z } from 'zod';
import type { AuthService } from '../auth/auth';
import { canHandleSession, canSeeSession, isStaffOnQueue, visibleGroups } from '../auth/rbac';
import type { Bus, Subscription } from '../bus/bus';
import type { Logger } from '../logging/logger';
import type { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import type { RoutingConfig } from '../../../common/routing/types';
import type { SessionRecord, SessionStore } from '../sessions/store';
import { toMessageView, type SessionViews } from '../sessions/views';

interface SocketData {
  user: UserView;
  token: string;
  tokenHash: string;
  /** When the token expires, ms since the epoch: the socket is disconnected then. */
  expiresAt: number;
}
type AgentSocket = Socket<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>;
type AgentNamespace = Namespace<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>;

export interface AgentHubDeps {
  httpServer: HttpsServer;
  auth: AuthService;
  store: SessionStore;
  views: SessionViews;
  bus: Bus;
  pool: AgentPool;
  router: Router;
  routing: () => RoutingConfig;
  logger: Logger;
  now?: () => number;
}

export interface AgentHub {
  close(): Promise<void>;
}

const groupRoom = (g: string) => `group:${g}`;
const agentRoom = (id: string) => `agent:${id}`;
const OPEN = ['queued', 'offered', 'active'] as const;

/**
 * The staff real-time path: socket.io namespace `/agent` (DESIGN §6). Every client → server event is
 * validated with its zod schema, checked against RBAC, and acked `{ok,data}|{ok:false,error}`.
 */
export async function createAgentHub(deps: AgentHubDeps): Promise<AgentHub> {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'agent-hub' });
  const io = new Server<AgentClientToServerEvents, AgentServerToClientEvents, Record<string, never>, SocketData>(deps.httpServer, {
    serveClient: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxHttpBufferSize: 256 * 1024,
    // Other paths' upgrades belong to the UpgradeRouter; engine.io must not destroy them.
    destroyUpgrade: false,
  });
  const nsp: AgentNamespace = io.of(AGENT_NAMESPACE);
  const subs: Subscription[] = [];

  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    const verified = deps.auth.verifyToken(typeof token === 'string' ? token : undefined);
    if (!verified) return next(Object.assign(new Error('UNAUTHENTICATED'), { data: new HuiliuError('UNAUTHENTICATED').toInfo() }));
    if (!isStaffOnQueue(verified.user)) return next(Object.assign(new Error('FORBIDDEN'), { data: new HuiliuError('FORBIDDEN').toInfo() }));
    socket.data.user = verified.user;
    socket.data.token = token as string;
    socket.data.tokenHash = verified.tokenHash;
    socket.data.expiresAt = verified.expiresAt;
    next();
  });

  // DESIGN §6: logout (and disabling a user) ends that token's sockets at once, not at their next event;
  // the disconnect handler below then takes the agent out of routing.
  const stopRevocations = deps.auth.onRevoked((revocation) => {
    for (const socket of nsp.sockets.values()) {
      const { tokenHash, user } = socket.data;
      if (revocation.kind === 'token' ? tokenHash === revocation.tokenHash : user.id === revocation.userId) socket.disconnect(true);
    }
  });

  async function queueFor(user: UserView) {
    const groups = visibleGroups(user);
    const sessions = await deps.store.listSessions({ status: [...OPEN], ...(groups ? { skillGroups: groups } : {}) });
    // Agents see their groups' waiting contacts and their own active ones; leads and admins see all.
    const mine = user.roles.includes('agent') && !user.roles.includes('lead') && !user.roles.includes('admin');
    const visible = mine ? sessions.filter((s) => s.status !== 'active' || s.assignedAgentId === user.id) : sessions;
    return Promise.all(visible.map((s) => deps.views.summary(s)));
  }

  async function loadHandled(user: UserView, sessionId: string): Promise<SessionRecord> {
    const session = await deps.store.getSession(sessionId);
    if (!session || !canSeeSession(user, session)) throw new HuiliuError('SESSION_NOT_FOUND');
    if (!canHandleSession(user, session)) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  /** Wraps a handler: validates the payload, answers the ack with a Result, never throws. */
  function handle<S extends z.ZodType, T>(socket: AgentSocket, schema: S, fn: (payload: z.infer<S>) => Promise<T>) {
    return async (payload: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: Result<T>) => void) : () => undefined;
      // The token is checked on every event, not only at connect: a logout or expiry ends the socket.
      if (!deps.auth.verify(socket.data.token)) {
        reply(fail('UNAUTHENTICATED'));
        socket.disconnect(true);
        return;
      }
      const parsed = schema.safeParse(payload ?? {});
      if (!parsed.success) return reply(fail('VALIDATION_FAILED', undefined, zodDetails(parsed.error)));
      try {
        reply(ok(await fn(parsed.data)));
      } catch (error) {
        if (error instanceof HuiliuError) return reply({ ok: false, error: error.toInfo() });
        log.error({ err: error, user: socket.data.user.id }, 'agent event failed');
        reply(fail('INTERNAL'));
      }
    };
  }

  nsp.on('connection', async (socket: AgentSocket) => {
    const user = socket.data.user;
    // Revoked between the middleware and now: the revocation listener could not see this socket yet.
    if (!deps.auth.verify(socket.data.token)) return void socket.disconnect(true);
    // Node timers hold at most 2^31-1 ms (~24.8 days); a longer-lived token's client just reconnects then.
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(0, socket.data.expiresAt - now()), 2 ** 31 - 1));
    expiry.unref();
    let inPool = false;
    for (const g of user.skillGroups) void socket.join(groupRoom(g));
    void socket.join(agentRoom(user.id));
    const takesContacts = user.roles.includes('agent') || user.roles.includes('lead');
    // Handlers are registered before any await, so no event sent right after connect is lost.

    socket.on(
      'queue:list',
      handle(socket, QueueListSchema, async () => queueFor(user)),
    );

    socket.on(
      'offer:accept',
      handle(socket, AcceptOfferSchema, async ({ sessionId }) => {
        const before = await loadHandled(user, sessionId);
        const claimed = await deps.store.claim(sessionId, user.id);
        if (before.status !== 'active') {
          deps.router.settle(sessionId);
          deps.pool.addChat(user.id);
          await deps.bus.publish('session.changed', { sessionId, status: 'active', agentId: user.id });
        }
        return deps.views.detail(claimed);
      }),
    );

    socket.on(
      'session:open',
      handle(socket, OpenSessionSchema, async ({ sessionId }) => {
        const session = await deps.store.getSession(sessionId);
        if (!session || !canSeeSession(user, session)) throw new HuiliuError('SESSION_NOT_FOUND');
        return deps.views.detail(session);
      }),
    );

    socket.on(
      'message:send',
      handle(socket, SendMessageSchema, async ({ sessionId, clientMessageId, text }) => {
        const session = await loadHandled(user, sessionId);
        if (session.assignedAgentId !== user.id) throw new HuiliuError('NOT_ASSIGNED');
        const { envelope, duplicate } = await deps.store.appendOutbound({
          sessionId,
          authorId: user.id,
          clientMessageId,
          content: { kind: 'text', body: { text } },
          critical: true,
        });
        if (!duplicate) await deps.bus.publish('message.out', { envelope });
        return toMessageView(envelope);
      }),
    );

    socket.on(
      'session:close',
      handle(socket, CloseSessionSchema, async ({ sessionId, wrapUpCode, note }) => {
        await loadHandled(user, sessionId);
        const closed = await deps.store.close(sessionId, user.id, wrapUpCode, note);
        deps.router.settle(sessionId);
        deps.pool.removeChat(user.id, now());
        await deps.bus.publish('session.changed', { sessionId, status: 'closed', agentId: user.id });
        void deps.router.agentAvailable(user.id).catch((error: unknown) => log.error({ err: error }, 'offering waiting contacts failed'));
        return deps.views.summary(closed);
      }),
    );

    socket.on(
      'presence:set',
      handle(socket, SetPresenceSchema, async ({ presence }) => {
        deps.pool.setPresence(user.id, presence, now());
        if (presence === 'available') await deps.router.agentAvailable(user.id);
        else await deps.router.agentGone(user.id);
        return { presence };
      }),
    );

    socket.on('disconnect', () => {
      clearTimeout(expiry);
      // Only a connection that was counted in the pool may be taken out of it, or a socket closed
      // mid-greeting would take away another connection of the same agent.
      if (inPool && deps.pool.disconnect(user.id)) {
        deps.router.agentDisconnected(user.id);
        void deps.router.agentGone(user.id).catch((error: unknown) => log.error({ err: error }, 're-offering after disconnect failed'));
      }
      log.info({ user: user.username }, 'agent disconnected');
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
      socket.emit('hello', { user, queue: await queueFor(user), presence: deps.pool.get(user.id)?.presence ?? 'available' });
      if (takesContacts) await deps.router.agentAvailable(user.id);
    } catch (error) {
      // The client reconnects and gets a fresh hello; a half-greeted socket is worse than none.
      log.error({ err: error, user: user.username }, 'agent greeting failed');
      socket.disconnect(true);
    }
  });

  async function pushSession(sessionId: string) {
    const session = await deps.store.getSession(sessionId);
    if (!session) return;
    const summary = await deps.views.summary(session);
    const room = nsp.to(groupRoom(session.skillGroup));
    if (session.status === 'closed') room.emit('queue:remove', { sessionId });
    else room.emit('queue:upsert', summary);
    // Admins (all groups) are not in group rooms of groups they do not belong to; they poll REST for now.
    if (session.status === 'offered' && session.offeredAgentId) {
      nsp.to(agentRoom(session.offeredAgentId)).emit('offer:new', { sessionId, expiresAt: session.offerExpiresAt ?? '', summary });
    }
  }

  subs.push(
    await deps.bus.subscribe('session.changed', 'agent-hub', ({ sessionId }) => pushSession(sessionId)),
    await deps.bus.subscribe('message.in', 'agent-hub', async ({ envelope }) => {
      const session = await deps.store.getSession(envelope.sessionId);
      if (!session) return;
      const view = toMessageView(envelope);
      if (session.assignedAgentId) nsp.to(agentRoom(session.assignedAgentId)).emit('message:new', view);
      // The queue row's preview and time change with every message.
      if (session.status !== 'closed')
        nsp.to(groupRoom(session.skillGroup)).emit('queue:upsert', await deps.views.summary(session, envelope));
    }),
    await deps.bus.subscribe('message.out', 'agent-hub', async ({ envelope }) => {
      const session = await deps.store.getSession(envelope.sessionId);
      if (session?.assignedAgentId) nsp.to(agentRoom(session.assignedAgentId)).emit('message:new', toMessageView(envelope));
    }),
  );

  return {
    async close() {
      stopRevocations();
      await Promise.all(subs.map((s) => s.unsubscribe()));
      // Close the transports only: clients see "transport close" and reconnect to the next server
      // (a server-side disconnect would tell them not to). Not io.close(): that would also close the
      // HTTPS server, which Fastify owns and closes.
      io.engine.close();
    },
  };
}
