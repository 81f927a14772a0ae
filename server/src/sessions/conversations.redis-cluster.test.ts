import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../common/message/envelope';
import { sessionHashTag } from '../../../common/message/session-id';
import { redisKeySlot } from '../../test/support/redis-slot';
import { startRedisCluster, useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import { conversationContract, nextSessionId } from './conversations.contract';
import { createRedisConversationStore, type RedisConversationStore } from './conversations.redis';

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

const connectTo = (target: RedisClusterHandle) =>
  new Cluster(target.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
const connect = () => connectTo(cluster);

/**
 * The cluster whose processes a test freezes or kills: this file's own one; with HUILIU_REDIS_NODES
 * (a cluster we do not own) a private one is started for such a test and stopped after it.
 */
async function withOwnedCluster(fn: (owned: RedisClusterHandle) => Promise<void>): Promise<void> {
  if (!process.env.HUILIU_REDIS_NODES) return fn(cluster);
  const owned = await startRedisCluster();
  try {
    await fn(owned);
  } finally {
    await owned.stop();
  }
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openStore(
  prefix: string,
  extra: Partial<Parameters<typeof createRedisConversationStore>[0]> = {},
  target: () => RedisClusterHandle = () => cluster,
) {
  const redis = connectTo(target());
  const keys = createLocalKeyProvider(join(dir, `keys-${prefix}`));
  const store = await createRedisConversationStore({ redis, keys, prefix, waitMs: 500, ...extra });
  return {
    store,
    redis,
    async close() {
      await store.shutdown();
      redis.disconnect();
    },
  };
}

/** A client outbox: the same clientMessageId until the store acks it (NOT_READY and the like are retried). */
async function appendUntilAcked(store: RedisConversationStore, sessionId: string, clientMessageId: string, text: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await store.append({ sessionId, direction: 'in', content: { kind: 'text', body: { text } }, clientMessageId, critical: true });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/**
 * One customer writing steadily while `disrupt` runs: answers every acked envelope, in ack order.
 * Each message is retried with its id until acked, then the next one is sent (as the widget's outbox does).
 */
async function writeThrough(store: RedisConversationStore, sessionId: string, disrupt: () => Promise<void>) {
  const acked: Envelope[] = [];
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) acked.push((await appendUntilAcked(store, sessionId, `cm-${i}`, `message ${i}`)).envelope);
  })();
  const until = async (n: number) => {
    const end = Date.now() + 60_000;
    while (acked.length < n) {
      if (Date.now() > end) throw new Error(`only ${acked.length} of ${n} messages acked`);
      await sleep(20);
    }
  };
  await until(25);
  await disrupt();
  const afterDisruption = acked.length;
  await until(afterDisruption + 25);
  stop = true;
  await writer;
  return acked;
}

/** Every acked message is stored at its seq; seqs are 1..n without a gap or a duplicate. */
async function expectNothingLost(store: RedisConversationStore, conversationId: string, acked: Envelope[]) {
  expect(acked.map((e) => e.seq)).toEqual(acked.map((_, i) => i + 1));
  const stored = await store.listMessages(conversationId, { limit: 1000 });
  expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
  expect(stored).toHaveLength(acked.length);
  for (const e of acked) expect(stored[e.seq - 1]).toMatchObject({ id: e.id, clientMessageId: e.clientMessageId, body: e.body });
}

describe('Redis conversations: queue index kept across slots', () => {
  it('never loses a queued contact when a writer dies between the state write and the index update, and repairs the leftovers', async () => {
    const crashFor = new Set<string>();
    const { store, close } = await openStore(`rq-${randomUUID().slice(0, 8)}`, {
      afterStateWrite: (id) => {
        if (crashFor.has(id)) throw new Error('writer crashed here');
      },
    });
    try {
      const group = `g-${randomUUID()}`;
      const open = async () =>
        (
          await store.openSession({
            sessionId: nextSessionId(),
            conversationId: uuidv7(),
            customerId: uuidv7(),
            channel: 'WB',
            skillGroup: group,
          })
        ).session;
      const a = await open();
      const b = await open();
      crashFor.add(b.id);
      await expect(store.claim(b.id, 'agent-1')).rejects.toThrow('writer crashed here');
      // The claim happened; its index update did not: the raw index still has b as queued, and as active.
      expect(await store.getSession(b.id)).toMatchObject({ status: 'active', assignedAgentId: 'agent-1' });
      expect(await store.queueIndex(group, 'queued')).toContain(b.id);
      expect(await store.queueIndex(group, 'active')).toContain(b.id);
      // Readers verify every entry against the session: the queue is right anyway.
      expect((await store.queue(group, 'queued')).map((s) => s.id)).toEqual([a.id]);
      expect((await store.queue(group, 'active')).map((s) => s.id)).toEqual([b.id]);
      expect(await store.queueSize(group, 'queued')).toBe(1);
      // A crash while opening: the session exists and is queued (its entry was added first).
      const c = nextSessionId();
      crashFor.add(c);
      await expect(
        store.openSession({ sessionId: c, conversationId: uuidv7(), customerId: uuidv7(), channel: 'WB', skillGroup: group }),
      ).rejects.toThrow('writer crashed here');
      expect((await store.queue(group, 'queued')).map((s) => s.id)).toEqual([a.id, c]);
      // The repair sweep (after a crashed writer) makes the raw index exact.
      expect(await store.repairQueue(group, { force: true })).toBe(1);
      expect(await store.queueIndex(group, 'queued')).toEqual([a.id, c]);
      expect(await store.queueIndex(group, 'active')).toEqual([b.id]);
      // Without crashes the index is exact after each write, no repair needed.
      await store.claim(a.id, 'agent-2');
      await store.close(a.id, 'agent-2', 'resolved');
      expect(await store.queueIndex(group, 'queued')).toEqual([c]);
      expect(await store.queueIndex(group, 'active')).toEqual([b.id]);
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis conversations: nothing in Redis is plaintext customer content', () => {
  it('finds neither the message marker nor the name or phone in any value of any key on any node', async () => {
    const marker = `MARKER-${randomUUID()}`;
    const name = '欧阳娜娜';
    const phone = '13912345678';
    const prefix = `np-${randomUUID().slice(0, 8)}`;
    const { store, redis, close } = await openStore(prefix);
    try {
      const s = (
        await store.openSession({
          sessionId: nextSessionId(),
          conversationId: uuidv7(),
          customerId: uuidv7(),
          channel: 'WX',
          skillGroup: 'general',
        })
      ).session;
      await store.append({
        sessionId: s.id,
        direction: 'in',
        content: { kind: 'text', body: { text: `${marker} 我叫${name}，电话 ${phone}` } },
        clientMessageId: randomUUID(),
        critical: true,
        meta: { note: marker },
      });
      await store.append({
        sessionId: s.id,
        direction: 'out',
        content: { kind: 'text', body: { text: `${name}您好 ${marker}` } },
        clientMessageId: randomUUID(),
        critical: true,
        authorId: 'agent-1',
      });
      await store.putContext(s.id, { profile: { name, phone }, issue: { status: marker }, aiScripts: [`Call ${phone}`] });
      // A positive control: a plaintext key written on purpose must be found, so the search has teeth.
      const control = `${prefix}:control:{${sessionHashTag(s.id)}}`;
      await redis.hset(control, 'x', `${marker}`);
      // Let replicas catch up so their copies are searched too.
      await redis.call('WAIT', 1, 1000);

      const found: string[] = [];
      let values = 0;
      for (const port of cluster.livePorts()) {
        const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
        try {
          await node.connect();
          await node.call('READONLY').catch(() => undefined);
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
            cursor = next;
            for (const key of keys) {
              const type = await node.type(key);
              const parts: Buffer[] = [Buffer.from(key)];
              if (type === 'string') parts.push((await node.getBuffer(key))!);
              else if (type === 'hash')
                parts.push(...Object.entries(await node.hgetallBuffer(key)).flatMap(([f, v]) => [Buffer.from(f), v]));
              else if (type === 'list') parts.push(...(await node.lrangeBuffer(key, 0, -1)));
              else if (type === 'set') parts.push(...(await node.smembersBuffer(key)));
              else if (type === 'zset') parts.push(...(await node.zrangeBuffer(key, 0, -1)));
              else throw new Error(`unexpected type ${type} of ${key}`);
              values += parts.length;
              const all = Buffer.concat(parts);
              for (const needle of [marker, name, phone])
                if (all.includes(Buffer.from(needle, 'utf8')))
                  found.push(`${port} ${type} ${key} has ${needle === marker ? 'the marker' : needle === name ? 'the name' : 'the phone'}`);
            }
          } while (cursor !== '0');
        } finally {
          node.disconnect();
        }
      }
      expect(values).toBeGreaterThan(20);
      // Only the control key (on its master and its replica) holds the marker.
      expect(found.filter((f) => !f.includes(':control:'))).toEqual([]);
      expect(found.filter((f) => f.includes(':control:')).length).toBe(2);
      // And the store reads it all back.
      expect((await store.listMessages(s.conversationId)).map((m) => (m.body as { text: string }).text)).toEqual([
        `${marker} 我叫${name}，电话 ${phone}`,
        `${name}您好 ${marker}`,
      ]);
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis conversations: durability through failovers (WAIT 1 before the ack)', () => {
  it('does not ack an append until a replica has it: with the replica frozen the write is refused, and its retry is the same message', async () => {
    await withOwnedCluster(async (owned) => {
      const { store, close } = await openStore(`wait-${randomUUID().slice(0, 8)}`, { retryMs: 1500, waitMs: 300 }, () => owned);
      try {
        const s = (
          await store.openSession({
            sessionId: nextSessionId(),
            conversationId: uuidv7(),
            customerId: uuidv7(),
            channel: 'WB',
            skillGroup: 'general',
          })
        ).session;
        const slot = redisKeySlot(store.layout.messages(sessionHashTag(s.id), s.conversationId));
        await owned.waitHealthy();
        const [replica] = await owned.replicaPortsOf(slot);
        const message = {
          sessionId: s.id,
          direction: 'in' as const,
          content: { kind: 'text' as const, body: { text: 'are you there?' } },
          clientMessageId: 'cm-frozen',
          critical: true,
        };
        owned.pauseNode(replica!, true);
        try {
          const started = Date.now();
          await expect(store.append(message)).rejects.toMatchObject({ code: 'NOT_READY' });
          expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
        } finally {
          owned.pauseNode(replica!, false);
        }
        // The write reached the master but was never acked; the client's retry answers it, once.
        const retry = await store.append(message);
        expect(retry).toMatchObject({ duplicate: true, envelope: { seq: 1, clientMessageId: 'cm-frozen' } });
        expect(await store.lastSeq(s.conversationId)).toBe(1);
      } finally {
        await close();
      }
    });
  }, 60_000);

  it('loses no acked message through a CLUSTER FAILOVER of the conversation’s master, and seq stays gap-free', async () => {
    const { store, close } = await openStore(`fo-${randomUUID().slice(0, 8)}`);
    try {
      const s = (
        await store.openSession({
          sessionId: nextSessionId(),
          conversationId: uuidv7(),
          customerId: uuidv7(),
          channel: 'AP',
          skillGroup: 'general',
        })
      ).session;
      const slot = redisKeySlot(store.layout.messages(sessionHashTag(s.id), s.conversationId));
      let moved: { from: number; to: number } | null = null;
      const acked = await writeThrough(store, s.id, async () => {
        moved = await cluster.failoverSlot(slot);
      });
      expect(moved!.to).not.toBe(moved!.from);
      expect(await cluster.masterPortOf(slot)).toBe(moved!.to);
      await expectNothingLost(store, s.conversationId, acked);
      // A fresh client (another server node) reads the same history.
      const other = await openStore(store.layout.dataKey('x').split(':dk:')[0]!);
      try {
        expect((await other.store.listMessages(s.conversationId, { limit: 1000 })).map((m) => m.id)).toEqual(acked.map((e) => e.id));
      } finally {
        await other.close();
      }
    } finally {
      await close();
    }
  }, 120_000);

  // Last: it kills a node (restarted afterwards, empty, as a replica).
  it('loses no acked message when the conversation’s master is killed (SIGKILL), and appends go on gap-free', async () => {
    await withOwnedCluster(async (owned) => {
      const { store, close } = await openStore(`kill-${randomUUID().slice(0, 8)}`, {}, () => owned);
      try {
        const s = (
          await store.openSession({
            sessionId: nextSessionId(),
            conversationId: uuidv7(),
            customerId: uuidv7(),
            channel: 'WB',
            skillGroup: 'general',
          })
        ).session;
        const slot = redisKeySlot(store.layout.messages(sessionHashTag(s.id), s.conversationId));
        const victim = await owned.masterPortOf(slot);
        const acked = await writeThrough(store, s.id, async () => {
          expect(await owned.killMasterOf(slot)).toBe(victim);
          // The promoted replica has no replica of its own until the dead node is back: writes there
          // are not acked (WAIT 1 answers 0) — they wait, and go through once it rejoins.
          await owned.restartNode(victim);
        });
        expect(await owned.masterPortOf(slot)).not.toBe(victim);
        await expectNothingLost(store, s.conversationId, acked);
      } finally {
        await close();
      }
    });
  }, 180_000);
});

describe('Redis conversations: crypto-erasure', () => {
  it("deletes the customer's wrapped data key; no process can open their content after, other customers are untouched", async () => {
    const prefix = `erase-${randomUUID().slice(0, 8)}`;
    // Two server processes on one cluster: the same prefix and KEK, their own caches.
    const a = await openStore(prefix);
    const redisB = connect();
    const b = await createRedisConversationStore({ redis: redisB, keys: createLocalKeyProvider(join(dir, `keys-${prefix}`)), prefix });
    try {
      const erased = uuidv7();
      const kept = uuidv7();
      const open = async (customerId: string) => {
        const sessionId = nextSessionId();
        const { session } = await a.store.openSession({
          sessionId,
          conversationId: uuidv7(),
          customerId,
          channel: 'WB',
          skillGroup: 'general',
        });
        await a.store.append({
          sessionId,
          direction: 'in',
          content: { kind: 'text', body: { text: `hi from ${customerId}` } },
          clientMessageId: `m-${customerId}`,
          critical: true,
        });
        await a.store.putContext(sessionId, { profile: { name: 'Li Na' } });
        return session;
      };
      const s1 = await open(erased);
      const s2 = await open(kept);
      // Process B has read (and cached the key and the opened payload of) both customers.
      expect((await b.listMessages(s1.conversationId)).map((m) => m.customerId)).toEqual([erased]);
      expect(await b.getContext(s1.id)).toEqual({ profile: { name: 'Li Na' } });
      const keyName = a.store.layout.dataKey(`customer:${erased}`);
      expect(await a.redis.exists(keyName)).toBe(1);

      expect(await a.store.eraseCustomers([erased])).toBe(1);
      expect(await a.store.eraseCustomers([erased])).toBe(0); // idempotent
      expect(await a.redis.exists(keyName)).toBe(0);
      // Process B drops its copies on `customer.erased` (main.ts); it dropped the key and the opened payload.
      expect(b.forgetCustomers([erased])).toBeGreaterThanOrEqual(2);
      for (const store of [a.store, b]) {
        await expect(store.listMessages(s1.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
        await expect(store.lastMessage(s1.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
        await expect(store.getContext(s1.id)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
        await expect(
          store.append({
            sessionId: s1.id,
            direction: 'out',
            content: { kind: 'text', body: { text: 'x' } },
            clientMessageId: 'after-erase',
            critical: false,
          }),
        ).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
        expect((await store.listMessages(s2.conversationId)).map((m) => (m.body as { text: string }).text)).toEqual([`hi from ${kept}`]);
      }
      // The ciphertext is still in Redis (erasure is by key, DESIGN §8): one record, unreadable.
      expect(await a.redis.llen(a.store.layout.messages(sessionHashTag(s1.id), s1.conversationId))).toBe(1);
    } finally {
      await b.shutdown();
      redisB.disconnect();
      await a.close();
    }
  }, 60_000);
});

describe('Redis conversations: the opened-record cache (record-cache.ts)', () => {
  async function conversationOf(store: RedisConversationStore, customerId: string, texts: string[]) {
    const sessionId = nextSessionId();
    const { session } = await store.openSession({ sessionId, conversationId: uuidv7(), customerId, channel: 'WB', skillGroup: 'general' });
    for (const [i, text] of texts.entries()) {
      await store.append({
        sessionId,
        direction: 'in',
        content: { kind: 'text', body: { text } },
        clientMessageId: `c-${i}`,
        critical: true,
      });
    }
    return { session, list: store.layout.messages(sessionHashTag(sessionId), session.conversationId) };
  }

  it('serves a re-read from memory, but a record changed in Redis after it was cached fails its check', async () => {
    const { store, redis, close } = await openStore(`rc-${randomUUID().slice(0, 8)}`);
    try {
      const { session, list } = await conversationOf(store, uuidv7(), ['one', 'two', 'three']);
      const texts = async () => (await store.listMessages(session.conversationId)).map((m) => (m.body as { text: string }).text);
      expect(await texts()).toEqual(['one', 'two', 'three']);
      const first = store.recordCacheStats();
      expect(await texts()).toEqual(['one', 'two', 'three']);
      expect(store.recordCacheStats()).toMatchObject({ hits: first.hits + 3, misses: first.misses, records: 3 });
      // Each read returns fresh objects: a caller changing one does not change the next read.
      const [m] = await store.listMessages(session.conversationId, { limit: 1 });
      (m!.body as { text: string }).text = 'changed by a caller';
      expect(await texts()).toEqual(['one', 'two', 'three']);

      const original = (await redis.lindexBuffer(list, 1))!;
      // A flipped ciphertext byte: not served from memory, and AES-GCM refuses it.
      const flipped = Buffer.from(original);
      flipped[flipped.length - 1]! ^= 0x01;
      await redis.lset(list, 1, flipped);
      await expect(store.listMessages(session.conversationId)).rejects.toMatchObject({ name: 'TamperError' });
      await expect(store.lastMessage(session.conversationId)).resolves.toMatchObject({ seq: 3 }); // the others still read
      // Another id in the header (a record moved under another identity): the AAD no longer matches.
      const header = Buffer.from(original);
      const at = header.indexOf(Buffer.from('"id":"')) + 6;
      header[at] = header[at] === 0x30 ? 0x31 : 0x30;
      await redis.lset(list, 1, header);
      await expect(store.listMessages(session.conversationId)).rejects.toMatchObject({ name: 'TamperError' });
      // Record format 2: every header field is bound too — the critical flag, the sent time, the
      // direction (same length, so the header's length prefix still fits), and the format byte itself.
      const edits: [from: string, to: string][] = [
        ['"cr":1', '"cr":0'],
        ['"st":"2', '"st":"1'],
        ['"d":"in"', '"d":"xx"'],
      ];
      for (const [from, to] of edits) {
        const at = original.indexOf(Buffer.from(from));
        expect(at, from).toBeGreaterThan(0);
        const edited = Buffer.from(original);
        Buffer.from(to).copy(edited, at);
        await redis.lset(list, 1, edited);
        await expect(store.listMessages(session.conversationId), from).rejects.toMatchObject({ name: 'TamperError' });
      }
      const sealedAt = 3 + original.readUInt16BE(1);
      expect(original[sealedAt]).toBe(2);
      const downgraded = Buffer.from(original);
      downgraded[sealedAt] = 1;
      await redis.lset(list, 1, downgraded);
      await expect(store.listMessages(session.conversationId)).rejects.toMatchObject({ name: 'TamperError' });
      await redis.lset(list, 1, original);
      expect(await texts()).toEqual(['one', 'two', 'three']);
    } finally {
      await close();
    }
  }, 60_000);

  it('keeps what this process appended as opened: read back here without an AES-GCM open, opened on another node', async () => {
    const prefix = `rc-${randomUUID().slice(0, 8)}`;
    const { store, close } = await openStore(prefix);
    const other = await openStore(prefix);
    try {
      const { session } = await conversationOf(store, uuidv7(), ['one', 'two', 'three']);
      expect(store.recordCacheStats().records).toBe(3);
      const before = store.recordCacheStats();
      const texts = (messages: Envelope[]) => messages.map((m) => (m.body as { text: string }).text);
      expect(texts(await store.listMessages(session.conversationId))).toEqual(['one', 'two', 'three']);
      expect(store.recordCacheStats()).toMatchObject({ hits: before.hits + 3, misses: before.misses });
      // Another process (node) did not write them: it opens each record once.
      const otherBefore = other.store.recordCacheStats();
      expect(texts(await other.store.listMessages(session.conversationId))).toEqual(['one', 'two', 'three']);
      expect(other.store.recordCacheStats()).toMatchObject({ hits: otherBefore.hits, misses: otherBefore.misses + 3 });
    } finally {
      await other.close();
      await close();
    }
  }, 60_000);

  it('drops cached plaintext on forgetCustomers and answers CUSTOMER_ERASED after an erasure, cached or not', async () => {
    const { store, close } = await openStore(`rc-${randomUUID().slice(0, 8)}`);
    try {
      const erased = uuidv7();
      const kept = uuidv7();
      const { session: s1 } = await conversationOf(store, erased, ['a', 'b', 'c']);
      const { session: s2 } = await conversationOf(store, kept, ['k']);
      await store.listMessages(s1.conversationId);
      await store.listMessages(s2.conversationId);
      expect(store.recordCacheStats().records).toBe(4);
      // Forgetting (another node's erasure, a key rotation) drops the key and the 3 opened records only.
      expect(store.forgetCustomers([erased])).toBe(4);
      expect(store.recordCacheStats().records).toBe(1);
      // The key is still in Redis: the records are opened again (misses), with the key unwrapped anew.
      const before = store.recordCacheStats();
      expect(await store.listMessages(s1.conversationId)).toHaveLength(3);
      expect(store.recordCacheStats()).toMatchObject({ misses: before.misses + 3, records: 4 });

      expect(await store.eraseCustomers([erased])).toBe(1);
      expect(store.recordCacheStats().records).toBe(1);
      await expect(store.listMessages(s1.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      await expect(store.recentMessages(s1.conversationId, { limit: 1 })).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      expect((await store.listMessages(s2.conversationId)).map((m) => (m.body as { text: string }).text)).toEqual(['k']);
    } finally {
      await close();
    }
  }, 60_000);
});
