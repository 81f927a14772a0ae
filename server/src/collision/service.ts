import { randomUUID } from 'node:crypto';
import type { UserView } from '../../../common/api/auth';
import {
  takeoverNote,
  type SessionViewer,
  type SessionViewers,
  type TakeoverStatus,
  type TakeoverView,
} from '../../../common/api/collision';
import { HuiliuError } from '../../../common/errors/codes';
import { can } from '../auth/policy';
import type { Logger } from '../logging/logger';
import type { SessionStore } from '../sessions/store';
import type { TransferService } from '../conversations/transfers';

/** How long the holder has to answer a take-over request before it counts as declined. */
export const TAKEOVER_TIMEOUT_MS = 30_000;
/** How many ended take-overs are remembered, so a late answer to one is told TAKEOVER_NOT_PENDING. */
const ENDED_KEPT = 1000;

/** One socket's view of one conversation. */
export interface ViewerRef {
  /** The socket.io socket id: pushes go to it, its end drops the view. */
  socketId: string;
  user: UserView;
  via: SessionViewer['via'];
}

/** Where the service's news goes: the hub turns these into socket pushes. */
export interface CollisionPush {
  /** `session:viewers` to these sockets (every socket viewing the session). */
  viewers(socketIds: string[], payload: SessionViewers): void;
  /** `takeover:requested` to the holder's sockets. */
  requested(holderId: string, view: TakeoverView): void;
  /** `takeover:updated` to both parties' sockets. */
  updated(agentIds: string[], view: TakeoverView): void;
}

/** A viewer as another node reports it (`session.viewing`): who, and from where they look. */
export type RemoteViewer = Pick<SessionViewer, 'id' | 'name' | 'via'>;

/**
 * Viewers shared between server nodes (docs/collision.md "Several nodes"): this node publishes its own
 * viewers of a session when they change (and every `ttlMs / 3` while any are left); the hub feeds the
 * other nodes' lists back through `CollisionService.applyRemote`.
 */
export interface ViewerSharing {
  /** This node's id (random per process start); lists from it coming back are ignored. */
  nodeId: string;
  /** Publishes this node's viewers of the session ([] when none are left); must not throw. */
  publish(sessionId: string, viewers: RemoteViewer[], ttlMs: number): void;
  /** How long another node's list holds without news, ms (default `VIEWERS_TTL_MS`). */
  ttlMs?: number;
}

/** How long another node's viewer list holds without news (it is re-published every third of it). */
export const VIEWERS_TTL_MS = 30_000;

export interface CollisionDeps {
  store: Pick<SessionStore, 'getSession'>;
  /** Several nodes: share viewers over the bus. Absent: this node's viewers only. */
  share?: ViewerSharing;
  /** The transfer path a take-over moves the contact through (warm to the requester, accepted at once). */
  transfers: Pick<TransferService, 'transfer' | 'accept'>;
  /** Staff users by id: the holder (the transfer is made on their behalf). */
  directory: { userById(id: string): UserView | null };
  push: CollisionPush;
  /** Records each take-over decision (issue 17 audit). */
  audit?: (entry: {
    actorId: string;
    actorName: string;
    action: string;
    sessionId: string;
    outcome: string;
    detail: Record<string, unknown>;
  }) => void;
  logger: Logger;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Collision control (issue 15, docs/collision.md): the viewers of each conversation on this node, and
 * take-over requests between the agent viewing a conversation and the agent holding it.
 *
 * Viewers are this process's sockets; with `share`, the lists other nodes publish are merged in (each
 * node checks its own viewers' scope). Pending take-overs are this process's: a restart forgets them
 * (the requester asks again).
 */
export interface CollisionService {
  /**
   * `session:view` (or `supervise:open`): the socket views the session from now on; every viewer gets
   * the new list. Returns the list. SESSION_NOT_FOUND (unknown, or not a group the user may see).
   */
  view(ref: ViewerRef, sessionId: string): Promise<SessionViewers>;
  /**
   * `session:unview` (or `supervise:leave`): the socket no longer views the session (no error when it
   * did not). When its user now views it on no socket, their pending take-over of it is `cancelled`.
   */
  unview(socketId: string, sessionId: string): Promise<void>;
  /** The socket ended: every view it held is dropped and their viewers told; its user's take-overs of sessions they no longer view are `cancelled`. */
  dropSocket(socketId: string): Promise<void>;
  /**
   * The session changed hands, groups or closed: pending take-overs whose holder no longer holds it
   * end `cancelled`; viewers no longer allowed to see it (`session.view` on its current skill group)
   * are dropped and sent an empty list; the others get the list again (new `assigned` flags).
   */
  sessionChanged(sessionId: string): Promise<void>;
  /** Whether this user views the session on some socket of this node. */
  isViewing(userId: string, sessionId: string): boolean;
  /**
   * Another node's viewers of the session (`session.viewing`): kept for `ttlMs` (until its next list),
   * merged into the lists pushed to this node's viewers of it, who get the new list at once. A list
   * from this node itself is ignored; an empty one forgets that node's viewers.
   */
  applyRemote(nodeId: string, sessionId: string, viewers: readonly RemoteViewer[], ttlMs: number): Promise<void>;
  /**
   * The sockets viewing the session now (workstation or supervision), for the hub's live pushes of
   * its messages to read-only viewers. Each passed the `session.view` check on the session's current
   * group (made again on every `session.changed`).
   */
  viewerSockets(sessionId: string): string[];
  /**
   * `takeover:request`: asks the holder to hand the contact over. SESSION_NOT_FOUND, FORBIDDEN (not a
   * group the requester handles), SESSION_CLOSED, NO_AGENT_ASSIGNED, TAKEOVER_OWN (you hold it),
   * NOT_VIEWING (open it first), TAKEOVER_PENDING (one is already asked for this contact).
   */
  request(actor: UserView, sessionId: string): Promise<TakeoverView>;
  /**
   * `takeover:answer` by the holder. Accept moves the contact with a warm transfer to the requester
   * accepted on their behalf (the transfer's events, transcript record and customer notice); when
   * that is refused the request ends `failed` with the transfer's code. TAKEOVER_NOT_FOUND (unknown
   * or not asked of you), TAKEOVER_NOT_PENDING (it already ended: answered, expired or cancelled).
   */
  answer(actor: UserView, takeoverId: string, accept: boolean): Promise<TakeoverView>;
  /**
   * The pending take-overs `userId` is a party to (holder or requester), oldest first: replayed to a
   * socket when it connects, so a holder who reloads or signs in on another device while asked still
   * gets the prompt (and a requester their "asked" state) instead of the request silently expiring.
   */
  pendingFor(userId: string): TakeoverView[];
  stop(): void;
}

interface Takeover extends TakeoverView {
  timer: NodeJS.Timeout | null;
}

export function createCollisionService(deps: CollisionDeps): CollisionService {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? TAKEOVER_TIMEOUT_MS;
  const log = deps.logger.child({ component: 'collision' });
  /** sessionId → socketId → viewer. */
  const bySession = new Map<string, Map<string, ViewerRef>>();
  /** socketId → sessions it views. */
  const bySocket = new Map<string, Set<string>>();
  const takeovers = new Map<string, Takeover>();
  /** Take-overs that ended, newest last (at most ENDED_KEPT): a late answer to one is TAKEOVER_NOT_PENDING, not NOT_FOUND. */
  const ended = new Map<string, Takeover>();
  const person = (u: Pick<UserView, 'id' | 'displayName'>) => ({ id: u.id, name: u.displayName });
  const share = deps.share;
  const ttlMs = share?.ttlMs ?? VIEWERS_TTL_MS;
  /** sessionId → nodeId → that node's viewers, until `expiresAt` (ms). */
  const remote = new Map<string, Map<string, { viewers: readonly RemoteViewer[]; expiresAt: number }>>();
  /** sessionId → the list this node published last (JSON), while it is not empty. */
  const shared = new Map<string, string>();

  /** Publishes this node's viewers of the session when they differ from what it published last (or `force`). */
  function shareLocal(sessionId: string, local: readonly RemoteViewer[], force = false): void {
    if (!share) return;
    const json = JSON.stringify(local);
    if (!force && (shared.get(sessionId) ?? '[]') === json) return;
    if (local.length) shared.set(sessionId, json);
    else shared.delete(sessionId);
    share.publish(sessionId, [...local], ttlMs);
  }

  /** Other nodes' viewers of the session whose lists still hold. */
  function remoteViewers(sessionId: string): RemoteViewer[] {
    const byNode = remote.get(sessionId);
    if (!byNode) return [];
    const t = now();
    const out: RemoteViewer[] = [];
    for (const [nodeId, entry] of byNode) {
      if (entry.expiresAt <= t) byNode.delete(nodeId);
      else out.push(...entry.viewers);
    }
    if (byNode.size === 0) remote.delete(sessionId);
    return out;
  }

  // While this node has viewers, its lists are sent again every third of the TTL; other nodes' lists
  // that ran out (their node died) are dropped and this node's viewers get the list without them.
  const heartbeat = share
    ? setInterval(
        () => {
          for (const [sessionId, json] of shared) shareLocal(sessionId, JSON.parse(json) as RemoteViewer[], true);
          const t = now();
          for (const [sessionId, byNode] of remote) {
            if (![...byNode.values()].some((e) => e.expiresAt <= t)) continue;
            remoteViewers(sessionId);
            if (bySession.has(sessionId))
              void publishViewers(sessionId).catch((err: unknown) => log.warn({ err, sessionId }, 'viewers push failed'));
          }
        },
        Math.max(250, Math.floor(ttlMs / 3)),
      )
    : null;
  heartbeat?.unref();

  /**
   * Pushes the session's viewer list to every socket viewing it. Each viewer is checked again with the
   * `session.view` policy on the session's current skill group (the check `session:view` makes): one
   * who may no longer see it (the contact moved to a group outside their scope, or it is gone) is
   * dropped, gets an empty list (`assignedAgentId: null`, no viewers: nothing about the contact any
   * more) and loses their pending take-over of it (`cancelled`). The rest get the list without them.
   */
  async function publishViewers(sessionId: string): Promise<SessionViewers> {
    const session = await deps.store.getSession(sessionId);
    const assignedAgentId = session && session.status === 'active' ? session.assignedAgentId : null;
    const allowed = (u: UserView) => !!session && can(u, 'session.view', { skillGroup: session.skillGroup });
    const gone = [...(bySession.get(sessionId)?.values() ?? [])].filter((ref) => !allowed(ref.user));
    for (const ref of gone) remove(ref.socketId, sessionId);
    if (gone.length) {
      deps.push.viewers(
        gone.map((ref) => ref.socketId),
        { sessionId, assignedAgentId: null, viewers: [] },
      );
      for (const userId of new Set(gone.map((ref) => ref.user.id))) cancelRequestsOf(userId, sessionId);
      log.info({ sessionId, dropped: gone.length }, 'viewers out of scope dropped');
    }
    const refs = bySession.get(sessionId) ?? new Map<string, ViewerRef>();
    const people = new Map<string, SessionViewer>();
    const add = (v: RemoteViewer) => {
      const seen = people.get(v.id);
      // A person both in the workstation and supervising is shown as working the conversation.
      if (seen && seen.via === 'workstation') return;
      people.set(v.id, { id: v.id, name: v.name, via: v.via, assigned: v.id === assignedAgentId });
    };
    for (const ref of refs.values()) add({ id: ref.user.id, name: ref.user.displayName, via: ref.via });
    shareLocal(
      sessionId,
      [...people.values()].map(({ id, name, via }) => ({ id, name, via })).sort((a, b) => a.id.localeCompare(b.id)),
    );
    for (const v of remoteViewers(sessionId)) add(v);
    const payload: SessionViewers = {
      sessionId,
      assignedAgentId,
      viewers: [...people.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)),
    };
    if (refs.size) deps.push.viewers([...refs.keys()], payload);
    return payload;
  }

  /**
   * The requester's pending take-over of the session ends `cancelled` once they view it on no socket
   * (left it, opened another, disconnected, signed out, or lost sight of it): the holder's prompt is
   * withdrawn and a late answer is TAKEOVER_NOT_PENDING.
   */
  function cancelRequestsOf(userId: string, sessionId: string): void {
    if (viewing(userId, sessionId)) return;
    for (const t of [...takeovers.values()])
      if (t.sessionId === sessionId && t.requester.id === userId && t.status === 'pending') finish(t, 'cancelled');
  }

  function remove(socketId: string, sessionId: string): boolean {
    const refs = bySession.get(sessionId);
    const had = refs?.delete(socketId) ?? false;
    if (refs && refs.size === 0) bySession.delete(sessionId);
    const sessions = bySocket.get(socketId);
    sessions?.delete(sessionId);
    if (sessions && sessions.size === 0) bySocket.delete(socketId);
    return had;
  }

  function publicView(t: Takeover): TakeoverView {
    const { timer: _timer, ...view } = t;
    void _timer;
    return view;
  }

  function finish(t: Takeover, status: TakeoverStatus, extra: Partial<Pick<TakeoverView, 'transferId' | 'error'>> = {}): TakeoverView {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.status = status;
    t.decidedAt = new Date(now()).toISOString();
    Object.assign(t, extra);
    takeovers.delete(t.id);
    ended.set(t.id, t);
    if (ended.size > ENDED_KEPT) ended.delete(ended.keys().next().value!);
    const view = publicView(t);
    deps.push.updated([t.requester.id, t.holder.id], view);
    log.info({ takeoverId: t.id, sessionId: t.sessionId, status }, 'take-over ended');
    return view;
  }

  const viewing = (userId: string, sessionId: string) =>
    [...(bySession.get(sessionId)?.values() ?? [])].some((ref) => ref.user.id === userId);

  return {
    async view(ref, sessionId) {
      const session = await deps.store.getSession(sessionId);
      if (!session || !can(ref.user, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
      let refs = bySession.get(sessionId);
      if (!refs) bySession.set(sessionId, (refs = new Map()));
      const before = refs.get(ref.socketId);
      // A workstation view is not downgraded by the same socket's supervision view.
      if (!before || before.via === 'supervising') refs.set(ref.socketId, ref);
      let sessions = bySocket.get(ref.socketId);
      if (!sessions) bySocket.set(ref.socketId, (sessions = new Set()));
      sessions.add(sessionId);
      return publishViewers(sessionId);
    },

    async unview(socketId, sessionId) {
      const ref = bySession.get(sessionId)?.get(socketId);
      if (!ref || !remove(socketId, sessionId)) return;
      cancelRequestsOf(ref.user.id, sessionId);
      await publishViewers(sessionId);
    },

    async dropSocket(socketId) {
      const sessions = [...(bySocket.get(socketId) ?? [])];
      const users = new Map(sessions.map((sessionId) => [sessionId, bySession.get(sessionId)?.get(socketId)?.user.id]));
      for (const sessionId of sessions) remove(socketId, sessionId);
      for (const [sessionId, userId] of users) if (userId) cancelRequestsOf(userId, sessionId);
      await Promise.all(sessions.map((sessionId) => publishViewers(sessionId)));
    },

    async sessionChanged(sessionId) {
      const pending = [...takeovers.values()].filter((t) => t.sessionId === sessionId);
      if (!bySession.has(sessionId) && pending.length === 0) return;
      const session = await deps.store.getSession(sessionId);
      for (const t of pending)
        if (!session || session.status !== 'active' || session.assignedAgentId !== t.holder.id) finish(t, 'cancelled');
      if (bySession.has(sessionId)) await publishViewers(sessionId);
    },

    isViewing: viewing,

    async applyRemote(nodeId, sessionId, viewers, listTtlMs) {
      if (!share || nodeId === share.nodeId) return;
      let byNode = remote.get(sessionId);
      if (viewers.length) {
        if (!byNode) remote.set(sessionId, (byNode = new Map()));
        byNode.set(nodeId, { viewers: [...viewers], expiresAt: now() + listTtlMs });
      } else if (byNode) {
        byNode.delete(nodeId);
        if (byNode.size === 0) remote.delete(sessionId);
      }
      if (bySession.has(sessionId)) await publishViewers(sessionId);
    },

    viewerSockets(sessionId) {
      return [...(bySession.get(sessionId)?.keys() ?? [])];
    },

    async request(actor, sessionId) {
      const session = await deps.store.getSession(sessionId);
      if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
      if (!can(actor, 'session.takeover', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const holderId = session.status === 'active' ? session.assignedAgentId : null;
      if (!holderId) throw new HuiliuError('NO_AGENT_ASSIGNED', 'Nobody holds this contact: accept it from the queue instead.');
      if (holderId === actor.id) throw new HuiliuError('TAKEOVER_OWN');
      if (!viewing(actor.id, sessionId)) throw new HuiliuError('NOT_VIEWING');
      if ([...takeovers.values()].some((t) => t.sessionId === sessionId)) throw new HuiliuError('TAKEOVER_PENDING');
      const holder = deps.directory.userById(holderId);
      const t: Takeover = {
        id: randomUUID(),
        sessionId,
        requester: person(actor),
        holder: { id: holderId, name: holder?.displayName ?? holderId },
        status: 'pending',
        expiresAt: new Date(now() + timeoutMs).toISOString(),
        decidedAt: null,
        transferId: null,
        error: null,
        timer: null,
      };
      t.timer = setTimeout(() => {
        if (takeovers.get(t.id) === t) finish(t, 'expired');
      }, timeoutMs);
      t.timer.unref();
      takeovers.set(t.id, t);
      const view = publicView(t);
      deps.push.requested(holderId, view);
      deps.push.updated([actor.id], view);
      log.info({ takeoverId: t.id, sessionId }, 'take-over requested');
      return view;
    },

    async answer(actor, takeoverId, accept) {
      const t = takeovers.get(takeoverId) ?? ended.get(takeoverId);
      if (!t || t.holder.id !== actor.id) throw new HuiliuError('TAKEOVER_NOT_FOUND');
      if (t.status !== 'pending') throw new HuiliuError('TAKEOVER_NOT_PENDING');
      const audit = (outcome: string, detail: Record<string, unknown>) =>
        deps.audit?.({
          actorId: actor.id,
          actorName: actor.username,
          action: 'session.takeover',
          sessionId: t.sessionId,
          outcome,
          detail: { takeoverId: t.id, requester: t.requester.id, holder: t.holder.id, ...detail },
        });
      if (!accept) {
        audit('ok', { decision: 'declined' });
        return finish(t, 'declined');
      }
      // Taken out of the pending set first: a second answer or the timer cannot act on it meanwhile.
      if (t.timer) clearTimeout(t.timer);
      t.timer = null;
      takeovers.delete(t.id);
      const requester = deps.directory.userById(t.requester.id);
      try {
        if (!requester) throw new HuiliuError('TRANSFER_TARGET_NOT_FOUND', 'The agent who asked is unknown.');
        const transfer = await deps.transfers.transfer(actor, {
          sessionId: t.sessionId,
          to: { kind: 'agent', agentId: requester.id },
          mode: 'warm',
          note: takeoverNote(requester.displayName),
        });
        await deps.transfers.accept(requester, transfer.id);
        audit('ok', { decision: 'accepted', transferId: transfer.id });
        return finish(t, 'accepted', { transferId: transfer.id });
      } catch (error) {
        const code = error instanceof HuiliuError ? error.code : 'INTERNAL';
        if (!(error instanceof HuiliuError)) log.error({ err: error, takeoverId: t.id }, 'take-over hand-over failed');
        audit('failed', { decision: 'accepted', code });
        return finish(t, 'failed', { error: code });
      }
    },

    pendingFor(userId) {
      return [...takeovers.values()]
        .filter((t) => t.status === 'pending' && (t.holder.id === userId || t.requester.id === userId))
        .map(publicView);
    },

    stop() {
      if (heartbeat) clearInterval(heartbeat);
      // The other nodes forget this one's viewers now rather than when their lists run out.
      for (const sessionId of [...shared.keys()]) shareLocal(sessionId, []);
      remote.clear();
      for (const t of takeovers.values()) if (t.timer) clearTimeout(t.timer);
      takeovers.clear();
      ended.clear();
    },
  };
}
