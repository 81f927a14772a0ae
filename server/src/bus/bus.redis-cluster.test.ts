import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { redisBusSuite } from './bus.redis.suite';

/**
 * The Redis Streams bus on a 6-node Redis Cluster (3 masters, 3 replicas) this file starts and stops
 * (server/test/support/redis-cluster.ts): the Bus contract and the Redis-only tests, with every
 * stream's keys in one slot and the types spread over the masters.
 */
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

redisBusSuite('Redis Cluster (6 nodes)', () => ({
  connect: () => new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: null } }),
}));
