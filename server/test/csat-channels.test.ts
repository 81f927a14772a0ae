import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '../../common/api/kpis';
import type { SessionDetail } from '../../common/api/sessions';
import type { OfferView } from '../../common/socket/agent-events';
import { openDatabase } from '../src/db/sqlite';
import { appExternalId } from '../src/gateway/app/normalize';
import { csatTexts } from '../src/gateway/csat-survey';
import { postPlain, textPush, type PushingAccount } from '../src/gateway/wechat/__fixtures__/push';
import { ack, openAgentSocket } from './support/agent-client';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { startWebhookReceiver } from './support/webhook-receiver';
import { FakeWechatApi } from './support/wechat-fake-api';

const WX: PushingAccount = { accountId: 'csat-wx', token: 'csatwxtoken', appId: 'wx5555555555555555' };
const SECRET = 'webhook-secret-0123456789abcdef';
const KEY = 'csat-app-key-0123456789';

/**
 * Issue 15 "CSAT request on close", on the real server: a WeChat customer whose conversation an agent
 * closes is asked for a 1–5 rating in their language; a rating reply in the window is the session's
 * CSAT (counted by the KPI report), thanked, never routed to an agent, and once only (WeChat's retry);
 * anything else, or a rating after the window, is an ordinary message. An app customer's app gets the
 * signed `conversation.csat_requested` webhook and rates through `POST /api/v1/channels/app/csat`.
 */
describe('CSAT asked on the channel after a close (issue 15)', () => {
  let s: TestServer;
  let agent: Socket;
  const offers: OfferView[] = [];
  const fake = new FakeWechatApi();
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const started = Date.now();

  beforeAll(async () => {
    const apiBaseUrl = await fake.start();
    fake.addApp(WX.appId, 'csat-secret');
    hook = await startWebhookReceiver(SECRET);
    const config = writeConfigFile({
      channels: {
        accounts: [
          {
            channel: 'AP',
            accountId: 'csat-app',
            name: 'CSAT app',
            key: KEY,
            settings: { webhookUrl: hook.url },
            secrets: { webhookSecret: SECRET },
          },
        ],
      },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
    await s.services.channels.addAccount({
      channel: 'WX',
      accountId: WX.accountId,
      name: WX.accountId,
      skillGroup: 'general',
      settings: { appId: WX.appId, apiBaseUrl, mode: 'plain' },
      secrets: { token: WX.token, appSecret: 'csat-secret' },
    });
    agent = await openAgentSocket(s, await s.login('agent1'));
    agent.on('offer:new', (o: OfferView) => void offers.push(o));
  });
  afterAll(async () => {
    agent?.disconnect();
    await s?.cleanup();
    await fake.close();
    await hook?.close();
  });

  const push = async (openid: string, text: string, msgId: string) => {
    const res = await postPlain(s.app, WX, textPush(openid, text, msgId));
    expect([res.statusCode, res.body]).toEqual([200, 'success']);
  };
  /** The session of the offer whose preview is `text`, taken by agent1. */
  const take = async (text: string) => {
    await until(() => offers.some((o) => o.summary.lastMessagePreview === text), 5000);
    const { sessionId } = offers.find((o) => o.summary.lastMessagePreview === text)!;
    expect((await ack<SessionDetail>(agent, 'offer:accept', { sessionId })).ok).toBe(true);
    return sessionId;
  };
  const close = async (sessionId: string, wrapUpCode = 'resolved') =>
    expect(await ack(agent, 'session:close', { sessionId, wrapUpCode })).toMatchObject({ ok: true });
  /** What the customer got on WeChat, oldest first. */
  const texts = (openid: string) => fake.sent.filter((m) => m.touser === openid).map((m) => m.text?.content);
  const latest = async (channel: 'WX' | 'AP', externalId: string) => {
    const customer = (await s.services.store.findCustomerByIdentity(channel, externalId))!;
    return (await s.services.store.latestSession(customer.id, channel))!;
  };
  /** The survey window of `sessionId` ran out (as if `csat.surveyHours` had passed). */
  const expire = (sessionId: string) => {
    const db = openDatabase(s.config.paths.db);
    try {
      expect(db.prepare('UPDATE csat_surveys SET expires_at = 0 WHERE session_id = ?').run(sessionId).changes).toBe(1);
    } finally {
      db.close();
    }
  };
  const kpis = async (channel: string) => {
    const token = await s.login('lead');
    const url = `/api/v1/metrics/kpis?from=${new Date(started - 1000).toISOString()}&to=${new Date(Date.now() + 1000).toISOString()}&channel=${channel}`;
    return (await s.app.inject({ url, headers: { authorization: `Bearer ${token}` } })).json<KpiReport>();
  };

  it('asks a Chinese-speaking WeChat customer in Chinese; "５" is the CSAT, counted, thanked once, not routed', async () => {
    await push('oCsatZh', '我的快递还没到', '91001');
    const sessionId = await take('我的快递还没到');
    await close(sessionId);
    await until(() => texts('oCsatZh').length === 1, 5000);
    expect(texts('oCsatZh')).toEqual([csatTexts.prompt('zh', 24)]);

    await push('oCsatZh', '５', '91002');
    await until(() => texts('oCsatZh').length === 2, 5000);
    expect(texts('oCsatZh')[1]).toBe(csatTexts.thanks('zh', 5));
    expect(await s.services.store.sessionRating(sessionId)).toMatchObject({ sessionId, score: 5 });
    // Not a new contact: the closed session is still the customer's latest, and the reply is not in it.
    const after = await latest('WX', 'oCsatZh');
    expect([after.id, after.status]).toEqual([sessionId, 'closed']);
    const stored = await s.services.store.listMessages(after.conversationId);
    expect(stored.filter((m) => m.direction === 'in').map((m) => (m.kind === 'text' ? m.body.text : m.kind))).toEqual(['我的快递还没到']);

    // WeChat retries the same push (same MsgId): nothing more is recorded, sent or opened.
    await push('oCsatZh', '５', '91002');
    expect(texts('oCsatZh')).toHaveLength(2);
    expect((await latest('WX', 'oCsatZh')).id).toBe(sessionId);

    // The KPI computation counts it (the rating went through the same tapped store as the widget's).
    const log = s.services.kpis.log;
    await until(() => log.has(sessionId, 'csat.asked') && log.has(sessionId, 'csat.answered'), 5000);
    expect((await kpis('WX')).kpis.csat).toEqual({ mean: 5, satisfied: 1, responseRate: 1, asked: 1, answered: 1 });
    expect(offers.some((o) => o.summary.lastMessagePreview === '５')).toBe(false);
  });

  it('asks an English-speaking customer in English; "hello" in the window is an ordinary new contact', async () => {
    await push('oCsatEn', 'My parcel is late', '92001');
    const sessionId = await take('My parcel is late');
    await close(sessionId);
    await until(() => texts('oCsatEn').length === 1, 5000);
    expect(texts('oCsatEn')).toEqual([csatTexts.prompt('en', 24)]);

    await push('oCsatEn', 'hello', '92002');
    const next = await take('hello');
    expect(next).not.toBe(sessionId);
    expect(await s.services.store.sessionRating(sessionId)).toBeNull();
    // Once the customer is in a new contact, a digit belongs to that conversation, not to the survey.
    await push('oCsatEn', '5', '92003');
    const conversationId = (await latest('WX', 'oCsatEn')).conversationId;
    await until(
      async () => (await s.services.store.listMessages(conversationId)).some((m) => m.kind === 'text' && m.body.text === '5'),
      5000,
    );
    expect(await s.services.store.sessionRating(sessionId)).toBeNull();
    expect(texts('oCsatEn')).toHaveLength(1);
    await close(next, 'duplicate');
  });

  it('takes "5" after the window as an ordinary message, and never asks after a spam close', async () => {
    await push('oCsatLate', 'Where is my invoice?', '93001');
    const late = await take('Where is my invoice?');
    await close(late);
    await until(() => texts('oCsatLate').length === 1, 5000);
    expect(await s.services.store.sessionRating(late)).toBeNull();
    expire(late);
    await push('oCsatLate', '5', '93002');
    const next = await take('5');
    expect(next).not.toBe(late);
    expect(await s.services.store.sessionRating(late)).toBeNull();
    expect(texts('oCsatLate')).toHaveLength(1);
    await close(next, 'duplicate');

    await push('oCsatSpam', 'cheap watches here', '94001');
    const spam = await take('cheap watches here');
    await close(spam, 'spam');
    const log = s.services.kpis.log;
    await until(() => log.has(spam, 'contact.closed'), 5000);
    expect(log.has(spam, 'csat.asked')).toBe(false);
    expect(texts('oCsatSpam')).toEqual([]);
  });

  it('tells the app by a signed conversation.csat_requested webhook; the app rates once, in the window', async () => {
    const write = (externalId: string, text: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': KEY },
        payload: { customer: { externalId }, text, clientMessageId: `in-${externalId}` },
      });
    const rate = (externalId: string, sessionId: string, score: number) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/csat',
        headers: { 'x-huiliu-key': KEY },
        payload: { externalId, sessionId, score },
      });
    const codeOf = (res: { statusCode: number; json: () => unknown }) => [
      res.statusCode,
      (res.json() as { error?: { code: string } }).error?.code,
    ];

    expect((await write('csat-app-zh', '请问退款进度如何？')).statusCode).toBe(202);
    const sessionId = await take('请问退款进度如何？');
    const before = Date.now();
    await close(sessionId);
    await until(() => hook.of('csat-app-zh').length === 1, 5000);
    const [got] = hook.of('csat-app-zh');
    expect(got!.verified).toBe(true);
    const body = JSON.parse(got!.body) as Record<string, string>;
    const session = (await s.services.store.getSession(sessionId))!;
    expect(body).toEqual({
      id: got!.headers['x-huiliu-delivery'],
      type: 'conversation.csat_requested',
      sessionId,
      conversationId: session.conversationId,
      externalId: 'csat-app-zh',
      language: 'zh',
      requestedAt: expect.any(String) as string,
      expiresAt: expect.any(String) as string,
    });
    const window = Date.parse(body.expiresAt!) - before;
    expect(window).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(window).toBeLessThanOrEqual(24 * 3600_000 + 60_000);

    expect(codeOf(await rate('csat-app-zh', sessionId, 6))).toEqual([400, 'VALIDATION_FAILED']);
    expect((await rate('csat-app-zh', sessionId, 4)).statusCode).toBe(201);
    expect(codeOf(await rate('csat-app-zh', sessionId, 5))).toEqual([409, 'CSAT_ALREADY_GIVEN']);
    expect(await s.services.store.sessionRating(sessionId)).toMatchObject({ score: 4 });

    // Another app customer rates after the window: refused with its own code, nothing stored.
    expect((await write('csat-app-late', 'Is my order shipped?')).statusCode).toBe(202);
    const late = await take('Is my order shipped?');
    await close(late);
    await until(() => hook.of('csat-app-late').length === 1, 5000);
    expect((JSON.parse(hook.of('csat-app-late')[0]!.body) as { language: string }).language).toBe('en');
    expire(late);
    expect(codeOf(await rate('csat-app-late', late, 5))).toEqual([409, 'CSAT_WINDOW_EXPIRED']);
    expect(await s.services.store.sessionRating(late)).toBeNull();
    expect((await latest('AP', appExternalId('csat-app', 'csat-app-late'))).id).toBe(late);
  });
});
