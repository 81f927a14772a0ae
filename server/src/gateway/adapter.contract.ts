import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Content } from '../../../common/message/envelope';
import type { EventOf } from '../bus/bus';
import { newEvent, sessionFacts } from '../bus/events';
import type { TestServer } from '../../test/support/harness';
import { until } from '../../test/support/until';
import type { ChannelAdapter } from './channel-adapter';
import type { DeliveryRecord } from './channels';

/** What the contract suite needs from one channel: the customer's side of it, on a real server. */
export interface AdapterHarness {
  /** The running server (real store, bus, dispatcher, channels store). */
  server: TestServer;
  /** The adapter under test, as registered on the server. */
  adapter: ChannelAdapter;
  /**
   * One customer, talking the channel's own way (an HTTP post, a widget frame …). `say` sends one
   * message and resolves with the stored message id and session; saying the same `clientMessageId`
   * again is the channel's retry.
   */
  customer(): Promise<CustomerSide>;
  close(): Promise<void>;
}

export interface CustomerSide {
  say(text: string, clientMessageId: string): Promise<{ messageId: string; sessionId: string }>;
  /** The texts of the outbound messages this customer has received so far, oldest first (waits up to 5 s for `expect`). */
  received(expectText: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The contract every channel adapter passes (issue 7 §1): inbound traffic normalises to one stored
 * `message.in` on the adapter's channel; a channel retry of the same message stores and publishes
 * nothing new; an agent's reply reaches the customer through the outbound dispatcher and is
 * recorded with the state the adapter answered; a reply the channel refuses is recorded `failed`
 * with the channel's error. Run it as `channelAdapterContract('web', () => harness)`.
 */
export function channelAdapterContract(name: string, make: () => Promise<AdapterHarness>): void {
  describe(`channel adapter contract: ${name}`, () => {
    let h: AdapterHarness;
    const inbound: EventOf<'message.in'>[] = [];
    const deliveries: EventOf<'delivery.changed'>[] = [];
    beforeAll(async () => {
      h = await make();
      const bus = h.server.services.bus;
      await bus.subscribeAll('message.in', (e) => void inbound.push(e));
      await bus.subscribeAll('delivery.changed', (e) => void deliveries.push(e));
    });
    afterAll(async () => {
      await h.close();
    });

    /** Stores an agent's reply and publishes it as the agent hub does; resolves with the recorded delivery. */
    async function reply(sessionId: string, content: Content, clientMessageId: string): Promise<DeliveryRecord> {
      const { store, channels, bus } = h.server.services;
      const session = (await store.getSession(sessionId))!;
      const { envelope } = await store.appendOutbound({ sessionId, authorId: null, clientMessageId, content, critical: true });
      await bus.publish(
        newEvent('message.out', {
          actor: 'system',
          sessionId,
          conversationId: envelope.conversationId,
          payload: { envelope, session: sessionFacts(session) },
        }),
      );
      await until(async () => (await channels.delivery(envelope.id)) !== null);
      return (await channels.delivery(envelope.id))!;
    }

    it('normalises inbound traffic to one stored message.in on its own channel', async () => {
      const c = await h.customer();
      const { messageId, sessionId } = await c.say('where is my parcel?', `${name}-contract-in-1`);
      await until(() => inbound.some((e) => e.payload.envelope.id === messageId));
      const event = inbound.find((e) => e.payload.envelope.id === messageId)!;
      expect(event.payload.envelope).toMatchObject({
        channel: h.adapter.channel,
        direction: 'in',
        kind: 'text',
        body: { text: 'where is my parcel?' },
      });
      expect(event.sessionId).toBe(sessionId);
      expect(sessionId.startsWith(h.adapter.channel)).toBe(true);
      await c.close();
    });

    it('drops a duplicate: the same clientMessageId stores and publishes nothing new', async () => {
      const c = await h.customer();
      const first = await c.say('please call me back', `${name}-contract-dup-1`);
      const again = await c.say('please call me back', `${name}-contract-dup-1`);
      expect(again.messageId).toBe(first.messageId);
      const session = (await h.server.services.store.getSession(first.sessionId))!;
      const stored = await h.server.services.store.listMessages(session.conversationId);
      expect(stored.filter((m) => m.clientMessageId === `${name}-contract-dup-1`)).toHaveLength(1);
      await until(() => inbound.some((e) => e.payload.envelope.id === first.messageId));
      expect(inbound.filter((e) => e.payload.envelope.id === first.messageId)).toHaveLength(1);
      await c.close();
    });

    it("delivers an agent's reply to the customer and records the adapter's delivery state", async () => {
      const c = await h.customer();
      const { sessionId } = await c.say('is anyone there?', `${name}-contract-out-1`);
      const record = await reply(sessionId, { kind: 'text', body: { text: 'Yes, I am here.' } }, `${name}-contract-reply-1`);
      expect(['sent', 'delivered', 'read']).toContain(record.state);
      expect(record).toMatchObject({ channel: h.adapter.channel, error: null });
      expect(await c.received('Yes, I am here.')).toContain('Yes, I am here.');
      await until(() => deliveries.some((e) => e.payload.messageId === record.messageId));
      expect(deliveries.find((e) => e.payload.messageId === record.messageId)!.payload).toMatchObject({ state: record.state });
      await c.close();
    });

    it("records a reply the channel refuses as failed with the channel's error", async () => {
      // A kind the adapter declares it cannot carry is a refusal every channel can be asked for.
      const kinds = (['image', 'file', 'audio'] as const).filter((k) => !h.adapter.capabilities[k]);
      expect(kinds.length).toBeGreaterThan(0);
      const kind = kinds[0]!;
      const content: Content =
        kind === 'image'
          ? { kind, body: { attachmentId: 'att-1', mime: 'image/png', size: 1 } }
          : kind === 'file'
            ? { kind, body: { attachmentId: 'att-1', mime: 'application/pdf', name: 'invoice.pdf', size: 1 } }
            : { kind, body: { attachmentId: 'att-1', mime: 'audio/ogg', durationMs: 1000 } };
      const c = await h.customer();
      const { sessionId } = await c.say('send me the invoice', `${name}-contract-fail-1`);
      const record = await reply(sessionId, content, `${name}-contract-reply-2`);
      expect(record).toMatchObject({ state: 'failed', channel: h.adapter.channel, error: { code: 'UNSUPPORTED_KIND' } });
      await until(() => deliveries.some((e) => e.payload.messageId === record.messageId));
      expect(deliveries.find((e) => e.payload.messageId === record.messageId)!.payload).toMatchObject({
        state: 'failed',
        error: { code: 'UNSUPPORTED_KIND' },
      });
      await c.close();
    });
  });
}
