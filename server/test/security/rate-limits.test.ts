import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';
import { writeConfigFile } from '../support/config-file';
import { metricValue } from '../support/metrics';
import { openWidget, type WidgetClient } from '../support/widget-client';

/**
 * Issue 6 A3: limits beyond one connection — per visitor, per client IP (X-Forwarded-For believed
 * from trusted proxies only), per app key and app customer, new visitors per IP per minute and open
 * connections per IP. Over a limit: RATE_LIMITED (429 + Retry-After on REST), refused before it is
 * stored, and counted in huiliu_rate_limited_total{limit}. The limits are small here so few
 * requests reach them; each test speaks from its own address through the (loopback) proxy.
 */

const xff = (ip: string) => ({ 'X-Forwarded-For': ip });

const counter = (s: TestServer, limit: string) => metricValue(s, 'huiliu_rate_limited_total', `limit="${limit}"`);

async function visitorFrom(s: TestServer, ip: string, visitorToken?: string): Promise<{ w: WidgetClient; visitorToken: string }> {
  const w = await openWidget(s, xff(ip));
  w.send({ type: 'hello', ...(visitorToken ? { visitorToken } : {}) });
  const welcome = await w.next('welcome');
  return { w, visitorToken: welcome.visitorToken };
}

/** Sends messages and waits until each is answered by an ack or an error. */
async function sendAll(w: WidgetClient, ids: string[]) {
  for (const id of ids) w.send({ type: 'message', clientMessageId: id, text: `text of ${id}` });
  const acked: string[] = [];
  let conversationId = '';
  const limited: { id: string; retryAfterMs: number | undefined }[] = [];
  for (const id of ids) {
    const end = Date.now() + 5000;
    for (;;) {
      const i = w.frames.findIndex((f) => (f.type === 'ack' || f.type === 'error') && f.clientMessageId === id);
      if (i >= 0) {
        const f = w.frames.splice(i, 1)[0]!;
        if (f.type === 'ack') {
          acked.push(id);
          conversationId = f.conversationId;
        } else if (f.type === 'error' && f.code === 'RATE_LIMITED') limited.push({ id, retryAfterMs: f.retryAfterMs });
        else throw new Error(`unexpected ${JSON.stringify(f)}`);
        break;
      }
      if (Date.now() > end) throw new Error(`no answer for ${id}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return { acked, limited, conversationId };
}

const storedIds = async (s: TestServer, conversationId: string) =>
  (await s.services.store.listMessages(conversationId)).map((m) => m.clientMessageId);

describe('rate limits on the widget and the app channel', () => {
  let s: TestServer;
  beforeAll(async () => {
    const config = writeConfigFile({
      limits: {
        widget: { messageBurst: 100 },
        visitor: { messages: { points: 5, seconds: 60 } },
        ip: {
          messages: { points: 12, seconds: 60 },
          newSessions: { points: 6, seconds: 60 },
          connections: 8,
          badAppKeys: { points: 3, seconds: 60 },
        },
        appKey: { messages: { points: 1000, seconds: 60 }, reads: { points: 5, seconds: 60 } },
      },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('lets one IP hold at most 8 widget connections of 30 and answers the rest with 429', async () => {
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => openWidget(s, xff('203.0.113.1'))));
    const open = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(open.length).toBe(8);
    expect(refused.length).toBe(22);
    for (const reason of refused) expect(reason).toContain('429');
    // Another address is not affected, and a closed connection frees its place.
    const other = await openWidget(s, xff('203.0.113.99'));
    open[0]!.ws.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 50));
    const again = await openWidget(s, xff('203.0.113.1'));
    for (const w of [...open.slice(1), other, again]) w.ws.close();
    expect(await counter(s, 'ip_connections')).toBeGreaterThanOrEqual(22);
  });

  it('caps new visitors per IP per minute with RATE_LIMITED and a 1008 close', async () => {
    for (let i = 0; i < 6; i++) {
      const { w } = await visitorFrom(s, '203.0.113.2');
      w.ws.close();
    }
    const w = await openWidget(s, xff('203.0.113.2'));
    w.send({ type: 'hello' });
    const error = await w.next('error');
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(await w.closed).toBe(1008);
    expect(w.frames.filter((f) => f.type === 'welcome')).toEqual([]);
    // A returning visitor (a token the server issued) is not a new session.
    expect(await counter(s, 'ip_new_sessions')).toBe(1);
  });

  it('counts an IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 one', async () => {
    // One host holds a whole /64: rotating addresses inside it must not mint fresh budgets.
    for (let i = 1; i <= 6; i++) {
      const { w } = await visitorFrom(s, `2001:db8:1:2::${i.toString(16)}`);
      w.ws.close();
    }
    const v6 = await openWidget(s, xff('2001:db8:1:2:ffff::99'));
    v6.send({ type: 'hello' });
    expect((await v6.next('error')).code).toBe('RATE_LIMITED');
    for (let i = 0; i < 6; i++) {
      const { w } = await visitorFrom(s, i % 2 ? '203.0.113.77' : '::ffff:203.0.113.77');
      w.ws.close();
    }
    const mapped = await openWidget(s, xff('::ffff:203.0.113.77'));
    mapped.send({ type: 'hello' });
    expect((await mapped.next('error')).code).toBe('RATE_LIMITED');
  });

  it('limits one visitor across its connections and stores none of the refused messages', async () => {
    const a = await visitorFrom(s, '203.0.113.3');
    const b = await visitorFrom(s, '203.0.113.3', a.visitorToken);
    const first = await sendAll(a.w, ['tab-a-0001', 'tab-a-0002', 'tab-a-0003']);
    const second = await sendAll(b.w, ['tab-b-0001', 'tab-b-0002', 'tab-b-0003', 'tab-b-0004', 'tab-b-0005']);
    const acked = [...first.acked, ...second.acked];
    const limited = [...first.limited, ...second.limited];
    expect(acked.length).toBe(5);
    expect(limited.map((l) => l.id)).toEqual(['tab-b-0003', 'tab-b-0004', 'tab-b-0005']);
    for (const l of limited) expect(l.retryAfterMs).toBeGreaterThan(0);
    const stored = await storedIds(s, first.conversationId);
    expect(stored.sort()).toEqual(acked.sort());
    a.w.ws.close();
    b.w.ws.close();
  });

  it('limits messages per IP across visitors, before storing', async () => {
    const ids: string[][] = [];
    const answers = [];
    for (let v = 0; v < 3; v++) {
      const { w } = await visitorFrom(s, '203.0.113.4');
      ids.push(Array.from({ length: 5 }, (_, i) => `ip-${v}-${String(i).padStart(4, '0')}`));
      answers.push(await sendAll(w, ids[v]!));
      w.ws.close();
    }
    expect(answers.map((a) => a.acked.length)).toEqual([5, 5, 2]);
    expect(answers[2]!.limited.map((l) => l.id)).toEqual(['ip-2-0002', 'ip-2-0003', 'ip-2-0004']);
    expect((await storedIds(s, answers[2]!.conversationId)).sort()).toEqual(['ip-2-0000', 'ip-2-0001']);
    expect(await counter(s, 'ip_messages')).toBe(3);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    // Loopback is trusted by default: a relayed remote caller is that caller, not loopback.
    // A relayed caller needs the token of someone who sees every group (admins, auditors): /metrics carries them all.
    const relayed = await s.app.inject({ method: 'GET', url: '/metrics', headers: xff('198.51.100.7') });
    expect(relayed.statusCode).toBe(401);
    expect(relayed.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const token = await s.login('admin');
    const withToken = await s.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { ...xff('198.51.100.7'), authorization: `Bearer ${token}` },
    });
    expect(withToken.statusCode).toBe(200);
    expect(withToken.body).toContain('huiliu_rate_limited_total');

    const untrusting = await startTestServer({ HUILIU_TRUSTED_PROXIES: '10.9.9.9' });
    try {
      // From an address that is not a trusted proxy, the header is ignored: the caller is loopback.
      const direct = await untrusting.app.inject({ method: 'GET', url: '/metrics', headers: xff('198.51.100.7') });
      expect(direct.statusCode).toBe(200);
    } finally {
      await untrusting.cleanup();
    }
  });

  it('limits one app customer and stores none of the refused messages', async () => {
    const post = (i: number) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'demo-app-key' },
        payload: { customer: { externalId: 'flooder-1' }, text: `message ${i}`, clientMessageId: `app-cust-${String(i).padStart(4, '0')}` },
      });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await post(i));
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    for (const a of answers.slice(5)) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(a.json()).toMatchObject({ error: { code: 'RATE_LIMITED', details: { limit: 'app_customer_messages' } } });
    }
    const { conversationId } = answers[0]!.json() as { conversationId: string };
    expect((await storedIds(s, conversationId)).length).toBe(5);
  });
  it('limits app polls per key and wrong-key guesses per address, with 429 + Retry-After', async () => {
    const get = (key: string) =>
      s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=poller', headers: { 'x-huiliu-key': key } });
    const polls = [];
    for (let i = 0; i < 6; i++) polls.push((await get('demo-app-key')).statusCode);
    expect(polls).toEqual([200, 200, 200, 200, 200, 429]);
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await get(`guess-${i}`));
    expect(guesses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429]);
    // Out of wrong-key budget, the address learns nothing more: the right key is refused too.
    expect((await get('demo-app-key')).statusCode).toBe(429);
    expect(Number(guesses[3]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await counter(s, 'ip_bad_app_keys')).toBe(2);
    expect(await counter(s, 'app_key_reads')).toBe(1);
  });
});

describe('the app key budget', () => {
  let s: TestServer;
  beforeAll(async () => {
    const config = writeConfigFile({ limits: { appKey: { messages: { points: 10, seconds: 60 } } } });
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('answers app POSTs over the key budget with 429 + Retry-After and stores none of them', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        s.app.inject({
          method: 'POST',
          url: '/api/v1/channels/app/messages',
          headers: { 'x-huiliu-key': 'demo-app-key' },
          payload: {
            customer: { externalId: `customer-${i}` },
            text: 'where is my order?',
            clientMessageId: `app-key-${String(i).padStart(4, '0')}`,
          },
        }),
      ),
    );
    const accepted = answers.filter((a) => a.statusCode === 202);
    const refused = answers.filter((a) => a.statusCode === 429);
    expect(accepted.length).toBe(10);
    expect(refused.length).toBe(20);
    for (const a of refused) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(a.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    }
    // A refused customer has nothing stored: the app sees an empty conversation.
    const refusedIndex = answers.findIndex((a) => a.statusCode === 429);
    const poll = await s.app.inject({
      method: 'GET',
      url: `/api/v1/channels/app/messages?externalId=customer-${refusedIndex}`,
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    expect(poll.json()).toMatchObject({ sessionId: null, messages: [] });
    expect(await counter(s, 'app_key_messages')).toBe(20);
  });
});
