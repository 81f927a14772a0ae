import { textOf, type Envelope } from '../../../common/message/envelope';
import { DETAIL_PAGE, type MessageView, type SessionDetail, type SessionSummary } from '../../../common/api/sessions';
import type { UserView } from '../../../common/api/auth';
import { canSeeSession, seesTeam } from '../auth/rbac';
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

/** Staff-facing views of sessions, assembled from the store (decrypting what they show). */
export class SessionViews {
  constructor(private readonly store: SessionStore) {}

  /** `last`: the conversation's newest message when the caller already has it (saves a read). */
  async summary(s: SessionRecord, last?: Envelope): Promise<SessionSummary> {
    const [customer, newest] = await Promise.all([this.store.getCustomer(s.customerId), last ?? this.store.lastMessage(s.conversationId)]);
    const preview = newest ? textOf(newest) : '';
    return {
      id: s.id,
      conversationId: s.conversationId,
      customerId: s.customerId,
      customerName: customer?.name ?? 'Unknown customer',
      channel: s.channel,
      status: s.status,
      skillGroup: s.skillGroup,
      assignedAgentId: s.assignedAgentId,
      offeredAgentId: s.offeredAgentId,
      tier: s.routing?.tier ?? null,
      priority: s.routing?.priority ?? null,
      lastMessagePreview: truncateText(preview, PREVIEW, '…'),
      lastMessageAt: s.lastMessageAt,
      createdAt: s.createdAt,
      waitingSince: s.waitingSince,
    };
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
