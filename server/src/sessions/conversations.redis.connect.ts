import { Cluster } from 'ioredis';
import { HuiliuError } from '../../../common/errors/codes';
import type { KeyProvider } from '../keys/provider';
import { createRedisConversationStore, type RedisConversationStore } from './conversations.redis';

export interface ConversationClusterOptions {
  /** `HUILIU_REDIS_NODES`: seed nodes `host:port` of a Redis Cluster (any subset of its nodes). */
  nodes: readonly string[];
  keys: KeyProvider;
  /** Key prefix (`HUILIU_REDIS_PREFIX`). */
  prefix: string;
  /** How long the cluster has to answer `CLUSTER INFO` with `cluster_state:ok` at start, ms (default 10,000). */
  connectTimeoutMs?: number;
}

/**
 * Connects the conversations port to a Redis Cluster for `HUILIU_STORE=redis` (issue 14, docs/store.md):
 * an ioredis `Cluster` on the seed nodes, checked once — `CLUSTER INFO` must say `cluster_state:ok`
 * within `connectTimeoutMs` — then `createRedisConversationStore` on it (writes wait for one replica).
 * `cluster` is the connection, for the other ports on the same cluster (customers, routing decisions);
 * `close` disconnects it after the store shut down, so those ports shut down before `close`.
 * @throws HuiliuError STORE_UNREACHABLE when no seed node answers in time, a node is not in cluster mode,
 *   or the cluster is not `ok` (the message names the nodes and the reason, never a secret)
 */
export async function connectConversationCluster(
  options: ConversationClusterOptions,
): Promise<{ store: RedisConversationStore; cluster: Cluster; close(): Promise<void> }> {
  const seeds = options.nodes.map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const cluster = new Cluster(seeds, {
    redisOptions: { maxRetriesPerRequest: 3, connectTimeout: Math.min(timeoutMs, 5000) },
    slotsRefreshTimeout: 2000,
    // Give up reconnecting at start after the deadline; once up, ioredis reconnects on its own.
    clusterRetryStrategy: (times) => (times > 50 ? null : Math.min(100 * times, 1000)),
  });
  let lastError = 'no answer';
  cluster.on('error', (error: Error) => void (lastError = error.message));
  const fail = (reason: string) => {
    cluster.disconnect();
    return new HuiliuError(
      'STORE_UNREACHABLE',
      `HUILIU_STORE=redis: the Redis Cluster at ${options.nodes.join(',')} is not usable: ${reason}`,
    );
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      cluster.cluster('INFO').then(String),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms (${lastError})`)), timeoutMs);
      }),
    ]);
    if (!info.includes('cluster_state:ok')) throw fail('cluster_state is not ok');
  } catch (error) {
    if (error instanceof HuiliuError) throw error;
    throw fail(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
  const store = await createRedisConversationStore({ redis: cluster, keys: options.keys, prefix: options.prefix });
  return {
    store,
    cluster,
    async close() {
      await store.shutdown();
      cluster.disconnect();
    },
  };
}
