import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAME_MAX_LENGTH, AppMessageResponseSchema } from '../../../../common/api/app-channel';
import { ErrorBodySchema } from '../../../../common/errors/codes';
import { SESSION_ID_PATTERN } from '../../../../common/message/session-id';
import { SessionDetailSchema, type SessionDetail } from '../../../../common/api/sessions';
import { ack, openAgentSocket } from '../../../test/support/agent-client';
import { startTestServer, type TestServer } from '../../../test/support/harness';

const KEY = { 'x-huiliu-key': 'demo-app-key' };
const body = (over: Record<string, unknown> = {}) => ({
  customer: { externalId: 'app-user-42', name: '张伟', phone: '13812345678' },
  text: 'My refund for order 88990011 has not arrived, I am very disappointed!!',
  clientMessageId: `m-${Math.random().toString(36).slice(2)}`,
  ...over,
});

describe('POST /api/v1/channels/app/messages', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('accepts a message with 202 and an AP session ID', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload: body() });
    expect(res.statusCode).toBe(202);
    const json = res.json() as { sessionId: string; conversationId: string; messageId: string; seq: number };
    expect(json.sessionId).toMatch(SESSION_ID_PATTERN);
    expect(json.sessionId.startsWith('AP')).toBe(true);
    expect(json.seq).toBe(1);
  });

  it('answers the same clientMessageId with the same answer and stores no duplicate', async () => {
    const payload = body({ customer: { externalId: 'idem-user' } });
    const first = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
    const again = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    const token = await s.login('admin');
    const detail = await s.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${(first.json() as { sessionId: string }).sessionId}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(SessionDetailSchema.parse(detail.json()).messages).toHaveLength(1);
  });

  it('refuses a reused clientMessageId with different text (409 IDEMPOTENCY_CONFLICT)', async () => {
    const payload = body({ customer: { externalId: 'conflict-user' } });
    await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: { ...payload, text: 'something else' },
    });
    expect(res.statusCode).toBe(409);
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it.each([
    ['a missing key', {}, 401, 'INVALID_APP_KEY'],
    ['a wrong key', { 'x-huiliu-key': 'nope' }, 401, 'INVALID_APP_KEY'],
  ])('refuses %s', async (_n, headers, status, code) => {
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers, payload: body() });
    expect(res.statusCode).toBe(status);
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe(code);
  });

  it('refuses a revoked key on the very next request', async () => {
    await s.services.channels.addAccount({
      key: 'short-lived-key',
      channel: 'AP',
      accountId: 'partner',
      name: 'Partner',
      skillGroup: null,
    });
    const post = () =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'short-lived-key' },
        payload: body({ customer: { externalId: 'partner-user' } }),
      });
    expect((await post()).statusCode).toBe(202);
    expect((await post()).statusCode).toBe(202);
    await s.services.channels.revokeKey('short-lived-key');
    const refused = await post();
    expect(refused.statusCode).toBe(401);
    expect(ErrorBodySchema.parse(refused.json()).error.code).toBe('INVALID_APP_KEY');
  });

  it('names the bad fields of an invalid body', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: { customer: {}, text: '', clientMessageId: 'x' },
    });
    expect(res.statusCode).toBe(400);
    const err = ErrorBodySchema.parse(res.json()).error;
    expect(err.code).toBe('VALIDATION_FAILED');
    const paths = (err.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['customer.externalId', 'text']));
  });

  it('refuses control characters (NUL included) in clientMessageId and externalId, with or without an image', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5b0c2c40000000049454e44ae426082',
      'hex',
    ).toString('base64');
    for (const [customer, clientMessageId] of [
      [{ externalId: 'ok-user' }, '\u0000'.repeat(8)],
      [{ externalId: 'a\u0000b' }, 'nul-external-1'],
      [{ externalId: 'line\nbreak' }, 'nul-external-2'],
    ] as const) {
      for (const extra of [{ text: 'hi' }, { image: { base64: png, mime: 'image/png' } }]) {
        const res = await s.app.inject({
          method: 'POST',
          url: '/api/v1/channels/app/messages',
          headers: KEY,
          payload: { customer, clientMessageId, ...extra },
        });
        expect(res.statusCode, JSON.stringify(customer)).toBe(400);
        expect(ErrorBodySchema.parse(res.json()).error.code).toBe('VALIDATION_FAILED');
      }
    }
  });

  it('refuses malformed JSON with a stable code', async () => {
    const bad = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { ...KEY, 'content-type': 'application/json' },
      payload: '{"customer":',
    });
    expect(bad.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(bad.json()).error.code).toBe('INVALID_JSON');
  });

  const post = (payload: Record<string, unknown>) =>
    s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
  const storedText = async (sessionId: string) => {
    const token = await s.login('admin');
    const res = await s.app.inject({ method: 'GET', url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } });
    return SessionDetailSchema.parse(res.json());
  };

  it.each([
    ['an empty name', { customer: { externalId: 'c11-a', name: '' } }, 'customer.name', 'NO_VISIBLE_TEXT'],
    ['a blank name', { customer: { externalId: 'c11-b', name: '   ' } }, 'customer.name', 'NO_VISIBLE_TEXT'],
    ['a null name', { customer: { externalId: 'c11-c', name: null } }, 'customer.name', 'INVALID'],
    [
      'a name of only invisible characters',
      { customer: { externalId: 'c11-d', name: '\u200B\u3164\u2800' } },
      'customer.name',
      'NO_VISIBLE_TEXT',
    ],
    ['an empty phone', { customer: { externalId: 'c11-e', phone: '' } }, 'customer.phone', 'NO_VISIBLE_TEXT'],
    ['a 2-digit phone', { customer: { externalId: 'c11-f', phone: '12' } }, 'customer.phone', 'INVALID'],
    ['a numeric phone', { customer: { externalId: 'c11-g', phone: 13812345678 } }, 'customer.phone', 'INVALID'],
    ['an unknown skill group', { hints: { skillGroup: 'nope' } }, 'hints.skillGroup', 'UNKNOWN_SKILL_GROUP'],
    ['a bad language tag', { hints: { lang: 'not a language!' } }, 'hints.lang', 'INVALID'],
    ['hints that are not an object', { hints: 'vip' }, 'hints', 'INVALID'],
  ])('keeps the message and warns about %s', async (_label, over, field, code) => {
    const text = `C11 text for ${field} ${code} ${Math.random()}`;
    const res = await post(body({ ...over, text }));
    expect(res.statusCode).toBe(202);
    const json = AppMessageResponseSchema.parse(res.json());
    expect(json.warnings).toEqual([expect.objectContaining({ field, code })]);
    expect((await storedText(json.sessionId)).messages.map((m) => (m.kind === 'text' ? m.body.text : ''))).toContain(text);
  });

  it('cuts an over-long name by grapheme, keeps the message and says so', async () => {
    const family = '👨\u200D👩\u200D👧\u200D👦';
    const name = `${'王'.repeat(APP_NAME_MAX_LENGTH - 4)}${family}${'x'.repeat(50)}`;
    const res = await post(body({ customer: { externalId: 'c11-long', name } }));
    expect(res.statusCode).toBe(202);
    const json = AppMessageResponseSchema.parse(res.json());
    expect(json.warnings).toEqual([expect.objectContaining({ field: 'customer.name', code: 'TRUNCATED' })]);
    const detail = await storedText(json.sessionId);
    expect(detail.customerName).toBe('王'.repeat(APP_NAME_MAX_LENGTH - 4));
  });

  it('answers with no warnings when every optional field is good', async () => {
    const res = await post(body({ hints: { skillGroup: 'vip', lang: 'zh-cn' } }));
    expect(res.statusCode).toBe(202);
    expect(AppMessageResponseSchema.parse(res.json()).warnings).toEqual([]);
  });

  it.each([
    ['a zero-width space', '\u200B'],
    ['a Hangul filler and a BOM', '\u3164\uFEFF'],
    ['a braille blank between bidi marks', '\u200F\u2800\u200E'],
    ['ideographic spaces', '\u3000\u3000'],
  ])('refuses text made only of %s, naming the field', async (_label, text) => {
    const res = await post(body({ text }));
    expect(res.statusCode).toBe(400);
    const err = ErrorBodySchema.parse(res.json()).error;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details).toEqual([{ path: 'text', message: 'has no visible character' }]);
  });

  it('scores and routes the contact, and GET /api/v1/sessions/:id explains the decision', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: body({ customer: { externalId: 'vip-1', name: 'VIP' }, hints: { skillGroup: 'vip' } }),
    });
    const { sessionId } = res.json() as { sessionId: string };
    const token = await s.login('agent2');
    let detail: SessionDetail | undefined;
    await expect
      .poll(async () => {
        const r = await s.app.inject({
          method: 'GET',
          url: `/api/v1/sessions/${sessionId}`,
          headers: { authorization: `Bearer ${token}` },
        });
        detail = SessionDetailSchema.parse(r.json());
        return detail.routing;
      })
      .not.toBeNull();
    const routing = detail!.routing!;
    expect(routing.priority).toBeCloseTo(routing.valueScore * 0.6 + routing.difficultyScore * 0.4, 1);
    expect(routing.tier).toBe(routing.priority > 80 ? 'expert' : routing.priority > 50 ? 'assisted' : 'ai');
    expect(routing.configVersion).toBe(1);
    expect(routing.reasons.some((r) => r.factor === 'difficulty.negative-emotion' && (r.points ?? 0) > 0)).toBe(true);
    expect(detail!.skillGroup).toBe('vip');
    expect(detail!.messages[0]).toMatchObject({ seq: 1, direction: 'in', kind: 'text' });
    expect(detail!.context.customer.name).toBe('VIP');
  });
});

describe('GET /api/v1/channels/app/messages (the app fetches replies)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it("returns the customer's conversation after a seq, with the agent's replies", async () => {
    const empty = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=poller', headers: KEY });
    expect(empty.json()).toEqual({ sessionId: null, conversationId: null, status: null, messages: [], standing: null, csat: null });

    const post = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: body({ customer: { externalId: 'poller' }, text: 'Is my order shipped?', clientMessageId: 'p-1' }),
    });
    const { sessionId, conversationId } = post.json() as { sessionId: string; conversationId: string };
    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      expect((await ack(agent, 'offer:accept', { sessionId })).ok).toBe(true);
      expect((await ack(agent, 'message:send', { sessionId, clientMessageId: 'reply-0001', text: 'Yes, it left today.' })).ok).toBe(true);
    } finally {
      agent.close();
    }
    const all = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=poller', headers: KEY });
    expect(all.json()).toMatchObject({
      sessionId,
      conversationId,
      status: 'active',
      messages: [
        { seq: 1, direction: 'in', text: 'Is my order shipped?', receivedAt: expect.any(String) },
        { seq: 2, direction: 'out', text: 'Yes, it left today.' },
      ],
    });
    const after = await s.app.inject({
      method: 'GET',
      url: `/api/v1/channels/app/messages?externalId=poller&conversationId=${conversationId}&afterSeq=1`,
      headers: KEY,
    });
    expect((after.json() as { messages: { seq: number }[] }).messages.map((m) => m.seq)).toEqual([2]);
  });

  it("keeps apps apart: another app's key cannot read this app's customer", async () => {
    await s.services.channels.addAccount({ key: 'other-app-key', channel: 'AP', accountId: 'other', name: 'Other', skillGroup: null });
    await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: body({ customer: { externalId: 'shared-id' }, text: 'private to demo app', clientMessageId: 'iso-1' }),
    });
    const other = await s.app.inject({
      method: 'GET',
      url: '/api/v1/channels/app/messages?externalId=shared-id',
      headers: { 'x-huiliu-key': 'other-app-key' },
    });
    expect(other.json()).toMatchObject({ sessionId: null, messages: [] });
    const mine = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=shared-id', headers: KEY });
    expect((mine.json() as { messages: { text: string }[] }).messages[0]?.text).toBe('private to demo app');
  });

  it('refuses without a key and names bad query fields', async () => {
    expect((await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=x' })).statusCode).toBe(401);
    const bad = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?afterSeq=-1', headers: KEY });
    expect(bad.statusCode).toBe(400);
    expect((ErrorBodySchema.parse(bad.json()).error.details as { path: string }[]).map((d) => d.path)).toEqual(
      expect.arrayContaining(['externalId', 'afterSeq']),
    );
  });
});
