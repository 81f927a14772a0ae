import type { ChannelAdapter } from '../channel-adapter';
import { carries, unsupportedKind } from '../channel-adapter';

/**
 * The app / HTTP channel's adapter (`AP`). Inbound is the plugin's POST route (plugin.ts); outbound
 * is passive: the integrating app polls `GET /api/v1/channels/app/messages`, which reads the store,
 * so a stored reply is `sent` as soon as it is stored — nothing is pushed, and the server cannot know
 * whether the app has fetched it (no `delivered`).
 */
export function createAppChannelAdapter(): ChannelAdapter {
  const capabilities = { text: true, image: false, file: false, audio: false, typing: false, readReceipts: false, passiveReply: false };
  return {
    channel: 'AP',
    capabilities,
    async send(envelope) {
      if (!carries(capabilities, envelope.kind)) return unsupportedKind('AP', envelope.kind);
      return { state: 'sent' };
    },
  };
}
