import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, InboundDraftSchema, MAX_TEXT_LENGTH, normalizeLinkValue, textOf, type Envelope } from './envelope';

const valid: Envelope = {
  v: 1,
  id: '01a217af-518a-76c9-b3e0-cc994d61d475',
  sessionId: 'WB169208100012348213',
  conversationId: '01a217af-5189-70b1-8dcc-d1bd11b8e3d2',
  customerId: '01a217af-5189-70b1-8dcc-d1bd11b8e3d3',
  channel: 'WB',
  direction: 'in',
  seq: 1,
  kind: 'text',
  body: { text: '我的订单还没到' },
  critical: true,
  clientMessageId: 'c-1',
  sentAt: '2026-11-26T10:00:00.000Z',
  receivedAt: '2026-11-26T10:00:00.120Z',
  meta: { openid: 'o-123' },
};

describe('Envelope schema (DESIGN §4)', () => {
  it('accepts a well-formed text envelope and each other kind', () => {
    expect(EnvelopeSchema.parse(valid)).toEqual(valid);
    const others: Pick<Envelope, 'kind' | 'body'>[] = [
      { kind: 'image', body: { attachmentId: 'a1', mime: 'image/png', size: 10 } },
      { kind: 'file', body: { attachmentId: 'a2', name: 'invoice.pdf', mime: 'application/pdf', size: 10 } },
      { kind: 'audio', body: { attachmentId: 'a3', mime: 'audio/ogg', durationMs: 3000, transcript: 'hello' } },
      { kind: 'event', body: { name: 'customer.typing' } },
    ];
    for (const o of others) expect(EnvelopeSchema.safeParse({ ...valid, ...o }).success, o.kind).toBe(true);
  });

  it.each([
    ['a version other than 1', { v: 2 }],
    ['a non-v7 id', { id: '3b241101-e2bb-4255-8caf-4136c566a962' }],
    ['a malformed session ID', { sessionId: 'WB2023081514300012345' }],
    ['an unknown channel', { channel: 'FB' }],
    ['seq 0', { seq: 0 }],
    ['a fractional seq', { seq: 1.5 }],
    ['an unknown direction', { direction: 'sideways' }],
    ['a body of another kind', { kind: 'image', body: { text: 'hi' } }],
    ['whitespace-only text', { body: { text: '   ' } }],
    ['over-long text', { body: { text: 'x'.repeat(MAX_TEXT_LENGTH + 1) } }],
    ['a time without zone', { sentAt: '2026-11-26 10:00' }],
    ['a nested meta value', { meta: { raw: { deep: 1 } } }],
  ])('rejects %s', (_name, patch) => {
    expect(EnvelopeSchema.safeParse({ ...valid, ...patch }).success).toBe(false);
  });

  it('trims text and keeps channel payloads out (meta is scalars only)', () => {
    expect(EnvelopeSchema.parse({ ...valid, body: { text: '  hi  ' } }).body).toEqual({ text: 'hi' });
    expect(EnvelopeSchema.safeParse({ ...valid, meta: { xml: '<xml/>', n: 1, ok: true, none: null } }).success).toBe(true);
  });

  it('refuses a text body with no visible character, in envelopes and inbound drafts', () => {
    for (const text of ['\u200B', '\u3164\u2800', '\u202E\u2066', '\u0301', '\u3000']) {
      const env = EnvelopeSchema.safeParse({ ...valid, body: { text } });
      expect(env.success, JSON.stringify(text)).toBe(false);
      expect(env.error?.issues.map((i) => [i.path.join('.'), i.message])).toContainEqual(['body.text', 'has no visible character']);
    }
    expect(EnvelopeSchema.safeParse({ ...valid, body: { text: '\u200Bok' } }).success).toBe(true);
  });

  it('renders a one-line text for every kind', () => {
    expect(textOf(valid)).toBe('我的订单还没到');
    expect(textOf({ kind: 'file', body: { attachmentId: 'a', name: 'x.pdf', mime: 'application/pdf', size: 1 } })).toBe('[file] x.pdf');
    expect(textOf({ kind: 'audio', body: { attachmentId: 'a', mime: 'audio/ogg', durationMs: 1 } })).toBe('[voice message]');
  });

  it('validates inbound drafts before the store sees them', () => {
    const draft = {
      identity: { channel: 'AP', externalId: 'u-1' },
      content: { kind: 'text', body: { text: 'hello' } },
      critical: true,
      clientMessageId: 'c-1',
      sentAt: valid.sentAt,
      receivedAt: valid.receivedAt,
      meta: {},
    };
    expect(InboundDraftSchema.safeParse(draft).success).toBe(true);
    expect(InboundDraftSchema.safeParse({ ...draft, identity: { channel: 'AP', externalId: '' } }).success).toBe(false);
  });
});

describe('normalizeLinkValue: e-mail addresses', () => {
  it('keeps plain, tagged and internationalised addresses, lower-cased', () => {
    expect(normalizeLinkValue('email', ' Li.Na@Example.com ')).toBe('li.na@example.com');
    expect(normalizeLinkValue('email', 'zhang+shop@例子.中国')).toBe('zhang+shop@例子.中国');
  });
  it('refuses quoted or markup-like local parts, spaces and one-label domains', () => {
    for (const bad of ['x"onmouseover=alert(2)@ex.com', 'a<b>@x.com', 'a b@x.com', 'a@b', 'a@-x.com', '@x.com', 'a@x..com']) {
      expect(normalizeLinkValue('email', bad), bad).toBeNull();
    }
  });
});
