import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS, type EventOf, type EventType } from '../../../common/events/events';
import { redisKeySlot } from '../../test/support/redis-slot';
import { until } from '../../test/support/until';
import { busContract } from './bus.contract';
import { createRedisBus, PoisonEntryError, type RedisBus, type RedisBusOptions, type RedisConnection } from './bus.redis';
import { newEvent } from './events';

/** Where the suite runs: one Redis or a Redis Cluster; `connect` opens a client of it. */
export interface RedisBackend {
  connect: () => RedisConnection;
}

/** Every key matching `pattern` — on each master of a Cluster (`KEYS` is per node), or the one Redis. */
export async function keysOf(redis: RedisConnection, pattern: string): Promise<string[]> {
  if (redis instanceof Cluster) {
    const perNode = await Promise.all(redis.nodes('master').map((n) => n.keys(pattern)));
    return perNode.flat();
  }
  return redis.keys(pattern);
}

/** Deletes the keys of one test prefix (one `DEL` per key: on a Cluster they live in many slots). */
export async function dropKeys(connect: () => RedisConnection, prefix: string): Promise<void> {
  const redis = connect();
  try {
    for (const key of await keysOf(redis, `{${prefix}:*`)) await redis.del(key);
  } finally {
    redis.disconnect();
  }
}

const conversationId = '01a217af-518a-76c9-b3e0-cc994d61d476';
export const changed = (n: number): EventOf<'session.changed'> =>
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

/**
 * The Redis Streams bus on one backend: the `Bus` contract (both delivery modes), then what only the
 * Redis adapter has — reclaim after a consumer dies, the standby reader, the poison cap, trimming and
 * the hash-tag layout. `bus.redis.test.ts` runs it on 127.0.0.1:6379, `bus.redis-cluster.test.ts`
 * on a 6-node Redis Cluster. `backend` is called in each test (after the file's `beforeAll`).
 */
export function redisBusSuite(name: string, backend: () => RedisBackend): void {
  busContract(name, async () => {
    const { connect } = backend();
    const prefix = `huiliu-test-${randomUUID()}`;
    return {
      node: async (options) => createRedisBus({ ...options, connect, prefix, blockMs: 100 }),
      close: () => dropKeys(connect, prefix),
    };
  });

  describe(`Redis Streams bus: ${name}`, () => {
    let prefix: string;
    let redis: RedisConnection;
    let buses: RedisBus[];
    let connect: () => RedisConnection;
    const bus = (extra: Partial<RedisBusOptions> = {}) => {
      const b = createRedisBus({ connect, prefix, blockMs: 100, ...extra });
      buses.push(b);
      return b;
    };
    beforeEach(() => {
      connect = backend().connect;
      prefix = `huiliu-test-${randomUUID()}`;
      redis = connect();
      buses = [];
    });
    afterEach(async () => {
      await Promise.all(buses.map((b) => b.close()));
      await dropKeys(connect, prefix);
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

    it('dead-letters and acks an entry redelivered more than maxDeliveries times, without running its handler again', async () => {
      const fast = { leaseMs: 300, reclaimIdleMs: 300, reclaimEveryMs: 100, maxDeliveries: 2 };
      const poisoned: { consumer: string; id: unknown; error: unknown }[] = [];
      const onDeadLetter: RedisBusOptions['onDeadLetter'] = (_t, consumer, event, error) =>
        void poisoned.push({ consumer, id: (event as { id?: string } | null)?.id, error });
      const e = changed(1);
      const took: string[] = [];
      const hang = (who: string) => () => (took.push(who), new Promise<void>(() => {}));
      // Each node that reads the entry dies in its handler (delivery 1 by XREADGROUP, 2 by XAUTOCLAIM).
      const first = bus({ ...fast, onDeadLetter });
      await first.subscribe('session.changed', 'router', hang('first'));
      await first.publish(e);
      await until(() => took.length === 1);
      const second = bus({ ...fast, onDeadLetter });
      await second.subscribe('session.changed', 'router', hang('second'));
      first.abandon();
      await until(() => took.length === 2, 10_000);
      // The third claim would be delivery 3 > 2: it goes to the dead letters instead of the handler.
      const third = bus({ ...fast, onDeadLetter });
      const handled: string[] = [];
      await third.subscribe('session.changed', 'router', (x) => void handled.push(x.id));
      second.abandon();
      await until(() => poisoned.length === 1, 10_000);
      expect(took).toEqual(['first', 'second']);
      expect(handled).toEqual([]);
      expect(poisoned[0]).toMatchObject({ consumer: 'router', id: e.id });
      expect(poisoned[0]!.error).toBeInstanceOf(PoisonEntryError);
      expect((poisoned[0]!.error as PoisonEntryError).deliveries).toBe(3);
      const key = `{${prefix}:bus:session.changed}`;
      expect(((await redis.xpending(key, 'router')) as [number])[0]).toBe(0);
      const dead = (await redis.xrange(`${key}:dead`, '-', '+')) as [string, string[]][];
      expect(dead).toHaveLength(1);
      const fields = Object.fromEntries(dead[0]![1].flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
      expect(fields).toMatchObject({ group: 'router', reason: 'redelivered', deliveries: '3' });
      expect((JSON.parse(fields.e!) as { id: string }).id).toBe(e.id);
      // The group goes on.
      const next = changed(2);
      await third.publish(next);
      await until(() => handled.length === 1);
      expect(handled).toEqual([next.id]);
    });

    it('keeps streams bounded (XADD MAXLEN ~)', async () => {
      const b = bus({ maxLen: 10 });
      for (let i = 0; i < 500; i++) await b.publish(changed(i));
      const length = await redis.xlen(`{${prefix}:bus:session.changed}`);
      // Approximate trimming removes whole stream nodes (100 entries by default).
      expect(length).toBeLessThanOrEqual(110);
      expect(length).toBeGreaterThanOrEqual(10);
    });

    it('keeps every key of a type in one Cluster slot (hash tag), and spreads types over slots', async () => {
      const b = bus();
      const types = Object.keys(EVENT_SCHEMAS) as EventType[];
      for (const type of types) await b.subscribe(type, 'router', () => {});
      await b.publish(changed(1));
      const keys = await keysOf(redis, `{${prefix}:*`);
      expect(keys.length).toBeGreaterThanOrEqual(2 * types.length); // each type's stream and the router's lease
      // Redis Cluster hashes only the text inside the first {…}: one tag, one slot per type.
      const tagOf = (key: string) => /^\{([^}]*)\}/.exec(key)?.[1] ?? '';
      expect(new Set(keys.map(tagOf))).toEqual(new Set(types.map((t) => `${prefix}:bus:${t}`)));
      const slots = new Map<string, Set<number>>();
      for (const key of keys) slots.set(tagOf(key), (slots.get(tagOf(key)) ?? new Set()).add(redisKeySlot(key)));
      for (const s of slots.values()) expect(s.size).toBe(1);
      expect(new Set([...slots.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
      if (redis instanceof Cluster) {
        // The servers agree, and the types' keys really live on several masters.
        for (const key of keys) expect(await redis.call('CLUSTER', 'KEYSLOT', key)).toBe(redisKeySlot(key));
        const perMaster = await Promise.all(redis.nodes('master').map((n) => n.keys(`{${prefix}:*`)));
        expect(perMaster.filter((k) => k.length > 0).length).toBeGreaterThan(1);
        for (const onNode of perMaster)
          for (const key of onNode) expect(perMaster.filter((k) => k.some((x) => tagOf(x) === tagOf(key))).length).toBe(1);
      }
    });
  });
}
