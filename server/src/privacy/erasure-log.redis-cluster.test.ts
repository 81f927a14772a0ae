import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Cluster } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createRedisCustomerStore, type RedisCustomerStore } from '../customers/customers.redis';
import { copyCustomersToPort } from '../customers/port-copy';
import { createLocalKeyProvider } from '../keys/provider.local';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { createSqlitePrivacyStore } from './privacy.sqlite';
import { createSharedErasureLog, ErasureLogGapError, type ErasureEntryRejection, type SharedErasureLogOptions } from './erasure-log.redis';

/**
 * Issue 14: the cluster's erasure log (erasure-log.redis.ts) on a real 6-node Redis Cluster — an erasure
 * is not undone by another file's copy of the same person under another id; entries are MACed (forged,
 * unsigned or oversized entries are refused, counted and do not block later ones); old entries are
 * trimmed and a node whose cursor is behind a trimmed entry refuses to start (`ERASURE_LOG_GAP`).
 */
let cluster: RedisClusterHandle;
const dir = mkdtempSync(join(tmpdir(), 'huiliu-erasure-log-'));
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

function connect(): Cluster {
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  connections.push(redis);
  return redis;
}
async function port(prefix: string): Promise<RedisCustomerStore> {
  return createRedisCustomerStore({ redis: connect(), keys, prefix, waitMs: 500 });
}
async function sqliteFile(name: string, ids: string[]) {
  const path = join(dir, `${name}.db`);
  const wide = await createSqliteSessionStore({ path, keys, writer: 'inline' });
  opened.push(wide);
  const made = await wide.ensureCustomers(ids.map((externalId) => ({ channel: 'WX' as const, externalId })));
  return { path, wide, customerOf: new Map(ids.map((id, i) => [id, made[i]!.customerId])) };
}
function log(prefix: string, path: string, more: Partial<SharedErasureLogOptions> = {}) {
  const applied: string[][] = [];
  const rejected: [string, ErasureEntryRejection][] = [];
  const erasureLog = createSharedErasureLog({
    redis: connect(),
    prefix,
    path,
    keys,
    waitReplicas: 1,
    apply: async (ids) => {
      applied.push([...ids]);
    },
    onRejected: (id, reason) => rejected.push([id, reason]),
    ...more,
  });
  return { erasureLog, applied, rejected };
}
const keyRow = (path: string, customerId: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT 1 AS x FROM data_keys WHERE owner = ?').get(`customer:${customerId}`) ?? null;
  } finally {
    db.close();
  }
};

describe('the cluster erasure log', () => {
  it('an erasure is not undone by a later copy of another file holding the same person under another id', async () => {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    const a = await sqliteFile('a', ['o-person', 'o-other-a']);
    const b = await sqliteFile('b', ['o-person', 'o-other-b']);
    const s = a.customerOf.get('o-person')!;
    const s2 = b.customerOf.get('o-person')!;
    expect(s).not.toBe(s2);
    const pa = await port(prefix);
    await copyCustomersToPort({ path: a.path, keys, port: pa, wide: a.wide });
    expect((await pa.findCustomerByIdentity('WX', 'o-person'))?.id).toBe(s);

    // S is erased on A, as main.ts's sharedErasure does: recorded with its identities' hashes, then released.
    const onA = log(prefix, a.path);
    await onA.erasureLog.record([s], await pa.identityFields([s]));
    await pa.eraseCustomers([s]);
    expect(await pa.findCustomerByIdentity('WX', 'o-person')).toBeNull();

    // No plaintext identity in the stream: ids, blind hashes, a time and a MAC.
    const raw = JSON.stringify(await connect().xrange(onA.erasureLog.key, '-', '+'));
    expect(raw).not.toContain('o-person');
    expect(raw).toContain(pa.identityField('WX', 'o-person'));

    // B starts: catch-up first (the entry names S, which B does not know), then its copy.
    const pb = await port(prefix);
    const onB = log(prefix, b.path);
    expect(await onB.erasureLog.catchUp()).toEqual({ entries: 1, customers: 1, rejected: 0 });
    const privacyB = createSqlitePrivacyStore({ path: b.path, keys });
    const shredded: string[] = [];
    const report = await copyCustomersToPort({
      path: b.path,
      keys,
      port: pb,
      wide: b.wide,
      shredErased: async (ids) => {
        shredded.push(...ids);
        await privacyB.shred(ids);
      },
    });
    // The erased person is not on the port again under S', and B's own copy of them is shredded.
    expect(await pb.findCustomerByIdentity('WX', 'o-person')).toBeNull();
    expect(report).toMatchObject({ copied: 1, erasedByLog: 1 });
    expect(await pb.getCustomer(s2)).toBeNull();
    expect(shredded).toEqual([s2]);
    expect(keyRow(b.path, s2)).toBeNull();
    // B's other customer is copied as before.
    expect((await pb.findCustomerByIdentity('WX', 'o-other-b'))?.id).toBe(b.customerOf.get('o-other-b'));

    // The same identity writing again after the erasure is a new customer, which a later copy keeps.
    const c = await sqliteFile('c', ['o-person']);
    const fresh = c.customerOf.get('o-person')!;
    await log(prefix, c.path).erasureLog.catchUp();
    const later = await copyCustomersToPort({ path: c.path, keys, port: pb, wide: c.wide });
    expect(later).toMatchObject({ copied: 1, erasedByLog: 0 });
    expect((await pb.findCustomerByIdentity('WX', 'o-person'))?.id).toBe(fresh);
  }, 60_000);

  it('refuses forged, unsigned and oversized entries (counted, not blocking later ones)', async () => {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    const file = await sqliteFile('mac', []);
    const registry = new Registry();
    const writer = log(prefix, file.path);
    const reader = log(prefix, file.path, { registry, maxEntryBytes: 4096 });
    const redis = connect();
    await writer.erasureLog.record(['c-first']);
    // Someone with cluster write access but no KEK: an old-format entry, a forged MAC, a copied MAC on other ids.
    await redis.xadd(writer.erasureLog.key, '*', 'ids', 'c-victim-1', 'at', new Date().toISOString());
    await redis.xadd(
      writer.erasureLog.key,
      '*',
      'v',
      '2',
      'ids',
      'c-victim-2',
      'idh',
      '',
      'at',
      new Date().toISOString(),
      'mac',
      'ab'.repeat(32),
    );
    const [first] = (await redis.xrange(writer.erasureLog.key, '-', '+', 'COUNT', 1)) as [string, string[]][];
    const copied = [...first![1]];
    copied[copied.indexOf('ids') + 1] = 'c-victim-3';
    await redis.xadd(writer.erasureLog.key, '*', ...(copied as [string, string]));
    // A huge entry (1 MB of ids): measured in Redis, never read whole.
    await redis.xadd(writer.erasureLog.key, '*', 'v', '2', 'ids', 'c-x,'.repeat(250_000), 'idh', '', 'at', '', 'mac', '00');
    await writer.erasureLog.record(['c-last-1', 'c-last-2']);

    const done = await reader.erasureLog.catchUp();
    expect(done).toEqual({ entries: 2, customers: 3, rejected: 4 });
    expect(reader.applied).toEqual([['c-first'], ['c-last-1', 'c-last-2']]);
    expect(reader.rejected.map(([, r]) => r)).toEqual([
      'ERASURE_ENTRY_UNVERIFIED',
      'ERASURE_ENTRY_UNVERIFIED',
      'ERASURE_ENTRY_UNVERIFIED',
      'ERASURE_ENTRY_TOO_LARGE',
    ]);
    const metric = await registry.getSingleMetricAsString('huiliu_erasure_log_rejected_total');
    expect(metric).toContain('huiliu_erasure_log_rejected_total{reason="ERASURE_ENTRY_UNVERIFIED"} 3');
    expect(metric).toContain('huiliu_erasure_log_rejected_total{reason="ERASURE_ENTRY_TOO_LARGE"} 1');
    // The cursor moved past them: the next run reads nothing.
    expect(await reader.erasureLog.catchUp()).toEqual({ entries: 0, customers: 0, rejected: 0 });

    // A big erasure is split into entries under the bound, each verified.
    const many = Array.from({ length: 600 }, (_, i) => `c-many-${i}`);
    await log(prefix, file.path, { maxEntryBytes: 4096 }).erasureLog.record(many);
    const big = log(prefix, file.path, { maxEntryBytes: 4096 });
    await big.erasureLog.catchUp();
    expect(big.applied.flat()).toEqual(many);
    expect(big.applied.length).toBeGreaterThan(1);
    expect(big.rejected).toEqual([]);
  }, 60_000);

  it('trims entries older than the retention; a node behind a trimmed entry fails with ERASURE_LOG_GAP unless overridden', async () => {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    // Entry ids are the Redis server's clock: a retention of 300 ms and a real wait stand for 180 days.
    const clock = Date.now;
    const approving = await sqliteFile('approving', []);
    const stopped = await sqliteFile('stopped', ['o-someone']);
    const fresh = await sqliteFile('fresh', []);
    const writer = log(prefix, approving.path, { now: clock, retentionMs: 300 });
    const redis = connect();
    await writer.erasureLog.record(['c-old']);
    // The stopped node applied the first entry, then stopped.
    const down = log(prefix, stopped.path, { now: clock });
    await down.erasureLog.catchUp();
    await writer.erasureLog.record(['c-missed']);
    // The approving node applies both (it was running: its cursor is the newest entry when they are trimmed).
    expect(await writer.erasureLog.catchUp()).toMatchObject({ entries: 2 });
    // Past the retention, the next erasure trims both older entries.
    await new Promise((r) => setTimeout(r, 400));
    await writer.erasureLog.record(['c-new']);
    expect(await redis.xlen(writer.erasureLog.key)).toBe(1);

    const back = log(prefix, stopped.path, { now: clock });
    const error = await back.erasureLog.catchUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErasureLogGapError);
    expect((error as ErasureLogGapError).code).toBe('ERASURE_LOG_GAP');
    // The entry after the gap is an erasure all the same: applied, but the file's cursor stays before the gap.
    expect(back.applied).toEqual([['c-new']]);
    // Still refused at the next start (nothing moved).
    await expect(log(prefix, stopped.path, { now: clock }).erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });

    // A node that missed nothing (its cursor is the newest trimmed entry) is not behind a gap.
    expect(await writer.erasureLog.catchUp()).toMatchObject({ entries: 1 });
    // A node with no customers in its file (added later) has nothing to miss: it starts.
    const added = log(prefix, fresh.path, { now: clock });
    expect(await added.erasureLog.catchUp()).toMatchObject({ entries: 1 });

    // The operator override: the gap is reported and passed, the entries still there applied.
    const gaps: unknown[] = [];
    const overridden = log(prefix, stopped.path, { now: clock, acceptGap: true, onGap: (g) => gaps.push(g) });
    expect(await overridden.erasureLog.catchUp()).toMatchObject({ entries: 1 });
    expect(overridden.applied).toEqual([['c-new']]);
    expect(gaps).toHaveLength(1);
    // Once past the gap, the node starts without the override.
    expect(await log(prefix, stopped.path, { now: clock }).erasureLog.catchUp()).toMatchObject({ entries: 0 });
  }, 60_000);
});

/** Review (rev-erasure): the gap check's edge cases — a log cut without Redis counting it, and the override's persistence. */
describe('the cluster erasure log, gap edge cases', () => {
  /** A node (a file with a customer) that applied the first entry, then stopped; the approving node recorded a second one. */
  async function behind(name: string) {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    const approving = await sqliteFile(`${name}-approving`, []);
    const stopped = await sqliteFile(`${name}-stopped`, ['o-someone']);
    const writer = log(prefix, approving.path);
    await writer.erasureLog.record(['c-applied']);
    expect(await log(prefix, stopped.path).erasureLog.catchUp()).toMatchObject({ entries: 1 });
    await writer.erasureLog.record(['c-missed']);
    return { prefix, writer, stopped, redis: connect() };
  }

  it('a node whose cursor is behind a deleted log (DEL, FLUSHALL, a master lost) fails with ERASURE_LOG_GAP, before and after the log is recreated', async () => {
    const { prefix, writer, stopped, redis } = await behind('deleted');
    await redis.del(writer.erasureLog.key);
    const down = log(prefix, stopped.path);
    await expect(down.erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP', details: { lastDeleted: 'unknown' } });
    // The next erasure recreates the log: still a gap (the missed entry is gone).
    await writer.erasureLog.record(['c-after']);
    await expect(log(prefix, stopped.path).erasureLog.catchUp()).rejects.toBeInstanceOf(ErasureLogGapError);
    expect(down.applied).toEqual([]);
    // The override applies the recreated log from its start, once.
    const over = log(prefix, stopped.path, { acceptGap: true });
    expect(await over.erasureLog.catchUp()).toMatchObject({ entries: 1 });
    expect(over.applied).toEqual([['c-after']]);
    expect(await log(prefix, stopped.path).erasureLog.catchUp()).toMatchObject({ entries: 0 });
  }, 60_000);

  it('a recreated log whose ids are below the cursor (clock skew) is a gap, and its entries are applied under the override', async () => {
    const { prefix, writer, stopped, redis } = await behind('skew');
    const [, second] = (await redis.xrange(writer.erasureLog.key, '-', '+')) as [string, string[]][];
    await redis.del(writer.erasureLog.key);
    // A validly MACed entry (the missed one, re-recorded by a master whose clock is behind) under a low id.
    await redis.xadd(writer.erasureLog.key, '1-1', ...(second![1] as [string, string]));
    await expect(log(prefix, stopped.path).erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
    const over = log(prefix, stopped.path, { acceptGap: true });
    await over.erasureLog.catchUp();
    expect(over.applied).toEqual([['c-missed']]);
  }, 60_000);

  it('a log trimmed by hand past the cursor (XTRIM does not record the deleted id in Redis 7.0) is a gap', async () => {
    const { prefix, writer, stopped, redis } = await behind('xtrim');
    await redis.xtrim(writer.erasureLog.key, 'MAXLEN', 0);
    await writer.erasureLog.record(['c-after']);
    await expect(log(prefix, stopped.path).erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
  }, 60_000);

  it('the override is needed once: the cursor moves past the gap even when no entry follows it', async () => {
    const { prefix, writer, stopped, redis } = await behind('once');
    const [, second] = (await redis.xrange(writer.erasureLog.key, '-', '+')) as [string, string[]][];
    await redis.xdel(writer.erasureLog.key, second![0]);
    await expect(log(prefix, stopped.path).erasureLog.catchUp()).rejects.toMatchObject({
      code: 'ERASURE_LOG_GAP',
      details: { lastDeleted: second![0] },
    });
    const gaps: unknown[] = [];
    expect(await log(prefix, stopped.path, { acceptGap: true, onGap: (g) => gaps.push(g) }).erasureLog.catchUp()).toMatchObject({
      entries: 0,
    });
    expect(gaps).toHaveLength(1);
    // Docs: "once the node's cursor is past the gap later starts need no override".
    expect(await log(prefix, stopped.path).erasureLog.catchUp()).toMatchObject({ entries: 0 });
  }, 60_000);

  it('a running node a gap reaches keeps applying later erasures (each once) and still reports the gap at each run and start', async () => {
    const { prefix, writer, stopped, redis } = await behind('running');
    const node = log(prefix, stopped.path);
    const [, second] = (await redis.xrange(writer.erasureLog.key, '-', '+')) as [string, string[]][];
    await redis.xdel(writer.erasureLog.key, second![0]);
    await writer.erasureLog.record(['c-next']);
    await expect(node.erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
    expect(node.applied).toEqual([['c-next']]);
    await writer.erasureLog.record(['c-later']);
    await expect(node.erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
    expect(node.applied).toEqual([['c-next'], ['c-later']]);
    await expect(log(prefix, stopped.path).erasureLog.catchUp()).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
  }, 60_000);

  it('cursor equal to the first entry, an empty log and a missing log before any erasure are no gap', async () => {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    const file = await sqliteFile('edge', ['o-edge']);
    // No log yet, no cursor, customers in the file: a fresh deployment.
    expect(await log(prefix, file.path).erasureLog.catchUp()).toEqual({ entries: 0, customers: 0, rejected: 0 });
    const writer = log(prefix, (await sqliteFile('edge-w', [])).path);
    await writer.erasureLog.record(['c-1']);
    expect(await log(prefix, file.path).erasureLog.catchUp()).toMatchObject({ entries: 1 });
    // Cursor = first (and only) entry.
    expect(await log(prefix, file.path).erasureLog.catchUp()).toMatchObject({ entries: 0 });
    // That entry deleted (XDEL counts it): the log is empty, max-deleted = the cursor: no gap.
    const [only] = (await connect().xrange(writer.erasureLog.key, '-', '+')) as [string, string[]][];
    await connect().xdel(writer.erasureLog.key, only![0]);
    expect(await log(prefix, file.path).erasureLog.catchUp()).toMatchObject({ entries: 0 });
  }, 60_000);
});

/** Review (rev-erasure): an erasure approved elsewhere while a node copies its file (after its catch-up). */
describe('the cluster erasure log and a copy running concurrently', () => {
  it('an erasure approved after the catch-up but before the copy claims the person is not undone by the copy', async () => {
    const prefix = `el-${randomUUID().slice(0, 8)}`;
    const a = await sqliteFile('race-a', ['o-race']);
    const b = await sqliteFile('race-b', ['o-race', 'o-race-other']);
    const s = a.customerOf.get('o-race')!;
    const s2 = b.customerOf.get('o-race')!;
    const pa = await port(prefix);
    await copyCustomersToPort({ path: a.path, keys, port: pa, wide: a.wide });
    // B starts: its catch-up finds nothing yet …
    const onB = log(prefix, b.path);
    expect(await onB.erasureLog.catchUp()).toMatchObject({ entries: 0 });
    // … then S is erased on A (as main.ts's sharedErasure: recorded, then released) while B's copy starts.
    const onA = log(prefix, a.path);
    await onA.erasureLog.record([s], await pa.identityFields([s]));
    await pa.eraseCustomers([s]);
    const pb = await port(prefix);
    const privacyB = createSqlitePrivacyStore({ path: b.path, keys });
    const report = await copyCustomersToPort({
      path: b.path,
      keys,
      port: pb,
      wide: b.wide,
      shredErased: async (ids) => {
        await privacyB.shred(ids);
      },
      refreshErased: () => onB.erasureLog.catchUp(),
    });
    // The erased person is not on the port under S' (nor is S' findable), and B's copy of them is shredded.
    expect(await pb.findCustomerByIdentity('WX', 'o-race')).toBeNull();
    await expect(pb.getCustomer(s2)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    expect(keyRow(b.path, s2)).toBeNull();
    expect(report).toMatchObject({ copied: 1, erasedByLog: 1 });
    expect((await pb.findCustomerByIdentity('WX', 'o-race-other'))?.id).toBe(b.customerOf.get('o-race-other'));
  }, 60_000);
});

/** Review (rev-erasure): attempts that held — kept as regression tests. */
describe('the cluster erasure log, replay across deployments', () => {
  it('refuses a genuine entry copied into another prefix’s log (MAC bound to the log key and its own index key)', async () => {
    const prefixA = `el-${randomUUID().slice(0, 8)}`;
    const prefixB = `el-${randomUUID().slice(0, 8)}`;
    const file = await sqliteFile('replay', []);
    const a = log(prefixA, file.path);
    await a.erasureLog.record(['c-replayed'], [`WX:${'a'.repeat(64)}`]);
    const redis = connect();
    const [entry] = (await redis.xrange(a.erasureLog.key, '-', '+')) as [string, string[]][];
    const b = log(prefixB, file.path);
    // B's index key exists (its port made it), then the entry is replayed into B's log verbatim.
    await b.erasureLog.record(['c-b-own']);
    await redis.xadd(b.erasureLog.key, '*', ...(entry![1] as [string, string]));
    const reader = log(prefixB, file.path);
    expect(await reader.erasureLog.catchUp()).toMatchObject({ entries: 1, rejected: 1 });
    expect(reader.applied).toEqual([['c-b-own']]);
    expect(reader.rejected.map(([, r]) => r)).toEqual(['ERASURE_ENTRY_UNVERIFIED']);
  }, 60_000);
});
