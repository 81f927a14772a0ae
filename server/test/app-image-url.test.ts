import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessageResponse } from '../../common/api/app-channel';
import { MAX_TEXT_LENGTH, textOf } from '../../common/message/envelope';
import { DEMO_APP_KEY } from '../src/demo/seed';
import { pngBytes } from './support/png';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { metricValue } from './support/metrics';

/** Issue 13: `image: {url}` on POST /api/v1/channels/app/messages, end to end on a real server. */
describe('app messages with an image by URL (issue 13)', () => {
  let s: TestServer;
  let strict: TestServer;
  let base = '';
  const seen = new Map<string, number>();
  const images = createServer((req, res) => {
    const n = (seen.get(req.url ?? '') ?? 0) + 1;
    seen.set(req.url ?? '', n);
    // First try fails, later ones work — and the reverse.
    if (req.url === '/first-fail.png' && n === 1) res.writeHead(503).end();
    else if (req.url === '/first-fail.png' || (req.url === '/first-ok.png' && n === 1)) res.end(pngBytes(8, 6));
    else if (req.url === '/first-ok.png') res.writeHead(503).end();
    else if (req.url === '/photo.png') res.end(pngBytes(8, 6));
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  const post = (server: TestServer, image: object, n: string, text?: string) =>
    server.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': DEMO_APP_KEY },
      payload: { customer: { externalId: `img-${n}` }, ...(text ? { text } : {}), image, clientMessageId: `img-${n}` },
    });

  beforeAll(async () => {
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    s = await startTestServer({
      HUILIU_CONFIG: writeConfigFile({ channels: { app: { imageUrls: { allowLoopbackHttp: true, timeoutMs: 2000 } } } }),
    });
    strict = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
    await strict.cleanup();
    images.closeAllConnections();
    await new Promise<void>((resolve) => images.close(() => resolve()));
  });

  it('fetches the image and stores it like an upload', async () => {
    const res = await post(s, { url: `${base}/photo.png` }, 'ok', 'my parcel');
    expect(res.statusCode).toBe(202);
    const body = res.json() as AppMessageResponse;
    expect(body.warnings).toEqual([]);
    expect(body.attachmentId).toMatch(/^[0-9a-f]{32}$/);
    const stored = await s.images.attachments.get(body.attachmentId!);
    expect(stored).toMatchObject({ mime: 'image/png', width: 8, height: 6 });
    // The identity the refusal test below looks for, as a stored message leaves it.
    expect(await s.services.store.findCustomerByIdentity('AP', 'demo:img-ok')).not.toBeNull();
  });

  it('answers a retry of the same request as the first time, whatever the image host answers the second time', async () => {
    for (const path of ['first-fail', 'first-ok']) {
      const first = await post(s, { url: `${base}/${path}.png` }, `retry-${path}`, 'same text');
      const again = await post(s, { url: `${base}/${path}.png` }, `retry-${path}`, 'same text');
      expect(first.statusCode).toBe(202);
      expect(again.statusCode, again.body).toBe(202);
      const [a, b] = [first.json() as AppMessageResponse, again.json() as AppMessageResponse];
      expect(b.messageId).toBe(a.messageId);
      expect(b.seq).toBe(a.seq);
      expect(b.attachmentId).toBe(a.attachmentId);
      expect(b.warnings.map((w) => w.code)).toEqual(a.warnings.map((w) => w.code));
      expect(a.attachmentId === undefined).toBe(path === 'first-fail');
      // Another URL or text under the same clientMessageId is another message: refused.
      const other = await post(s, { url: `${base}/photo.png` }, `retry-${path}`, 'same text');
      expect(other.statusCode).toBe(409);
      expect(other.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_CONFLICT' } });
    }
  });

  it('keeps the message when the fetch fails: "[image]" and the host as text, a warning, the metric', async () => {
    const before = await metricValue(s, 'huiliu_channel_media_failed_total', 'reason="http_status"');
    const res = await post(s, { url: `${base}/gone.png?token=abc` }, 'gone', 'see photo');
    expect(res.statusCode).toBe(202);
    const body = res.json() as AppMessageResponse;
    expect(body.attachmentId).toBeUndefined();
    expect(body.warnings).toEqual([expect.objectContaining({ field: 'image.url', code: 'IMAGE_FETCH_FAILED' })]);
    const session = (await s.services.store.getSession(body.sessionId))!;
    const [message] = await s.services.store.listMessages(session.conversationId, { afterSeq: body.seq - 1, limit: 1 });
    expect(message?.kind).toBe('text');
    expect(textOf(message!)).toBe(`see photo\n[image] ${new URL(base).host}`);
    expect(textOf(message!)).not.toContain('token');
    expect(await metricValue(s, 'huiliu_channel_media_failed_total', 'reason="http_status"')).toBe(before + 1);
  });

  it('never cuts the customer text for the note: a text at the length limit is kept whole, without it', async () => {
    const long = 'x'.repeat(MAX_TEXT_LENGTH);
    const res = await post(s, { url: `${base}/gone.png` }, 'long', long);
    expect(res.statusCode).toBe(202);
    const body = res.json() as AppMessageResponse;
    expect(body.warnings.map((w) => w.code)).toEqual(['IMAGE_FETCH_FAILED']);
    const session = (await s.services.store.getSession(body.sessionId))!;
    const [message] = await s.services.store.listMessages(session.conversationId, { afterSeq: body.seq - 1, limit: 1 });
    expect(textOf(message!)).toBe(long);
  });

  it('refuses a URL the rules forbid, storing nothing (400 IMAGE_URL_REFUSED), and counts it', async () => {
    for (const [server, url] of [
      [s, 'https://10.0.0.1/x.png'],
      [s, 'https://169.254.169.254/latest/meta-data/'],
      [strict, `${base}/photo.png`],
    ] as const) {
      const res = await post(server, { url }, `refused-${url.length}`, 'hello');
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'IMAGE_URL_REFUSED', details: [{ path: 'image.url' }] } });
      const customer = await server.services.store.findCustomerByIdentity('AP', `demo:img-refused-${url.length}`);
      expect(customer).toBeNull();
    }
    expect(await metricValue(s, 'huiliu_channel_media_failed_total', 'reason="url_refused"')).toBe(2);
  });
});
