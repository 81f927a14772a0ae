import { describe, expect, it } from 'vitest';
import { newEvent, sessionFacts } from '../../bus/events';
import { startTestServer } from '../../../test/support/harness';
import { until } from '../../../test/support/until';
import { openWidget } from '../../../test/support/widget-client';
import { channelAdapterContract } from '../adapter.contract';

channelAdapterContract('web widget (WB)', async () => {
  const server = await startTestServer();
  return {
    server,
    adapter: server.services.adapters.get('WB')!,
    async customer() {
      const w = await openWidget(server);
      w.send({ type: 'hello' });
      await w.next('welcome');
      return {
        async say(text, clientMessageId) {
          w.send({ type: 'message', clientMessageId, text });
          const ack = await w.next('ack', (a) => a.clientMessageId === clientMessageId);
          return { messageId: ack.messageId, sessionId: ack.sessionId };
        },
        // Pushed by the widget's fan-out subscription to the tabs on this node.
        async received(expectText) {
          const frame = await w.next('message', (f) => f.message.direction === 'out' && f.message.text === expectText);
          return [frame.message.text];
        },
        async close() {
          w.ws.close();
        },
      };
    },
    close: () => server.cleanup(),
  };
});

describe('web channel delivery on shutdown', () => {
  it('records a reply as failed with CHANNEL_CLOSED when the web channel on this node has shut down', async () => {
    const server = await startTestServer();
    try {
      const { store, channels, bus, adapters } = server.services;
      const w = await openWidget(server);
      w.send({ type: 'hello' });
      await w.next('welcome');
      w.send({ type: 'message', clientMessageId: 'web-shutdown-1', text: 'hello?' });
      const ack = await w.next('ack');
      w.ws.close();
      // The adapter's own close, as the app's preClose runs it; the dispatcher still runs.
      await (adapters.get('WB') as unknown as { close(): Promise<void> }).close();
      const session = (await store.getSession(ack.sessionId))!;
      const { envelope } = await store.appendOutbound({
        sessionId: ack.sessionId,
        authorId: null,
        clientMessageId: 'web-shutdown-reply',
        content: { kind: 'text', body: { text: 'Here now.' } },
        critical: true,
      });
      await bus.publish(
        newEvent('message.out', {
          actor: 'system',
          sessionId: ack.sessionId,
          conversationId: envelope.conversationId,
          payload: { envelope, session: sessionFacts(session) },
        }),
      );
      await until(async () => (await channels.delivery(envelope.id)) !== null);
      expect(await channels.delivery(envelope.id)).toMatchObject({ state: 'failed', channel: 'WB', error: { code: 'CHANNEL_CLOSED' } });
    } finally {
      await server.cleanup();
    }
  });
});
