import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeySlot } from '../../test/support/redis-slot';
import { startRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { until } from '../../test/support/until';
import { createRedisBus } from './bus.redis';
import { changed, dropKeys, redisBusSuite } from './bus.redis.suite';

/**
 * The Redis Streams bus on a 6-node Redis Cluster (3 masters, 3 replicas) this file starts once and
 * stops (server/test/support/redis-cluster.ts): the Bus contract in both delivery modes and the
 * Redis-only tests, then a master failover under a running bus (last: it changes the cluster).
 */
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const connect = () => new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: null } });

redisBusSuite('Redis Cluster (6 nodes)', () => ({ connect }));

describe('Redis Streams bus on a Cluster whose master fails', () => {
  it('keeps delivering to its work group and fan-out subscriber after the replica takes over', async () => {
    const prefix = `huiliu-test-${randomUUID()}`;
    const bus = createRedisBus({ connect, prefix, blockMs: 100, leaseMs: 1000 });
    const work = new Set<string>();
    const fanout = new Set<string>();
    try {
      await bus.subscribe('session.changed', 'router', (e) => void work.add(e.id));
      await bus.subscribeAll('session.changed', (e) => void fanout.add(e.id));
      const before = Array.from({ length: 10 }, (_, i) => changed(i));
      for (const e of before) await bus.publish(e);
      await until(() => before.every((e) => work.has(e.id) && fanout.has(e.id)));

      await cluster.killMasterOf(redisKeySlot(`{${prefix}:bus:session.changed}`));
      // A publisher sees errors while the slot has no master; it retries (at least once: same event id).
      const after = Array.from({ length: 10 }, (_, i) => changed(10 + i));
      for (const e of after) {
        for (let tries = 0; ; tries++) {
          try {
            await bus.publish(e);
            break;
          } catch (error) {
            if (tries > 100) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      await until(() => after.every((e) => work.has(e.id) && fanout.has(e.id)), 30_000);
      expect(after.filter((e) => work.has(e.id))).toHaveLength(10);
    } finally {
      await bus.close();
      await dropKeys(connect, prefix);
    }
  }, 90_000);
});
