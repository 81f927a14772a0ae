import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf } from '../../../common/events/events';
import { until } from '../../test/support/until';
import { busContract } from './bus.contract';
import { createRedisBus, type RedisBus, type RedisBusOptions } from './bus.redis';
import { newEvent } from './events';

/** The Redis on this machine (ENVIRONMENT.md); each run uses its own key prefix and deletes its keys. */
const connect = () => new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

async function dropKeys(prefix: string): Promise<void> {
  const redis = connect();
  const keys = await redis.keys(`{${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

busContract('Redis Streams', async () => {
  const prefix = `huiliu-test-${randomUUID()}`;
  return {
    node: async (options) => createRedisBus({ ...options, connect, prefix, blockMs: 100 }),
    close: () => dropKeys(prefix),
  };
});

const conversationId = '01a217af-518a-76c9-b3e0-cc994d61d476';
const changed = (n: number): EventOf<'session.changed'> =>
  newEvent('session.changed', {
    actor: 'system',
    sessionId: `WB${String(n).padStart(18, '0')}`,
    conversationId,
    payload: {
      status: 'queued',
      reason: 'routed',
      channel: 'WB',
      customerId: '01a217af-518a-76c9-b3e0-cc994d61d475',
      skillGroup: 'general',
      assignedAgentId: null,
      offeredAgentId: null,
      offerExpiresAt: null,
      tier: null,
      priority: null,
      createdAt: '2026-11-30T00:00:00.000Z',
      waitingSince: '2026-11-30T00:00:00.000Z',
      lastMessageAt: '2026-11-30T00:00:00.000Z',
    },
  });

describe('Redis Streams bus', () => {
  let prefix: string;
  let redis: Redis;
  let buses: RedisBus[];
  const bus = (extra: Partial<RedisBusOptions> = {}) => {
    const b = createRedisBus({ connect, prefix, blockMs: 100, ...extra });
    buses.push(b);
    return b;
  };
  beforeEach(() => {
    prefix = `huiliu-test-${randomUUID()}`;
    redis = connect();
    buses = [];
  });
  afterEach(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await dropKeys(prefix);
    redis.disconnect();
  });

  it('gives a dead consumer’s unacked entry to another node of the group, and acks it there', async () => {
    const fast = { leaseMs: 300, reclaimIdleMs: 300, reclaimEveryMs: 100 };
    const doomed = bus(fast);
    const survivor = bus(fast);
    const took: string[] = [];
    const got: string[] = [];
    // The first node takes the entry and dies in the middle of its handler: it never acks.
    await doomed.subscribe('session.changed', 'router', (e) => {
      took.push(e.id);
      return new Promise<void>(() => {});
    });
    await survivor.subscribe('session.changed', 'router', (e) => void got.push(e.id));
    const e = changed(1);
    await survivor.publish(e);
    await until(() => took.length === 1);
    expect(got).toEqual([]);
    doomed.abandon();
    await until(() => got.length === 1);
    expect(got).toEqual([e.id]);
    const key = `{${prefix}:bus:session.changed}`;
    await until(async () => ((await redis.xpending(key, 'router')) as [number])[0] === 0);
    // The survivor goes on with new entries after the reclaimed one.
    const next = changed(2);
    await survivor.publish(next);
    await until(() => got.length === 2);
    expect(got).toEqual([e.id, next.id]);
  });

  it('lets one node read for a group at a time, and hands the group over when it leaves', async () => {
    const fast = { leaseMs: 300, reclaimEveryMs: 100 };
    const first = bus(fast);
    const second = bus(fast);
    const byFirst: string[] = [];
    const bySecond: string[] = [];
    const sub = await first.subscribe('session.changed', 'router', (e) => void byFirst.push(e.sessionId));
    await second.subscribe('session.changed', 'router', (e) => void bySecond.push(e.sessionId));
    for (let i = 0; i < 20; i++) await second.publish(changed(i));
    await until(() => byFirst.length === 20);
    expect(bySecond).toEqual([]); // the standby reads nothing while the first holds the lease
    await sub.unsubscribe();
    for (let i = 20; i < 30; i++) await first.publish(changed(i));
    await until(() => bySecond.length === 10);
    expect(bySecond).toEqual(Array.from({ length: 10 }, (_, i) => changed(20 + i).sessionId));
  });

  it('keeps streams bounded (XADD MAXLEN ~)', async () => {
    const b = bus({ maxLen: 10 });
    for (let i = 0; i < 500; i++) await b.publish(changed(i));
    const length = await redis.xlen(`{${prefix}:bus:session.changed}`);
    // Approximate trimming removes whole stream nodes (100 entries by default).
    expect(length).toBeLessThanOrEqual(110);
    expect(length).toBeGreaterThanOrEqual(10);
  });

  it('keeps every key of a type in one Cluster slot (hash tag)', async () => {
    const b = bus();
    await b.subscribe('session.changed', 'router', () => {});
    await b.publish(changed(1));
    const keys = await redis.keys(`{${prefix}:*`);
    expect(keys.length).toBeGreaterThanOrEqual(2); // the stream and the router's lease
    // Redis Cluster hashes only the text inside the first {…}: one tag, one slot.
    const tags = new Set(keys.map((k) => /^\{([^}]*)\}/.exec(k)?.[1]));
    expect(tags).toEqual(new Set([`${prefix}:bus:session.changed`]));
  });
});
