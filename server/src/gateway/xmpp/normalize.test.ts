import { describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH } from '../../../../common/message/envelope';
import { backoffDelay } from './link';
import {
  classifyStanza,
  clientMessageIdOf,
  maskJid,
  normalizeXmppMessage,
  parseJid,
  parseStanzas,
  reusedIdClientMessageId,
} from './normalize';

const support = { domain: 'support.localhost', local: 'support' };
const one = (text: string) => {
  const { elements, error } = parseStanzas(text);
  expect(error).toBeNull();
  return elements[0]!;
};
const chat = (inner: string, attrs = 'id="m1"') =>
  one(`<message from="Wang.Fang@Example.com/phone" to="support@support.localhost" type="chat" ${attrs}>${inner}</message>`);

describe('XMPP normalize', () => {
  it('reads JIDs: the bare JID lower-cased is the identity; unusable ones are null', () => {
    expect(parseJid('Wang.Fang@Example.COM/Phone 1')).toMatchObject({
      local: 'Wang.Fang',
      bare: 'wang.fang@example.com',
      resource: 'Phone 1',
    });
    expect(parseJid('example.com')).toMatchObject({ local: null, bare: 'example.com', resource: null });
    for (const bad of [undefined, '', '@example.com', 'a@', 'a b@example.com', 'a@b@c', 'x@example.com/']) expect(parseJid(bad)).toBeNull();
    expect(maskJid('wang.fang@example.com/phone')).toBe('***@example.com');
  });

  it('turns a chat with a body into a draft: bare JID, nick or local part as name, stamp as sentAt, reply address in meta', () => {
    const c = classifyStanza(
      chat(
        '<body>Hello &amp; thanks</body><nick xmlns="http://jabber.org/protocol/nick">Fang</nick><delay xmlns="urn:xmpp:delay" stamp="2026-11-30T10:00:00Z"/><request xmlns="urn:xmpp:receipts"/><active xmlns="http://jabber.org/protocol/chatstates"/>',
      ),
      support,
    );
    expect(c).toMatchObject({ kind: 'chat', text: 'Hello & thanks', typing: false, receiptRequested: true, nick: 'Fang' });
    if (c.kind !== 'chat' || c.text === null) throw new Error('not a chat');
    const draft = normalizeXmppMessage({ ...c, text: c.text }, 'demo', new Date('2026-11-30T10:00:05Z'));
    expect(draft).toMatchObject({
      identity: { channel: 'XM', externalId: 'wang.fang@example.com', displayName: 'Fang' },
      content: { kind: 'text', body: { text: 'Hello & thanks' } },
      clientMessageId: 'm1',
      sentAt: '2026-11-30T10:00:00.000Z',
      receivedAt: '2026-11-30T10:00:05.000Z',
      meta: { xmppAccount: 'demo', xmppFrom: 'Wang.Fang@Example.com/phone', xmppId: 'm1' },
    });
  });

  it('refuses a body over MAX_TEXT_LENGTH with policy-violation, and zero-width-only text with bad-request', () => {
    expect(classifyStanza(chat(`<body>${'a'.repeat(MAX_TEXT_LENGTH + 1)}</body>`), support)).toMatchObject({
      kind: 'reject',
      condition: 'policy-violation',
      reason: 'too_long',
    });
    expect(classifyStanza(chat('<body>\u200b\u200b</body>'), support)).toMatchObject({ kind: 'reject', condition: 'bad-request' });
    // A body of spaces is no body: with a chat state it is only that.
    expect(classifyStanza(chat('<body>  </body><composing xmlns="http://jabber.org/protocol/chatstates"/>'), support)).toMatchObject({
      kind: 'chat',
      text: null,
      typing: true,
    });
  });

  it('keys messages by stanza id, hashes long ids, and falls back to a stable hash without one', () => {
    const base = { from: parseJid('a@example.com/r')!, thread: null, stamp: null, text: 'hi' };
    expect(clientMessageIdOf({ ...base, id: 'abc' })).toBe('abc');
    expect(clientMessageIdOf({ ...base, id: 'x'.repeat(200) })).toMatch(/^xmpp-id:[\w-]{43}$/);
    const fallback = clientMessageIdOf({ ...base, id: null });
    expect(fallback).toMatch(/^xmpp-nid:/);
    expect(clientMessageIdOf({ ...base, id: null })).toBe(fallback);
    expect(clientMessageIdOf({ ...base, id: null, text: 'hi again' })).not.toBe(fallback);
    expect(clientMessageIdOf({ ...base, id: null, from: parseJid('a@example.com/other')! })).not.toBe(fallback);
    expect(reusedIdClientMessageId({ ...base, id: 'abc' })).not.toBe(reusedIdClientMessageId({ ...base, id: 'abc', text: 'other' }));
  });

  it('reads receipts and bounces, and never answers its own domain', () => {
    expect(classifyStanza(chat('<received xmlns="urn:xmpp:receipts" id="out-1"/>', ''), support)).toMatchObject({
      kind: 'chat',
      text: null,
      receivedId: 'out-1',
    });
    const bounce = one(
      '<message type="error" from="b@example.com" to="support@support.localhost" id="out-2"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>',
    );
    expect(classifyStanza(bounce, support)).toMatchObject({ kind: 'bounce', id: 'out-2', condition: 'item-not-found' });
    const loop = one('<message from="support.localhost" to="support@support.localhost" type="chat"><body>x</body></message>');
    expect(classifyStanza(loop, support)).toMatchObject({ kind: 'ignore', reason: 'own_domain' });
  });

  it('reports malformed XML from the stream parser', () => {
    expect(parseStanzas('<message><body>x</bod></message>').error).toBeInstanceOf(Error);
  });
});

describe('XMPP reconnect backoff', () => {
  it('doubles from the minimum up to the cap, with half of each wait random', () => {
    const low = (n: number) => backoffDelay(n, 500, 30_000, () => 0);
    const high = (n: number) => backoffDelay(n, 500, 30_000, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map(high)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect([0, 1, 6, 50].map(low)).toEqual([250, 500, 15000, 15000]);
    const sample = backoffDelay(3, 500, 30_000);
    expect(sample).toBeGreaterThanOrEqual(2000);
    expect(sample).toBeLessThanOrEqual(4000);
  });
});
