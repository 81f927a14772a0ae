import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConversationRecordCache } from './record-cache';

const key = randomBytes(32);
const entry = (text: string, customerId = 'c1') => ({
  record: Buffer.from(`record:${text}`),
  key,
  customerId,
  header: { id: text },
  plain: `{"body":"${text}"}`,
});

describe('ConversationRecordCache', () => {
  it('serves an entry only for byte-identical stored records', () => {
    const cache = new ConversationRecordCache<{ id: string }>();
    const e = entry('one');
    cache.put('conv', 1, e);
    const w = cache.window('conv');
    expect(cache.lookup(w, 1, Buffer.from(e.record))?.plain).toBe('{"body":"one"}');
    const altered = Buffer.from(e.record);
    altered[altered.length - 1]! ^= 0x01;
    expect(cache.lookup(w, 1, altered)).toBeUndefined();
    // Another seq, another conversation: nothing.
    expect(cache.lookup(w, 2, e.record)).toBeUndefined();
    expect(cache.lookup(cache.window('other'), 1, e.record)).toBeUndefined();
  });

  it("drops a customer's records at once (crypto-erasure) and keeps the others", () => {
    const cache = new ConversationRecordCache<{ id: string }>();
    cache.put('a', 1, entry('a1', 'erased'));
    cache.put('a', 2, entry('a2', 'erased'));
    cache.put('b', 1, entry('b1', 'kept'));
    expect(cache.forgetCustomer('erased')).toBe(2);
    expect(cache.window('a')).toBeUndefined();
    expect(cache.lookup(cache.window('b'), 1, entry('b1').record)).toBeDefined();
    expect(cache.count).toBe(1);
    cache.clear();
    expect([cache.count, cache.bytes]).toEqual([0, 0]);
  });

  it('keeps within its byte budget, dropping the window read longest ago first', () => {
    const one = entry('o1'); // every text below is two characters: entries of one size
    const size = one.record.length + one.plain.length * 2 + 400;
    const cache = new ConversationRecordCache<{ id: string }>(size * 4);
    cache.put('old', 1, entry('o1'));
    cache.put('old', 2, entry('o2'));
    cache.put('hot', 1, entry('h1'));
    cache.window('old'); // read again: now the most recent
    cache.put('new', 1, entry('n1'));
    cache.put('new', 2, entry('n2')); // over budget: 'hot' (read longest ago) goes whole
    expect(cache.window('hot')).toBeUndefined();
    expect(cache.window('old')?.entries.size).toBe(2);
    expect(cache.bytes).toBeLessThanOrEqual(size * 4);
  });

  it('keeps at most perConversation records of one conversation, and nothing with a zero budget', () => {
    const cache = new ConversationRecordCache<{ id: string }>(1 << 20, 3);
    for (let seq = 1; seq <= 5; seq++) cache.put('c', seq, entry(`m${seq}`));
    expect([...cache.window('c')!.entries.keys()]).toEqual([3, 4, 5]);
    const off = new ConversationRecordCache<{ id: string }>(0);
    off.put('c', 1, entry('m'));
    expect(off.count).toBe(0);
  });
});
