import { AppMessageResponseSchema, type AppMessagesResponse } from '../../../../common/api/app-channel';
import { startTestServer } from '../../../test/support/harness';
import { until } from '../../../test/support/until';
import { channelAdapterContract } from '../adapter.contract';

const KEY = { 'x-huiliu-key': 'demo-app-key' };

channelAdapterContract('app (AP)', async () => {
  const server = await startTestServer();
  let n = 0;
  return {
    server,
    adapter: server.services.adapters.get('AP')!,
    async customer() {
      const externalId = `contract-user-${++n}`;
      return {
        async say(text, clientMessageId) {
          const res = await server.app.inject({
            method: 'POST',
            url: '/api/v1/channels/app/messages',
            headers: KEY,
            payload: { customer: { externalId }, text, clientMessageId },
          });
          if (res.statusCode !== 202) throw new Error(`app post: ${res.statusCode} ${res.body}`);
          const answer = AppMessageResponseSchema.parse(res.json());
          return { messageId: answer.messageId, sessionId: answer.sessionId };
        },
        // The app channel is passive: the customer's app polls for replies.
        async received(expectText) {
          let texts: string[] = [];
          await until(async () => {
            const res = await server.app.inject({
              method: 'GET',
              url: `/api/v1/channels/app/messages?externalId=${externalId}`,
              headers: KEY,
            });
            texts = (res.json() as AppMessagesResponse).messages.filter((m) => m.direction === 'out').map((m) => m.text);
            return texts.includes(expectText);
          });
          return texts;
        },
        async close() {},
      };
    },
    close: () => server.cleanup(),
  };
});
