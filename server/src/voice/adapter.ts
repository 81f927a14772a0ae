import type { ChannelAdapter } from '../gateway/channel-adapter';
import { unsupportedKind } from '../gateway/channel-adapter';

/**
 * The SIP voice channel's adapter (`SP`, issue 18). Inbound is Kamailio's callback
 * (`POST /api/v1/voice/route`, voice/plugin.ts); the conversation itself is audio between the caller
 * and the agent's softphone, bridged by Kamailio and rtpengine, so nothing written goes out on this
 * channel: a typed reply in a call's session is recorded `failed` (UNSUPPORTED_KIND) instead of
 * silently vanishing. (SIP MESSAGE to callers would be a later capability.)
 */
export function createVoiceChannelAdapter(): ChannelAdapter {
  const capabilities = { text: false, image: false, file: false, audio: false, typing: false, readReceipts: false, passiveReply: false };
  return {
    channel: 'SP',
    capabilities,
    send(envelope) {
      return Promise.resolve(unsupportedKind('SP', envelope.kind));
    },
  };
}
