import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionHashTag } from '../../../common/message/session-id';
import { redisKeySlot } from '../../test/support/redis-slot';
import { startRedisCluster, useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { routingLogContract, nextLogSessionId, sampleDecision } from './decisions.contract';
import { createRedisRoutingLog, routingLogLayout, SHARDS, type RedisRoutingLogOptions } from './decisions.redis';

/**
 * The routing decisions port on a real 6-node Redis Cluster (3 masters, 3 replicas) started once for
 * this file (or `HUILIU_REDIS_NODES`): the contract, then the Redis-only cases.
 */
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await useRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const connectTo = (target: RedisClusterHandle) =>
  new Cluster(target.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });

async function openLog(prefix: string, extra: Partial<RedisRoutingLogOptions> = {}, target: () => RedisClusterHandle = () => cluster) {
  const redis = connectTo(target());
  const store = await createRedisRoutingLog({ redis, prefix, waitMs: 500, ...extra });
  return {
    store,
    redis,
    async close() {
      await store.shutdown();
      redis.disconnect();
    },
  };
}

routingLogContract('Redis Cluster (6 nodes)', async () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const a = await openLog(prefix);
  const b = await openLog(prefix);
  return {
    store: a.store,
    second: b.store,
    async prepareSession() {},
    async cleanup() {
      await a.close();
      await b.close();
    },
  };
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

describe('RoutingLog on Redis Cluster', () => {
  it("keeps a session's entries in the session's slot and a minute's entries in buckets of their own slots", async () => {
    const { store, close } = await openLog(`slots-${randomUUID().slice(0, 8)}`);
    try {
      const s = nextLogSessionId();
      const t = Date.UTC(2025, 5, 1, 10);
      const { entry } = await store.append({ id: randomUUID(), sessionId: s, at: iso(t + 5), decision: sampleDecision() });
      expect(redisKeySlot(store.layout.session(s))).toBe(redisKeySlot(`x:{${sessionHashTag(s)}}`));
      const bucket = Math.floor(entry.seq / 2 ** 20);
      expect(Math.floor(bucket / 16)).toBe(Math.floor(t / MINUTE));
      expect(bucket % 16).toBe(Number(sessionHashTag(s)) % SHARDS);
      // The keys of one bucket share a slot (one function call); consecutive minutes land on different slots.
      const slots = new Set(
        ['bodies', 'counter'].map((k) => redisKeySlot(k === 'bodies' ? store.layout.bodies(bucket) : store.layout.counter(bucket))),
      );
      for (const f of ['all', 'new', 'offers'] as const) slots.add(redisKeySlot(store.layout.index(bucket, f)));
      expect(slots.size).toBe(1);
      const minuteSlots = new Set(
        Array.from({ length: 60 }, (_, m) => redisKeySlot(store.layout.bodies((Math.floor(t / MINUTE) + m) * 16))),
      );
      expect(minuteSlots.size).toBeGreaterThan(55);
    } finally {
      await close();
    }
  });

  it('spreads a day of buckets over the slots and the masters: no hot slot (one tag per hour would put 240 buckets in one)', () => {
    const layout = routingLogLayout('huiliu');
    const perSlot = new Map<number, number>();
    // The slot ranges of a 3-master cluster as redis-cli --cluster create assigns them.
    const perMaster = [0, 0, 0];
    const day = Math.floor(Date.UTC(2026, 11, 1) / MINUTE);
    for (let m = 0; m < 1440; m++)
      for (let shard = 0; shard < SHARDS; shard++) {
        const slot = redisKeySlot(layout.bodies((day + m) * 16 + shard));
        perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
        perMaster[slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2]! += 1;
      }
    // 5,760 buckets over 16,384 slots (mean 0.35): measured busiest 5, on 3,610 slots; masters 1,924 / 1,923 / 1,913.
    expect(Math.max(...perSlot.values())).toBeLessThanOrEqual(8);
    for (const n of perMaster) expect(Math.abs(n - 1920)).toBeLessThan(96);
  });

  it('a crash between the bucket write and the session copy leaves the entry in its window; the retry completes the session copy', async () => {
    let crash = true;
    const { store, close } = await openLog(`crash-${randomUUID().slice(0, 8)}`, {
      afterBucketWrite: () => {
        if (crash) throw new Error('crashed');
      },
    });
    try {
      const s = nextLogSessionId();
      const at = Date.UTC(2025, 9, 1, 8);
      const input = { id: randomUUID(), sessionId: s, at: iso(at), decision: sampleDecision() };
      await expect(store.append(input)).rejects.toThrow('crashed');
      const window = await store.between(iso(at), iso(at + 1));
      expect(window.map((e) => e.id)).toEqual([input.id]);
      expect(await store.ofSession(s)).toEqual([]);
      crash = false;
      const retry = await store.append(input);
      expect(retry).toEqual({ entry: window[0], duplicate: true });
      expect(await store.ofSession(s)).toEqual(window);
    } finally {
      await close();
    }
  });

  it('reads a bounded number of keys per page: the hour sets of the window and only the buckets that hold entries', async () => {
    const { store, close } = await openLog(`bound-${randomUUID().slice(0, 8)}`);
    try {
      const t = Date.UTC(2025, 6, 1, 0);
      const sessions = Array.from({ length: 8 }, () => nextLogSessionId());
      // 3 busy minutes in a day: 00:10, 05:30, 23:59; 8 sessions each.
      const minutes = [10, 330, 1439];
      for (const m of minutes)
        for (const s of sessions)
          await store.append({ id: randomUUID(), sessionId: s, at: iso(t + m * MINUTE + 1), decision: sampleDecision() });
      const buckets = new Set(sessions.map((s) => Number(sessionHashTag(s)) % SHARDS)).size;

      const before = store.stats();
      const day = await store.between(iso(t), iso(t + 24 * HOUR));
      const after = store.stats();
      expect(day).toHaveLength(24);
      expect(after.hourSetsRead - before.hourSetsRead).toBe(24);
      expect(after.bucketPagesRead - before.bucketPagesRead).toBe(3 * buckets);

      // A page that fills in the first busy minute reads that minute's buckets only.
      const first = store.stats();
      const page = await store.between(iso(t), iso(t + 24 * HOUR), { limit: 5 });
      expect(page).toHaveLength(5);
      expect(store.stats().bucketPagesRead - first.bucketPagesRead).toBe(buckets);
      // A page after a cursor skips the hours before it.
      const next = store.stats();
      await store.between(iso(t), iso(t + 24 * HOUR), { after: { at: day[16]!.at, seq: day[16]!.seq } });
      expect(store.stats().hourSetsRead - next.hourSetsRead).toBe(1);
      // Windows longer than 62 days are refused rather than read.
      await expect(store.between(iso(t), iso(t + 63 * 24 * HOUR))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      await close();
    }
  });

  it('does not ack an append until a replica has it: with the replica frozen the write is refused, and its retry is the same entry', async () => {
    const run = async (owned: RedisClusterHandle) => {
      const { store, close } = await openLog(`wait-${randomUUID().slice(0, 8)}`, { retryMs: 1500, waitMs: 300 }, () => owned);
      try {
        const s = nextLogSessionId();
        const at = Date.UTC(2025, 7, 1, 12, 0, 0, 7);
        const input = { id: randomUUID(), sessionId: s, at: iso(at), decision: sampleDecision() };
        // Warm the hour set, so the frozen replica is the bucket's (and the session's) only.
        await store.append({ ...input, id: randomUUID() });
        const bucket = Math.floor((await store.ofSession(s))[0]!.seq / 2 ** 20);
        await owned.waitHealthy();
        const [replica] = await owned.replicaPortsOf(redisKeySlot(store.layout.bodies(bucket)));
        expect(replica).toBeDefined();
        owned.pauseNode(replica!, true);
        try {
          const started = Date.now();
          await expect(store.append(input)).rejects.toMatchObject({ code: 'NOT_READY' });
          expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
        } finally {
          owned.pauseNode(replica!, false);
        }
        // The write reached the master but was never acked; the caller's retry answers it, once.
        const retry = await store.append(input);
        expect(retry.duplicate).toBe(true);
        const log = await store.ofSession(s);
        expect(log.map((e) => e.id)).toEqual([log[0]!.id, input.id]);
        expect(await store.between(iso(at), iso(at + 1))).toHaveLength(2);

        // A replica that comes back within the retry budget: the write is re-sent, finds its own first
        // attempt, and is answered as a new entry (not a duplicate), once.
        const patient = await openLog(`wait2-${randomUUID().slice(0, 8)}`, { retryMs: 10_000, waitMs: 300 }, () => owned);
        try {
          const again = { ...input, id: randomUUID() };
          await patient.store.append({ ...again, id: randomUUID() });
          owned.pauseNode(replica!, true);
          const pending = patient.store.append(again);
          await new Promise((r) => setTimeout(r, 900));
          owned.pauseNode(replica!, false);
          const done = await pending;
          expect(done.duplicate).toBe(false);
          expect((await patient.store.ofSession(s)).filter((e) => e.id === again.id)).toEqual([done.entry]);
        } finally {
          owned.pauseNode(replica!, false);
          await patient.close();
        }
      } finally {
        await close();
      }
    };
    if (!process.env.HUILIU_REDIS_NODES) return run(cluster);
    const owned = await startRedisCluster();
    try {
      await run(owned);
    } finally {
      await owned.stop();
    }
  }, 60_000);
  /**
   * Appends to one session in one minute (one bucket) in a steady stream, runs `during(bucketSlot)` once 20
   * are acked, goes on for 20 more, then checks with a fresh client that every acked entry is there once.
   */
  async function streamThrough(tag: string, during: (owned: RedisClusterHandle, slot: number) => Promise<void>) {
    const run = async (owned: RedisClusterHandle) => {
      const prefix = `${tag}-${randomUUID().slice(0, 8)}`;
      const { store, close } = await openLog(prefix, { retryMs: 30_000, waitMs: 500 }, () => owned);
      try {
        const s = nextLogSessionId();
        const at = Date.UTC(2025, 8, 1, 9, 30, 0, 0);
        const acked: string[] = [];
        let stop = false;
        let failed: unknown = null;
        const stream = (async () => {
          for (let i = 0; !stop && i < 2000; i++) {
            const input = {
              id: `${tag}-${i}`,
              sessionId: s,
              at: iso(at + i),
              decision: sampleDecision({ trigger: i === 0 ? 'new' : 'timeout' }),
            };
            await store.append(input);
            acked.push(input.id);
          }
        })().catch((error: unknown) => {
          failed = error;
        });
        const until = async (n: number) => {
          while (acked.length < n && !failed) await new Promise((r) => setTimeout(r, 20));
          expect(failed).toBeNull();
        };
        await until(20);
        const bucket = Math.floor((await store.ofSession(s))[0]!.seq / 2 ** 20);
        await during(owned, redisKeySlot(store.layout.bodies(bucket)));
        await until(acked.length + 20);
        stop = true;
        await stream;
        expect(failed).toBeNull();
        // A fresh client (its own slot map) reads what was acked.
        const fresh = await openLog(prefix, {}, () => owned);
        try {
          const window = await fresh.store.between(iso(at), iso(at + MINUTE));
          const ids = window.map((e) => e.id);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of acked) expect(ids).toContain(id);
          expect(new Set(window.map((e) => e.seq)).size).toBe(window.length);
          expect((await fresh.store.ofSession(s)).map((e) => e.id)).toEqual(ids);
        } finally {
          await fresh.close();
        }
      } finally {
        await close();
      }
    };
    if (!process.env.HUILIU_REDIS_NODES) return run(cluster);
    const owned = await startRedisCluster();
    try {
      await run(owned);
    } finally {
      await owned.stop();
    }
  }

  it('loses no acked entry through a CLUSTER FAILOVER of the bucket’s master during a stream of appends', async () => {
    await streamThrough('fo', async (owned, slot) => {
      const { from, to } = await owned.failoverSlot(slot);
      expect(to).not.toBe(from);
    });
  }, 120_000);

  // Last: it kills a node (restarted afterwards, empty, as a replica).
  it('loses no acked entry when the bucket’s master is killed (SIGKILL) during a stream of appends', async () => {
    await streamThrough('kill', async (owned, slot) => {
      const victim = await owned.masterPortOf(slot);
      expect(await owned.killMasterOf(slot)).toBe(victim);
      // The promoted replica has no replica until the dead node is back: appends there wait (WAIT 1 answers 0).
      await owned.restartNode(victim);
      expect(await owned.masterPortOf(slot)).not.toBe(victim);
    });
  }, 180_000);
});
