import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppMessageResponseSchema } from '../../../common/api/app-channel';
import { SessionDetailSchema, SessionSummarySchema } from '../../../common/api/sessions';
import { startTestServer, type TestServer } from '../support/harness';
import { openWidget } from '../support/widget-client';

// Every bidi embedding, override, isolate and mark a name could carry to reorder what is drawn.
const BIDI = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C';
const KEY = { 'x-huiliu-key': 'demo-app-key' };

describe('bidi control characters in customer names (display spoofing)', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startTestServer();
    token = await s.login('admin');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const post = (payload: Record<string, unknown>) =>
    s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
  const detail = async (sessionId: string) => {
    const res = await s.app.inject({ method: 'GET', url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } });
    return SessionDetailSchema.parse(res.json());
  };
  const queueName = async (sessionId: string) => {
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: { authorization: `Bearer ${token}` } });
    const items = (res.json() as { sessions: unknown[] }).sessions.map((i) => SessionSummarySchema.parse(i));
    return items.find((i) => i.id === sessionId)?.customerName;
  };

  it('removes bidi controls from an app customer name, keeps the message and warns NORMALISED', async () => {
    const res = await post({ customer: { externalId: 'bidi-app-1', name: '\u202ELin Mei' }, text: 'hello', clientMessageId: 'bidi-1' });
    expect(res.statusCode).toBe(202);
    const json = AppMessageResponseSchema.parse(res.json());
    expect(json.warnings).toEqual([expect.objectContaining({ field: 'customer.name', code: 'NORMALISED' })]);
    expect((await detail(json.sessionId)).customerName).toBe('Lin Mei');
    expect(await queueName(json.sessionId)).toBe('Lin Mei');
  });

  it('removes every kind of bidi control from an app name and drops a name made only of them', async () => {
    const mixed = await post({
      customer: { externalId: 'bidi-app-2', name: `${BIDI}王${BIDI}芳${BIDI}` },
      text: 'hi',
      clientMessageId: 'bidi-2',
    });
    const json = AppMessageResponseSchema.parse(mixed.json());
    expect((await detail(json.sessionId)).customerName).toBe('王芳');
    const only = await post({ customer: { externalId: 'bidi-app-3', name: BIDI }, text: 'hi', clientMessageId: 'bidi-3' });
    expect(only.statusCode).toBe(202);
    expect(AppMessageResponseSchema.parse(only.json()).warnings).toEqual([
      expect.objectContaining({ field: 'customer.name', code: 'NO_VISIBLE_TEXT' }),
    ]);
  });

  it('removes bidi controls from a widget visitor name', async () => {
    const w = await openWidget(s);
    try {
      w.send({ type: 'hello', name: '\u202Eevil\u202C名' });
      await w.next('welcome');
      w.send({ type: 'message', clientMessageId: 'bidi-widget-1', text: 'hello' });
      const ack = await w.next('ack');
      expect((await detail(ack.sessionId)).customerName).toBe('evil名');
      expect(await queueName(ack.sessionId)).toBe('evil名');
    } finally {
      w.ws.close();
    }
  });

  it("keeps bidi controls in message text (the customer's words) but refuses text made only of them", async () => {
    const words = '\u2067مرحبا\u2069 ok';
    const kept = await post({ customer: { externalId: 'bidi-app-4' }, text: words, clientMessageId: 'bidi-4' });
    expect(kept.statusCode).toBe(202);
    const messages = (await detail(AppMessageResponseSchema.parse(kept.json()).sessionId)).messages;
    expect(messages.map((m) => (m.kind === 'text' ? m.body.text : ''))).toContain(words);

    const refused = await post({ customer: { externalId: 'bidi-app-5' }, text: BIDI, clientMessageId: 'bidi-5' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ path: 'text', message: 'has no visible character' }] },
    });
    const w = await openWidget(s);
    try {
      w.send({ type: 'hello' });
      await w.next('welcome');
      w.send({ type: 'message', clientMessageId: 'bidi-widget-2', text: BIDI });
      expect(await w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED', message: 'has no visible character' });
    } finally {
      w.ws.close();
    }
  });
});
