import type { Cluster, Redis } from 'ioredis';
import { HuiliuError } from '../../../common/errors/codes';
import { SharedKeyState, type KeyProvider } from '../keys/provider';

/**
 * What every Redis Cluster adapter of the session store shares (issue 14, docs/store.md "Durability"):
 * writes acked only after `WAIT`, retries through a failover, and per-owner data keys wrapped by the
 * KEK in `P:dk:{<owner>}`. Used by the conversations adapter (conversations.redis.ts) and the
 * customers adapter (customers/customers.redis.ts), so both read and write the same data keys.
 */

/** Is this error one where the command did not run (or an idempotent retry is safe): a failover in progress. */
export function transient(error: unknown): boolean {
  const m = error instanceof Error ? error.message : String(error);
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY)\b|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|NOT_DURABLE/.test(
    m,
  );
}

export const isRedisCluster = (redis: Cluster | Redis): boolean =>
  'nodes' in redis && typeof (redis as Cluster).nodes === 'function' && (redis as Cluster).isCluster;

export interface RedisIoOptions {
  redis: Cluster | Redis;
  /** Replicas that must acknowledge a write before it resolves (0: a single node without replicas). */
  waitReplicas: number;
  /** How long one `WAIT` may block, ms. */
  waitMs: number;
  /** How long a write (or read) keeps retrying through a failover, ms. */
  retryMs: number;
  /** Loads the adapter's function library (a node answered "Function not found"). */
  loadLibrary(): Promise<void>;
  /** Turns a non-transient error reply into the adapter's error (a stable code → HuiliuError); throws. */
  mapError(error: unknown): never;
}

export type Pipeline = ReturnType<Cluster['pipeline']>;

export interface RedisIo {
  /**
   * Runs `commands` on the master of their slot, then `WAIT waitReplicas waitMs` on the same connection,
   * retrying transient failover errors until `retryMs`. Answers the replies of `commands`.
   * A write that is not `idempotent` is not re-sent after a `WAIT` that fell short.
   * @throws HuiliuError NOT_READY when no replica acknowledged within the retry budget
   */
  durable(build: (p: Pipeline) => void, options: { idempotent: boolean }): Promise<unknown[]>;
  /** Reads retry through a failover too (they change nothing). */
  read<T>(fn: () => Promise<T>): Promise<T>;
}

export function createRedisIo(options: RedisIoOptions): RedisIo {
  const { redis, waitReplicas, waitMs, retryMs } = options;
  const cluster = isRedisCluster(redis);
  return {
    async durable(build, { idempotent }) {
      const deadline = Date.now() + retryMs;
      let delay = 50;
      for (;;) {
        try {
          const p = redis.pipeline();
          build(p);
          const n = p.length;
          if (waitReplicas > 0) p.wait(waitReplicas, waitMs);
          const replies = (await p.exec())!;
          for (let i = 0; i < n; i++) if (replies[i]![0]) throw replies[i]![0];
          if (waitReplicas > 0) {
            const acked = Number(replies[n]![1]);
            // Not acknowledged by a replica in time: not acked to the caller either. An idempotent write is
            // retried (its retry writes again, so the next WAIT covers it); others answer NOT_READY.
            if (acked < waitReplicas) throw new Error(`NOT_DURABLE ${acked}/${waitReplicas} replicas`);
          }
          return replies.slice(0, n).map((r) => r[1]);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (message.startsWith('ERR Function not found') || message.includes('Library') || message.startsWith('NOSCRIPT')) {
            await options.loadLibrary();
            continue;
          }
          const retriable = transient(error) && (idempotent || !message.startsWith('NOT_DURABLE'));
          if (!retriable || Date.now() > deadline) {
            if (message.startsWith('NOT_DURABLE') || transient(error)) {
              throw new HuiliuError('NOT_READY', 'The session store could not confirm the write on a replica; retry.');
            }
            options.mapError(error);
          }
          // A redirection or a dead node: the slot map changed (a failover); learn the new one.
          if (cluster && !message.startsWith('NOT_DURABLE')) (redis as Cluster).refreshSlotsCache();
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 500);
        }
      }
    },

    async read(fn) {
      const deadline = Date.now() + retryMs;
      let delay = 50;
      for (;;) {
        try {
          return await fn();
        } catch (error) {
          if (!transient(error) || Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 500);
        }
      }
    },
  };
}

/** The key of an owner's wrapped data key (`P:dk:{<owner>}`: its own slot). */
export const dataKeyName = (prefix: string, owner: string) => `${prefix}:dk:{${owner}}`;

/**
 * Per-owner data keys on Redis: created through the KeyProvider, stored wrapped as
 * `len(kekId) ‖ kekId ‖ wrapped` (SET NX, durable before anything is sealed with them), unwrapped once
 * per process and kept in a bounded LRU (0 KEK/HSM calls per use after warm-up).
 */
export class RedisDataKeys {
  private readonly cache = new Map<string, Buffer>();
  /** The provider's counters shared by every thread: lookups here count in `huiliu_data_key_cache_total` as the SQLite rings' do. */
  private readonly shared: SharedKeyState;
  constructor(
    private readonly redis: Cluster | Redis,
    private readonly io: RedisIo,
    private readonly keys: KeyProvider,
    private readonly prefix: string,
    private readonly maxCached = 50_000,
  ) {
    this.shared = new SharedKeyState(keys.spec.shared);
  }

  private remember(owner: string, key: Buffer): Buffer {
    this.cache.delete(owner);
    this.cache.set(owner, key);
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return key;
  }

  /** The owner's key; with `create`, made (once, by whoever wins the SET NX) when absent; else null. */
  async get(owner: string, create: boolean): Promise<Buffer | null> {
    const hit = this.cache.get(owner);
    this.shared.countLookup(hit !== undefined);
    if (hit) return this.remember(owner, hit);
    const stored = await this.io.read(() => this.redis.getBuffer(dataKeyName(this.prefix, owner)));
    if (stored) {
      const n = stored[0]!;
      return this.remember(
        owner,
        await this.keys.unwrapDataKey({ kekId: stored.subarray(1, 1 + n).toString(), wrapped: stored.subarray(1 + n) }),
      );
    }
    if (!create) return null;
    const { plain, wrapped } = await this.keys.generateDataKey();
    const packed = Buffer.concat([Buffer.from([Buffer.byteLength(wrapped.kekId)]), Buffer.from(wrapped.kekId), wrapped.wrapped]);
    // SET NX: of two creators the first wins; durable (WAIT) before anything is sealed with it.
    const [set] = await this.io.durable((p) => p.set(dataKeyName(this.prefix, owner), packed, 'NX'), { idempotent: true });
    if (set !== 'OK') return this.get(owner, false);
    return this.remember(owner, plain);
  }

  /** Drops this process's copy (no Redis call); answers whether one was cached. */
  forget(owner: string): boolean {
    return this.cache.delete(owner);
  }

  clear(): void {
    this.cache.clear();
  }
}
