import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WidgetServerFrame } from '../../../../common/web/widget-protocol';
import { startTestServer, type TestServer } from '../../../test/support/harness';
import { DEFAULT_WIDGET_DIR } from '../../app';
import { CACHE_LOADER } from './plugin';
import { CACHE_HASHED, CACHE_HTML } from '../../workstation/plugin';

/** A widget connection speaking the JSON frame protocol, trusting the server's CA. */
async function widget(s: TestServer) {
  const ws = new WebSocket(`${s.url.replace('https', 'wss')}/channels/web`, { ca: s.tls.caPem });
  const frames: WidgetServerFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as WidgetServerFrame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const send = (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const next = async <T extends WidgetServerFrame['type']>(
    type: T,
    where: (f: Extract<WidgetServerFrame, { type: T }>) => boolean = () => true,
  ) => {
    const end = Date.now() + 5000;
    for (;;) {
      const i = frames.findIndex((f) => f.type === type && where(f as Extract<WidgetServerFrame, { type: T }>));
      if (i >= 0) return frames.splice(i, 1)[0] as Extract<WidgetServerFrame, { type: T }>;
      if (Date.now() > end) throw new Error(`no ${type} frame; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { ws, frames, send, next };
}

describe('web widget channel (wss /channels/web)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('welcomes a new visitor with a token, acks a message with seq and a WB session, and is idempotent', async () => {
    const w = await widget(s);
    w.send({ type: 'hello' });
    const welcome = await w.next('welcome');
    expect(welcome.visitorToken.length).toBeGreaterThanOrEqual(16);
    expect(welcome.sessionId).toBeNull();
    w.send({ type: 'message', clientMessageId: 'widget-0001', text: 'hello there' });
    const ack = await w.next('ack');
    expect(ack).toMatchObject({ clientMessageId: 'widget-0001', seq: 1 });
    expect(ack.sessionId).toMatch(/^WB\d{18}$/);
    expect((await w.next('status')).status).toBe('waiting');
    w.send({ type: 'message', clientMessageId: 'widget-0001', text: 'hello there' });
    expect(await w.next('ack')).toEqual(ack);
    w.send({ type: 'message', clientMessageId: 'widget-0001', text: 'changed' });
    expect(await w.next('error')).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', clientMessageId: 'widget-0001' });
    w.ws.close();
  });

  it('answers bad frames with stable codes and keeps the connection', async () => {
    const w = await widget(s);
    w.send('{not json');
    expect((await w.next('error')).code).toBe('INVALID_JSON');
    w.send({ type: 'message', clientMessageId: 'before-hello', text: 'hi' });
    expect(await w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED', clientMessageId: 'before-hello' });
    w.send({ type: 'shout' });
    expect((await w.next('error')).code).toBe('VALIDATION_FAILED');
    w.send({ type: 'ping', t: 7 });
    expect(await w.next('pong')).toEqual({ type: 'pong', t: 7 });
    w.ws.close();
  });

  it('resumes a returning visitor with exactly the messages after their last seq', async () => {
    const first = await widget(s);
    first.send({ type: 'hello' });
    const { visitorToken } = await first.next('welcome');
    for (let i = 1; i <= 3; i++) {
      first.send({ type: 'message', clientMessageId: `resume-000${i}`, text: `message ${i}` });
      await first.next('ack', (a) => a.clientMessageId === `resume-000${i}`);
    }
    first.ws.close();

    const again = await widget(s);
    again.send({ type: 'hello', visitorToken });
    const welcome = await again.next('welcome');
    expect(welcome.visitorToken).toBe(visitorToken);
    expect(welcome.conversationId).not.toBeNull();
    again.ws.close();

    const resumed = await widget(s);
    resumed.send({ type: 'hello', visitorToken, conversationId: welcome.conversationId!, lastSeq: 2 });
    await resumed.next('welcome');
    const replay = await resumed.next('message');
    expect(replay.message).toMatchObject({ seq: 3, text: 'message 3', direction: 'in' });
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.frames.filter((f) => f.type === 'message')).toEqual([]);
    resumed.ws.close();
  });

  it('limits how fast one connection may send, with RATE_LIMITED, and stores what it accepted', async () => {
    const w = await widget(s);
    w.send({ type: 'hello' });
    await w.next('welcome');
    for (let i = 0; i < 30; i++) w.send({ type: 'message', clientMessageId: `flood-${String(i).padStart(4, '0')}`, text: `flood ${i}` });
    const end = Date.now() + 5000;
    while (w.frames.filter((f) => f.type === 'ack' || f.type === 'error').length < 30 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
    const acks = w.frames.filter((f) => f.type === 'ack');
    const limited = w.frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
    expect(acks.length).toBeGreaterThanOrEqual(20);
    expect(limited.length).toBeGreaterThan(0);
    expect(acks.length + limited.length).toBe(30);
    w.ws.close();
  });

  it('resumes only with a token the server issued; a made-up token starts afresh', async () => {
    const owner = await widget(s);
    owner.send({ type: 'hello' });
    const { visitorToken } = await owner.next('welcome');
    owner.send({ type: 'message', clientMessageId: 'secret-0001', text: 'my private question' });
    await owner.next('ack');
    owner.ws.close();

    const guesser = await widget(s);
    const forged = `${visitorToken.split('.')[0]}.${'A'.repeat(22)}`;
    for (const token of [forged, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']) {
      guesser.send({ type: 'hello', visitorToken: token });
      const welcome = await guesser.next('welcome');
      expect(welcome.visitorToken).not.toBe(token);
      expect(welcome.sessionId).toBeNull();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(guesser.frames.filter((f) => f.type === 'message')).toEqual([]);
    guesser.ws.close();
  });

  it('sends every message of the conversation to every other tab of the visitor, and acks it to the tab that sent it', async () => {
    const a = await widget(s);
    a.send({ type: 'hello' });
    const { visitorToken } = await a.next('welcome');
    // Tab B opens before the visitor has stored anything: it must still see tab A's first message.
    const b = await widget(s);
    b.send({ type: 'hello', visitorToken });
    await b.next('welcome');
    a.send({ type: 'message', clientMessageId: 'tabs-0001', text: 'typed in tab A' });
    const ack = await a.next('ack');
    expect((await b.next('message')).message).toMatchObject({ id: ack.messageId, seq: 1, direction: 'in', text: 'typed in tab A' });
    b.send({ type: 'message', clientMessageId: 'tabs-0002', text: 'typed in tab B' });
    await b.next('ack');
    expect((await a.next('message', (m) => m.message.seq === 2)).message).toMatchObject({ text: 'typed in tab B', direction: 'in' });
    // The sending tab has its ack: the message is not echoed back to it (one write per message).
    for (const tab of [a, b]) {
      tab.send({ type: 'ping', t: 1 });
      await tab.next('pong');
    }
    expect(a.frames.filter((f) => f.type === 'message')).toEqual([]);
    expect(b.frames.filter((f) => f.type === 'message')).toEqual([]);
    a.ws.close();
    b.ws.close();
  });

  it('does not echo to the sending tab when many visitors send at once (the fan-out may run after the ack)', async () => {
    const tabs = await Promise.all(Array.from({ length: 20 }, () => widget(s)));
    for (const t of tabs) t.send({ type: 'hello' });
    await Promise.all(tabs.map((t) => t.next('welcome')));
    // Each visitor's first message makes them a known customer; then five at once from everyone.
    tabs.forEach((t, i) => t.send({ type: 'message', clientMessageId: `burst-${i}-0`, text: 'first' }));
    await Promise.all(tabs.map((t, i) => t.next('ack', (a) => a.clientMessageId === `burst-${i}-0`)));
    for (let n = 1; n <= 5; n++)
      tabs.forEach((t, i) => t.send({ type: 'message', clientMessageId: `burst-${i}-${n}`, text: `message ${n}` }));
    for (const [i, t] of tabs.entries()) for (let n = 1; n <= 5; n++) await t.next('ack', (a) => a.clientMessageId === `burst-${i}-${n}`);
    for (const t of tabs) {
      t.send({ type: 'ping', t: 1 });
      await t.next('pong');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(tabs.flatMap((t) => t.frames.filter((f) => f.type === 'message'))).toEqual([]);
    for (const t of tabs) t.ws.close();
  });

  it("keeps the server's receivedAt as the time of record and a client's sentAt only as metadata", async () => {
    const w = await widget(s);
    w.send({ type: 'hello' });
    const { visitorToken } = await w.next('welcome');
    const before = Date.now();
    w.send({ type: 'message', clientMessageId: 'clock-0001', text: 'my clock is wrong', sentAt: '2001-01-01T00:00:00Z' });
    const ack = await w.next('ack');
    expect(Date.parse(ack.receivedAt)).toBeGreaterThanOrEqual(before - 1000);
    w.ws.close();
    const again = await widget(s);
    again.send({ type: 'hello', visitorToken });
    const replayed = (await again.next('message')).message;
    expect(replayed.receivedAt).toBe(ack.receivedAt);
    expect(replayed.sentAt).toBe('2001-01-01T00:00:00Z');
    again.ws.close();
  });

  it('answers the widget page with no-cache and its content-hashed assets as immutable for a year', async () => {
    // The built widget (npm run build:widget): Vite names every asset `<name>-<hash>.<ext>`.
    const assets = readdirSync(join(DEFAULT_WIDGET_DIR, 'assets'));
    expect(assets.length).toBeGreaterThan(0);
    const page = await s.app.inject({ url: '/widget' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe(CACHE_HTML);
    for (const name of assets) {
      const res = await s.app.inject({ url: `/widget/assets/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['cache-control'], name).toBe(CACHE_HASHED);
    }
  });

  it('serves the embed loader at /widget.js: a classic script any site may load, cached for 5 minutes', async () => {
    const res = await s.app.inject({ url: '/widget.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe(CACHE_LOADER);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    // A classic <script> cannot hold module syntax, and the loader stays small.
    expect(res.body).not.toMatch(/^\s*(import|export)\b/m);
    expect(res.body).toContain('data-huiliu-');
    expect(res.body.length).toBeLessThan(8 * 1024);
  });
});
