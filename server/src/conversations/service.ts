import { HuiliuError } from '../../../common/errors/codes';
import type { UserView } from '../../../common/api/auth';
import {
  HISTORY_PAGE_MAX,
  type MessagePageView,
  type MessageView,
  type SessionDetail,
  type SessionSummary,
  type WrapUpCode,
} from '../../../common/api/sessions';
import { can } from '../auth/policy';
import type { Bus } from '../bus/bus';
import { newEvent, sessionChanged, sessionFacts } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { SessionViews } from '../sessions/views';

/**
 * Who acts in a use case: a signed-in staff user as the auth service verified them. The AI tier and
 * SIP get their own actor kinds when they arrive; every use case below asks the same RBAC rules of it.
 */
export type ConversationActor = UserView;

export interface ConversationDeps {
  store: SessionStore;
  /** Offer timers and re-offers; the service tells it when a contact was taken, closed or handed back. */
  router: Pick<Router, 'settle' | 'agentAvailable' | 'reoffer'>;
  /** This node's view of agents; their chat count is set from the store after every change (C9). */
  pool: AgentPool;
  bus: Bus;
  views: SessionViews;
  logger: Logger;
  /** Clock, ms since the epoch. */
  now?: () => number;
}

export interface ReplyInput {
  sessionId: string;
  /** The sender's idempotency key: the same id again answers the stored message, once. */
  clientMessageId: string;
  text: string;
}

export interface CloseInput {
  sessionId: string;
  wrapUpCode: WrapUpCode;
  /** Free text kept encrypted with the session, at most 2,000 characters (the transport checks it). */
  note?: string;
}

export interface HistoryInput {
  sessionId: string;
  /** The page ends just before this seq; omitted: the newest page. */
  beforeSeq?: number;
  /** At most HISTORY_PAGE_MAX (the default). */
  limit?: number;
}

/**
 * The conversation use cases (DESIGN §6), called alike by the agent socket, the REST routes and,
 * later, SIP and the AI tier. Each use case applies the RBAC rules itself (an unseen session is
 * SESSION_NOT_FOUND, a seen but not handled one FORBIDDEN), so no transport can forget them, and
 * returns what the staff client shows. Errors are HuiliuError with codes from common/errors/codes.ts.
 *
 * Transfer, AI draft approval and supervisor join belong here too; they are not declared until
 * they have a behaviour (see docs/architecture.md "Conversations").
 */
export interface ConversationService {
  /** The session as the actor may see it (newest page of messages, context). SESSION_NOT_FOUND. */
  open(actor: ConversationActor, sessionId: string): Promise<SessionDetail>;
  /** An older page of the session's conversation, oldest first inside the page (C8). SESSION_NOT_FOUND. */
  history(actor: ConversationActor, input: HistoryInput): Promise<MessagePageView>;
  /**
   * Takes a waiting or offered contact. Idempotent per agent: asking again answers the same detail
   * and changes nothing (the store's `claim` decides once). SESSION_NOT_FOUND, FORBIDDEN,
   * OFFER_TAKEN (someone else has it), SESSION_CLOSED.
   */
  accept(actor: ConversationActor, sessionId: string): Promise<SessionDetail>;
  /**
   * Stores the agent's text message and hands it to the channel (`message.out`). Idempotent on
   * `clientMessageId`. SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED, SESSION_CLOSED,
   * IDEMPOTENCY_CONFLICT.
   */
  reply(actor: ConversationActor, input: ReplyInput): Promise<MessageView>;
  /**
   * Wraps up the actor's active session; the agent's freed slot is offered waiting contacts.
   * SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED, SESSION_CLOSED.
   */
  close(actor: ConversationActor, input: CloseInput): Promise<SessionSummary>;
  /**
   * Hands the actor's active session back to the queue; it is offered to another agent first.
   * SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED (not theirs, or no longer active), SESSION_CLOSED.
   */
  release(actor: ConversationActor, sessionId: string): Promise<SessionSummary>;
}

/** Builds the service on its ports; it holds no state of its own (the store has it all). */
export function createConversationService(deps: ConversationDeps): ConversationService {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'conversations' });

  async function seen(actor: ConversationActor, sessionId: string): Promise<SessionRecord> {
    const session = await deps.store.getSession(sessionId);
    // A session of another group is not there for this actor: not even its existence leaks.
    if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
    return session;
  }

  async function handled(actor: ConversationActor, sessionId: string): Promise<SessionRecord> {
    const session = await seen(actor, sessionId);
    if (!can(actor, 'session.handle', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  /** Capacity comes from the store's count of the agent's active sessions (C9), never a side counter. */
  async function syncCapacity(agentId: string): Promise<void> {
    deps.pool.setActiveChats(agentId, await deps.store.activeChatCount(agentId), now());
  }

  /** The agent has a free slot: waiting contacts are offered in the background, failures logged. */
  function offerWaiting(agentId: string): void {
    void deps.router.agentAvailable(agentId).catch((error: unknown) => log.error({ err: error }, 'offering waiting contacts failed'));
  }

  return {
    async open(actor, sessionId) {
      return deps.views.detail(await seen(actor, sessionId), actor);
    },

    async history(actor, { sessionId, beforeSeq, limit }) {
      const session = await seen(actor, sessionId);
      const page = await deps.store.recentMessages(session.conversationId, {
        ...(beforeSeq ? { beforeSeq } : {}),
        limit: limit ?? HISTORY_PAGE_MAX,
      });
      return { messages: await deps.views.messages(page.messages), hasOlder: page.hasOlder };
    },

    async accept(actor, sessionId) {
      const before = await handled(actor, sessionId);
      const { session, changed } = await deps.store.claim(sessionId, actor.id);
      // Only the claim that changed the session acts on it: a double accept counts once (C9).
      if (changed) {
        deps.router.settle(sessionId);
        await syncCapacity(actor.id);
        await deps.bus.publish(sessionChanged(session, 'accepted', actor.id, undefined, before));
      }
      return deps.views.detail(session, actor);
    },

    async reply(actor, { sessionId, clientMessageId, text }) {
      const session = await handled(actor, sessionId);
      if (session.assignedAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      const { envelope, duplicate } = await deps.store.appendOutbound({
        sessionId,
        authorId: actor.id,
        clientMessageId,
        content: { kind: 'text', body: { text } },
        critical: true,
      });
      if (!duplicate) {
        await deps.bus.publish(
          newEvent(
            'message.out',
            { actor: actor.id, sessionId, conversationId: envelope.conversationId, payload: { envelope, session: sessionFacts(session) } },
            now,
          ),
        );
      }
      return deps.views.message(envelope);
    },

    async close(actor, { sessionId, wrapUpCode, note }) {
      await handled(actor, sessionId);
      const closed = await deps.store.close(sessionId, actor.id, wrapUpCode, note);
      deps.router.settle(sessionId);
      await syncCapacity(actor.id);
      await deps.bus.publish(sessionChanged(closed, 'closed', actor.id));
      offerWaiting(actor.id);
      return deps.views.summary(closed);
    },

    async release(actor, sessionId) {
      const session = await handled(actor, sessionId);
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const released = await deps.store.release(sessionId, actor.id);
      // The store's conditional update decides: not active with this agent (any more) → not theirs.
      if (!released) throw new HuiliuError('NOT_ASSIGNED');
      await syncCapacity(actor.id);
      await deps.bus.publish(sessionChanged(released, 'released', actor.id));
      // Other agents go first; the releasing agent's own free slot fills at their next availability.
      const routed = await deps.router.reoffer(sessionId, actor.id);
      return deps.views.summary(routed ?? released);
    },
  };
}
