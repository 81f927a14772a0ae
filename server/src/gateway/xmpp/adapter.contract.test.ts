import { startProsody } from '../../../test/support/prosody';
import { eventually } from '../../../test/support/until';
import { bodyIs, receiptFor, startXmppTestServer, TEST_COMPONENT, xmppCustomer } from '../../../test/support/xmpp';
import { channelAdapterContract } from '../adapter.contract';

// The XMPP channel against a real Prosody, with real @xmpp/client customers.
channelAdapterContract('xmpp (XM)', async () => {
  const prosody = await startProsody({ components: [TEST_COMPONENT] });
  const server = await startXmppTestServer(prosody);
  const { store } = server.services;
  return {
    server,
    adapter: server.services.adapters.get('XM')!,
    async customer() {
      const c = await xmppCustomer(prosody);
      return {
        // The support address answers the receipt request only once the message is stored, so the
        // receipt says the message (or, for a resend, its first copy) is in the store.
        async say(text, clientMessageId) {
          const before = c.stanzas.length;
          await c.say(text, clientMessageId);
          await c.next((el) => c.stanzas.indexOf(el) >= before && receiptFor(clientMessageId)(el));
          return eventually(async () => {
            const customer = await store.findCustomerByIdentity('XM', c.bare);
            const session = customer && (await store.latestSession(customer.id, 'XM'));
            if (!session) return null;
            const message = (await store.listMessages(session.conversationId)).find((m) => m.clientMessageId === clientMessageId);
            return message ? { messageId: message.id, sessionId: message.sessionId } : null;
          });
        },
        async received(expectText) {
          await c.next(bodyIs(expectText));
          return c.stanzas.filter((el) => el.is('message') && el.getChildText('body') !== null).map((el) => el.getChildText('body')!);
        },
        close: () => c.close(),
      };
    },
    async close() {
      await server.cleanup();
      await prosody.stop();
    },
  };
});
