import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionFacts } from '../../../common/events/events';
import type { Envelope } from '../../../common/message/envelope';
import { NOTE_EVENT_NAME } from '../../../common/api/supervision';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Bus, EventOf } from '../bus/bus';
import { createMemoryBroker, type MemoryBroker } from '../bus/bus.memory';
import { newEvent } from '../bus/events';
import { createLocalKeyProvider } from '../keys/provider.local';
import type { KeyProvider } from '../keys/provider';
import { createLogger } from '../logging/logger';
import { newSessionId } from '../sessions/session-id';
import { until } from '../../test/support/until';
import { ChannelAdapters, type ChannelAdapter } from './channel-adapter';
import type { ChannelStore } from './channels';
import { createSqliteChannelStore } from './channels.sqlite';
import { createOutboundDispatcher, type OutboundDispatcher } from './dispatcher';

const logger = createLogger({ level: 'silent' });

/** One stored-looking outbound text message of a session on `channel`, as the hub publishes it. */
function messageOut(channel: ChannelCode): EventOf<'message.out'> {
  const conversationId = uuidv7();
  const customerId = uuidv7();
  const sessionId = newSessionId(channel);
  const envelope: Envelope = {
    v: 1,
    id: uuidv7(),
    conversationId,
    sessionId,
    seq: 2,
    channel,
    direction: 'out',
    customerId,
    authorId: 'agent-1',
    clientMessageId: `c-${uuidv7()}`,
    critical: true,
    sentAt: new Date().toISOString(),
    receivedAt: new Date().toISOString(),
    meta: {},
    kind: 'text',
    body: { text: 'Your parcel left today.' },
  } as Envelope;
  const session: SessionFacts = {
    status: 'active',
    channel,
    customerId,
    skillGroup: 'general',
    assignedAgentId: 'agent-1',
    offeredAgentId: null,
    offerExpiresAt: null,
    tier: null,
    priority: null,
    createdAt: '2026-11-30T00:00:00.000Z',
    waitingSince: '2026-11-30T00:00:00.000Z',
    lastMessageAt: '2026-11-30T00:00:00.000Z',
  };
  return newEvent('message.out', { actor: 'agent-1', sessionId, conversationId, payload: { envelope, session } });
}

/** A channel adapter that counts its sends and answers what it is told (a channel with a real API stands here). */
function channel(code: ChannelCode, answer: () => ReturnType<ChannelAdapter['send']>): ChannelAdapter & { sent: string[] } {
  const sent: string[] = [];
  return {
    channel: code,
    capabilities: { text: true, image: false, file: false, audio: false, typing: false, readReceipts: true, passiveReply: true },
    sent,
    send(envelope) {
      sent.push(envelope.id);
      return answer();
    },
  };
}

describe('outbound dispatcher', () => {
  let dir: string;
  let keys: KeyProvider;
  let channels: ChannelStore;
  let broker: MemoryBroker;
  const running: { bus: Bus; dispatcher: OutboundDispatcher }[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-dispatch-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    channels = createSqliteChannelStore({ path: join(dir, 'huiliu.db'), keys });
    broker = createMemoryBroker();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.dispatcher.stop();
      await r.bus.close();
    }
    await channels.close();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function node(...list: ChannelAdapter[]) {
    const bus = broker.node({ retryDelayMs: 1 });
    const adapters = new ChannelAdapters();
    for (const a of list) adapters.register(a);
    const dispatcher = createOutboundDispatcher({ bus, adapters, channels, logger });
    await dispatcher.start();
    running.push({ bus, dispatcher });
    const changes: EventOf<'delivery.changed'>[] = [];
    await bus.subscribeAll('delivery.changed', (e) => void changes.push(e));
    return { bus, changes };
  }

  it("picks the adapter by the session's channel and records its answer", async () => {
    const wx = channel('WX', async () => ({ state: 'delivered' }));
    const xm = channel('XM', async () => ({ state: 'sent' }));
    const { bus, changes } = await node(wx, xm);
    const event = messageOut('WX');
    await bus.publish(event);
    await until(() => changes.length === 1);
    expect(wx.sent).toEqual([event.payload.envelope.id]);
    expect(xm.sent).toEqual([]);
    expect(await channels.delivery(event.payload.envelope.id)).toMatchObject({ state: 'delivered', channel: 'WX', error: null });
    expect(changes[0]).toMatchObject({
      sessionId: event.sessionId,
      payload: { messageId: event.payload.envelope.id, state: 'delivered', session: { assignedAgentId: 'agent-1' } },
    });
  });

  it('never hands a staff-only message (an internal note or whisper) to any channel adapter, even if one is published', async () => {
    const codes: ChannelCode[] = ['WB', 'AP', 'WX', 'XM', 'SP'];
    const adapters = codes.map((c) => channel(c, async () => ({ state: 'sent' })));
    const { bus, changes } = await node(...adapters);
    const notes = codes.map((code) => {
      const event = messageOut(code);
      const envelope = {
        ...event.payload.envelope,
        kind: 'event',
        body: {
          name: NOTE_EVENT_NAME,
          data: { text: 'Offer the coupon', author: { id: 'lead-1', name: 'Lead' }, whisper: true, to: null },
        },
      } as Envelope;
      return { ...event, payload: { ...event.payload, envelope } };
    });
    for (const n of notes) await bus.publish(n);
    await until(() => changes.length === notes.length);
    expect(adapters.flatMap((a) => a.sent)).toEqual([]);
    for (const n of notes)
      expect(await channels.delivery(n.payload.envelope.id)).toMatchObject({ state: 'failed', error: { code: 'STAFF_ONLY' } });
  });

  it("records the channel's own error when it refuses, and ADAPTER_ERROR when the adapter throws", async () => {
    const wx = channel('WX', async () => ({ state: 'failed', error: { code: '45015', message: 'The reply window has closed.' } }));
    const sp = channel('SP', async () => {
      throw new Error('socket hang up');
    });
    const { bus, changes } = await node(wx, sp);
    const refused = messageOut('WX');
    const thrown = messageOut('SP');
    await bus.publish(refused);
    await bus.publish(thrown);
    await until(() => changes.length === 2);
    expect(await channels.delivery(refused.payload.envelope.id)).toMatchObject({ state: 'failed', error: { code: '45015' } });
    expect(await channels.delivery(thrown.payload.envelope.id)).toMatchObject({ state: 'failed', error: { code: 'ADAPTER_ERROR' } });
  });

  it('records NO_ADAPTER for a session on a channel no adapter serves, instead of dropping the reply', async () => {
    const { bus, changes } = await node(channel('WX', async () => ({ state: 'sent' })));
    const event = messageOut('XM');
    await bus.publish(event);
    await until(() => changes.length === 1);
    expect(await channels.delivery(event.payload.envelope.id)).toMatchObject({
      state: 'failed',
      channel: 'XM',
      error: { code: 'NO_ADAPTER' },
    });
  });

  it('sends each reply on one node only when two nodes run the dispatcher', async () => {
    const one = channel('WX', async () => ({ state: 'sent' }));
    const two = channel('WX', async () => ({ state: 'sent' }));
    const a = await node(one);
    const b = await node(two);
    const events = [messageOut('WX'), messageOut('WX'), messageOut('WX')];
    for (const e of events) await a.bus.publish(e);
    await until(() => a.changes.length === 3 && b.changes.length === 3);
    // Closing waits for deliveries already queued, so a late second send would be counted here.
    for (const r of running.splice(0)) {
      await r.dispatcher.stop();
      await r.bus.close();
    }
    expect([...one.sent, ...two.sent].sort()).toEqual(events.map((e) => e.payload.envelope.id).sort());
  });

  it('records and announces a redelivered event once', async () => {
    const wx = channel('WX', async () => ({ state: 'sent' }));
    const { bus, changes } = await node(wx);
    const event = messageOut('WX');
    const later = messageOut('WX');
    await bus.publish(event);
    await bus.publish(event);
    await bus.publish(later);
    // One consumer delivers in publish order: once `later` is recorded, the redelivery was handled.
    await until(() => changes.some((e) => e.payload.messageId === later.payload.envelope.id));
    expect(wx.sent).toEqual([event.payload.envelope.id, later.payload.envelope.id]);
    expect(changes.filter((e) => e.payload.messageId === event.payload.envelope.id)).toHaveLength(1);
  });
});
