import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDetailSchema } from '../../../common/api/sessions';
import { isWellFormed } from '../../../common/text/text';
import { startTestServer, type TestServer } from '../support/harness';

describe('customer text cut by grapheme (D13)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it.each([
    ['118 a and an emoji', `${'a'.repeat(118)}😀 and more words after it`],
    ['a ZWJ family at the cut', `${'a'.repeat(115)}👨\u200D👩\u200D👧\u200D👦 tail`],
    ['a flag at the cut', `${'a'.repeat(118)}🇨🇳 tail`],
    ['CJK and combining marks', `${'汇'.repeat(117)}e\u0301\u0308 tail`],
  ])('keeps the queue preview well-formed UTF-16 for %s', async (_label, text) => {
    const post = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: `cut-${text.length}-${Math.random()}` }, text, clientMessageId: `cut-${Math.random()}` },
    });
    expect(post.statusCode).toBe(202);
    const token = await s.login('admin');
    const res = await s.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${(post.json() as { sessionId: string }).sessionId}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const preview = SessionDetailSchema.parse(res.json()).lastMessagePreview;
    expect(isWellFormed(preview)).toBe(true);
    expect(preview.length).toBeLessThanOrEqual(120);
    expect(preview.endsWith('…')).toBe(true);
    expect(text.startsWith(preview.slice(0, -1))).toBe(true);
    // A strict UTF-8 encoder accepts it.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(new TextEncoder().encode(preview))).not.toThrow();
    expect(Buffer.from(preview).toString()).toBe(preview);
  });

  it('stores message text with lone surrogates as well-formed UTF-16 (U+FFFD), keeping the message', async () => {
    const post = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key', 'content-type': 'application/json' },
      payload: '{"customer":{"externalId":"lone-surrogate"},"text":"hi \\ud800 there \\udfff","clientMessageId":"lone-1"}',
    });
    expect(post.statusCode).toBe(202);
    const res = await s.app.inject({
      url: '/api/v1/channels/app/messages?externalId=lone-surrogate',
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    const text = (res.json() as { messages: { text: string }[] }).messages[0]!.text;
    expect(text).toBe('hi \uFFFD there \uFFFD');
    expect(isWellFormed(text)).toBe(true);
  });
});
