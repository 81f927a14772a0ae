import { HuiliuError } from '../../../common/errors/codes';
import { isStaffOnly } from '../../../common/message/envelope';
import { DeliveryResultSchema, type DeliveryResult } from '../../../common/message/delivery';
import type { Bus, EventOf, Subscription } from '../bus/bus';
import { newEvent, onceById } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { ChannelAdapters } from './channel-adapter';
import type { ChannelStore } from './channels';

/** The bus work group of the outbound dispatcher: one node sends each message once. */
export const DISPATCHER_GROUP = 'dispatcher';

export interface OutboundDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The one outbound path (Chatwoot's send-on-channel service): consumes `message.out` as a **work**
 * consumer (group `dispatcher`, so exactly one node handles each message), picks the adapter by the
 * session's channel, calls its `send`, records the answer in the channels store and publishes
 * `delivery.changed` when the recorded state changed. Adapters never filter the bus by channel code.
 *
 * A session on a channel with no adapter on this node, an adapter that throws, or an answer that
 * breaks `DeliveryResultSchema` is recorded as `failed` (codes `NO_ADAPTER`, `ADAPTER_ERROR`): the
 * agent sees the message did not go out instead of nothing. Redelivered events are skipped by id.
 */
export function createOutboundDispatcher(deps: {
  bus: Bus;
  adapters: ChannelAdapters;
  channels: ChannelStore;
  logger: Logger;
}): OutboundDispatcher {
  const log = deps.logger.child({ component: 'gateway.dispatcher' });
  let sub: Subscription | null = null;

  const deliver = async (event: EventOf<'message.out'>): Promise<DeliveryResult> => {
    const { envelope, session } = event.payload;
    // Staff-only messages (internal notes, whispers, transfer records) never reach a customer, whoever
    // published them (issue 15): refused here, before any adapter sees them.
    if (isStaffOnly(envelope)) {
      log.error({ channel: session.channel, messageId: envelope.id }, 'a staff-only message was published for sending; not sent');
      return { state: 'failed', error: { code: 'STAFF_ONLY', message: 'Staff-only messages are never sent to the customer.' } };
    }
    const adapter = deps.adapters.get(session.channel);
    if (!adapter) return { state: 'failed', error: { code: 'NO_ADAPTER', message: `No adapter serves the ${session.channel} channel.` } };
    try {
      const answer = DeliveryResultSchema.safeParse(await adapter.send(envelope, session));
      if (answer.success) return answer.data;
      log.error({ channel: session.channel, messageId: envelope.id }, 'channel adapter answered an invalid delivery result');
      return { state: 'failed', error: { code: 'ADAPTER_ERROR', message: 'The channel adapter gave an invalid answer.' } };
    } catch (error) {
      // The error object is logged for the operator; the stored message is short and has no content.
      log.error({ err: error, channel: session.channel, messageId: envelope.id }, 'channel adapter send threw');
      const code = error instanceof HuiliuError ? error.code : 'ADAPTER_ERROR';
      return { state: 'failed', error: { code, message: 'The channel adapter failed to send the message.' } };
    }
  };

  return {
    async start() {
      sub ??= await deps.bus.subscribe(
        'message.out',
        DISPATCHER_GROUP,
        onceById(async (event: EventOf<'message.out'>) => {
          const { envelope, session } = event.payload;
          const result = await deliver(event);
          const { record, changed } = await deps.channels.recordDelivery(envelope.id, session.channel, result);
          if (!changed) return;
          await deps.bus.publish(
            newEvent('delivery.changed', {
              actor: 'system',
              sessionId: event.sessionId,
              conversationId: event.conversationId,
              payload: {
                messageId: record.messageId,
                channel: record.channel,
                state: record.state,
                ...(record.error ? { error: record.error } : {}),
                session,
              },
            }),
          );
        }),
      );
    },
    async stop() {
      await sub?.unsubscribe();
      sub = null;
    },
  };
}
