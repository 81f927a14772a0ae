import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SessionDetailSchema } from '../../../common/api/sessions';
import type { WidgetServerFrame } from '../../../common/web/widget-protocol';
import { ack, openAgentSocket } from '../support/agent-client';
import { startTestServer, type TestServer } from '../support/harness';

// Text a reader cannot see (D14): each one alone must never become a message.
const INVISIBLE = [
  '\u200B',
  '\u200C\u200D',
  '\u2060\uFEFF',
  '\u3164',
  '\u2800',
  '\u115F\u1160\uFFA0',
  '\u200E\u200F\u202B\u2067',
  '\u{E0020}\u{E007F}',
  '\uFE0F',
  '\u0301',
  ' \u3000\u00A0\t',
  '\u{13441}\u{13442}',
  '\u{1D159}',
  '\uFFFC',
  '\uE000\u{F0000}',
  '\u{1F3FB}',
  '\u{1CBB}',
];

async function widget(s: TestServer) {
  const ws = new WebSocket(`${s.url.replace('https', 'wss')}/channels/web`, { ca: s.tls.caPem });
  const frames: WidgetServerFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as WidgetServerFrame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = async (type: WidgetServerFrame['type']) => {
    const end = Date.now() + 5000;
    for (;;) {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return frames.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`no ${type} frame; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { ws, send: (f: unknown) => ws.send(JSON.stringify(f)), next };
}

describe('text with no visible character (D14)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('refuses an invisible widget message with VALIDATION_FAILED and stores nothing', async () => {
    const w = await widget(s);
    try {
      w.send({ type: 'hello' });
      await w.next('welcome');
      for (const [i, text] of INVISIBLE.entries()) {
        w.send({ type: 'message', clientMessageId: `invisible-${i}`, text });
        expect(await w.next('error'), JSON.stringify(text)).toMatchObject({
          code: 'VALIDATION_FAILED',
          message: 'has no visible character',
        });
      }
      w.send({ type: 'message', clientMessageId: 'visible-01', text: 'مرحبا' });
      expect(await w.next('ack')).toMatchObject({ clientMessageId: 'visible-01', seq: 1 });
    } finally {
      w.ws.close();
    }
  });

  it('refuses an invisible app message with VALIDATION_FAILED and accepts blanks beside visible text', async () => {
    for (const [i, text] of INVISIBLE.entries()) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'demo-app-key' },
        payload: { customer: { externalId: 'd14-app' }, text, clientMessageId: `d14-app-${i}` },
      });
      expect(res.statusCode, JSON.stringify(text)).toBe(400);
      expect(res.json(), JSON.stringify(text)).toMatchObject({
        error: { code: 'VALIDATION_FAILED', details: [{ path: 'text', message: 'has no visible character' }] },
      });
    }
    for (const [i, text] of ['\uFFFC photo', '👍🏻', 'ok\u{13441}'].entries()) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'demo-app-key' },
        payload: { customer: { externalId: 'd14-app' }, text, clientMessageId: `d14-app-ok-${i}` },
      });
      expect(res.statusCode, JSON.stringify(text)).toBe(202);
    }
  });

  it('drops an invisible or over-long widget visitor name instead of refusing the hello', async () => {
    for (const name of ['\u200B\u3164', 'x'.repeat(500), 42]) {
      const w = await widget(s);
      try {
        w.send({ type: 'hello', name });
        expect((await w.next('welcome')).type).toBe('welcome');
        w.send({ type: 'message', clientMessageId: 'named-0001', text: 'hi' });
        expect((await w.next('ack')).type).toBe('ack');
      } finally {
        w.ws.close();
      }
    }
  });

  it("refuses an agent's invisible reply (message:send) and keeps the conversation as it was", async () => {
    const post = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'd14-agent' }, text: 'help', clientMessageId: 'd14-1' },
    });
    const { sessionId } = post.json() as { sessionId: string };
    const token = await s.login('agent1');
    const agent = await openAgentSocket(s, token);
    try {
      expect((await ack(agent, 'offer:accept', { sessionId })).ok).toBe(true);
      for (const [i, text] of INVISIBLE.entries()) {
        const res = await ack(agent, 'message:send', { sessionId, clientMessageId: `agent-inv-${i}`, text });
        expect(res, JSON.stringify(text)).toMatchObject({
          ok: false,
          error: { code: 'VALIDATION_FAILED', details: [{ path: 'text', message: 'has no visible character' }] },
        });
      }
      const detail = await s.app.inject({
        method: 'GET',
        url: `/api/v1/sessions/${sessionId}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(SessionDetailSchema.parse(detail.json()).messages).toHaveLength(1);
    } finally {
      agent.close();
    }
  });
});
