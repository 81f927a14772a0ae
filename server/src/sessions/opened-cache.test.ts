import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealText, TamperError } from '../crypto/aead';
import { OpenedPayloadCache } from './opened-cache';

const key = randomBytes(32);
const sealed = (text: string, aadText: string) => sealText(key, text, aadText);
/** The AAD of format 1 (the only one these payloads have) for a message id. */
const aad = (id: string) => (version: number) => (version === 1 ? `msg:${id}` : null);

describe('OpenedPayloadCache', () => {
  it('opens a payload once, then serves the same key and bytes from memory', () => {
    const cache = new OpenedPayloadCache();
    const ct = sealed('{"body":"hello"}', 'msg:m1');
    expect(cache.open('m1', 'c1', key, ct, aad('m1'))).toBe('{"body":"hello"}');
    expect(cache.open('m1', 'c1', key, Buffer.from(ct), aad('m1'))).toBe('{"body":"hello"}');
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  it('never returns cached text for changed bytes: a flipped byte fails the GCM check as before', () => {
    const cache = new OpenedPayloadCache();
    const ct = sealed('{"body":"pay 10"}', 'msg:m1');
    cache.open('m1', 'c1', key, ct, aad('m1'));
    const altered = Buffer.from(ct);
    altered[altered.length - 1]! ^= 0x01;
    expect(() => cache.open('m1', 'c1', key, altered, aad('m1'))).toThrow(TamperError);
    // The row binding is checked on a miss too: the same bytes under another id are refused.
    expect(() => cache.open('m2', 'c1', key, ct, aad('m2'))).toThrow(TamperError);
  });

  it('misses for another key Buffer (a destroyed and re-created data key opens nothing it did not seal)', () => {
    const cache = new OpenedPayloadCache();
    const ct = sealed('{"body":"x"}', 'msg:m1');
    cache.open('m1', 'c1', key, ct, aad('m1'));
    expect(() => cache.open('m1', 'c1', randomBytes(32), ct, aad('m1'))).toThrow(TamperError);
    // Same key bytes in another Buffer: opened again (identity, not contents), still correct.
    expect(cache.open('m1', 'c1', Buffer.from(key), ct, aad('m1'))).toBe('{"body":"x"}');
    expect(cache.misses).toBe(3);
  });

  it('keeps within its byte budget, giving entries read since they came up a second chance (CLOCK)', () => {
    const one = sealed('{"body":"' + 'a'.repeat(100) + '"}', 'msg:a');
    const perEntry = one.length + (100 + 11 + 'msg:a'.length) * 2 + 160;
    const cache = new OpenedPayloadCache(perEntry * 3);
    const texts = ['a', 'b', 'c', 'd'].map((id) => ({ id, ct: sealed('{"body":"' + id.repeat(100) + '"}', `msg:${id}`) }));
    for (const { id, ct } of texts.slice(0, 3)) cache.open(id, 'c1', key, ct, aad(id));
    cache.open('a', 'c1', key, texts[0]!.ct, aad('a')); // a was read: when it comes up for eviction it gets a second chance, b goes
    cache.open('d', 'c1', key, texts[3]!.ct, aad('d'));
    expect(cache.bytes).toBeLessThanOrEqual(perEntry * 3);
    const hitsBefore = cache.hits;
    cache.open('a', 'c1', key, texts[0]!.ct, aad('a'));
    cache.open('b', 'c1', key, texts[1]!.ct, aad('b'));
    expect(cache.hits - hitsBefore).toBe(1); // a was kept, b was evicted
    expect(new OpenedPayloadCache(0).open('a', 'c1', key, texts[0]!.ct, aad('a'))).toContain('aaa');
  });

  it('forgets every payload of one customer (crypto-erasure) and only theirs', () => {
    const cache = new OpenedPayloadCache();
    cache.open('m1', 'c1', key, sealed('{"body":1}', 'msg:m1'), aad('m1'));
    cache.open('m2', 'c1', key, sealed('{"body":2}', 'msg:m2'), aad('m2'));
    const keep = sealed('{"body":3}', 'msg:m3');
    cache.open('m3', 'c2', key, keep, aad('m3'));
    expect(cache.forgetCustomer('c1')).toBe(2);
    const before = cache.hits;
    cache.open('m3', 'c2', key, keep, aad('m3'));
    expect(cache.hits - before).toBe(1);
    cache.clear();
    expect(cache.bytes).toBe(0);
  });
  it('never serves a hit for a changed header: format 2 binds the header, so the same bytes under another header fail', async () => {
    const { sealMessage, messageAadOf } = await import('./sqlite-rows');
    const header = {
      id: 'm9',
      conversationId: 'c-9',
      sessionId: 's-9',
      customerId: 'c1',
      channel: 'WB' as const,
      direction: 'in' as const,
      kind: 'text',
      critical: false,
      clientMessageId: 'cm-9',
      authorId: null,
      authorKind: 'customer',
      sentAt: '2026-12-01T00:00:00.000Z',
      receivedAt: '2026-12-01T00:00:00.001Z',
    };
    const cache = new OpenedPayloadCache();
    const ct = sealMessage(key, '{"body":"refund 10"}', header);
    expect(cache.open('m9', 'c1', key, ct, messageAadOf(header))).toBe('{"body":"refund 10"}');
    expect(() => cache.open('m9', 'c1', key, ct, messageAadOf({ ...header, direction: 'out' }))).toThrow(TamperError);
    expect(cache.open('m9', 'c1', key, ct, messageAadOf(header))).toBe('{"body":"refund 10"}');
    expect([cache.hits, cache.misses]).toEqual([1, 2]);
  });
});
