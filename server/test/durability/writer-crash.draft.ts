import type { InboundDraft } from '../../../common/message/envelope';

/** The crash tests' messages: customer `crash-<customer>`, message `n`, a fixed text per (customer, n). */
export function crashDraft(customer: number, n: number): InboundDraft {
  const t = new Date().toISOString();
  return {
    identity: { channel: 'AP', externalId: `crash-${customer}` },
    clientMessageId: `c${customer}-m${n}`,
    content: { kind: 'text', body: { text: `message ${n} from customer ${customer}` } },
    critical: false,
    sentAt: t,
    receivedAt: t,
    meta: {},
  };
}
