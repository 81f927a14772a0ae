import type { SessionFacts } from '../../../common/events/events';
import { textOf, type Envelope } from '../../../common/message/envelope';
import { DETAIL_PAGE, type MessageView, type SessionDetail, type SessionSummary } from '../../../common/api/sessions';
import type { UserView } from '../../../common/api/auth';
import { canSeeSession, seesTeam } from '../auth/rbac';
import { sessionFacts } from '../bus/events';
import type { SessionRecord, SessionStore } from './store';
import { truncateText } from '../../../common/text/text';

export function toMessageView(e: Envelope): MessageView {
  return {
    id: e.id,
    sessionId: e.sessionId,
    conversationId: e.conversationId,
    seq: e.seq,
    direction: e.direction,
    channel: e.channel,
    authorId: e.authorId ?? null,
    sentAt: e.sentAt,
    receivedAt: e.receivedAt,
    kind: e.kind,
    body: e.body,
  } as MessageView;
}

const PREVIEW = 120;

/** What a queue row shows of a session besides its customer and last message: its ids and facts. */
export type QueueRowFacts = SessionFacts & { id: string; conversationId: string };

/** The queue-row facts of a stored session. */
export const queueRowFacts = (s: SessionRecord): QueueRowFacts => ({ id: s.id, conversationId: s.conversationId, ...sessionFacts(s) });

/**
 * A session's queue row from what the caller already has, reading nothing: the facts (from the store
 * or an event), the customer's name (null: unknown) and the conversation's newest message.
 */
export function queueRow(s: QueueRowFacts, customerName: string | null, last: Envelope | null): SessionSummary {
  return {
    id: s.id,
    conversationId: s.conversationId,
    customerId: s.customerId,
    customerName: customerName ?? 'Unknown customer',
    channel: s.channel,
    status: s.status,
    skillGroup: s.skillGroup,
    assignedAgentId: s.assignedAgentId,
    offeredAgentId: s.offeredAgentId,
    tier: s.tier,
    priority: s.priority,
    lastMessagePreview: truncateText(last ? textOf(last) : '', PREVIEW, '…'),
    lastMessageAt: s.lastMessageAt,
    createdAt: s.createdAt,
    waitingSince: s.waitingSince,
  };
}

/** Staff-facing views of sessions, assembled from the store (decrypting what they show). */
export class SessionViews {
  constructor(private readonly store: SessionStore) {}

  /** `last`: the conversation's newest message when the caller already has it (saves a read). */
  async summary(s: SessionRecord, last?: Envelope): Promise<SessionSummary> {
    const [customer, newest] = await Promise.all([this.store.getCustomer(s.customerId), last ?? this.store.lastMessage(s.conversationId)]);
    return queueRow(queueRowFacts(s), customer?.name ?? null, newest);
  }

  /**
   * The session as `viewer` may see it: the newest DETAIL_PAGE messages (C8: never the oldest), and
   * only the previous sessions the viewer's policy allows (B6: same rule as the session route).
   */
  async detail(s: SessionRecord, viewer: UserView): Promise<SessionDetail> {
    const [summary, page, customer, previous] = await Promise.all([
      this.summary(s),
      this.store.recentMessages(s.conversationId, { limit: DETAIL_PAGE }),
      this.store.getCustomer(s.customerId),
      this.store.listSessions({ customerId: s.customerId, limit: 50 }),
    ]);
    return {
      ...summary,
      wrapUpCode: s.wrapUpCode,
      closedAt: s.closedAt,
      messages: page.messages.map(toMessageView),
      hasOlderMessages: page.hasOlder,
      // Who else was considered (colleagues' ids, load, presence) is for leads and admins (B6 kind).
      routing:
        s.routing && s.routing.candidates && !seesTeam(viewer)
          ? { ...s.routing, candidates: s.routing.candidates.filter((c) => c.agentId === viewer.id) }
          : s.routing,
      context: {
        customer: { id: s.customerId, name: customer?.name ?? 'Unknown customer', channels: customer?.channels ?? [] },
        previousSessions: previous
          .filter((p) => p.id !== s.id && canSeeSession(viewer, p))
          .map((p) => ({ id: p.id, channel: p.channel, status: p.status, createdAt: p.createdAt })),
      },
    };
  }
}
