import type { ChannelAdapter } from '../channel-adapter';
import { carries, unsupportedKind } from '../channel-adapter';
import type { AppWebhooks } from './webhooks';

/**
 * The app / HTTP channel's adapter (`AP`). Inbound is the plugin's POST route (plugin.ts); outbound
 * is passive: the integrating app polls `GET /api/v1/channels/app/messages`, which reads the store,
 * so a stored reply is `sent` as soon as it is stored — nothing is pushed, and the server cannot know
 * whether the app has fetched it (no `delivered`).
 *
 * Issue 13: an app account with a webhook (`settings.webhookUrl`) is pushed to as well. `send` queues
 * the delivery durably in `webhooks` and answers `sent`; the webhook worker records `delivered` on a
 * 2xx, or `failed` (`WEBHOOK_DEAD_LETTERED`, `WEBHOOK_REFUSED`) when it gives up (webhooks.ts).
 */
export function createAppChannelAdapter(webhooks?: AppWebhooks): ChannelAdapter {
  const capabilities = { text: true, image: false, file: false, audio: false, typing: false, readReceipts: false, passiveReply: false };
  return {
    channel: 'AP',
    capabilities,
    async send(envelope, session) {
      if (!carries(capabilities, envelope.kind)) return unsupportedKind('AP', envelope.kind);
      await webhooks?.enqueue(envelope, session);
      return { state: 'sent' };
    },
  };
}
