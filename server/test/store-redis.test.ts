import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Cluster, Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagePageView, MessageView } from '../../common/api/sessions';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { useRedisCluster, type RedisClusterHandle } from './support/redis-cluster';
import { until } from './support/until';
import { openWidget, type WidgetClient } from './support/widget-client';
import { createRedisConversationStore, type RedisConversationStore } from '../src/sessions/conversations.redis';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import { createPkcs11KeyProvider } from '../src/keys/provider.pkcs11';
import type { KeyProvider } from '../src/keys/provider';
import { createPgSessionArchive } from '../src/sessions/archive.pg';
import type { SessionRecord } from '../src/sessions/store';
import { createRedisRoutingLog } from '../src/routing/decisions.redis';

/** The machine's PostgreSQL; each run gets a database of its own (audit log and archive start empty, keyed by this server's KEK). */
const PG_ADMIN_URL = process.env['HUILIU_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_DB = `huiliu_store_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const PG_URL = (() => {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${PG_DB}`;
  return u.toString();
})();
const textOf = (m: { kind: string; body: unknown }) => (m.kind === 'text' ? (m.body as { text: string }).text : '');

/** Every key of `prefix` on every live node (masters and replicas), with its values as one buffer. */
async function dumpValues(cluster: RedisClusterHandle, prefix: string): Promise<{ port: number; key: string; all: Buffer }[]> {
  const out: { port: number; key: string; all: Buffer }[] = [];
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
          if (type === 'string') parts.push((await node.getBuffer(key)) ?? Buffer.alloc(0));
          else if (type === 'hash') parts.push(...Object.entries(await node.hgetallBuffer(key)).flatMap(([f, v]) => [Buffer.from(f), v]));
          else if (type === 'list') parts.push(...(await node.lrangeBuffer(key, 0, -1)));
          else if (type === 'set') parts.push(...(await node.smembersBuffer(key)));
          else if (type === 'zset') parts.push(...(await node.zrangeBuffer(key, 0, -1)));
          // The erasure log (privacy/erasure-log.redis.ts): entry fields and values.
          else if (type === 'stream') parts.push(...(await node.xrangeBuffer(key, '-', '+')).flatMap(([, fields]) => fields));
          else if (type === 'none') continue;
          else throw new Error(`unexpected type ${type} of ${key}`);
          out.push({ port, key, all: Buffer.concat(parts) });
        }
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return out;
}

/**
 * HUILIU_STORE=redis (issue 14): the product's message path on a real 6-node Redis Cluster — a web
 * visitor's message is stored in the cluster (not in SQLite), the agent's socket sees it, the reply
 * goes out to the visitor, history reads it back from the cluster; no value on any node holds the
 * message text; after crypto-erasure the customer's content cannot be opened any more.
 */
/**
 * A second handle on the KEK the server uses (its key file, or its PKCS#11 token in the scale-out
 * lane), for the test's own reader of the cluster.
 */
function keysOf(server: TestServer): KeyProvider {
  const keys = server.config.keys;
  return keys.mode === 'pkcs11' ? createPkcs11KeyProvider(keys) : createLocalKeyProvider(join(server.dataDir, 'keys'));
}

describe('HUILIU_STORE=redis: the message path on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let server: TestServer;
  const prefix = `hs-${randomUUID().slice(0, 8)}`;
  const sockets: Socket[] = [];
  const widgets: WidgetClient[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${PG_DB}`);
    await admin.end();
    cluster = await useRedisCluster();
    server = await startTestServer({
      HUILIU_STORE: 'redis',
      HUILIU_REDIS_NODES: cluster.nodes,
      HUILIU_REDIS_PREFIX: prefix,
      HUILIU_PG_URL: PG_URL,
    });
  }, 120_000);
  afterAll(async () => {
    for (const w of widgets) w.ws.close();
    for (const s of sockets) s.disconnect();
    await server?.cleanup();
    await cluster?.stop();
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`);
    await admin.end();
  });

  it('stores a visitor message and the reply in the cluster, sealed, and serves them to agent and visitor', async () => {
    expect(server.services.store.kind).toBe('redis');
    const marker = `RWMARK-${randomUUID()}`;
    const reply = `REPLYMARK-${randomUUID()}`;

    const token = await server.login('agent1');
    const agent = await openAgentSocket(server, token);
    sockets.push(agent);
    const seen: MessageView[] = [];
    agent.on('message:new', (m: MessageView) => void seen.push(m));
    agent.on('offer:new', ({ sessionId }: { sessionId: string }) => void ack(agent, 'offer:accept', { sessionId }));

    const w = await openWidget(server);
    widgets.push(w);
    w.send({ type: 'hello' });
    await w.next('welcome');
    w.send({ type: 'message', clientMessageId: 'rw-first-0001', text: `hello ${marker}` });
    const first = await w.next('ack', (a) => a.clientMessageId === 'rw-first-0001');
    expect(first.seq).toBe(1);
    const sessionId = first.sessionId;
    // The same message again (the widget's outbox retrying) is the same stored message.
    w.send({ type: 'message', clientMessageId: 'rw-first-0001', text: `hello ${marker}` });
    expect((await w.next('ack', (a) => a.clientMessageId === 'rw-first-0001')).seq).toBe(1);

    // Offered to agent1 and accepted; a second customer message reaches the agent's socket.
    await until(async () => (await server.services.store.getSession(sessionId))?.status === 'active', 20_000);
    w.send({ type: 'message', clientMessageId: 'rw-second-001', text: `again ${marker}` });
    expect((await w.next('ack', (a) => a.clientMessageId === 'rw-second-001')).seq).toBe(2);
    await until(() => seen.some((m) => m.sessionId === sessionId && textOf(m) === `again ${marker}`), 20_000);

    // The reply goes out to the visitor.
    const sent = await ack<MessageView>(agent, 'message:send', { sessionId, clientMessageId: 'rw-reply-0001', text: reply });
    expect(sent.ok).toBe(true);
    const out = await w.next('message', (f) => f.message.text === reply);
    expect(out.message.seq).toBe(3);

    // History, as the workstation reads it: from the cluster, in seq order.
    const history = await server.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${sessionId}/messages`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(history.statusCode).toBe(200);
    const page = history.json() as MessagePageView;
    expect(page.messages.map((m) => [m.seq, textOf(m)])).toEqual([
      [1, `hello ${marker}`],
      [2, `again ${marker}`],
      [3, reply],
    ]);

    // The customer's cross-channel timeline (customer panel) reads the cluster too: newest first, paged.
    const customerId = (await server.services.store.getSession(sessionId))!.customerId;
    const timeline = await server.app.inject({
      method: 'GET',
      url: `/api/v1/customers/${customerId}/timeline?limit=2`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(timeline.statusCode).toBe(200);
    const newest = timeline.json() as { messages: MessageView[]; hasOlder: boolean };
    expect(newest.messages.map(textOf)).toEqual([reply, `again ${marker}`]);
    expect(newest.hasOlder).toBe(true);
    const older = await server.services.store.timeline(customerId, { before: newest.messages[1]!.id, limit: 10 });
    expect(older.messages.map(textOf)).toEqual([`hello ${marker}`]);
    expect(older.hasOlder).toBe(false);

    // Stored in the cluster, not in SQLite: the data file has the session but no message of it.
    const session = (await server.services.store.getSession(sessionId))!;
    const db = new Database(join(server.dataDir, 'huiliu.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM sessions WHERE id = ?').get(sessionId)).toEqual({ n: 1 });
      expect(db.prepare('SELECT count(*) AS n FROM messages WHERE conversation_id = ?').get(session.conversationId)).toEqual({ n: 0 });
    } finally {
      db.close();
    }

    // No plaintext: neither marker in any value of any key on any node (replicas included)...
    const values = await dumpValues(cluster, prefix);
    const lists = values.filter((v) => v.key.includes(`:m:${session.conversationId}`));
    expect(lists.length).toBe(2); // the message list on its master and its replica
    for (const needle of [marker, reply]) {
      expect(values.filter((v) => v.all.includes(Buffer.from(needle))).map((v) => `${v.port} ${v.key}`)).toEqual([]);
    }
    // ...while a plaintext write of the marker is found by the same search (the check has teeth).
    const control = new Cluster(cluster.seeds);
    try {
      await control.set(`${prefix}:control:{x}`, marker);
      await control.call('WAIT', 1, 1000);
      const hits = (await dumpValues(cluster, prefix)).filter((v) => v.all.includes(Buffer.from(marker)));
      expect(hits.map((v) => v.key)).toEqual([`${prefix}:control:{x}`, `${prefix}:control:{x}`]);
      await control.del(`${prefix}:control:{x}`);
    } finally {
      control.disconnect();
    }

    // Crypto-erasure (issue 14/17): approving the customer's erasure deletes their wrapped data key in
    // the cluster and every cached copy; their messages stay as ciphertext nobody can open.
    const keyName = `${prefix}:dk:{customer:${session.customerId}}`;
    const keyThere = async () => (await dumpValues(cluster, prefix)).filter((v) => v.key === keyName).length;
    expect(await keyThere()).toBe(2); // master and replica
    const agentActor = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
    const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };
    const request = await server.services.privacy.requestErasure(agentActor, {
      customerId: session.customerId,
      reason: 'GDPR Art. 17 test',
    });
    expect((await server.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');
    await until(async () => (await keyThere()) === 0, 10_000);
    await expect(server.services.store.listMessages(session.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    await expect(server.services.store.recentMessages(session.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    // The sealed records are still there (3 on master + replica): unreadable, not deleted.
    expect((await dumpValues(cluster, prefix)).filter((v) => v.key.includes(`:m:${session.conversationId}`)).length).toBe(2);
  }, 90_000);

  it('copies every session state change to the cluster: claim, release, re-offer, cold transfer to another group', async () => {
    // A second client of the same cluster (with the server's key file) reads the port's session state and queue indexes.
    const reader = new Cluster(cluster.seeds);
    const port: RedisConversationStore = await createRedisConversationStore({
      redis: reader,
      keys: keysOf(server),
      prefix,
    });
    for (const s of sockets.splice(0)) s.disconnect(); // the first test's agent accepts every offer
    try {
      const token = await server.login('agent1');
      const agent = await openAgentSocket(server, token);
      sockets.push(agent);
      const offers: string[] = [];
      agent.on('offer:new', ({ sessionId }: { sessionId: string }) => void offers.push(sessionId));

      const externalId = `mirror-${randomUUID()}`;
      const posted = await server.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'demo-app-key' },
        payload: { customer: { externalId, name: 'Mirror Test' }, text: 'where is my parcel', clientMessageId: `${externalId}-1` },
      });
      expect(posted.statusCode).toBe(202);
      const { sessionId } = posted.json() as { sessionId: string };
      const followed = (x: SessionRecord | null) =>
        x && [x.status, x.skillGroup, x.assignedAgentId, x.offeredAgentId, x.offerExpiresAt, x.waitingSince, x.wrapUpCode, x.closedAt];
      /** The cluster's copy equals the SQLite truth, and the cluster's queue index holds it exactly where it is. */
      const inStep = async () => {
        const truth = await server.services.store.getSession(sessionId);
        const copy = await port.getSession(sessionId);
        if (JSON.stringify(followed(truth)) !== JSON.stringify(followed(copy))) return false;
        for (const status of ['queued', 'offered', 'active'] as const) {
          const listed = (await port.queueIndex(truth!.skillGroup, status)).includes(sessionId);
          if (listed !== (truth!.status === status)) return false;
        }
        return true;
      };

      await until(() => offers.includes(sessionId), 20_000);
      await until(inStep, 10_000); // offered to agent1
      expect((await port.getSession(sessionId))!.status).toBe('offered');
      expect(await ack(agent, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
      await until(inStep, 10_000);
      const group = (await port.getSession(sessionId))!.skillGroup;
      expect((await port.getSession(sessionId))!).toMatchObject({ status: 'active', assignedAgentId: expect.any(String) });

      // Released: back in the queue (and offered again by the router) — the cluster follows.
      expect(await ack(agent, 'session:release', { sessionId })).toMatchObject({ ok: true });
      await until(async () => (await port.getSession(sessionId))!.status !== 'active' && (await inStep()), 10_000);
      expect(await port.queueIndex(group, 'active')).not.toContain(sessionId);

      // Taken again (a waiting contact can be accepted from the queue, offered or not) and moved cold
      // to vip: it leaves the old group's indexes for vip's.
      expect(await ack(agent, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
      await until(inStep, 10_000);
      expect(
        await ack(agent, 'session:transfer', { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' }),
      ).toMatchObject({ ok: true });
      await until(async () => (await port.getSession(sessionId))!.skillGroup === 'vip' && (await inStep()), 10_000);
      for (const status of ['queued', 'offered', 'active'] as const) expect(await port.queueIndex(group, status)).not.toContain(sessionId);

      // Every routing decision SQLite logged for it (offer, re-offer after the release, vip routing) is
      // in the cluster's decisions port too, copied by the outbox with its id (session, seq, nonce) and time; the server's
      // decision reads answer the port's entries.
      const rlog = await createRedisRoutingLog({ redis: reader, prefix });
      const sqlite = new Database(server.config.paths.db, { readonly: true });
      const rowsOf = () =>
        sqlite
          .prepare(
            'SELECT d.seq, d.at, i.nonce FROM routing_decisions d LEFT JOIN routing_log_ids i ON i.seq = d.seq WHERE d.session_id = ? ORDER BY d.seq',
          )
          .all(sessionId) as {
          seq: number;
          at: string;
          nonce: string | null;
        }[];
      try {
        await until(async () => (await rlog.ofSession(sessionId)).length === rowsOf().length, 10_000);
        const rows = rowsOf();
        expect(rows.length).toBeGreaterThanOrEqual(3);
        expect((await rlog.ofSession(sessionId)).map((e) => [e.id, e.at])).toEqual(
          rows.map((r) => [`${sessionId}/${r.seq}.${r.nonce}`, r.at]),
        );
        expect((await server.services.store.decisions(sessionId)).map((d) => d.at)).toEqual(rows.map((r) => r.at));
      } finally {
        sqlite.close();
      }
    } finally {
      await port.shutdown();
    }
  }, 90_000);

  it('archives a closed session to PostgreSQL sealed: readable with the key, no plaintext in pg_dump, unreadable after erasure', async () => {
    const reader = new Cluster(cluster.seeds);
    const port = await createRedisConversationStore({ redis: reader, keys: keysOf(server), prefix });
    const archive = await createPgSessionArchive({ url: PG_URL });
    for (const s of sockets.splice(0)) s.disconnect();
    try {
      const marker = `ARCHMARK-${randomUUID()}`;
      const token = await server.login('agent1');
      const agent = await openAgentSocket(server, token);
      sockets.push(agent);
      agent.on('offer:new', ({ sessionId }: { sessionId: string }) => void ack(agent, 'offer:accept', { sessionId }));
      const w = await openWidget(server);
      widgets.push(w);
      w.send({ type: 'hello' });
      await w.next('welcome');
      w.send({ type: 'message', clientMessageId: 'arch-first-01', text: `archive me ${marker}` });
      const { sessionId } = await w.next('ack', (a) => a.clientMessageId === 'arch-first-01');
      await until(async () => (await server.services.store.getSession(sessionId))?.status === 'active', 20_000);
      expect(await ack(agent, 'message:send', { sessionId, clientMessageId: 'arch-reply-01', text: `answered ${marker}` })).toMatchObject({
        ok: true,
      });
      const archiver = server.services.archiver!;
      expect(archiver).not.toBeNull();
      const conversationId = (await server.services.store.getSession(sessionId))!.conversationId;
      // What the cluster holds before the close (the archive must hold these bytes; Redis lets go of them).
      const sealedInRedis = await port.sealedRecords(conversationId);
      expect(sealedInRedis.map((r) => r.seq)).toEqual([1, 2]);
      const before = archiver.counts.archived;
      expect(await ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
      await until(() => archiver.counts.archived > before, 20_000);
      await archiver.idle();

      const session = (await server.services.store.getSession(sessionId))!;
      const [row] = (await archive.sessions([session.customerId])).filter((x) => x.sessionId === sessionId);
      expect(row).toMatchObject({ conversationId: session.conversationId, wrapUpCode: 'resolved', lastSeq: 2 });
      const records = await archive.records(session.conversationId);
      expect(records.map((r) => [r.seq, r.sessionId])).toEqual([
        [1, sessionId],
        [2, sessionId],
      ]);
      // The archived bytes are the cluster's sealed records, and open to the same messages.
      expect(records.map((r) => r.record.toString('hex'))).toEqual(sealedInRedis.map((r) => r.record.toString('hex')));
      // Durably archived and no session of the conversation open: trimmed from the cluster, numbering kept.
      expect(await port.sealedRecords(session.conversationId)).toEqual([]);
      expect(await port.trimmedThrough(session.conversationId)).toBe(2);
      expect(await port.lastSeq(session.conversationId)).toBe(2);
      // History over HTTP still reads both messages: the server reads trimmed seqs from the archive.
      const history = await server.app.inject({
        method: 'GET',
        url: `/api/v1/sessions/${sessionId}/messages`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(history.statusCode).toBe(200);
      expect((history.json() as MessagePageView).messages.map((m) => [m.seq, textOf(m)])).toEqual([
        [1, `archive me ${marker}`],
        [2, `answered ${marker}`],
      ]);
      expect((await port.openSealed(session.conversationId, records)).map(textOf)).toEqual([`archive me ${marker}`, `answered ${marker}`]);
      // Archiving again (a retry, another node) changes nothing.
      await archive.put(session, 1, records);
      expect(await archive.records(session.conversationId)).toHaveLength(2);

      // No plaintext in PostgreSQL: pg_dump of the archive schema has no marker; a plaintext control row is found.
      const dump = () =>
        execFileSync('pg_dump', ['--data-only', '--schema=huiliu_archive', PG_URL], { maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
      expect(dump().includes(marker)).toBe(false);
      expect(dump().includes(sessionId)).toBe(true); // the dump has this run's rows

      // Crypto-erasure reaches the archive: the customer's data key is gone, so their archived records no longer open.
      const admin = { id: 'u-agent1', username: 'agent1', roles: ['admin' as const], skillGroups: [] };
      const officer = { id: 'u-officer', username: 'officer', roles: ['privacy-officer' as const], skillGroups: [] };
      const request = await server.services.privacy.requestErasure(admin, {
        customerId: session.customerId,
        reason: 'GDPR Art. 17 archive',
      });
      expect((await server.services.privacy.approve('erasure', request.id, officer)).status).toBe('executed');
      await until(async () => {
        const fresh = await createRedisConversationStore({
          redis: reader,
          keys: keysOf(server),
          prefix,
        });
        return fresh.openSealed(session.conversationId, records).then(
          () => false,
          (error: { code?: string }) => error.code === 'CUSTOMER_ERASED',
        );
      }, 10_000);
      expect(await archive.records(session.conversationId)).toHaveLength(2); // still there, sealed
    } finally {
      await archive.close();
      await port.shutdown();
    }
  }, 90_000);

  it('archives at start the sessions closed while no archiver ran, and trims them from the cluster', async () => {
    // Node B runs without HUILIU_PG_URL (no archiver: PostgreSQL "down"), on its own data file and prefix.
    const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-sweep-'));
    const sweepPrefix = `sw-${randomUUID().slice(0, 8)}`;
    // The local key file (pinned, also in the scale-out lane): the test reads the cluster with it below.
    const env = {
      HUILIU_STORE: 'redis',
      HUILIU_REDIS_NODES: cluster.nodes,
      HUILIU_REDIS_PREFIX: sweepPrefix,
      HUILIU_DATA_DIR: dataDir,
      HUILIU_KEYS: 'local',
    };
    const marker = `SWEEPMARK-${randomUUID()}`;
    let sessionId = '';
    const b = await startTestServer(env);
    try {
      expect(b.services.archiver).toBeNull();
      const token = await b.login('agent1');
      const agent = await openAgentSocket(b, token);
      sockets.push(agent);
      // Kept so the test waits for their acks before disconnecting: the session is `active` in the store
      // before the accept's own ack is sent, and a disconnect then rejects that pending ack (unhandled).
      const accepts: Promise<unknown>[] = [];
      agent.on('offer:new', ({ sessionId: id }: { sessionId: string }) => void accepts.push(ack(agent, 'offer:accept', { sessionId: id })));
      const w = await openWidget(b);
      widgets.push(w);
      w.send({ type: 'hello' });
      await w.next('welcome');
      w.send({ type: 'message', clientMessageId: 'sweep-first-1', text: `closed while down ${marker}` });
      sessionId = (await w.next('ack', (a) => a.clientMessageId === 'sweep-first-1')).sessionId;
      await until(async () => (await b.services.store.getSession(sessionId))?.status === 'active', 20_000);
      expect(await ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
      await Promise.all(accepts);
      agent.disconnect();
    } finally {
      await b.cleanup();
    }

    // Restarted with the archive: the sweep at start finds the closed session missing from PostgreSQL.
    // (A database of its own: the audit log in PostgreSQL is keyed by each data dir's KEK.)
    const sweepDb = `${PG_DB}_sweep`;
    const sweepUrl = (() => {
      const u = new URL(PG_ADMIN_URL);
      u.pathname = `/${sweepDb}`;
      return u.toString();
    })();
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${sweepDb}`);
    const c = await startTestServer({ ...env, HUILIU_PG_URL: sweepUrl });
    const archive = await createPgSessionArchive({ url: sweepUrl });
    try {
      // Node B had no archiver and this database is new: whatever the archive has, the sweep put there.
      const swept = await c.services.archiveSweep;
      expect(swept?.queued).toBeGreaterThanOrEqual(1);
      await until(async () => (await archive.archived([sessionId])).has(sessionId), 20_000);
      await c.services.archiver!.idle();
      const conversationId = (await c.services.store.getSession(sessionId))!.conversationId;
      expect((await archive.records(conversationId)).map((r) => r.seq)).toEqual([1]);
      // Trimmed from the cluster, still read (from the archive) by the restarted node.
      const reader = new Cluster(cluster.seeds);
      const port = await createRedisConversationStore({
        redis: reader,
        keys: createLocalKeyProvider(join(dataDir, 'keys')),
        prefix: sweepPrefix,
      });
      try {
        expect(await port.trimmedThrough(conversationId)).toBe(1);
        expect(await port.sealedRecords(conversationId)).toEqual([]);
      } finally {
        await port.shutdown();
        reader.disconnect();
      }
      expect((await c.services.store.listMessages(conversationId)).map(textOf)).toEqual([`closed while down ${marker}`]);
    } finally {
      await archive.close();
      await c.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${sweepDb} WITH (FORCE)`);
      await admin.end();
    }
  }, 120_000);
});
