import type { AppMessageRequest } from '../../../../common/api/app-channel';
import type { InboundDraft } from '../../../../common/message/envelope';
import { joinKey } from '../../crypto/composite-key';

/**
 * The stored identity of an app's customer: the app id scopes the app's own user ids, so two
 * integrating apps never share (or read) each other's customers.
 */
// App ids never contain ':' (ChannelStore.addAccount refuses them), so this join is unambiguous (B7).
export const appExternalId = (appId: string, externalId: string) => joinKey(':', [appId, externalId]);

/** A checked and identified image (issue 10): what an `image` message's body says of it. */
export interface AppImage {
  attachmentId: string;
  mime: string;
  size: number;
}

/**
 * App channel request (already cleaned by `cleanAppMessage`) → InboundDraft. Nothing app-shaped
 * passes this point. `sentAt` is the server's time too: an app sends no trustworthy client clock.
 * With `image` (the request's image, checked and given its id) the message is of kind `image` and
 * its text, if any, the caption. `trust.mergeOnVerified`: the app account's setting — its
 * `customer.verified` identifiers may merge customers (IdentityLink.merge).
 */
export function normalizeAppMessage(
  req: AppMessageRequest,
  appId: string,
  now: Date,
  image?: AppImage,
  trust: { mergeOnVerified?: boolean } = {},
): InboundDraft {
  const t = now.toISOString();
  return {
    identity: {
      channel: 'AP',
      externalId: appExternalId(appId, req.customer.externalId),
      ...(req.customer.name ? { displayName: req.customer.name } : {}),
      ...(req.customer.phone ? { phone: req.customer.phone } : {}),
      // The app vouches for these; they merge with another customer who holds one only when the app
      // account is trusted to (settings.mergeOnVerified, docs/continuity.md).
      ...(req.customer.verified ? { links: req.customer.verified.map((l) => (trust.mergeOnVerified ? { ...l, merge: true } : l)) } : {}),
    },
    content: image
      ? { kind: 'image', body: { ...image, ...(req.text !== undefined ? { caption: req.text } : {}) } }
      : { kind: 'text', body: { text: req.text ?? '' } },
    critical: true,
    clientMessageId: req.clientMessageId,
    sentAt: t,
    receivedAt: t,
    meta: { appId },
    ...(req.hints ? { hints: req.hints } : {}),
  };
}
