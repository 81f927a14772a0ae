import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SESSION_ID_PATTERN, formatSessionId, parseSessionId, sessionHashTag } from '../../../common/message/session-id';
import { SessionIdExhaustedError, mintSessionId, newSessionId } from './session-id';
import { REDIS_SLOTS, crc16xmodem, redisKeySlot } from '../../test/support/redis-slot';

describe('session ID (DESIGN §3: channel 2 + epoch ms 13 + random 5)', () => {
  it('is 20 characters: channel code, the 13-digit timestamp, 5 random digits', () => {
    const now = 1_692_081_000_123;
    const id = newSessionId('WB', now, () => 48_213);
    expect(id).toBe('WB169208100012348213');
    expect(id).toHaveLength(20);
    expect(parseSessionId(id)).toEqual({ channel: 'WB', epochMs: now, random: '48213' });
  });

  it('zero-pads the random part and rejects out-of-range parts', () => {
    expect(formatSessionId('AP', 1_700_000_000_000, 7)).toBe('AP170000000000000007');
    expect(() => formatSessionId('AP', 1_700_000_000_000, 100_000)).toThrow(RangeError);
    expect(() => formatSessionId('AP', -1, 1)).toThrow(RangeError);
    expect(() => formatSessionId('AP', 10_000_000_000_000, 1)).toThrow(RangeError);
  });

  it('matches the published pattern for every channel and refuses look-alikes', () => {
    for (const ch of ['WB', 'AP', 'WX', 'XM', 'SP'] as const) expect(newSessionId(ch)).toMatch(SESSION_ID_PATTERN);
    for (const bad of ['WB2023081514300012345', 'ZZ169208100012348213', 'wb169208100012348213', 'WB16920810001234821X']) {
      expect(bad).not.toMatch(SESSION_ID_PATTERN);
    }
  });

  it('draws the random part from a CSPRNG with an even spread', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Number(newSessionId('WB').slice(15, 16))]! += 1;
    // Each leading random digit should get ~10 %; a chi-square over 9 dof at p=0.001 is 27.9.
    const chi = buckets.reduce((s, n) => s + (n - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(27.9);
  });

  it('stays unique across 1,000,000 IDs minted against a unique index', () => {
    // The database's primary key decides what is taken, as in the store: not a Set that is unique by itself.
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE sessions (id TEXT PRIMARY KEY CHECK (length(id) = 20)) WITHOUT ROWID');
      const insert = db.prepare('INSERT OR IGNORE INTO sessions (id) VALUES (?)');
      let retries = 0;
      let clock = 1_764_000_000_000;
      db.transaction(() => {
        for (let i = 0; i < 1_000_000; i++) {
          // 100 new sessions per millisecond: far above any real load, so collisions do happen.
          if (i % 100 === 0) clock += 1;
          const { attempts } = mintSessionId('WB', (candidate) => insert.run(candidate).changes === 1, { now: () => clock });
          retries += attempts - 1;
        }
      })();
      expect(db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids FROM sessions').get()).toEqual({
        n: 1_000_000,
        distinct_ids: 1_000_000,
      });
      // Birthday bound: ~100²/2/100000 ≈ 0.05 collisions per ms → ~500 retries over 10,000 ms.
      expect(retries).toBeGreaterThan(0);
      expect(retries).toBeLessThan(2_000);
    } finally {
      db.close();
    }
  });

  it('retries on a collision and gives up after the attempt limit', () => {
    const draws = [5, 5, 6];
    const taken = new Set(['WB176400000000000005']);
    const res = mintSessionId('WB', (c) => (taken.has(c) ? false : (taken.add(c), true)), {
      now: () => 1_764_000_000_000,
      random: () => draws.shift()!,
    });
    expect(res).toEqual({ id: 'WB176400000000000006', attempts: 3 });
    expect(() => mintSessionId('WB', () => false, { maxAttempts: 4 })).toThrow(SessionIdExhaustedError);
  });

  it('computes Redis Cluster slots with CRC16/XMODEM as Redis does', () => {
    expect(crc16xmodem('123456789')).toBe(0x31c3); // Redis cluster spec test vector
    expect(redisKeySlot('{user1000}.following')).toBe(redisKeySlot('{user1000}.followers'));
    expect(redisKeySlot('foo{}{bar}')).toBe(crc16xmodem('foo{}{bar}') % REDIS_SLOTS);
  });

  it('spreads 1,000,000 session hash tags over the 16,384 Redis slots: busiest ≤ 2× the mean (DESIGN §9)', () => {
    const bySessionTag = new Uint32Array(REDIS_SLOTS);
    const byTimePrefix = new Uint32Array(REDIS_SLOTS);
    let clock = 1_764_000_000_000;
    for (let i = 0; i < 1_000_000; i++) {
      if (i % 100 === 0) clock += 1; // a burst far above real load, as above
      const id = newSessionId('WB', clock);
      bySessionTag[redisKeySlot(`session:{${sessionHashTag(id)}}`)]! += 1;
      byTimePrefix[redisKeySlot(`session:{${id.slice(0, 11)}}`)]! += 1;
    }
    const mean = 1_000_000 / REDIS_SLOTS;
    expect(Math.max(...bySessionTag)).toBeLessThanOrEqual(2 * mean);
    // The check has teeth: tagging on the channel + time prefix piles sessions onto a few slots.
    expect(Math.max(...byTimePrefix)).toBeGreaterThan(2 * mean);
  });

  it('hash-tags on the random part and the timestamp tail, not the prefixes', () => {
    expect(sessionHashTag('WB169208100012348213')).toBe('482130123');
    // Two sessions in the same second on the same channel land on different tags.
    expect(sessionHashTag('WB169208100012348213')).not.toBe(sessionHashTag('WB169208100012348214'));
  });
});
