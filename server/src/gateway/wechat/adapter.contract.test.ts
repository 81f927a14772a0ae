import { afterAll } from 'vitest';
import { startTestServer } from '../../../test/support/harness';
import { until } from '../../../test/support/until';
import { FakeWechatApi } from '../../../test/support/wechat-fake-api';
import { channelAdapterContract } from '../adapter.contract';
import { postPlain, textPush, type PushingAccount } from './__fixtures__/push';

const ACCOUNT: PushingAccount = { accountId: 'contract-wx', token: 'contracttoken', appId: 'wx3333333333333333' };
const fake = new FakeWechatApi();
afterAll(() => fake.close());

// The name is part of the contract's message ids, and WeChat MsgIds are tokens: no spaces.
channelAdapterContract('wechat-WX', async () => {
  const apiBaseUrl = await fake.start();
  fake.addApp(ACCOUNT.appId, 'contract-secret');
  const server = await startTestServer();
  await server.services.channels.addAccount({
    channel: 'WX',
    accountId: ACCOUNT.accountId,
    name: 'Contract account',
    skillGroup: null,
    settings: { appId: ACCOUNT.appId, apiBaseUrl, mode: 'plain' },
    secrets: { token: ACCOUNT.token, appSecret: 'contract-secret' },
  });
  let n = 0;
  return {
    server,
    adapter: server.services.adapters.get('WX')!,
    async customer() {
      const openid = `oContract${++n}`;
      return {
        // WeChat's push: MsgId is the channel's own message id, the retry key.
        async say(text, clientMessageId) {
          const res = await postPlain(server.app, ACCOUNT, textPush(openid, text, clientMessageId));
          if (res.statusCode !== 200 || res.body !== 'success') throw new Error(`wechat push: ${res.statusCode} ${res.body}`);
          const { store } = server.services;
          const customer = (await store.findCustomerByIdentity('WX', openid))!;
          const session = (await store.latestSession(customer.id, 'WX'))!;
          const stored = (await store.listMessages(session.conversationId)).find((m) => m.clientMessageId === clientMessageId)!;
          return { messageId: stored.id, sessionId: session.id };
        },
        // Replies reach the customer through the customer-service API (the fake records them).
        async received(expectText) {
          const texts = () => fake.sent.filter((m) => m.touser === openid).map((m) => m.text?.content ?? '');
          await until(() => texts().includes(expectText));
          return texts();
        },
        async close() {},
      };
    },
    close: () => server.cleanup(),
  };
});
