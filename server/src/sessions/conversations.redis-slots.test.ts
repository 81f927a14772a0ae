import { createRequire } from 'node:module';
import { randomBytes, randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CODES, formatSessionId, sessionHashTag } from '../../../common/message/session-id';
import { REDIS_SLOTS, redisKeySlot } from '../../test/support/redis-slot';
import { redisLayout } from './conversations.redis';

/**
 * ioredis's own key → slot function (the `cluster-key-slot` package ioredis routes every command with),
 * loaded through ioredis's dependency so the test measures what the client does. Ours
 * (test/support/redis-slot.ts) must agree with it.
 */
const clusterKeySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/**
 * One day of contact-centre traffic: sessions per hour follow a working-day curve (quiet nights, peaks
 * at 10:00 and 20:00), 20 % arrive in bursts of 2–200 sessions in the SAME millisecond (a campaign
 * push, a reconnect storm), channels mixed as a Chinese deployment sees them.
 */
function dayOfSessionIds(count: number, dayStart: number): string[] {
  const hourly = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 3, 6, 8, 10, 9, 7, 8, 9, 8.5, 8, 7, 7.5, 9, 10, 7, 4, 2];
  const total = hourly.reduce((a, b) => a + b, 0);
  const channels = [...CHANNEL_CODES];
  const channelWeight = [0.3, 0.25, 0.35, 0.03, 0.07];
  const pickChannel = () => {
    let x = Math.random();
    for (let i = 0; i < channels.length; i++) if ((x -= channelWeight[i]!) < 0) return channels[i]!;
    return channels[0]!;
  };
  // The random part from a CSPRNG as the server draws it (session-id.ts), read 64 Ki values at a time.
  let pool = new Uint32Array(0);
  let at = pool.length;
  const random5 = () => {
    if (at >= pool.length) {
      pool = new Uint32Array(randomBytes(4 * 65_536).buffer);
      at = 0;
    }
    return pool[at++]! % 100_000;
  };
  const ids: string[] = [];
  const seen = new Set<string>();
  while (ids.length < count) {
    let x = Math.random() * total;
    let hour = 0;
    while ((x -= hourly[hour]!) > 0) hour++;
    const t = dayStart + hour * 3_600_000 + Math.floor(Math.random() * 3_600_000);
    const burst = Math.random() < 0.0025 ? 2 + randomInt(199) : 1;
    for (let i = 0; i < burst && ids.length < count; i++) {
      const id = formatSessionId(pickChannel(), t, random5());
      // The store refuses a taken id and the caller draws again (mintSessionId); so does this.
      if (seen.has(id)) continue;
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}

describe('Redis Cluster slot spread of the conversation keys (DESIGN §3, §9)', () => {
  it('spreads one day of 1,000,000 sessions over the 16,384 slots: the busiest gets ≤ 2× the mean', () => {
    const L = redisLayout('huiliu');
    const ids = dayOfSessionIds(1_000_000, Date.UTC(2026, 10, 30, 0, 0, 0) - 8 * 3_600_000);
    const bySession = new Uint32Array(REDIS_SLOTS);
    const byTimePrefix = new Uint32Array(REDIS_SLOTS);
    for (const id of ids) {
      // The key every write of the session's conversation goes to (all its keys share the tag).
      bySession[clusterKeySlot(L.messages(sessionHashTag(id), '0190f000-0000-7000-8000-000000000000'))]! += 1;
      byTimePrefix[clusterKeySlot(`huiliu:{${id.slice(0, 11)}}:m`)]! += 1;
    }
    const mean = ids.length / REDIS_SLOTS;
    const busiest = Math.max(...bySession);
    const idle = bySession.filter((n) => n === 0).length;
    const spread = `mean ${mean.toFixed(1)}, busiest ${busiest} (${(busiest / mean).toFixed(2)}× the mean), empty slots ${idle}`;
    expect(busiest, spread).toBeLessThanOrEqual(2 * mean);
    expect(idle).toBe(0);
    // The measure has teeth: a tag on the channel + time prefix (10 s buckets) piles sessions up.
    expect(Math.max(...byTimePrefix)).toBeGreaterThan(2 * mean);
  }, 60_000);

  it('spreads 1,000,000 conversation pointers (UUIDv7 tags) as evenly', () => {
    const L = redisLayout('huiliu');
    const slots = new Uint32Array(REDIS_SLOTS);
    for (let i = 0; i < 1_000_000; i++) slots[clusterKeySlot(L.conversationTag(uuidv7()))]! += 1;
    expect(Math.max(...slots)).toBeLessThanOrEqual((2 * 1_000_000) / REDIS_SLOTS);
  }, 60_000);

  it('computes the slot as ioredis does, for every kind of key the adapter writes', () => {
    const L = redisLayout('huiliu');
    const id = formatSessionId('WX', 1_764_400_000_123, 48_213);
    const tag = sessionHashTag(id);
    const conversation = uuidv7();
    const keys = [
      L.conversation(tag, conversation),
      L.messages(tag, conversation),
      L.idempotency(tag, conversation),
      L.sessionsOf(tag, conversation),
      L.session(tag, id),
      L.context(tag, id),
      L.home(id),
      L.conversationTag(conversation),
      ...L.queue('vip'),
      L.dataKey(`customer:${conversation}`),
    ];
    for (const key of keys) expect(redisKeySlot(key)).toBe(clusterKeySlot(key));
    // Everything one conversation writes together is in one slot.
    expect(new Set(keys.slice(0, 7).map(clusterKeySlot)).size).toBe(1);
    expect(new Set(L.queue('vip').map(clusterKeySlot)).size).toBe(1);
  });
});
