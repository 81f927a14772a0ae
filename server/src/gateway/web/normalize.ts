import { createHash } from 'node:crypto';
import type { InboundDraft } from '../../../../common/message/envelope';

/**
 * The web channel identity is the visitor token the widget keeps; only its hash is used as the
 * external id, so the stored identity cannot be replayed as a token.
 */
export function visitorExternalId(visitorToken: string): string {
  return createHash('sha256').update(`huiliu-visitor:${visitorToken}`).digest('hex');
}

export function normalizeWidgetMessage(
  frame: { clientMessageId: string; text: string; sentAt?: string | undefined },
  visitor: { token: string; name?: string | undefined },
  now: Date,
): InboundDraft {
  const t = now.toISOString();
  return {
    identity: {
      channel: 'WB',
      externalId: visitorExternalId(visitor.token),
      // No name means "unchanged": the store names a new visitor and keeps a name given earlier (C10).
      ...(visitor.name ? { displayName: visitor.name } : {}),
    },
    content: { kind: 'text', body: { text: frame.text } },
    critical: true,
    clientMessageId: frame.clientMessageId,
    sentAt: frame.sentAt ?? t,
    receivedAt: t,
    meta: {},
  };
}

/**
 * A tag of the visitor for `meta.visitorTag` on messages stored outside their socket (issue 13: an
 * upload over HTTP): the widget adapter of any node finds the visitor's tabs that have no customer
 * yet by it. A keyed-free hash of the external id (itself a hash of the token): it opens nothing.
 */
export function visitorTag(externalId: string): string {
  return createHash('sha256').update(`huiliu-visitor-tag:${externalId}`).digest('hex').slice(0, 32);
}
