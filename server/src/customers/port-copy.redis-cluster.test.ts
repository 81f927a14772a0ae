import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import type { SessionStore } from '../sessions/store';
import { createRedisCustomerStore, type RedisCustomerStore } from './customers.redis';
import type { CustomerCopy } from './customers';
import { copyCustomersToPort } from './port-copy';

/**
 * Issue 14: the customers a node's SQLite made before the deployment switched to `HUILIU_STORE=redis`,
 * copied to the Redis customers port (port-copy.ts) on a real 6-node Redis Cluster: once (a re-run
 * copies nothing twice), resumed after a crash mid-copy, and safe when nodes with their own files (and
 * two nodes with copies of one file) copy at the same time — one customer per identity, the first
 * claimer's; the other file records that customer and merges its own into them.
 */
let cluster: RedisClusterHandle;
const dir = mkdtempSync(join(tmpdir(), 'huiliu-port-copy-'));
// One KEK for every file and node (a deployment shares its key file or HSM).
const keys = createLocalKeyProvider(join(dir, 'keys'));
const connections: Cluster[] = [];
const opened: SessionStore[] = [];
beforeAll(async () => {
  cluster = await useRedisCluster();
}, 90_000);
afterAll(async () => {
  for (const store of opened) await store.shutdown().catch(() => undefined);
  for (const c of connections) c.disconnect();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One node's customers port: its own connection and caches. */
async function port(prefix: string): Promise<RedisCustomerStore> {
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  connections.push(redis);
  return createRedisCustomerStore({ redis, keys, prefix, waitMs: 500 });
}

/** A node's SQLite file as embedded mode left it: `n` WeChat customers `<tag>-<i>`. */
async function sqliteFile(name: string, ids: string[]): Promise<{ path: string; wide: SessionStore; customerOf: Map<string, string> }> {
  const path = join(dir, `${name}.db`);
  const wide = await createSqliteSessionStore({ path, keys, writer: 'inline' });
  opened.push(wide);
  const made = await wide.ensureCustomers(ids.map((externalId) => ({ channel: 'WX' as const, externalId })));
  return { path, wide, customerOf: new Map(ids.map((id, i) => [id, made[i]!.customerId])) };
}

/** Every key matching `pattern` on any node (tests only: SCAN is on no product path). */
async function keysOnNodes(pattern: string): Promise<string[]> {
  const out = new Set<string>();
  for (const p of cluster.livePorts()) {
    const node = new Redis({ host: '127.0.0.1', port: p, lazyConnect: true });
    try {
      await node.connect();
      // Replicas hold the same keys: masters only.
      if (!(await node.info('replication')).includes('role:master')) continue;
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const k of found) out.add(k);
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return [...out];
}
const records = async (prefix: string) => (await keysOnNodes(`${prefix}:cu:*`)).filter((k) => k.endsWith('}')).length;
const lookups = async (prefix: string) => (await keysOnNodes(`${prefix}:ci:*`)).length;
const copyRow = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT cursor, copied, done_at FROM customer_port_copy').get() as {
      cursor: string;
      copied: number;
      done_at: string | null;
    };
  } finally {
    db.close();
  }
};

describe('copying SQLite customers to the Redis customers port', () => {
  it('copies every customer with name, identities, phone and links under their SQLite ids, once (measured)', async () => {
    const prefix = `pc-${randomUUID().slice(0, 8)}`;
    const N = 400;
    const ids = Array.from({ length: N }, (_, i) => `o-copy-${i}`);
    const file = await sqliteFile('copy', ids);
    const first = file.customerOf.get('o-copy-0')!;
    // Contact details and links as embedded mode kept them: a name and phone typed, an e-mail typed
    // (untrusted), a phone an agent verified (trusted).
    await file.wide.saveContactDetails(
      {
        channel: 'WX',
        externalId: 'o-copy-0',
        displayName: 'Zhao Lei',
        phone: '+86 139 1234 5678',
        links: [{ kind: 'email', value: 'zhao.lei@example.com' }],
      },
      'WX',
    );
    await file.wide.linkIdentity(first, { kind: 'phone', value: '+86 139 8765 4321' }, 'agent:u-agent1');
    const p = await port(prefix);

    const report = await copyCustomersToPort({ path: file.path, keys, port: p, wide: file.wide });
    process.stdout.write(
      `port copy: ${report.copied} customers in ${report.ms} ms = ${report.perSecond} customers/s (6-node cluster, WAIT 1, 16 at once, loaded 2-core host)\n`,
    );
    expect(report).toMatchObject({
      alreadyDone: false,
      copied: N,
      erasedHere: 0,
      erasedOnPort: 0,
      identitiesAdopted: 0,
      linksHeldElsewhere: 0,
    });
    // A returning customer is the same customer on the port: same id, name, identity, links.
    for (const i of [0, 1, 199, 399]) {
      expect((await p.findCustomerByIdentity('WX', `o-copy-${i}`))?.id).toBe(file.customerOf.get(`o-copy-${i}`));
    }
    expect(await p.getCustomer(first)).toMatchObject({ id: first, name: 'Zhao Lei', channels: ['WX'] });
    expect((await p.findCustomerByLink('email', 'zhao.lei@example.com'))?.id).toBe(first);
    expect((await p.findCustomerByLink('phone', '+8613987654321'))?.id).toBe(first);
    const { identities, links } = await p.customerIdentities(first);
    expect(identities.map((x) => x.externalId)).toEqual(['o-copy-0']);
    expect(links.map((l) => [l.kind, l.value, l.source]).sort()).toEqual([
      ['email', 'zhao.lei@example.com', 'WX'],
      ['phone', '+8613987654321', 'agent:u-agent1'],
    ]);
    // Trust is copied: the verified phone is not given to another customer, the typed e-mail is taken
    // by a verification (the port's own link rules).
    const other = file.customerOf.get('o-copy-1')!;
    await expect(p.linkIdentity(other, { kind: 'phone', value: '+8613987654321' }, 'agent:u-agent2')).rejects.toMatchObject({
      code: 'LINK_CONFLICT',
      details: { customerId: first },
    });
    // The phone on the identity is the copied one: the same phone again records no change.
    await p.saveContactDetails({ channel: 'WX', externalId: 'o-copy-0', phone: '+86 139 1234 5678' }, 'WX');
    expect(await p.profileChanges(first)).toEqual([]);
    expect(await records(prefix)).toBe(N);
    expect(await lookups(prefix)).toBe(N);

    // Done: a second start reads nothing. Forced again (the marker removed): nothing is copied twice.
    expect((await copyCustomersToPort({ path: file.path, keys, port: p, wide: file.wide })).alreadyDone).toBe(true);
    const db = new Database(file.path);
    db.prepare('DELETE FROM customer_port_copy').run();
    db.close();
    const again = await copyCustomersToPort({ path: file.path, keys, port: p, wide: file.wide });
    expect(again.copied).toBe(N);
    expect(await records(prefix)).toBe(N);
    expect(await lookups(prefix)).toBe(N);
    expect((await p.customerIdentities(first)).links).toHaveLength(2);
    expect(await p.getCustomer(first)).toMatchObject({ name: 'Zhao Lei' });
  }, 120_000);

  it('resumes after a crash mid-copy from the cursor kept in the file, and copies no customer twice', async () => {
    const prefix = `pc-${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: 250 }, (_, i) => `o-crash-${i}`);
    const file = await sqliteFile('crash', ids);
    const p = await port(prefix);
    let calls = 0;
    // The node dies after 120 customers (a batch of 50 is half done).
    const dying = {
      async copyCustomer(c: CustomerCopy) {
        if (++calls > 120) throw new Error('node stopped');
        return p.copyCustomer(c);
      },
    };
    await expect(copyCustomersToPort({ path: file.path, keys, port: dying, wide: file.wide, batch: 50, parallel: 4 })).rejects.toThrow(
      'node stopped',
    );
    expect(copyRow(file.path)).toMatchObject({ copied: 100, done_at: null });
    const resumed = await copyCustomersToPort({ path: file.path, keys, port: p, wide: file.wide, batch: 50, parallel: 4 });
    // Only what was after the cursor: the two whole batches before the crash are not read again.
    expect(resumed.copied).toBe(150);
    expect(copyRow(file.path)).toMatchObject({ copied: 250 });
    expect(copyRow(file.path).done_at).not.toBeNull();
    expect(await records(prefix)).toBe(250);
    expect(await lookups(prefix)).toBe(250);
    for (const i of [0, 99, 100, 119, 120, 249]) {
      expect((await p.findCustomerByIdentity('WX', `o-crash-${i}`))?.id).toBe(file.customerOf.get(`o-crash-${i}`));
    }
  }, 120_000);

  it('leaves no lookup naming a customer another node erased while the copy claimed their identity', async () => {
    const prefix = `pcr-${randomUUID().slice(0, 8)}`;
    const nodeA = await port(prefix);
    let eraseNow: (() => Promise<unknown>) | null = null;
    const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
    connections.push(redis);
    // Node B copies the same customer (a copy of A's file); the erasure runs between its check and its claim.
    const nodeB = await createRedisCustomerStore({
      redis,
      keys,
      prefix,
      waitMs: 500,
      beforeClaim: async () => {
        const erase = eraseNow;
        eraseNow = null;
        await erase?.();
      },
    });
    const externalId = `race-${randomUUID()}`;
    const at = new Date().toISOString();
    const customer: CustomerCopy = {
      id: randomUUID(),
      createdAt: at,
      name: 'Race Person',
      identities: [{ channel: 'WX', externalId, phone: null, createdAt: at }],
      links: [],
    };
    expect((await nodeA.copyCustomer(customer)).outcome).toBe('copied');
    eraseNow = () => nodeA.eraseCustomers([customer.id]);
    // B sees the erasure once its claim is made: what it claimed is released again.
    expect((await nodeB.copyCustomer(customer)).outcome).toBe('erased');
    expect(eraseNow).toBeNull();
    // The identity writing again is a NEW customer (before: the re-claimed lookup named the erased one).
    const [again] = await nodeA.ensureCustomers([{ channel: 'WX', externalId }]);
    expect(again!.customerId).not.toBe(customer.id);
    expect((await nodeA.getCustomer(again!.customerId))?.id).toBe(again!.customerId);

    // An erasure that races past that check too (the key deleted after it, the lookup left naming the
    // erased customer): a first contact of the identity finds it free, not CUSTOMER_ERASED forever.
    const late: CustomerCopy = {
      ...customer,
      id: randomUUID(),
      identities: [{ ...customer.identities[0]!, externalId: `late-${externalId}` }],
    };
    expect((await nodeA.copyCustomer(late)).outcome).toBe('copied');
    await redis.del(nodeA.layout.dataKey(`customer:${late.id}`));
    nodeA.forgetCustomers([late.id]);
    const [fresh] = await nodeA.ensureCustomers([{ channel: 'WX', externalId: `late-${externalId}` }]);
    expect(fresh!.customerId).not.toBe(late.id);
  });

  it('gives an identity two nodes’ files hold under two ids ONE customer when the nodes copy at the same time', async () => {
    const prefix = `pc-${randomUUID().slice(0, 8)}`;
    const shared = Array.from({ length: 40 }, (_, i) => `o-both-${i}`);
    const a = await sqliteFile('node-a', [...shared, ...Array.from({ length: 20 }, (_, i) => `o-only-a-${i}`)]);
    const b = await sqliteFile('node-b', [...shared, ...Array.from({ length: 20 }, (_, i) => `o-only-b-${i}`)]);
    // A third node started from a copy of node A's file (same ids): copying it again changes nothing.
    await a.wide.shutdown();
    copyFileSync(a.path, join(dir, 'node-a2.db'));
    const aWide = await createSqliteSessionStore({ path: a.path, keys, writer: 'inline' });
    const a2Wide = await createSqliteSessionStore({ path: join(dir, 'node-a2.db'), keys, writer: 'inline' });
    opened.push(aWide, a2Wide);
    const [pa, pb, pa2] = await Promise.all([port(prefix), port(prefix), port(prefix)]);

    const [ra, rb, ra2] = await Promise.all([
      copyCustomersToPort({ path: a.path, keys, port: pa, wide: aWide }),
      copyCustomersToPort({ path: b.path, keys, port: pb, wide: b.wide }),
      copyCustomersToPort({ path: join(dir, 'node-a2.db'), keys, port: pa2, wide: a2Wide }),
    ]);
    // Every customer of each file is on the port once, under its own id (A and A2 share theirs); a file
    // that adopted the port's customer for an identity during its run may read that row too (a no-op copy).
    expect(ra.copied + rb.copied + ra2.copied).toBeGreaterThanOrEqual(180);
    expect(await records(prefix)).toBe(120);
    // Each shared identity was claimed once: by A's id (A and A2 agree) or B's; the loser adopted it.
    expect(ra.identitiesAdopted + rb.identitiesAdopted).toBe(shared.length);
    expect(ra2.identitiesAdopted).toBe(ra.identitiesAdopted);
    process.stdout.write(
      `port copy race: node A's file kept ${shared.length - ra.identitiesAdopted} shared identities, node B's ${shared.length - rb.identitiesAdopted}\n`,
    );
    expect(await lookups(prefix)).toBe(shared.length + 40);
    for (const externalId of shared) {
      const onPort = (await pa.findCustomerByIdentity('WX', externalId))!.id;
      const idA = a.customerOf.get(externalId)!;
      const idB = b.customerOf.get(externalId)!;
      expect([idA, idB]).toContain(onPort);
      const loser = onPort === idA ? { wide: b.wide, id: idB } : { wide: aWide, id: idA };
      // The losing file records the identity for the port's customer and merged its own customer into them.
      expect((await loser.wide.findCustomerByIdentity('WX', externalId))?.id).toBe(onPort);
      expect(await loser.wide.getCustomer(loser.id)).toMatchObject({ groupId: onPort, mergedInto: onPort });
    }
    for (let i = 0; i < 20; i++) {
      expect((await pb.findCustomerByIdentity('WX', `o-only-a-${i}`))?.id).toBe(a.customerOf.get(`o-only-a-${i}`));
      expect((await pa.findCustomerByIdentity('WX', `o-only-b-${i}`))?.id).toBe(b.customerOf.get(`o-only-b-${i}`));
    }
  }, 120_000);
});
