import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelIdentity, InboundDraft } from '../../common/message/envelope';
import { createMemoryBroker } from '../src/bus/bus.memory';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer, type RunningServer } from '../src/main';
import { useRedisCluster, type RedisClusterHandle } from './support/redis-cluster';
import { until } from './support/until';

/**
 * HUILIU_STORE=redis (issue 14): customers and identities on the Redis customers port, shared by every
 * node. Two server nodes in one process, each with its OWN SQLite file (own data directory), on one
 * real 6-node Redis Cluster and one bus: the same channel identity writing to both — one after the
 * other, or first messages at both at once — is one customer on both; a link verified on one node is
 * found from the other; contact details given on one are the other's; an erasure approved on one node
 * erases the customer's lookups on the port, so the identity writing again is a new customer on both.
 * The nodes share the KEK (one key file copied, as a deployment shares its key file or HSM).
 */
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await useRedisCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

/** What a channel adapter hands the inbound path for one text message. */
let n = 0;
const draft = (identity: ChannelIdentity, text = 'hello'): InboundDraft => {
  const t = new Date().toISOString();
  return {
    identity,
    content: { kind: 'text', body: { text } },
    critical: true,
    clientMessageId: `cn-${++n}`,
    sentAt: t,
    receivedAt: t,
    meta: {},
  };
};

describe('HUILIU_STORE=redis: customers shared by two nodes with separate SQLite files', () => {
  const broker = createMemoryBroker();
  const prefix = `cn-${randomUUID().slice(0, 8)}`;
  const dirs: string[] = [];
  const nodes: RunningServer[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `huiliu-cust-node${i}-`));
      dirs.push(dataDir);
      // One KEK for both nodes: the second node starts with a copy of the first node's key file.
      if (i === 1) cpSync(join(dirs[0]!, 'keys'), join(dataDir, 'keys'), { recursive: true });
      const config = loadConfig({
        env: {
          HUILIU_DATA_DIR: dataDir,
          HUILIU_PORT: '0',
          HUILIU_LOG_LEVEL: 'silent',
          HUILIU_STORE: 'redis',
          HUILIU_REDIS_NODES: cluster.nodes,
          HUILIU_REDIS_PREFIX: prefix,
          HUILIU_KEYS: 'local',
        },
        argv: ['--demo'],
        cwd: process.cwd(),
      });
      nodes.push(await startServer(config, createLogger({ level: 'silent' }), { bus: broker.node() }));
    }
  }, 120_000);
  afterAll(async () => {
    for (const node of nodes) await node.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The customer ids each node's own SQLite file records (customer_identities rows naming them). */
  const sqliteRows = (node: RunningServer, customerId: string) => {
    const db = new Database(node.config.paths.db, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM customer_identities WHERE customer_id = ?').get(customerId) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  /** The customer's wrapped data key in the node's own SQLite file, or null once it was destroyed. */
  const dataKeyOf = (node: Pick<RunningServer, 'config'>, customerId: string): Buffer | null => {
    const db = new Database(node.config.paths.db, { readonly: true });
    try {
      const row = db.prepare('SELECT wrapped FROM data_keys WHERE owner = ?').get(`customer:${customerId}`) as
        { wrapped: Buffer } | undefined;
      return row?.wrapped ?? null;
    } finally {
      db.close();
    }
  };
  const factsRows = (node: RunningServer, customerId: string) => {
    const db = new Database(node.config.paths.db, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM customer_facts WHERE customer_id = ?').get(customerId) as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const cursorOf = (node: RunningServer) => {
    const db = new Database(node.config.paths.db, { readonly: true });
    try {
      return db.prepare('SELECT entry_id, applied FROM privacy_erasure_cursor').get() as { entry_id: string; applied: number };
    } finally {
      db.close();
    }
  };

  it('gives one WeChat or web identity ONE customer on both nodes, one after the other and concurrently', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    expect(a.config.paths.db).not.toBe(b.config.paths.db);
    expect(a.services.store.kind).toBe('redis');

    // One after the other: A's first message creates the customer, B's first message finds it.
    const first = await a.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-cust-nodes-seq' }), 'general');
    const second = await b.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-cust-nodes-seq' }), 'general');
    expect(second.session.customerId).toBe(first.session.customerId);
    expect(second.envelope.customerId).toBe(first.session.customerId);
    // Each node's own SQLite file records the identity under that one id.
    expect(sqliteRows(a, first.session.customerId)).toBe(1);
    expect(sqliteRows(b, first.session.customerId)).toBe(1);

    // First messages of new identities arriving at both nodes at the same moment (WeChat and web).
    const identities: ChannelIdentity[] = Array.from({ length: 12 }, (_, i) =>
      i % 2 ? { channel: 'WX', externalId: `o-cust-race-${i}` } : { channel: 'WB', externalId: `v-cust-race-${i}` },
    );
    const results = await Promise.all(
      identities.map((identity) =>
        Promise.all([a.services.ingest.accept(draft(identity), 'general'), b.services.ingest.accept(draft(identity), 'general')]),
      ),
    );
    const ids = new Set<string>();
    for (const [onA, onB] of results) {
      expect(onB.session.customerId).toBe(onA.session.customerId);
      ids.add(onA.session.customerId);
    }
    expect(ids.size).toBe(identities.length);
    // Both nodes read every one of them back as the same customer, through the port.
    for (const [i, identity] of identities.entries()) {
      const id = results[i]![0].session.customerId;
      expect((await a.services.store.findCustomerByIdentity(identity.channel, identity.externalId))!.id).toBe(id);
      expect((await b.services.store.findCustomerByIdentity(identity.channel, identity.externalId))!.id).toBe(id);
      expect(sqliteRows(a, id)).toBe(1);
      expect(sqliteRows(b, id)).toBe(1);
    }
  }, 60_000);

  it('finds from node B a link verified on node A, and shares contact details given on either node', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const { session } = await a.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-cust-link' }), 'general');
    const customerId = session.customerId;
    // An agent on node A verified the customer's phone.
    const linked = await a.services.store.linkIdentity(customerId, { kind: 'phone', value: '+86 139 0000 1111' }, 'agent:u-agent1');
    expect(linked).toMatchObject({ customerId, kind: 'phone', value: '+8613900001111' });
    expect((await b.services.store.findCustomerByLink('phone', '+8613900001111'))!.id).toBe(customerId);
    expect((await b.services.store.customerIdentities(customerId)).links.map((l) => l.value)).toEqual(['+8613900001111']);
    // Another customer (first seen on node B) cannot take it there either: the conflict names the holder.
    const { session: other } = await b.services.ingest.accept(draft({ channel: 'WB', externalId: 'v-cust-link-other' }), 'general');
    await expect(
      b.services.store.linkIdentity(other.customerId, { kind: 'phone', value: '+86 139-0000-1111' }, 'agent:u-agent2'),
    ).rejects.toMatchObject({ code: 'LINK_CONFLICT', details: { customerId } });

    // The customer gives a name on node B (a message carrying it): node A shows it, with the change kept.
    await b.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-cust-link', displayName: 'Chen Jie' }), 'general');
    expect((await a.services.store.getCustomer(customerId))!.name).toBe('Chen Jie');
    expect((await a.services.store.profileChanges(customerId)).map((c) => [c.field, c.value])).toEqual([['name', 'Chen Jie']]);
    // Typed into the web pre-chat form on node A: one web customer, found from node B.
    const saved = await a.services.store.saveContactDetails(
      { channel: 'WB', externalId: 'v-cust-prechat', displayName: 'Liu Yang', links: [{ kind: 'email', value: 'liu.yang@example.com' }] },
      'WB',
    );
    expect(saved.created).toBe(true);
    const found = await b.services.store.findCustomerByLink('email', 'Liu.Yang@example.com');
    expect(found).toMatchObject({ id: saved.customerId, name: 'Liu Yang', channels: ['WB'] });
    const { session: web } = await b.services.ingest.accept(draft({ channel: 'WB', externalId: 'v-cust-prechat' }), 'general');
    expect(web.customerId).toBe(saved.customerId);
  }, 60_000);

  it('keeps merges in the node’s SQLite: a merged customer reads its group’s identities and links from the port', async () => {
    const [a] = nodes as [RunningServer, RunningServer];
    const { session: x } = await a.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-cust-merge-x' }), 'general');
    const { session: y } = await a.services.ingest.accept(draft({ channel: 'WB', externalId: 'v-cust-merge-y' }), 'general');
    await a.services.store.linkIdentity(x.customerId, { kind: 'email', value: 'merge.x@example.com' }, 'agent:u-agent1');
    await a.services.store.mergeCustomers({ survivorId: x.customerId, mergedId: y.customerId, by: 'u-agent1', reason: 'agent' });
    expect(await a.services.store.getCustomer(y.customerId)).toMatchObject({
      id: y.customerId,
      groupId: x.customerId,
      mergedInto: x.customerId,
    });
    // The group already holds the link (through x): nothing changes, as in embedded mode.
    expect(
      await a.services.store.linkIdentity(y.customerId, { kind: 'email', value: 'MERGE.X@example.com' }, 'agent:u-agent1'),
    ).toMatchObject({
      customerId: x.customerId,
      value: 'merge.x@example.com',
    });
    const { identities, links } = await a.services.store.customerIdentities(y.customerId);
    expect(identities.map((i) => i.externalId).sort()).toEqual(['o-cust-merge-x', 'v-cust-merge-y']);
    expect(links.map((l) => [l.customerId, l.value])).toEqual([[x.customerId, 'merge.x@example.com']]);
  }, 60_000);

  it('erases on the port: after an erasure approved on node A the identity is a new customer on both nodes', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const identity: ChannelIdentity = { channel: 'WX', externalId: 'o-cust-erase' };
    const { session } = await b.services.ingest.accept(draft(identity), 'general');
    await a.services.ingest.accept(draft(identity), 'general');
    const customerId = session.customerId;
    const admin = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
    const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };
    const request = await a.services.privacy.requestErasure(admin, { customerId, reason: 'GDPR Art. 17 test' });
    expect((await a.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');
    // Erased on the port before `approve` resolved: neither node finds the customer by the identity,
    // and the approving node cannot open them; node B drops its cached key on `customer.erased`.
    expect(await a.services.store.findCustomerByIdentity('WX', 'o-cust-erase')).toBeNull();
    expect(await b.services.store.findCustomerByIdentity('WX', 'o-cust-erase')).toBeNull();
    await expect(a.services.store.getCustomer(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    await until(
      () =>
        b.services.store.getCustomer(customerId).then(
          () => false,
          (error: { code?: string }) => error.code === 'CUSTOMER_ERASED',
        ),
      10_000,
    );

    // Node B (running) shredded its own file too, from the cluster's erasure log on `customer.erased`.
    await until(() => dataKeyOf(b, customerId) === null, 10_000);

    // The same identity writing again (node B, whose SQLite mapped it to the erased customer) is a
    // new customer, and node A agrees.
    const again = await b.services.ingest.accept(draft(identity), 'general');
    expect(again.session.customerId).not.toBe(customerId);
    const onA = await a.services.ingest.accept(draft(identity), 'general');
    expect(onA.session.customerId).toBe(again.session.customerId);
    expect(sqliteRows(b, customerId)).toBe(0);
    expect(sqliteRows(b, again.session.customerId)).toBe(1);
  }, 60_000);

  it('applies an erasure approved while node B was stopped to B’s SQLite at B’s next start', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const identity: ChannelIdentity = { channel: 'WX', externalId: 'o-cust-erase-offline' };
    const { session } = await b.services.ingest.accept(draft(identity, 'B knew them first'), 'general');
    await a.services.ingest.accept(draft(identity), 'general');
    const customerId = session.customerId;
    await b.services.store.putCustomerFacts([{ customerId, spend: 1234, source: 'import' }]);
    // B's own file holds the customer: their data key (wrapped: the marker looked for below), identity, facts.
    const wrapped = dataKeyOf(b, customerId);
    expect(wrapped).not.toBeNull();
    expect(sqliteRows(b, customerId)).toBe(1);
    const bConfig = b.config;
    await b.close();

    const admin = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
    const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };
    const request = await a.services.privacy.requestErasure(admin, { customerId, reason: 'GDPR Art. 17, B down' });
    expect((await a.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');
    // B was down: its file still has everything (the customer.erased event went to nobody there).
    expect(dataKeyOf({ config: bConfig }, customerId)).not.toBeNull();

    const restarted = await startServer(bConfig, createLogger({ level: 'silent' }), { bus: broker.node() });
    nodes[1] = restarted;
    // Applied at start, before B answered anything: key, identity and facts gone from B's own file.
    expect(dataKeyOf(restarted, customerId)).toBeNull();
    expect(sqliteRows(restarted, customerId)).toBe(0);
    expect(factsRows(restarted, customerId)).toBe(0);
    // B's API answers as for an erased customer: the session B served is 410 CUSTOMER_ERASED.
    const login = await restarted.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'huiliu-demo' },
    });
    const token = (login.json() as { token: string }).token;
    const read = await restarted.app.inject({ url: `/api/v1/sessions/${session.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(read.statusCode).toBe(410);
    expect(read.json()).toMatchObject({ error: { code: 'CUSTOMER_ERASED' } });
    await expect(restarted.services.store.getCustomer(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    // The wrapped key is in none of B's files any more (the rows are overwritten, not just unlinked).
    await restarted.close();
    const dir = dirname(bConfig.paths.db);
    for (const file of readdirSync(dir).filter((f) => f.startsWith(basename(bConfig.paths.db)))) {
      const bytes = readFileSync(join(dir, file));
      expect({ file, found: bytes.includes(wrapped!) }).toEqual({ file, found: false });
    }
    nodes[1] = await startServer(bConfig, createLogger({ level: 'silent' }), { bus: broker.node() });
    // Applied once: the cursor moved past the entry (a second start applies nothing new).
    expect(cursorOf(nodes[1]).applied).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('does not start node B while the erasure log cannot be applied (it would serve an erased customer from its file)', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const identity: ChannelIdentity = { channel: 'WX', externalId: 'o-cust-erase-unreadable-log' };
    const { session } = await b.services.ingest.accept(draft(identity, 'B knew them'), 'general');
    const customerId = session.customerId;
    await b.services.store.putCustomerFacts([{ customerId, spend: 99, source: 'import' }]);
    const bConfig = b.config;
    await b.close();
    const admin = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
    const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };
    const request = await a.services.privacy.requestErasure(admin, { customerId, reason: 'GDPR Art. 17, log unreadable' });
    expect((await a.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');

    // The log unreadable for B's start (a wrong type at its key: XRANGE fails as a cluster error would).
    const redis = new Cluster(cluster.seeds);
    const key = `${prefix}:privacy:erased`;
    const saved = await redis.dumpBuffer(key);
    expect(saved).not.toBeNull();
    try {
      await redis.del(key);
      await redis.set(key, 'not a stream');
      // Before: B started, logged the failure, and served the customer's facts and key from its file.
      let started: RunningServer | null = null;
      try {
        started = await startServer(bConfig, createLogger({ level: 'silent' }), { bus: broker.node() });
      } catch (error) {
        expect(String(error)).toMatch(/WRONGTYPE/);
      }
      if (started) {
        nodes[1] = started;
        expect({ started: true, key: dataKeyOf(started, customerId) !== null }).toEqual({ started: false, key: false });
      }
      expect(dataKeyOf({ config: bConfig }, customerId)).not.toBeNull();
    } finally {
      await redis.del(key);
      await redis.restore(key, 0, saved!);
      redis.disconnect();
    }
    // The log readable again: B starts and applies the erasure before it takes anything.
    nodes[1] = await startServer(bConfig, createLogger({ level: 'silent' }), { bus: broker.node() });
    expect(dataKeyOf(nodes[1], customerId)).toBeNull();
    expect(factsRows(nodes[1], customerId)).toBe(0);
  }, 90_000);
});

describe('HUILIU_STORE=redis: a deployment switching from SQLite to redis mode', () => {
  const broker = createMemoryBroker();
  const prefix = `sw-${randomUUID().slice(0, 8)}`;
  const dirs: string[] = [];
  const running: RunningServer[] = [];
  afterAll(async () => {
    for (const node of running) await node.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const start = async (dataDir: string, store: 'sqlite' | 'redis', env: Record<string, string> = {}) => {
    const config = loadConfig({
      env: {
        HUILIU_DATA_DIR: dataDir,
        HUILIU_PORT: '0',
        HUILIU_LOG_LEVEL: 'silent',
        HUILIU_STORE: store,
        ...(store === 'redis' ? { HUILIU_REDIS_NODES: cluster.nodes, HUILIU_REDIS_PREFIX: prefix } : {}),
        HUILIU_KEYS: 'local',
        ...env,
      },
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    const node = await startServer(config, createLogger({ level: 'silent' }), { bus: broker.node() });
    running.push(node);
    return node;
  };
  const stop = async (node: RunningServer) => {
    running.splice(running.indexOf(node), 1);
    await node.close();
  };

  it('keeps customers made in each node’s SQLite before the switch: a returning customer is the same customer on every node', async () => {
    for (let i = 0; i < 2; i++) dirs.push(mkdtempSync(join(tmpdir(), `huiliu-switch-node${i}-`)));
    const [dirA, dirB] = dirs as [string, string];
    // Embedded mode: node A and node B, each with its own file (the KEK shared).
    const sqliteA = await start(dirA, 'sqlite');
    cpSync(join(dirA, 'keys'), join(dirB, 'keys'), { recursive: true });
    const returning = await sqliteA.services.ingest.accept(
      draft({ channel: 'WX', externalId: 'o-switch-returning', displayName: 'Qian Wei' }),
      'general',
    );
    const bothOnA = await sqliteA.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-switch-both' }), 'general');
    await sqliteA.services.store.linkIdentity(
      returning.session.customerId,
      { kind: 'email', value: 'qian.wei@example.com' },
      'agent:u-agent1',
    );
    await stop(sqliteA);
    const sqliteB = await start(dirB, 'sqlite');
    const bothOnB = await sqliteB.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-switch-both' }), 'general');
    const onlyB = await sqliteB.services.ingest.accept(draft({ channel: 'WB', externalId: 'v-switch-b-only' }), 'general');
    expect(bothOnB.session.customerId).not.toBe(bothOnA.session.customerId);
    await stop(sqliteB);

    // The switch: A starts in redis mode first, then B (each copies its file at start).
    const a = await start(dirA, 'redis');
    const b = await start(dirB, 'redis');
    // A returning customer keeps their id, name and link, whichever node they reach.
    const back = await a.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-switch-returning' }), 'general');
    expect(back.session.customerId).toBe(returning.session.customerId);
    const onB = await b.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-switch-returning' }), 'general');
    expect(onB.session.customerId).toBe(returning.session.customerId);
    expect(await b.services.store.getCustomer(returning.session.customerId)).toMatchObject({ name: 'Qian Wei' });
    expect((await b.services.store.findCustomerByLink('email', 'qian.wei@example.com'))?.id).toBe(returning.session.customerId);
    // B's customer of B's file is the same customer on A.
    expect((await a.services.ingest.accept(draft({ channel: 'WB', externalId: 'v-switch-b-only' }), 'general')).session.customerId).toBe(
      onlyB.session.customerId,
    );
    // Both files knew `o-switch-both` under two ids: the cluster kept A's (copied first); B records it
    // for A's customer and merged its own into them, so B's old history reads as that person's.
    const bothAgain = await b.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-switch-both' }), 'general');
    expect(bothAgain.session.customerId).toBe(bothOnA.session.customerId);
    expect(await b.services.store.customerGroup(bothOnA.session.customerId)).toEqual(
      expect.arrayContaining([bothOnA.session.customerId, bothOnB.session.customerId]),
    );
    expect(await b.services.store.getCustomer(bothOnB.session.customerId)).toMatchObject({ groupId: bothOnA.session.customerId });
  }, 120_000);
});

describe('HUILIU_STORE=redis: the erasure log across a switch (rev3)', () => {
  const broker = createMemoryBroker();
  const prefix = `ew-${randomUUID().slice(0, 8)}`;
  const dirs: string[] = [];
  const running: RunningServer[] = [];
  afterAll(async () => {
    for (const node of running) await node.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const start = async (dataDir: string, store: 'sqlite' | 'redis', env: Record<string, string> = {}) => {
    const config = loadConfig({
      env: {
        HUILIU_DATA_DIR: dataDir,
        HUILIU_PORT: '0',
        HUILIU_LOG_LEVEL: 'silent',
        HUILIU_STORE: store,
        ...(store === 'redis' ? { HUILIU_REDIS_NODES: cluster.nodes, HUILIU_REDIS_PREFIX: prefix } : {}),
        HUILIU_KEYS: 'local',
        ...env,
      },
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    const node = await startServer(config, createLogger({ level: 'silent' }), { bus: broker.node() });
    running.push(node);
    return node;
  };
  const stop = async (node: RunningServer) => {
    running.splice(running.indexOf(node), 1);
    await node.close();
  };

  it('does not undo an erasure with another node’s copy of the same person; refuses a start behind a deleted log entry (ERASURE_LOG_GAP)', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'huiliu-erased-nodeA-'));
    const dirB = mkdtempSync(join(tmpdir(), 'huiliu-erased-nodeB-'));
    dirs.push(dirA, dirB);
    const person = { channel: 'WX' as const, externalId: 'o-erased-twice', displayName: 'Sun Li' };
    // Embedded mode: both files know the person, under two ids (S on A, S' on B).
    const sqliteA = await start(dirA, 'sqlite');
    cpSync(join(dirA, 'keys'), join(dirB, 'keys'), { recursive: true });
    const s = (await sqliteA.services.ingest.accept(draft(person), 'general')).session.customerId;
    await stop(sqliteA);
    const sqliteB = await start(dirB, 'sqlite');
    const s2 = (await sqliteB.services.ingest.accept(draft(person), 'general')).session.customerId;
    await stop(sqliteB);
    expect(s2).not.toBe(s);
    const keyRow = (dataDir: string, customerId: string) => {
      const db = new Database(join(dataDir, 'huiliu.db'), { readonly: true });
      try {
        return db.prepare('SELECT 1 AS x FROM data_keys WHERE owner = ?').get(`customer:${customerId}`) ?? null;
      } finally {
        db.close();
      }
    };
    const admin = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
    const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };

    // A switches first (its copy gives S the identity); S is erased on A while B is still down.
    const a = await start(dirA, 'redis');
    expect((await a.services.store.findCustomerByIdentity('WX', person.externalId))?.id).toBe(s);
    const request = await a.services.privacy.requestErasure(admin, { customerId: s, reason: 'GDPR Art. 17, B not switched yet' });
    expect((await a.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');
    expect(await a.services.store.findCustomerByIdentity('WX', person.externalId)).toBeNull();

    // B switches: the entry names S (unknown to B) and the identity's blind hash; B's copy of S' is
    // skipped and shredded. Before: S' claimed the freed identity — the erased person back on the port.
    const b = await start(dirB, 'redis');
    expect(await b.services.store.findCustomerByIdentity('WX', person.externalId)).toBeNull();
    expect(await a.services.store.findCustomerByIdentity('WX', person.externalId)).toBeNull();
    expect(keyRow(dirB, s2)).toBeNull();
    // No plaintext of the person in the log.
    const redis = new Cluster(cluster.seeds);
    const key = `${prefix}:privacy:erased`;
    try {
      expect(JSON.stringify(await redis.xrange(key, '-', '+'))).not.toMatch(/o-erased-twice|Sun Li/);

      // B down; an erasure approved on A; its entry deleted from the log (by hand, or trimmed): B must
      // not start past it silently.
      await stop(b);
      const other = (await a.services.ingest.accept(draft({ channel: 'WX', externalId: 'o-erased-b-down' }), 'general')).session.customerId;
      const second = await a.services.privacy.requestErasure(admin, { customerId: other, reason: 'GDPR Art. 17, B down' });
      expect((await a.services.privacy.approve('erasure', second.id, officer)).status).toBe('executed');
      const [last] = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
      await redis.xdel(key, last![0]);
    } finally {
      redis.disconnect();
    }
    await expect(start(dirB, 'redis')).rejects.toMatchObject({ code: 'ERASURE_LOG_GAP' });
    // The documented override: B starts (the operator dealt with its file).
    const overridden = await start(dirB, 'redis', { HUILIU_ERASURE_LOG_ACCEPT_GAP: '1' });
    expect(overridden.config.privacy.erasureLogAcceptGap).toBe(true);
  }, 150_000);
});
