import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import { conversationContract } from './conversations.contract';
import { createRedisConversationStore } from './conversations.redis';

/**
 * The conversations port on a real 6-node Redis Cluster (3 masters, 3 replicas) started once for this
 * file (or `HUILIU_REDIS_NODES`): the contract, then the Redis-only cases.
 */
let cluster: RedisClusterHandle;
const dir = mkdtempSync(join(tmpdir(), 'huiliu-conv-redis-'));
beforeAll(async () => {
  cluster = await useRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const connect = () => new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });

conversationContract('Redis Cluster (6 nodes)', async () => {
  const redis = connect();
  const keys = createLocalKeyProvider(join(dir, `keys-${randomUUID()}`));
  const store = await createRedisConversationStore({ redis, keys, prefix: `t-${randomUUID().slice(0, 8)}` });
  return {
    store,
    async cleanup() {
      await store.shutdown();
      await keys.close();
      redis.disconnect();
    },
  };
});
