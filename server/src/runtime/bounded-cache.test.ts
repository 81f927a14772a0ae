import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  it('drops the least recently used entry when full', () => {
    const cache = new BoundedCache<string, number>({ max: 2 });
    cache.set('a', 1).set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now more recent than b
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });

  it('serves an entry for ttlMs after it was set, then forgets it', () => {
    let t = 1000;
    const cache = new BoundedCache<string, number>({ max: 10, ttlMs: 50, now: () => t });
    cache.set('a', 1);
    t = 1049;
    expect(cache.get('a')).toBe(1);
    t = 1050;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets on delete and clear', () => {
    const cache = new BoundedCache<string, number>({ max: 10 });
    cache.set('a', 1).set('b', 2);
    expect(cache.delete('a')).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.get('b')).toBeUndefined();
  });

  it('refuses a size or lifetime that makes no sense', () => {
    expect(() => new BoundedCache({ max: 0 })).toThrow(RangeError);
    expect(() => new BoundedCache({ max: 1, ttlMs: 0 })).toThrow(RangeError);
  });
});
