import type { SessionFacts } from '../../../common/events/events';
import type { DeliveryResult } from '../../../common/message/delivery';
import type { Envelope, MessageKind } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';

export type { DeliveryResult } from '../../../common/message/delivery';

/**
 * What a channel can carry (Chatwoot's per-channel feature flags): the dispatcher, the workstation
 * and later the AI tier ask this instead of branching on channel codes. `passiveReply`: the channel
 * can only answer within a window the customer opened (WeChat's 48 h customer-service window).
 */
export interface ChannelCapabilities {
  text: boolean;
  image: boolean;
  file: boolean;
  audio: boolean;
  typing: boolean;
  readReceipts: boolean;
  passiveReply: boolean;
}

/**
 * One channel adapter (DESIGN §1, Chatwoot's channel model + incoming-message service +
 * send-on-channel service). Inbound is the adapter's own business — a route, a socket, a long-lived
 * XMPP stream, a SIP callback — and ends in `normalize` → `Ingest.accept(InboundDraft)`, so nothing
 * channel-shaped passes that point. Outbound comes only through `send`, called by the one outbound
 * dispatcher (gateway/dispatcher.ts) for every stored `message.out` of a session on `channel`.
 *
 * A new channel implements this interface, registers itself in `ChannelAdapters` and passes
 * `channelAdapterContract` (gateway/adapter.contract.ts).
 */
export interface ChannelAdapter {
  readonly channel: ChannelCode;
  readonly capabilities: ChannelCapabilities;
  /**
   * Hands one stored outbound message to the channel. Never throws for a channel's refusal: that is
   * `{state:'failed', error:{code, message}}` with the channel's own code (a throw is recorded as
   * failed too, with code `ADAPTER_ERROR`). Called at least once per message (the bus may redeliver),
   * so an adapter that talks to a remote API passes `envelope.id` as its idempotency key.
   * @param session the session's facts as the publisher saw them (customer, channel, agent)
   */
  send(envelope: Envelope, session: SessionFacts): Promise<DeliveryResult>;
}

/** The message kinds a channel's capabilities let it carry (`event` messages never go out). */
export function carries(capabilities: ChannelCapabilities, kind: MessageKind): boolean {
  switch (kind) {
    case 'text':
      return capabilities.text;
    case 'image':
      return capabilities.image;
    case 'file':
      return capabilities.file;
    case 'audio':
      return capabilities.audio;
    default:
      return false;
  }
}

/** The channel's answer for a kind it cannot carry: a `failed` delivery in the channel's words. */
export function unsupportedKind(channel: ChannelCode, kind: MessageKind): DeliveryResult {
  return { state: 'failed', error: { code: 'UNSUPPORTED_KIND', message: `The ${channel} channel cannot carry ${kind} messages.` } };
}

/** The adapters of this node, one per channel code: the dispatcher picks from here. */
export class ChannelAdapters {
  private readonly byChannel = new Map<ChannelCode, ChannelAdapter>();

  /** @throws Error when the channel already has an adapter (a wiring bug). */
  register(adapter: ChannelAdapter): void {
    if (this.byChannel.has(adapter.channel)) throw new Error(`channel ${adapter.channel} already has an adapter`);
    this.byChannel.set(adapter.channel, adapter);
  }

  get(channel: ChannelCode): ChannelAdapter | null {
    return this.byChannel.get(channel) ?? null;
  }

  all(): ChannelAdapter[] {
    return [...this.byChannel.values()];
  }
}
