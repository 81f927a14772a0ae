import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeySlot } from '../../test/support/redis-slot';
import { startRedisCluster, useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import { nextSessionId } from '../sessions/conversations.contract';
import { createRedisConversationStore } from '../sessions/conversations.redis';
import { customerContract } from './customers.contract';
import { createRedisCustomerStore, type RedisCustomerOptions } from './customers.redis';

/**
 * The customers port on a real 6-node Redis Cluster (3 masters, 3 replicas) started once for this file
 * (or `HUILIU_REDIS_NODES`): the contract with two store instances (two nodes), then the Redis-only cases.
 */
let cluster: RedisClusterHandle;
const dir = mkdtempSync(join(tmpdir(), 'huiliu-cust-redis-'));
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

/** A store instance as one server node opens it: its own connection and caches, the prefix's KEK file. */
async function openStore(prefix: string, extra: Partial<RedisCustomerOptions> = {}, target: () => RedisClusterHandle = () => cluster) {
  const redis = connectTo(target());
  const keys = createLocalKeyProvider(join(dir, `keys-${prefix}`));
  const store = await createRedisCustomerStore({ redis, keys, prefix, waitMs: 500, ...extra });
  return {
    store,
    redis,
    keys,
    async close() {
      await store.shutdown();
      redis.disconnect();
    },
  };
}

/** Every key matching `pattern` on any node, sorted, once each (tests only: SCAN is on no product path). */
async function keysOnNodes(pattern: string): Promise<string[]> {
  const out = new Set<string>();
  for (const port of cluster.livePorts()) {
    const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    try {
      await node.connect();
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        for (const k of keys) out.add(k);
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return [...out].sort();
}

customerContract('Redis Cluster (6 nodes)', async () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const a = await openStore(prefix);
  const b = await openStore(prefix);
  return {
    store: a.store,
    other: b.store,
    async cleanup() {
      await a.close();
      await b.close();
    },
  };
});

describe('Redis customers: layout', () => {
  it("keeps a customer's own keys in one slot and each blind-index lookup in its own", async () => {
    const { store, redis, close } = await openStore(`lay-${randomUUID().slice(0, 8)}`);
    try {
      const { customerId } = await store.saveContactDetails(
        {
          channel: 'WX',
          externalId: `wx-${randomUUID()}`,
          displayName: 'Zhou',
          phone: '13900000000',
          links: [{ kind: 'email', value: 'zhou@example.com' }],
        },
        'WX',
      );
      await store.saveContactDetails({ channel: 'WX', externalId: 'unused', displayName: 'other' }, 'WX');
      const L = store.layout;
      const own = [
        L.customer(customerId),
        L.identities(customerId),
        L.links(customerId),
        L.changes(customerId),
        L.dataKey(`customer:${customerId}`),
      ];
      expect(new Set(own.slice(0, 4).map(redisKeySlot)).size).toBe(1);
      for (const k of own.slice(0, 3)) expect(await redis.exists(k)).toBe(1);
      // The lookups are named by keyed hashes only, in their own slots.
      const [identityField] = await redis.hkeys(L.identities(customerId));
      const [linkField] = await redis.hkeys(L.links(customerId));
      const [channel, idHmac] = identityField!.split(':') as ['WX', string];
      const [kind, linkHmac] = linkField!.split(':') as ['email', string];
      expect(idHmac).toMatch(/^[0-9a-f]{64}$/);
      expect(await redis.get(L.identityLookup(channel, idHmac))).toBe(customerId);
      expect(await redis.hget(L.linkLookup(kind, linkHmac), 'c')).toBe(customerId);
      expect(redisKeySlot(L.identityLookup(channel, idHmac))).not.toBe(redisKeySlot(L.customer(customerId)));
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis customers: a crash between a link claim and its sealed copy', () => {
  it('finds the customer by the link meanwhile, and the retry of the same details or link writes the copy', async () => {
    const { store, redis, close } = await openStore(`half-${randomUUID().slice(0, 8)}`);
    try {
      const L = store.layout;
      const mail = `half.${randomUUID().slice(0, 8)}@example.com`;
      const identity = { channel: 'WB' as const, externalId: `v-${randomUUID()}`, links: [{ kind: 'email' as const, value: mail }] };
      const { customerId } = await store.saveContactDetails(identity, 'WB');
      const [field] = await redis.hkeys(L.links(customerId));
      // The claim on the lookup's slot happened; the sealed copy in the customer's slot did not.
      await redis.hdel(L.links(customerId), field!);
      expect((await store.findCustomerByLink('email', mail))!.id).toBe(customerId);
      expect((await store.customerIdentities(customerId)).links).toEqual([]);
      // The channel sends the same details again: the lookup is already theirs, the copy is written.
      await store.saveContactDetails(identity, 'WB');
      expect((await store.customerIdentities(customerId)).links.map((l) => [l.value, l.source])).toEqual([[mail, 'WB']]);
      // The same for a verified link an agent retries.
      await store.linkIdentity(customerId, { kind: 'phone', value: '+8613800001111' }, 'agent:a1');
      const phoneField = (await redis.hkeys(L.links(customerId))).find((f) => f.startsWith('phone:'))!;
      await redis.hdel(L.links(customerId), phoneField);
      await store.linkIdentity(customerId, { kind: 'phone', value: '+8613800001111' }, 'agent:a1');
      expect((await store.customerIdentities(customerId)).links.map((l) => l.value).sort()).toEqual(['+8613800001111', mail].sort());
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis customers: two nodes ensuring one identity', () => {
  it('both write a customer record, one claims the identity: both answer the winner, the loser’s record and key are removed', async () => {
    const prefix = `race-${randomUUID().slice(0, 8)}`;
    // Each node stops after writing its record until both have: the claims then really race.
    let arrived = 0;
    let release!: () => void;
    const bothWritten = new Promise<void>((r) => (release = r));
    const barrier = async () => {
      if (++arrived === 2) release();
      await bothWritten;
    };
    const a = await openStore(prefix, { beforeClaim: barrier });
    const b = await openStore(prefix, { beforeClaim: barrier });
    try {
      const identity = { channel: 'WB' as const, externalId: `visitor-${randomUUID()}`, displayName: 'Chen Jing' };
      const [[ra], [rb]] = await Promise.all([a.store.ensureCustomers([identity]), b.store.ensureCustomers([identity])]);
      expect(arrived).toBe(2);
      expect(ra!.customerId).toBe(rb!.customerId);
      expect([ra!.created, rb!.created].sort()).toEqual([false, true]);
      const winner = ra!.customerId;
      // Exactly one customer record with this identity remains: the winner's (the loser deleted its orphan).
      const L = a.store.layout;
      const [field] = await a.redis.hkeys(L.identities(winner));
      expect(await a.redis.get(L.identityLookup('WB', field!.split(':')[1]!))).toBe(winner);
      expect((await a.store.getCustomer(winner))!.name).toBe('Chen Jing');
      expect((await b.store.findCustomerByIdentity('WB', identity.externalId))!.id).toBe(winner);
      // The loser's orphan record and its data key are gone (SCAN here is the test's, on this test's prefix only).
      expect(await keysOnNodes(`${prefix}:cu:*`)).toEqual([L.customer(winner), L.identities(winner)].sort());
      expect(await keysOnNodes(`${prefix}:dk:{customer:*`)).toEqual([L.dataKey(`customer:${winner}`)]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('without the barrier: 20 identities ensured by two nodes at once give 20 customers, each created once', async () => {
    const prefix = `race2-${randomUUID().slice(0, 8)}`;
    const a = await openStore(prefix);
    const b = await openStore(prefix);
    try {
      const identities = Array.from({ length: 20 }, (_, i) => ({ channel: 'AP' as const, externalId: `app:u-${i}-${randomUUID()}` }));
      const [ra, rb] = await Promise.all([a.store.ensureCustomers(identities), b.store.ensureCustomers(identities)]);
      for (let i = 0; i < 20; i++) {
        expect(ra[i]!.customerId).toBe(rb[i]!.customerId);
        expect(Number(ra[i]!.created) + Number(rb[i]!.created)).toBe(1);
      }
      expect(new Set(ra.map((r) => r.customerId)).size).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('Redis customers: durability (WAIT 1 before the ack)', () => {
  it('does not ack a new customer while no replica acknowledges, and the retry gives one customer', async () => {
    // Freezing nodes needs a cluster of our own (the lane's shared one is not ours to stop).
    const owned = process.env.HUILIU_REDIS_NODES ? await startRedisCluster() : cluster;
    const { store, close } = await openStore(`wait-${randomUUID().slice(0, 8)}`, { retryMs: 1500, waitMs: 300 }, () => owned);
    try {
      // The three masters own 0–5460, 5461–10922, 10923–16383 (redis-cli --cluster create): freeze every replica.
      await owned.waitHealthy();
      const replicas = [...new Set((await Promise.all([0, 5461, 10923].map((slot) => owned.replicaPortsOf(slot)))).flat())];
      expect(replicas.length).toBeGreaterThanOrEqual(3);
      const identity = { channel: 'WB' as const, externalId: `v-${randomUUID()}`, displayName: 'Guo Mei' };
      for (const port of replicas) owned.pauseNode(port, true);
      try {
        const started = Date.now();
        await expect(store.ensureCustomers([identity])).rejects.toMatchObject({ code: 'NOT_READY' });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      } finally {
        for (const port of replicas) owned.pauseNode(port, false);
      }
      // Thawed replicas may have been flagged failed meanwhile: the cluster is whole again before the retry.
      await owned.waitHealthy();
      const [first] = await store.ensureCustomers([identity]);
      const [again] = await store.ensureCustomers([identity]);
      expect(again).toEqual({ customerId: first!.customerId, created: false });
      expect((await store.getCustomer(first!.customerId))!.name).toBe('Guo Mei');
    } finally {
      await close();
      if (owned !== cluster) await owned.stop();
    }
  }, 60_000);
});

/**
 * Two nodes making first contacts (each new identity ensured on both at once, retried on NOT_READY like
 * a channel's redelivery) while `disrupt` runs; then a fresh node must find every acked customer by
 * identity, the same one. Answers how many first contacts were acked.
 */
async function firstContactsThrough(target: RedisClusterHandle, disrupt: () => Promise<void>): Promise<number> {
  const prefix = `fc-${randomUUID().slice(0, 8)}`;
  const a = await openStore(prefix, {}, () => target);
  const b = await openStore(prefix, {}, () => target);
  try {
    const acked = new Map<string, string>(); // external id → customer id
    let stop = false;
    let failed: unknown = null;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const identity = { channel: 'WX' as const, externalId: `fc-${i}-${randomUUID()}` };
        for (let attempt = 0; ; attempt++) {
          try {
            const [[ra], [rb]] = await Promise.all([a.store.ensureCustomers([identity]), b.store.ensureCustomers([identity])]);
            if (ra!.customerId !== rb!.customerId) throw new Error(`two customers for ${identity.externalId}`);
            acked.set(identity.externalId, ra!.customerId);
            break;
          } catch (error) {
            if (attempt > 50 || (error as { code?: string }).code !== 'NOT_READY') throw error;
          }
        }
      }
    })().catch((error: unknown) => void (failed = error));
    const until = async (n: number) => {
      const end = Date.now() + 60_000;
      while (acked.size < n) {
        if (failed) throw failed;
        if (Date.now() > end) throw new Error(`only ${acked.size} of ${n} first contacts acked`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(15);
    await disrupt();
    await until(acked.size + 15);
    stop = true;
    await writer;
    if (failed) throw failed;
    const fresh = await openStore(prefix, {}, () => target);
    try {
      for (const [externalId, customerId] of acked) {
        expect((await fresh.store.findCustomerByIdentity('WX', externalId))?.id).toBe(customerId);
      }
    } finally {
      await fresh.close();
    }
    return acked.size;
  } finally {
    await a.close();
    await b.close();
  }
}

describe('Redis customers: a failover during first contacts', () => {
  it('loses no acked customer through a CLUSTER FAILOVER, and no identity ends up with two customers', async () => {
    const acked = await firstContactsThrough(cluster, async () => {
      const moved = await cluster.failoverSlot(0);
      expect(moved.to).not.toBe(moved.from);
    });
    expect(acked).toBeGreaterThanOrEqual(30);
  }, 120_000);
});

describe('Redis customers: nothing in Redis is plaintext customer content', () => {
  it('finds neither the name, the external id, the phone nor the e-mail in any key or value on any node', async () => {
    const name = `欧阳娜娜-${randomUUID().slice(0, 6)}`;
    const externalId = `MARKER-openid-${randomUUID()}`;
    const phone = '13912345678';
    const mail = `marker.${randomUUID().slice(0, 8)}@example.com`;
    const prefix = `np-${randomUUID().slice(0, 8)}`;
    const { store, redis, close } = await openStore(prefix);
    try {
      const { customerId } = await store.saveContactDetails(
        { channel: 'WX', externalId, displayName: name, phone, links: [{ kind: 'email', value: mail }] },
        'WX',
      );
      await store.saveContactDetails({ channel: 'WX', externalId, displayName: `${name}2`, phone: '13912345679' }, 'WX');
      await store.linkIdentity(customerId, { kind: 'phone', value: phone }, 'agent:a1');
      // A positive control: plaintext written on purpose must be found, so the search has teeth.
      const control = `${prefix}:control:{${customerId}}`;
      await redis.hset(control, 'x', `${name} ${externalId} ${phone} ${mail}`);
      await redis.call('WAIT', 1, 1000);

      const needles = { name, externalId, phone, mail };
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
              else throw new Error(`unexpected type ${type} of ${key}`);
              values += parts.length;
              const all = Buffer.concat(parts);
              for (const [label, needle] of Object.entries(needles))
                if (all.includes(Buffer.from(needle, 'utf8'))) found.push(`${port} ${type} ${key} has the ${label}`);
            }
          } while (cursor !== '0');
        } finally {
          node.disconnect();
        }
      }
      expect(values).toBeGreaterThan(20);
      expect(found.filter((f) => !f.includes(':control:'))).toEqual([]);
      // The control key, on its master and its replica, with all four.
      expect(found.filter((f) => f.includes(':control:'))).toHaveLength(8);
      // And the store reads it all back.
      expect((await store.getCustomer(customerId))!.name).toBe(`${name}2`);
      const { identities, links } = await store.customerIdentities(customerId);
      expect(identities.map((i) => i.externalId)).toEqual([externalId]);
      expect(links.map((l) => l.value).sort()).toEqual([mail, phone].sort());
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis customers: sealed values are checked', () => {
  const flip = (b64: string) => {
    const b = Buffer.from(b64, 'base64');
    b[b.length - 1]! ^= 0x01;
    return b.toString('base64');
  };

  it('answers TamperError for a flipped ciphertext byte or a value moved to another customer, never other data', async () => {
    const { store, redis, close } = await openStore(`tamper-${randomUUID().slice(0, 8)}`);
    try {
      const L = store.layout;
      const { customerId: a } = await store.saveContactDetails(
        { channel: 'WB', externalId: `a-${randomUUID()}`, displayName: 'Alice' },
        'WB',
      );
      const { customerId: b } = await store.saveContactDetails(
        { channel: 'WB', externalId: `b-${randomUUID()}`, displayName: 'Bob' },
        'WB',
      );
      const name = (await redis.hget(L.customer(a), 'name'))!;
      await redis.hset(L.customer(a), 'name', flip(name));
      await expect(store.getCustomer(a)).rejects.toMatchObject({ name: 'TamperError' });
      await redis.hset(L.customer(a), 'name', name);
      expect((await store.getCustomer(a))!.name).toBe('Alice');
      // Bob's sealed name copied onto Alice's record: the AAD (cust:<id>:name) refuses it — even under the right key it is not Alice's.
      await redis.hset(L.customer(a), 'name', (await redis.hget(L.customer(b), 'name'))!);
      await expect(store.getCustomer(a)).rejects.toMatchObject({ name: 'TamperError' });
      await redis.hset(L.customer(a), 'name', name);
      // A flipped byte in a sealed external id.
      const [field] = await redis.hkeys(L.identities(a));
      const raw = (await redis.hget(L.identities(a), field!))!;
      const entry = JSON.parse(raw) as { ext: string };
      await redis.hset(L.identities(a), field!, JSON.stringify({ ...entry, ext: flip(entry.ext) }));
      await expect(store.customerIdentities(a)).rejects.toMatchObject({ name: 'TamperError' });
      await redis.hset(L.identities(a), field!, raw);
      expect((await store.customerIdentities(a)).identities).toHaveLength(1);
    } finally {
      await close();
    }
  }, 60_000);
});

describe('Redis customers: crypto-erasure', () => {
  it('destroys the data key shared with the conversations adapter: profile and messages unreadable on every node', async () => {
    const prefix = `erase-${randomUUID().slice(0, 8)}`;
    const a = await openStore(prefix);
    const b = await openStore(prefix);
    // The conversations adapter on the same prefix and KEK: same data keys, same blind-index key.
    const convRedis = connect();
    const conversations = await createRedisConversationStore({ redis: convRedis, keys: a.keys, prefix, waitMs: 500 });
    try {
      const { customerId } = await a.store.saveContactDetails(
        { channel: 'WB', externalId: `v-${randomUUID()}`, displayName: 'Sun Li', phone: '13800000000' },
        'WB',
      );
      const sessionId = nextSessionId();
      const { session } = await conversations.openSession({
        sessionId,
        conversationId: uuidv7(),
        customerId,
        channel: 'WB',
        skillGroup: 'general',
      });
      await conversations.append({
        sessionId,
        direction: 'in',
        content: { kind: 'text', body: { text: 'hello' } },
        clientMessageId: 'm1',
        critical: true,
      });
      expect((await b.store.getCustomer(customerId))!.name).toBe('Sun Li'); // node B has the key cached
      const keyName = a.store.layout.dataKey(`customer:${customerId}`);
      expect(keyName).toBe(conversations.layout.dataKey(`customer:${customerId}`));
      expect(await a.redis.exists(keyName)).toBe(1);

      expect(await a.store.eraseCustomers([customerId])).toBe(1);
      // Gone from the master and (WAIT) its replica.
      expect(await a.redis.exists(keyName)).toBe(0);
      await cluster.waitHealthy();
      const [replica] = await cluster.replicaPortsOf(redisKeySlot(keyName));
      const node = new Redis({ host: '127.0.0.1', port: replica!, lazyConnect: true });
      await node.connect();
      await node.call('READONLY');
      expect(await node.exists(keyName)).toBe(0);
      node.disconnect();
      // Every node drops its copies on `customer.erased`.
      expect(b.store.forgetCustomers([customerId])).toBe(1);
      conversations.forgetCustomers([customerId]);
      for (const store of [a.store, b.store]) {
        await expect(store.getCustomer(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
        await expect(store.profileChanges(customerId)).resolves.toEqual([]);
      }
      await expect(conversations.listMessages(session.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      // The sealed name is still there (erasure is by key): unreadable, not deleted.
      expect(await a.redis.hexists(a.store.layout.customer(customerId), 'name')).toBe(1);
    } finally {
      await conversations.shutdown();
      convRedis.disconnect();
      await a.close();
      await b.close();
    }
  }, 60_000);
});

// Last: it kills a node (restarted afterwards, empty, as a replica).
describe('Redis customers: a killed master during first contacts', () => {
  it('loses no acked customer when the master of slot 0 is killed (SIGKILL), and first contacts go on', async () => {
    const owned = process.env.HUILIU_REDIS_NODES ? await startRedisCluster() : cluster;
    try {
      const victim = await owned.masterPortOf(0);
      const acked = await firstContactsThrough(owned, async () => {
        expect(await owned.killMasterOf(0)).toBe(victim);
        // The promoted replica has no replica until the dead node is back: its writes wait (WAIT 1 answers 0).
        await owned.restartNode(victim);
      });
      expect(await owned.masterPortOf(0)).not.toBe(victim);
      expect(acked).toBeGreaterThanOrEqual(30);
    } finally {
      if (owned !== cluster) await owned.stop();
    }
  }, 180_000);
});
