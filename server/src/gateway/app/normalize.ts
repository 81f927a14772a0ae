import type { AppMessageRequest } from '../../../../common/api/app-channel';
import type { InboundDraft } from '../../../../common/message/envelope';

/** App channel request → InboundDraft. Nothing app-shaped passes this point. */
export function normalizeAppMessage(req: AppMessageRequest, keyName: string, now: Date): InboundDraft {
  const t = now.toISOString();
  return {
    identity: {
      channel: 'AP',
      externalId: req.customer.externalId,
      ...(req.customer.name ? { displayName: req.customer.name } : {}),
      ...(req.customer.phone ? { phone: req.customer.phone } : {}),
    },
    content: { kind: 'text', body: { text: req.text } },
    critical: true,
    clientMessageId: req.clientMessageId,
    sentAt: t,
    receivedAt: t,
    meta: { appKey: keyName },
    ...(req.hints ? { hints: req.hints } : {}),
  };
}
