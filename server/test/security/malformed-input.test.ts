import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ErrorBodySchema } from '../../../common/errors/codes';
import { startTestServer, type TestServer } from '../support/harness';

/**
 * Hostile input on every REST route, walked from the app's own route table so a new route cannot
 * slip past: malformed, oversized, deeply nested and polluting bodies; junk path parameters,
 * queries and headers. Nothing may answer 5xx, every refusal is the registry's error shape, and the
 * server stays healthy.
 */
describe('malformed input on every route', () => {
  let s: TestServer;
  let staff: string;
  beforeAll(async () => {
    s = await startTestServer();
    staff = await s.login('admin');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const junkSegments = [
    'x',
    'A'.repeat(5000),
    '%00',
    '..%2F..%2Fetc%2Fpasswd',
    '%F0%9F',
    '%E2%80%8B',
    'WB00000000000000000%27%20OR%201%3D1',
  ];
  const junkQueries = [
    '?afterSeq=abc&limit=-1',
    '?limit=99999999999999999999&beforeSeq=0',
    '?externalId=&conversationId=not-a-uuid',
    `?externalId=${'9'.repeat(5000)}`,
    '?__proto__[admin]=1&constructor[prototype][admin]=1',
    '?a=1&a=2&a=3&status=closed&status=active',
  ];
  const junkBodies: { payload: string | Buffer; type: string }[] = [
    { payload: '{not json', type: 'application/json' },
    { payload: 'null', type: 'application/json' },
    { payload: '[]', type: 'application/json' },
    { payload: '"text"', type: 'application/json' },
    { payload: '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}', type: 'application/json' },
    { payload: `${'['.repeat(50_000)}${']'.repeat(50_000)}`, type: 'application/json' },
    { payload: `{"text":"${'a'.repeat(1_200_000)}"}`, type: 'application/json' },
    { payload: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0xc3, 0x28]), type: 'application/json' },
    { payload: 'text=hi', type: 'application/x-www-form-urlencoded' },
    { payload: 'hi', type: 'text/plain' },
  ];

  function expectCleanAnswer(res: { statusCode: number; body: string; headers: Record<string, unknown> }, what: string): void {
    expect(res.statusCode, what).toBeLessThan(500);
    if (res.statusCode >= 400 && String(res.headers['content-type'] ?? '').includes('json')) {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(res.body));
      expect(parsed.success, `${what}: ${res.body.slice(0, 200)}`).toBe(true);
      if (parsed.success) expect(Object.keys(ERROR_CODES)).toContain(parsed.data.error.code);
    }
  }

  it('walks a route table that includes the channel, session and auth routes', () => {
    const urls = s.app.routeTable.map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(
      expect.arrayContaining(['POST /api/v1/channels/app/messages', 'GET /api/v1/sessions/:id', 'POST /api/v1/auth/login']),
    );
  });

  it('never answers 5xx to junk path parameters, queries or headers, signed in or not', async () => {
    for (const route of s.app.routeTable) {
      for (const segment of junkSegments) {
        const url = route.url.replace(/:[A-Za-z]+/g, segment).replace(/\*$/, segment);
        for (const query of junkQueries) {
          for (const headers of [
            {},
            { authorization: `Bearer ${staff}`, 'x-huiliu-key': 'demo-app-key' },
            { authorization: `Bearer ${'x'.repeat(8000)}`, 'x-huiliu-key': 'k'.repeat(8000) },
          ]) {
            const res = await s.app.inject({ method: route.method as 'GET', url: `${url}${query}`, headers });
            expectCleanAnswer(res, `${route.method} ${`${url}${query}`.slice(0, 120)}`);
          }
        }
      }
    }
  });

  it('never answers 5xx to malformed, oversized, nested or polluting bodies', async () => {
    for (const route of s.app.routeTable.filter((r) => r.method !== 'GET')) {
      for (const body of junkBodies) {
        const res = await s.app.inject({
          method: route.method as 'POST',
          url: route.url.replace(/:[A-Za-z]+/g, 'x'),
          headers: { 'content-type': body.type, authorization: `Bearer ${staff}`, 'x-huiliu-key': 'demo-app-key' },
          payload: body.payload,
        });
        expectCleanAnswer(res, `${route.method} ${route.url} with ${body.type} ${String(body.payload).slice(0, 20)}`);
      }
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined(); // no prototype was polluted
  });

  it("keeps a customer's message whose body carries __proto__ keys, and drops the keys", async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      // Another client than the junk above, whose wrong-key budget that junk has spent.
      headers: { 'x-huiliu-key': 'demo-app-key', 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.20' },
      payload:
        '{"__proto__":{"admin":true},"customer":{"externalId":"proto-1","__proto__":{"x":1}},"text":"still here","clientMessageId":"proto-1"}',
    });
    expect(res.statusCode).toBe(202);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('is still healthy afterwards', async () => {
    const res = await s.app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
  });
});
