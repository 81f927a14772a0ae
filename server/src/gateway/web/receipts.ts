import { HuiliuError } from '../../../../common/errors/codes';
import type { UserView } from '../../../../common/api/auth';
import type { AgentTyping, SessionRead } from '../../../../common/socket/agent-events';
import { can } from '../../auth/policy';
import type { Bus } from '../../bus/bus';
import { newEvent, sessionFacts } from '../../bus/events';
import type { SessionRecord, SessionStore } from '../../sessions/store';
import type { WidgetStateStore } from './state';

/**
 * The agent's half of typing and read receipts (issue 13): the use cases behind the agent socket's
 * `agent:typing` and `session:read`. Both are published for every channel; the web channel is the
 * one that shows them (its adapter's fan-out), others ignore them.
 */
export interface AgentReceipts {
  /**
   * The assigned agent's typing state, published volatile (`agent.typing`): `forwarded` when the
   * session is a web chat (the visitor's widget shows it). SESSION_NOT_FOUND (not visible to the
   * actor), NOT_ASSIGNED (not the actor's active chat).
   */
  typing(actor: UserView, input: AgentTyping): Promise<{ forwarded: boolean }>;
  /**
   * Raises the staff read mark of the session's conversation to `upToSeq` (cut to the conversation's
   * last seq; never lowered) and publishes `conversation.read` when it moved. Answers the stored mark.
   * Only the assigned agent moves the customer's "Read" mark, as only they type and reply: a lead
   * supervising or a colleague viewing it does not. SESSION_NOT_FOUND (unknown or not visible to the
   * actor), NOT_ASSIGNED (not the actor's active chat).
   */
  read(actor: UserView, input: SessionRead): Promise<{ upToSeq: number }>;
}

export function createAgentReceipts(deps: { store: SessionStore; state: WidgetStateStore; bus: Bus }): AgentReceipts {
  async function seen(actor: UserView, sessionId: string): Promise<SessionRecord> {
    const session = await deps.store.getSession(sessionId);
    if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
    return session;
  }
  return {
    async typing(actor, { sessionId, typing }) {
      const session = await seen(actor, sessionId);
      if (session.status !== 'active' || session.assignedAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      await deps.bus.publish(
        newEvent('agent.typing', {
          actor: actor.id,
          sessionId: session.id,
          conversationId: session.conversationId,
          payload: { typing, session: sessionFacts(session) },
        }),
      );
      return { forwarded: session.channel === 'WB' };
    },

    async read(actor, { sessionId, upToSeq }) {
      const session = await seen(actor, sessionId);
      if (session.status !== 'active' || session.assignedAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      // Nobody reads past the newest message: a mark ahead of it would count later messages as read.
      const last = (await deps.store.lastMessage(session.conversationId))?.seq ?? 0;
      const mark = await deps.state.raiseReadMark(session.conversationId, 'agent', Math.min(upToSeq, last));
      if (mark.changed) {
        await deps.bus.publish(
          newEvent('conversation.read', {
            actor: actor.id,
            sessionId: session.id,
            conversationId: session.conversationId,
            payload: { side: 'agent', upToSeq: mark.upToSeq, session: sessionFacts(session) },
          }),
        );
      }
      return { upToSeq: mark.upToSeq };
    },
  };
}
