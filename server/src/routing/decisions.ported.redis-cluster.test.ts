import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import type { RoutingDecision } from '../../../common/routing/types';
import { useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createRedisConversationStore } from '../sessions/conversations.redis';
import { draft } from '../sessions/store.contract';
import { routeConversations } from '../sessions/store.ported';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import type { SessionStore } from '../sessions/store';
import type { RoutingLog } from './decisions';
import { connectClusterDecisions } from './decisions.connect';
import { createRoutingLogOutbox, outboxId, type RoutingLogOutbox } from './decisions.outbox';
import { routeDecisions } from './decisions.ported';
import { createRedisRoutingLog } from './decisions.redis';
import { buildReplay } from './sim/replay';

/**
 * HUILIU_STORE=redis wiring of the routing decisions port (issue 14): two nodes — each its own SQLite
 * file (wide store) and its own cluster connection — on one real 6-node Redis Cluster and one prefix,
 * built the way main.ts builds them (`routeDecisions(routeConversations(…), connectClusterDecisions(…))`).
 */
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await useRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const decision = (over: Partial<RoutingDecision> = {}): RoutingDecision => ({
  valueScore: 50,
  difficultyScore: 60,
  priority: 54,
  tier: 'assisted',
  configVersion: 1,
  weights: { value: 0.6, difficulty: 0.4 },
  thresholds: { expert: 80, assisted: 50 },
  skillGroup: 'general',
  reasons: [{ factor: 'test', note: 'fixture' }],
  offeredTo: 'agent-a',
  assignment: 'longest idle',
  decidedAt: new Date().toISOString(),
  trigger: 'new',
  facts: { value: { spend: 1000, csat: 4, contacts30d: 2 }, difficulty: { messageId: randomUUID(), channel: 'WB', contacts30d: 2 } },
  candidates: [
    { agentId: 'agent-a', chosen: true, reasons: ['idle longest'] },
    { agentId: 'agent-b', chosen: false, reasons: ['busy'] },
  ],
  ...over,
});

interface Node {
  store: SessionStore;
  db: string;
  outbox: RoutingLogOutbox;
}

/** `routing_decisions` rows of one node's SQLite file (read with a connection of the test's own). */
function sqliteRows(path: string): { seq: number; session_id: string; at: string; nonce: string | null }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT d.seq, d.session_id, d.at, i.nonce FROM routing_decisions d LEFT JOIN routing_log_ids i ON i.seq = d.seq ORDER BY d.seq',
      )
      .all() as {
      seq: number;
      session_id: string;
      at: string;
      nonce: string | null;
    }[];
  } finally {
    db.close();
  }
}

describe('routing decisions in redis mode: two nodes with separate SQLite files on one cluster', () => {
  let dir: string;
  let keys: KeyProvider;
  let prefix: string;
  let nodes: Node[];

  /** One node as main.ts wires it; `log` replaces the Redis routing log (a flaky one) when given. */
  async function openNode(name: string, wrapLog?: (log: RoutingLog) => RoutingLog): Promise<Node> {
    mkdirSync(join(dir, name));
    const db = join(dir, name, 'huiliu.db');
    const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
    const conv = await createRedisConversationStore({ redis, keys, prefix, waitMs: 500 });
    const wide = await createSqliteSessionStore({ path: db, keys });
    let wired;
    if (wrapLog) {
      const log = wrapLog(await createRedisRoutingLog({ redis, prefix, waitMs: 500 }));
      wired = {
        log,
        outbox: await createRoutingLogOutbox({ path: db, log, retryMs: 50 }),
        remoteSession: (id: string) => conv.getSession(id),
      };
    } else {
      wired = await connectClusterDecisions({
        redis,
        prefix,
        path: db,
        remoteSession: (id) => conv.getSession(id),
        tuning: { waitMs: 500 },
      });
    }
    const store = routeDecisions(
      routeConversations(wide, {
        ...conv,
        async shutdown() {
          await conv.shutdown();
          redis.disconnect();
        },
      }),
      wired,
    );
    const node = { store, db, outbox: wired.outbox };
    nodes.push(node);
    return node;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-wire-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    prefix = `rw-${randomUUID().slice(0, 8)}`;
    nodes = [];
  });
  afterEach(async () => {
    for (const n of nodes) await n.store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("puts node A's decisions in node B's replay window, offers and session history; B's SQLite has none of them", async () => {
    const a = await openNode('a');
    const b = await openNode('b');
    const from = new Date(Date.now() - 1000).toISOString();
    const r = await a.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `v-${randomUUID()}` } }), {
      skillGroup: 'general',
    });
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    expect((await a.store.saveRouting(r.session.id, decision(), { agentId: 'agent-a', expiresAt })).applied).toBe(true);
    const again = decision({ trigger: 'timeout', offeredTo: 'agent-b' });
    expect((await a.store.saveRouting(r.session.id, again, { agentId: 'agent-b', expiresAt })).applied).toBe(true);
    const to = new Date(Date.now() + 1000).toISOString();

    // Copied before saveRouting resolved: nothing left in A's outbox.
    expect(a.outbox.pending()).toBe(0);
    const rowsA = sqliteRows(a.db).filter((row) => row.session_id === r.session.id);
    expect(rowsA).toHaveLength(2);
    expect(sqliteRows(b.db)).toEqual([]);
    expect(await b.store.getSession(r.session.id)).toBeNull();

    // B's session history: both decisions, at the times A's SQLite logged them, in order.
    const history = await b.store.decisions(r.session.id);
    expect(history.map((d) => [d.at, d.decision.trigger, d.decision.offeredTo])).toEqual([
      [rowsA[0]!.at, 'new', 'agent-a'],
      [rowsA[1]!.at, 'timeout', 'agent-b'],
    ]);
    expect(await a.store.decisions(r.session.id)).toEqual(history);
    expect(history.partial).toBeUndefined();

    // B's replay window: the contact (its first decision only) with its session facts from the cluster.
    const contacts = (await b.store.replayContacts(from, to)).filter((c) => c.sessionId === r.session.id);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      at: rowsA[0]!.at,
      channel: 'WB',
      status: 'offered',
      skillGroup: 'general',
      valueScore: 50,
      difficultyScore: 60,
      valueFacts: { spend: 1000, csat: 4, contacts30d: 2 },
      candidateIds: ['agent-a', 'agent-b'],
      assignedAgentId: null,
      closedAt: null,
    });
    // The cluster's copy of the session was opened when A admitted it (its own clock, a few ms later).
    expect(Math.abs(Date.parse(contacts[0]!.createdAt) - Date.parse(r.session.createdAt))).toBeLessThan(1000);
    const offers = (await b.store.offersBetween(from, to)).filter((o) => o.sessionId === r.session.id);
    expect(offers.map((o) => o.agentId)).toEqual(['agent-a', 'agent-b']);
    expect((await b.store.decisionsBetween(from, to)).filter((d) => d.sessionId === r.session.id)).toHaveLength(2);

    // The what-if replay's reader on B builds its workload from A's contact and offers.
    const replay = await buildReplay(
      { store: b.store, userById: () => null },
      { fromMs: Date.parse(from), toMs: Date.parse(to), seed: 1, maxContacts: 100 },
    );
    if (replay.kind !== 'ok') throw new Error(`replay: ${replay.kind}`);
    expect(replay.workload.contacts.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps a decision whose append failed in the outbox, copies it on retry with its time, and never twice', async () => {
    // The first append lands in the cluster but its answer is lost; the second never reaches the cluster.
    let failures = 0;
    const a = await openNode('a', (log) => ({
      ...log,
      async append(input) {
        failures += 1;
        if (failures === 1) {
          await log.append(input);
          throw new HuiliuError('NOT_READY', 'lost answer (test)');
        }
        if (failures === 2) throw new HuiliuError('NOT_READY', 'cluster away (test)');
        return log.append(input);
      },
    }));
    const b = await openNode('b');
    const r = await a.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `v-${randomUUID()}` } }), {
      skillGroup: 'general',
    });
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    // The save succeeds (SQLite decided and committed it); the copy failed and stays in the outbox.
    expect((await a.store.saveRouting(r.session.id, decision(), { agentId: 'agent-a', expiresAt })).applied).toBe(true);
    const row = sqliteRows(a.db).find((x) => x.session_id === r.session.id)!;
    // The retry timer (50 ms, then 100 ms) copies it: the second attempt fails too, the third lands.
    for (let i = 0; i < 100 && a.outbox.pending() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.outbox.pending()).toBe(0);
    expect(failures).toBe(3);
    const history = await b.store.decisions(r.session.id);
    expect(history).toHaveLength(1);
    expect(history[0]!.at).toBe(row.at);

    // A crash before the cursor moved re-copies everything: answered as duplicates, still one entry.
    const db = new Database(a.db);
    db.prepare('UPDATE routing_log_outbox SET pushed_seq = 0').run();
    db.close();
    expect(a.outbox.pending()).toBeGreaterThan(0);
    await a.outbox.flush();
    expect(a.outbox.pending()).toBe(0);
    expect(await b.store.decisions(r.session.id)).toEqual(history);
    const from = new Date(Date.parse(row.at) - 1).toISOString();
    const to = new Date(Date.parse(row.at) + 1).toISOString();
    expect((await b.store.replayContacts(from, to)).filter((c) => c.sessionId === r.session.id)).toHaveLength(1);

    // The same id, time and decision again is the stored entry; the id is the session, the row's seq and its nonce.
    const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 } });
    try {
      const port = await createRedisRoutingLog({ redis, prefix, waitMs: 500 });
      const [stored] = await port.ofSession(r.session.id);
      expect(row.nonce).toMatch(/^[0-9a-f]{12}$/);
      expect(stored!.id).toBe(outboxId(r.session.id, row.seq, row.nonce));
      const dup = await port.append({ id: stored!.id!, sessionId: r.session.id, at: row.at, decision: stored!.decision });
      expect(dup.duplicate).toBe(true);
      // The same id with other content is refused, never a second entry.
      const other = await port
        .append({ id: stored!.id!, sessionId: r.session.id, at: row.at, decision: decision() })
        .catch((e: unknown) => e);
      expect((other as HuiliuError).code).toBe('IDEMPOTENCY_CONFLICT');
      expect(await port.ofSession(r.session.id)).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });
  it('reads its own decision as soon as SQLite committed it, while its copy is still on the way', async () => {
    // Every append takes 300 ms more (a slow WAIT): a read on the node must not miss the decision meanwhile.
    const a = await openNode('a', (log) => ({
      ...log,
      async append(input) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return log.append(input);
      },
    }));
    const r = await a.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `v-${randomUUID()}` } }), {
      skillGroup: 'general',
    });
    const from = new Date(Date.now() - 1000).toISOString();
    const saving = a.store.saveRouting(r.session.id, decision(), {
      agentId: 'agent-a',
      expiresAt: new Date(Date.now() + 30_000).toISOString(),
    });
    for (let i = 0; i < 100 && sqliteRows(a.db).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(a.outbox.pending()).toBe(1);
    expect(await a.store.decisions(r.session.id)).toHaveLength(1);
    const to = new Date(Date.now() + 1000).toISOString();
    expect((await a.store.replayContacts(from, to)).map((c) => c.sessionId)).toContain(r.session.id);
    expect((await saving).applied).toBe(true);
  });

  it("answers from its own SQLite, marked partial, when the port answers NOT_READY; a request's own error is still thrown", async () => {
    let down = false;
    const notReady = () => Promise.reject(new HuiliuError('NOT_READY', 'The session store is not ready; retry.'));
    const flaky = (log: RoutingLog): RoutingLog => ({
      ...log,
      ofSession: (id) => (down ? notReady() : log.ofSession(id)),
      between: (from, to, page) => (down ? notReady() : log.between(from, to, page)),
      offers: (from, to, page) => (down ? notReady() : log.offers(from, to, page)),
    });
    const a = await openNode('a', flaky);
    const b = await openNode('b', flaky);
    const from = new Date(Date.now() - 1000).toISOString();
    const r = await a.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `v-${randomUUID()}` } }), {
      skillGroup: 'general',
    });
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    expect((await a.store.saveRouting(r.session.id, decision(), { agentId: 'agent-a', expiresAt })).applied).toBe(true);
    const to = new Date(Date.now() + 1000).toISOString();
    expect((await b.store.decisions(r.session.id)).map((d) => d.decision.offeredTo)).toEqual(['agent-a']);

    down = true;
    const t0 = Date.now();
    const onA = await a.store.decisions(r.session.id);
    expect(Date.now() - t0).toBeLessThan(1000); // a refusal does not wait for readWaitMs
    expect(onA.partial).toBe(true);
    expect(onA.map((d) => d.decision.offeredTo)).toEqual(['agent-a']);
    const onB = await b.store.decisions(r.session.id);
    expect(onB.partial).toBe(true);
    expect([...onB]).toEqual([]); // B's SQLite has none of A's decisions: that is what partial says
    const contacts = await a.store.replayContacts(from, to);
    expect(contacts.partial).toBe(true);
    expect(contacts.map((c) => c.sessionId)).toEqual([r.session.id]);
    expect((await a.store.offersBetween(from, to)).partial).toBe(true);
    expect((await a.store.decisionsBetween(from, to)).partial).toBe(true);

    down = false;
    expect((await a.store.decisions(r.session.id)).partial).toBeUndefined();
    // Past the port's 62-day window: the request's error, not a local answer.
    const long = await a.store.decisionsBetween(new Date(Date.now() - 100 * 86_400_000).toISOString(), to).catch((e: unknown) => e);
    expect((long as HuiliuError).code).toBe('VALIDATION_FAILED');
  });
});
