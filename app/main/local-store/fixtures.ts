import type { MessageView } from '../../../common/api/sessions';

export const FIXTURE_SESSION = 'WB169208100012348213';

/**
 * A realistic interaction as the agent socket sends it (tests and the bench): alternating customer and
 * agent text of typical chat length (≈ 60–200 characters), received one minute apart.
 */
export function messageView(conversationId: string, seq: number, text?: string): MessageView {
  const inbound = seq % 2 === 1;
  return {
    id: `${conversationId}-m${seq}`,
    sessionId: FIXTURE_SESSION,
    conversationId,
    seq,
    direction: inbound ? 'in' : 'out',
    channel: 'WB',
    authorId: inbound ? null : 'agent-7',
    author: inbound ? 'customer' : 'agent',
    sentAt: new Date(Date.UTC(2026, 10, 30, 9, seq)).toISOString(),
    receivedAt: new Date(Date.UTC(2026, 10, 30, 9, seq, 1)).toISOString(),
    kind: 'text',
    body: {
      text:
        text ??
        (inbound
          ? `我的订单 ${seq} 还没有发货，已经等了三天了，请帮我查一下物流状态，谢谢。Order ${seq} has not shipped yet.`
          : `您好，我已经帮您查询了订单 ${seq}，仓库今天会发出，稍后会收到物流短信。Sorry for the wait — it ships today.`),
    },
  };
}
