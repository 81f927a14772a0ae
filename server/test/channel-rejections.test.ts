import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging/logger';
import { startTestServer, type TestServer } from './support/harness';
import { metricValue } from './support/metrics';
import { openWidget } from './support/widget-client';

/**
 * Every adapter counts and logs what it refuses (issue 13: "unknown or malformed input → a clear error
 * with a code, logged masked, counted"): the web widget's frames and uploads and the app channel's
 * requests, in `huiliu_channel_rejected_total{channel,code}` beside WeChat's and XMPP's.
 */
describe('channel refusals are counted and logged by code', () => {
  let s: TestServer;
  const lines: string[] = [];
  const rejected = (channel: string, code: string) =>
    metricValue(s, 'huiliu_channel_rejected_total', `channel="${channel}",code="${code}"`);

  beforeAll(async () => {
    s = await startTestServer({}, { logger: createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } }) });
  });
  afterAll(() => s.cleanup());

  it('app channel: a bad key, malformed JSON and an invalid body, each by its code; the body never logged', async () => {
    const post = (headers: Record<string, string>, payload: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    expect((await post({ 'x-huiliu-key': 'wrong-key-123' }, '{}')).statusCode).toBe(401);
    expect((await post({ 'x-huiliu-key': 'demo-app-key' }, '{"customer":')).statusCode).toBe(400);
    expect(
      (
        await post(
          { 'x-huiliu-key': 'demo-app-key' },
          JSON.stringify({ customer: { externalId: 'u1' }, text: 'zhang.san@example.com', clientMessageId: '' }),
        )
      ).statusCode,
    ).toBe(400);
    expect(await rejected('AP', 'INVALID_APP_KEY')).toBe(1);
    expect(await rejected('AP', 'INVALID_JSON')).toBe(1);
    expect(await rejected('AP', 'VALIDATION_FAILED')).toBe(1);
    const refusals = lines.filter((l) => l.includes('channel request refused'));
    expect(refusals).toHaveLength(3);
    expect(lines.join('\n')).not.toContain('zhang.san@example.com');
  });

  it('web widget: a malformed frame, an unknown topic and a refused upload, each by its code', async () => {
    const w = await openWidget(s);
    w.send({ type: 'hello' });
    const { visitorToken } = await w.next('welcome');
    w.send('{not json');
    await w.next('error');
    w.send({ type: 'pre-chat', topic: 'no-such-topic', email: 'li.na@example.com' });
    await w.next('error');
    const upload = await s.app.inject({
      method: 'POST',
      url: '/channels/web/uploads?clientMessageId=refused-upload-1&name=x.exe',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${visitorToken}` },
      payload: Buffer.from('MZ\x90\x00 a program'),
    });
    expect(upload.statusCode).toBe(415);
    w.ws.close();
    expect(await rejected('WB', 'INVALID_JSON')).toBe(1);
    expect(await rejected('WB', 'UNKNOWN_TOPIC')).toBe(1);
    expect(await rejected('WB', 'UPLOAD_EXECUTABLE')).toBe(1);
    expect(lines.filter((l) => l.includes('widget frame refused'))).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('li.na@example.com');
  });
});
