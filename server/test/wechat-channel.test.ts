import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '../../common/api/sessions';
import type { OfferView } from '../../common/socket/agent-events';
import { postEncrypted, postPlain, textPush, type PushingAccount } from '../src/gateway/wechat/__fixtures__/push';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { FakeWechatApi } from './support/wechat-fake-api';

const PLAIN: PushingAccount = { accountId: 'e2e-plain', token: 'e2eplaintoken', appId: 'wx7777777777777777' };
const SAFE: PushingAccount = {
  accountId: 'e2e-safe',
  token: 'e2esafetoken',
  appId: 'wx8888888888888888',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

/**
 * Issue 12 "done": a WeChat customer's message (plain and AES safe mode) reaches an agent on the real
 * server — the router offers it on the agent socket — and the agent's reply reaches the customer
 * through the customer-service API (the fake WeChat API on loopback), recorded `sent`; a reply past
 * the 48-hour window is recorded `failed` with WeChat's code.
 */
describe('WeChat customer ↔ agent, end to end', () => {
  let s: TestServer;
  let agent: Socket;
  const offers: OfferView[] = [];
  const fake = new FakeWechatApi();

  beforeAll(async () => {
    const apiBaseUrl = await fake.start();
    fake.addApp(PLAIN.appId, 'plain-secret').addApp(SAFE.appId, 'safe-secret');
    s = await startTestServer();
    for (const [a, mode, secret] of [
      [PLAIN, 'plain', 'plain-secret'],
      [SAFE, 'safe', 'safe-secret'],
    ] as const) {
      await s.services.channels.addAccount({
        channel: 'WX',
        accountId: a.accountId,
        name: a.accountId,
        skillGroup: 'general',
        settings: { appId: a.appId, apiBaseUrl, mode },
        secrets: { token: a.token, appSecret: secret, ...(a.encodingAESKey ? { encodingAESKey: a.encodingAESKey } : {}) },
      });
    }
    agent = await openAgentSocket(s, await s.login('agent1'));
    agent.on('offer:new', (o: OfferView) => void offers.push(o));
  });
  afterAll(async () => {
    agent?.disconnect();
    await s?.cleanup();
    await fake.close();
  });

  async function conversation(post: () => Promise<{ statusCode: number; body: string }>, text: string, openid: string, reply: string) {
    const res = await post();
    expect([res.statusCode, res.body]).toEqual([200, 'success']);
    await until(() => offers.some((o) => o.summary.lastMessagePreview === text), 5000);
    const offer = offers.find((o) => o.summary.lastMessagePreview === text)!;
    expect(offer.sessionId.startsWith('WX')).toBe(true);
    const accepted = await ack<SessionDetail>(agent, 'offer:accept', { sessionId: offer.sessionId });
    expect(accepted.ok).toBe(true);
    const sent = await ack(agent, 'message:send', { sessionId: offer.sessionId, clientMessageId: `reply-${openid}`, text: reply });
    expect(sent.ok).toBe(true);
    await until(() => fake.sent.some((m) => m.touser === openid && m.text?.content === reply), 5000);
    expect(fake.sent.filter((m) => m.touser === openid)).toEqual([
      { touser: openid, msgtype: 'text', text: { content: reply }, token: expect.any(String) },
    ]);
    return offer.sessionId;
  }

  it('offers a plain-mode WeChat message to the agent, and the reply goes out as a customer-service message', async () => {
    const sessionId = await conversation(
      () => postPlain(s.app, PLAIN, textPush('oE2ePlain', 'My parcel has not arrived', '7001')),
      'My parcel has not arrived',
      'oE2ePlain',
      'Let me check that for you.',
    );
    // Closed, so agent1 (capacity 3 chats) is free for the next contact either way.
    expect(await ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
  });

  it('does the same for an AES safe-mode message', async () => {
    await conversation(
      () => postEncrypted(s.app, SAFE, textPush('oE2eSafe', '发票什么时候开？', '7002')),
      '发票什么时候开？',
      'oE2eSafe',
      '今天下午开好。',
    );
  });

  it('records a reply past the 48-hour window as failed with WECHAT_45015', async () => {
    const { store, channels } = s.services;
    const customer = (await store.findCustomerByIdentity('WX', 'oE2eSafe'))!;
    const session = (await store.latestSession(customer.id, 'WX'))!;
    fake.failNext('send', 45015);
    const sent = await ack<{ id: string }>(agent, 'message:send', {
      sessionId: session.id,
      clientMessageId: 'reply-late-1',
      text: 'Are you there?',
    });
    expect(sent.ok).toBe(true);
    const messageId = sent.ok ? sent.data.id : '';
    await until(async () => (await channels.delivery(messageId)) !== null);
    expect(await channels.delivery(messageId)).toMatchObject({
      state: 'failed',
      channel: 'WX',
      error: { code: 'WECHAT_45015', message: expect.stringContaining('48 hours') },
    });
  });

  it('keeps a customer who moves from WeChat to the app with the same agent, in one conversation, answered on the app', async () => {
    // The WeChat API knows the person's unionid; the app's user signed in with WeChat, so the app vouches for it.
    fake.setUnionid('oE2eMover', 'union-e2e-mover-01');
    const wxSession = await conversation(
      () => postPlain(s.app, PLAIN, textPush('oE2eMover', 'Where is my refund?', '7003')),
      'Where is my refund?',
      'oE2eMover',
      'Looking into it now.',
    );
    const moved = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: {
        customer: { externalId: 'app-mover', verified: { wechatUnionId: 'union-e2e-mover-01' } },
        text: 'Now in the app',
        clientMessageId: 'mover-1',
      },
    });
    expect(moved.statusCode).toBe(202);
    const { sessionId, conversationId } = moved.json<{ sessionId: string; conversationId: string }>();
    const wx = (await s.services.store.getSession(wxSession))!;
    expect(sessionId.startsWith('AP')).toBe(true);
    expect(conversationId).toBe(wx.conversationId);
    expect(await s.services.store.getSession(sessionId)).toMatchObject({
      status: 'active',
      assignedAgentId: wx.assignedAgentId,
      movedFrom: wxSession,
    });
    // The agent's reply, sent from the WeChat tab, reaches the customer in the app, not on WeChat.
    const sent = await ack(agent, 'message:send', { sessionId: wxSession, clientMessageId: 'mover-reply', text: 'Refund sent today.' });
    expect(sent).toMatchObject({ ok: true, data: { sessionId, channel: 'AP' } });
    const polled = await s.app.inject({
      method: 'GET',
      url: '/api/v1/channels/app/messages?externalId=app-mover',
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    // The app reads its own customer's side of the conversation only (not what was said on WeChat).
    expect(polled.json<{ messages: { text?: string; direction: string }[] }>().messages.map((m) => [m.direction, m.text])).toEqual([
      ['in', 'Now in the app'],
      ['out', 'Refund sent today.'],
    ]);
    expect(fake.sent.filter((m) => m.touser === 'oE2eMover').map((m) => m.text?.content)).toEqual(['Looking into it now.']);
  });
});
