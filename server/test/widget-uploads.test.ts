import { readFileSync, readdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetAttachment, WidgetMessage, WidgetServerFrame } from '../../common/web/widget-protocol';
import { ack, openAgentSocket } from './support/agent-client';
import { createLogger } from '../src/logging/logger';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { openWidget, type WidgetClient } from './support/widget-client';

const FIXTURES = join(import.meta.dirname, '../src/attachments/__fixtures__');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const MARKER = 'HUILIU-WIDGET-UPLOAD-MARKER-5d1e0b';
const cmid = (p: string) => `${p}-${Math.random().toString(36).slice(2, 12)}`;

type Answer = { ack: Extract<WidgetServerFrame, { type: 'ack' }>; message: WidgetMessage };

describe('widget uploads (issue 13)', () => {
  let s: TestServer;
  let w: WidgetClient;
  let token: string;

  const upload = (body: Buffer | string, o: { type?: string; name?: string; clientMessageId?: string; token?: string | null } = {}) =>
    s.app.inject({
      method: 'POST',
      url: `/channels/web/uploads?clientMessageId=${encodeURIComponent(o.clientMessageId ?? cmid('up'))}${o.name !== undefined ? `&name=${encodeURIComponent(o.name)}` : ''}`,
      headers: {
        'content-type': o.type ?? 'application/octet-stream',
        ...(o.token === null ? {} : { authorization: `Bearer ${o.token ?? token}` }),
      },
      payload: body,
    });

  beforeAll(async () => {
    s = await startTestServer();
    w = await openWidget(s);
    w.send({ type: 'hello' });
    const welcome = await w.next('welcome');
    token = welcome.visitorToken;
    expect(welcome.upload).toEqual({
      maxBytes: 10 * 1024 * 1024,
      mimes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'application/pdf', 'text/plain'],
    });
  });
  afterAll(async () => {
    w.ws.close();
    await s.cleanup();
  });

  it('accepts each allowed type, as a message the visitor’s tabs and the agent get', async () => {
    const cases: [string, Buffer, string, 'image' | 'file'][] = [
      ['tiny.png', fixture('tiny.png'), 'image/png', 'image'],
      ['photo.jpg', fixture('tiny.jpg'), 'image/jpeg', 'image'],
      ['pic.webp', fixture('tiny-lossy.webp'), 'image/webp', 'image'],
      ['anim.gif', fixture('tiny.gif'), 'image/gif', 'image'],
      ['invoice.pdf', PDF, 'application/pdf', 'file'],
      ['notes.txt', Buffer.from(`订单号 ${MARKER}\nthanks`), 'text/plain', 'file'],
    ];
    let sessionId = '';
    for (const [name, bytes, type, kind] of cases) {
      const res = await upload(bytes, { type, name });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(201);
      const { ack: a, message } = res.json() as Answer;
      sessionId = a.sessionId;
      expect(message.attachment).toMatchObject({ kind, name, mime: type, bytes: bytes.length });
      expect(message.text).toBe(kind === 'image' ? '[image]' : `[file] ${name}`);
      // The visitor's open tab gets it as a message frame with its own link.
      const pushed = await w.next('message', (f) => f.message.id === a.messageId);
      expect(pushed.message.attachment?.id).toBe(message.attachment!.id);
      // The signed link serves the bytes with safe headers.
      const got = await s.app.inject({ url: message.attachment!.url });
      expect(got.statusCode).toBe(200);
      expect(got.rawPayload.equals(bytes)).toBe(true);
      expect(got.headers['x-content-type-options']).toBe('nosniff');
      expect(got.headers['content-security-policy']).toContain('sandbox');
      expect(String(got.headers['content-disposition'])).toMatch(kind === 'image' ? /^inline;/ : /^attachment;/);
    }
    // Images go to OCR like the app channel's; files are not read.
    const session = await s.services.store.getSession(sessionId);
    const messages = await s.services.store.listMessages(session!.conversationId);
    const records = await Promise.all(messages.map((m) => s.images.attachments.ofMessage(m.id)));
    expect(records.filter((r) => r?.mime.startsWith('image/')).every((r) => r!.ocr.status !== 'skipped')).toBe(true);
    expect(records.filter((r) => r && !r.mime.startsWith('image/')).every((r) => r!.ocr.status === 'skipped')).toBe(true);

    // The agent who takes the chat sees the file message.
    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      const opened = await ack<{ messages: { kind: string }[] }>(agent, 'offer:accept', { sessionId });
      expect(opened.ok).toBe(true);
      if (opened.ok) expect(opened.data.messages.map((m) => m.kind)).toEqual(expect.arrayContaining(['image', 'file']));
    } finally {
      agent.close();
    }
  });

  it('replays attachments with fresh links after a reconnect', async () => {
    const tab = await openWidget(s);
    tab.send({ type: 'hello', visitorToken: token });
    await tab.next('welcome');
    const pdf = await tab.next('message', (f) => f.message.attachment?.name === 'invoice.pdf');
    expect((await s.app.inject({ url: pdf.message.attachment!.url })).statusCode).toBe(200);
    tab.ws.close();
  });

  it('refuses programs and scripts whatever they are called, other types, and oversized files', async () => {
    const mz = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(100)]);
    const refusals: [string, Buffer, string, number, string][] = [
      ['holiday.png', mz, 'image/png', 415, 'UPLOAD_EXECUTABLE'],
      ['readme.txt', elf, 'text/plain', 415, 'UPLOAD_EXECUTABLE'],
      ['run.txt', Buffer.from('#!/bin/sh\nrm -rf /\n'), 'text/plain', 415, 'UPLOAD_EXECUTABLE'],
      ['Main.class', Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34]), 'application/octet-stream', 415, 'UPLOAD_EXECUTABLE'],
      ['mod.wasm', Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), 'application/wasm', 415, 'UPLOAD_EXECUTABLE'],
      [
        'app.jar',
        Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(26), Buffer.from('META-INF/MANIFEST.MF')]),
        'application/zip',
        415,
        'UPLOAD_EXECUTABLE',
      ],
      [
        'archive.zip',
        Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(26), Buffer.from('photos/a.png')]),
        'application/zip',
        415,
        'UPLOAD_TYPE_REFUSED',
      ],
      ['song.mp3', Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0xff, 0xfb, 0x90, 0x00]), 'audio/mpeg', 415, 'UPLOAD_TYPE_REFUSED'],
      ['fake.png', PDF, 'image/png', 415, 'UPLOAD_TYPE_REFUSED'],
      ['huge.txt', Buffer.alloc(10 * 1024 * 1024 + 1, 0x61), 'text/plain', 413, 'UPLOAD_TOO_LARGE'],
    ];
    for (const [name, bytes, type, status, code] of refusals) {
      const res = await upload(bytes, { type, name });
      expect(res.statusCode, name).toBe(status);
      expect((res.json() as { error: { code: string } }).error.code, name).toBe(code);
    }
  });

  it('stops reading a streamed body at the limit and answers 413 (no Content-Length)', async () => {
    const url = new URL(`/channels/web/uploads?clientMessageId=${cmid('stream')}&name=big.txt`, s.url);
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(url, {
        method: 'POST',
        ca: s.tls.caPem,
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server may close while we still write: only a missing answer fails the test.
      req.on('error', () => undefined);
      let sent = 0;
      const pump = () => {
        // 40 MiB if nobody stopped us: four times the limit.
        while (sent < 160) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
      setTimeout(() => reject(new Error('no answer')), 15_000).unref();
    });
    expect(status).toBe(413);
  });

  it('refuses a clientMessageId with control characters (NUL included) with VALIDATION_FAILED, not a 500', async () => {
    for (const id of ['\u0000'.repeat(8), 'upload-\u0000-1', 'upload-\n-12', 'upload-\u2028-1']) {
      const res = await upload(PDF, { type: 'application/pdf', clientMessageId: id });
      expect(res.statusCode, id).toBe(400);
      expect((res.json() as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses a missing or forged visitor token', async () => {
    for (const t of [null, 'not-a-token-at-all-really', `${'A'.repeat(24)}.${'B'.repeat(22)}`]) {
      const res = await upload(PDF, { type: 'application/pdf', token: t });
      expect(res.statusCode).toBe(401);
      expect((res.json() as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('answers a retried upload with the first ack and stores one message', async () => {
    const clientMessageId = cmid('retry');
    const first = (await upload(PDF, { type: 'application/pdf', name: 'again.pdf', clientMessageId })).json() as Answer;
    const second = await upload(PDF, { type: 'application/pdf', name: 'again.pdf', clientMessageId });
    expect(second.statusCode).toBe(201);
    expect((second.json() as Answer).ack).toEqual(first.ack);
    // Other bytes under the same id are a conflict, not a second message.
    const other = await upload(Buffer.from('different text'), { type: 'text/plain', clientMessageId });
    expect((other.json() as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('cleans file names: no path, no controls, at most 120 characters', async () => {
    const res = await upload(Buffer.from('hello'), { type: 'text/plain', name: `C:\\Users\\mei\\..\\evil\u202Egnp.txt` });
    expect((res.json() as Answer).message.attachment!.name).toBe('evilgnp.txt');
    const long = await upload(Buffer.from('hello 2'), { type: 'text/plain', name: `${'长'.repeat(200)}.txt` });
    expect((long.json() as Answer).message.attachment!.name.length).toBeLessThanOrEqual(120);
  });

  it('serves a link only to its visitor: another visitor, a tampered or an expired link get nothing', async () => {
    const mine = ((await upload(PDF, { type: 'application/pdf', name: 'mine.pdf' })).json() as Answer).message
      .attachment as WidgetAttachment;
    // Another visitor with their own file: their link's signature does not open mine.
    const other = await openWidget(s);
    other.send({ type: 'hello' });
    const otherToken = (await other.next('welcome')).visitorToken;
    other.ws.close();
    const theirs = ((await upload(PDF, { type: 'application/pdf', name: 'theirs.pdf', token: otherToken })).json() as Answer).message
      .attachment as WidgetAttachment;
    const u = new URL(mine.url, 'https://x');
    const t = new URL(theirs.url, 'https://x');
    const swapped = `/channels/web/attachments/${mine.id}?exp=${t.searchParams.get('exp')}&sig=${t.searchParams.get('sig')}`;
    expect((await s.app.inject({ url: swapped })).statusCode).toBe(404);
    const sig = u.searchParams.get('sig')!;
    const tampered = `${u.pathname}?exp=${u.searchParams.get('exp')}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    expect((await s.app.inject({ url: tampered })).statusCode).toBe(404);
    const longer = `${u.pathname}?exp=${Number(u.searchParams.get('exp')) + 3600}&sig=${sig}`;
    expect((await s.app.inject({ url: longer })).statusCode).toBe(404);
    const expired = `${u.pathname}?exp=${Math.floor(Date.now() / 1000) - 10}&sig=${sig}`;
    expect((await s.app.inject({ url: expired })).statusCode).toBe(403);
    expect((await s.app.inject({ url: mine.url })).statusCode).toBe(200);
  });

  it('keeps uploads sealed at rest: the marker of a text file is in no database file', async () => {
    // The text upload above carried MARKER; WAL files hold recent pages too.
    const dbDir = join(s.dataDir);
    const files = readdirSync(dbDir).filter((f) => f.startsWith('huiliu.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(dbDir, f)).includes(MARKER), f).toBe(false);
  });
});

describe('widget uploads that stall or are cut off (review of issue 13)', () => {
  let s: TestServer;
  let token: string;
  const lines: string[] = [];

  /** Starts an upload over TLS that sends `sent` of `declared` bytes; answers the status, or null when the socket closed first. */
  function partialUpload(sent: number, declared: number, cut: boolean): Promise<{ status: number | null; body: string }> {
    const url = new URL(`${s.url}/channels/web/uploads?clientMessageId=${cmid('stall')}&name=a.txt`);
    return new Promise((resolve) => {
      const req = httpsRequest(url, {
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'text/plain', 'content-length': declared, authorization: `Bearer ${token}` },
      });
      let body = '';
      req.on('response', (res) => {
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? null, body }));
      });
      req.on('error', () => resolve({ status: null, body }));
      req.write('x'.repeat(sent));
      if (cut) setTimeout(() => req.destroy(), 200);
    });
  }

  beforeAll(async () => {
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    s = await startTestServer({ HUILIU_CONFIG: writeConfigFile({ widget: { upload: { idleMs: 1000, visitorBytes: 4096 } } }) }, { logger });
    const w = await openWidget(s);
    w.send({ type: 'hello' });
    token = (await w.next('welcome')).visitorToken;
    w.ws.close();
  });
  afterAll(() => s.cleanup());

  it('ends a stalled upload with 408 UPLOAD_INCOMPLETE and logs a client event, not an error', async () => {
    const answer = await partialUpload(10, 100_000, false);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'UPLOAD_INCOMPLETE' } });
    expect(lines.some((l) => l.includes('widget upload not received'))).toBe(true);
    expect(lines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  });

  it('logs a client that cut its upload off as a client event, never as an unhandled error', async () => {
    const before = lines.length;
    await partialUpload(10, 100_000, true);
    await until(() => lines.slice(before).some((l) => l.includes('UPLOAD_INCOMPLETE')), 15_000);
    expect(lines.slice(before).filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  });

  it('refuses a fifth upload in flight from one address with RATE_LIMITED', async () => {
    const stalled = Array.from({ length: 4 }, () => partialUpload(10, 100_000, false));
    await new Promise((r) => setTimeout(r, 300));
    const fifth = await partialUpload(5, 5, false);
    expect(fifth.status).toBe(429);
    expect(JSON.parse(fifth.body)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect((await Promise.all(stalled)).map((a) => a.status)).toEqual([408, 408, 408, 408]);
  });

  it("refuses a visitor's files past their byte budget with RATE_LIMITED and Retry-After, storing nothing more", async () => {
    const send = (n: number) =>
      s.app.inject({
        method: 'POST',
        url: `/channels/web/uploads?clientMessageId=${cmid('budget')}&name=notes-${n}.txt`,
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` },
        payload: 'x'.repeat(1500),
      });
    expect([(await send(1)).statusCode, (await send(2)).statusCode]).toEqual([201, 201]);
    const third = await send(3);
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
  });
});
