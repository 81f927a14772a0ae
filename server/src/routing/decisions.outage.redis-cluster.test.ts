import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RoutingDecision } from '../../../common/routing/types';
import { startRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createRedisConversationStore } from '../sessions/conversations.redis';
import { draft } from '../sessions/store.contract';
import { routeConversations } from '../sessions/store.ported';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { connectClusterDecisions } from './decisions.connect';
import { createRoutingLogOutbox, outboxId, type RoutingLogOutbox } from './decisions.outbox';
import { createRedisRoutingLog } from './decisions.redis';
import { routeDecisions } from './decisions.ported';

let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const decision = (): RoutingDecision => ({
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
  candidates: [{ agentId: 'agent-a', chosen: true, reasons: ['idle longest'] }],
});

/**
 * A cluster whose replicas stop acknowledging (every `WAIT` falls short: the outage the durable writes
 * retry through for `retryMs`) while a node saves routing decisions. A save's state is committed in
 * SQLite and its decision stays in the outbox, so the save waits for the outbox's copy at most
 * `copyWaitMs` beyond the conversations port's own mirror write; nothing is lost once the replicas are
 * back, and the node then reads its decisions from the cluster.
 */
it('a save during a cluster outage waits for the outbox at most copyWaitMs on top of the session mirror, and no decision is lost', async () => {
  // Long enough that the old behaviour (the outbox's own retries, one to three RETRY_MS on top of the
  // mirror: at least 2 × RETRY_MS) and the bound below (RETRY_MS + copyWaitMs + 2.5 s of slack for a
  // loaded CI machine; a run at load went 1.2 s over the ideal) stay apart.
  const RETRY_MS = 5000;
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-outage-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const prefix = `ro-${randomUUID().slice(0, 8)}`;
  const db = join(dir, 'huiliu.db');
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  const conv = await createRedisConversationStore({ redis, keys, prefix, waitMs: 200, retryMs: RETRY_MS });
  const wide = await createSqliteSessionStore({ path: db, keys });
  const wired = await connectClusterDecisions({ redis, prefix, path: db, tuning: { waitMs: 200, retryMs: RETRY_MS } });
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
  const replicas = (await Promise.all([0, 5461, 10922].map((slot) => cluster.replicaPortsOf(slot)))).flat();
  try {
    const sessions = [];
    for (let i = 0; i < 3; i++) {
      sessions.push(
        (await store.appendInbound(draft({ identity: { channel: 'WB', externalId: `o-${randomUUID()}` } }), { skillGroup: 'general' }))
          .session,
      );
    }
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    for (const port of replicas) cluster.pauseNode(port, true);
    let took: number[];
    try {
      const t0 = Date.now();
      took = await Promise.all(
        sessions.map(async (s) => {
          const saved = await store.saveRouting(s.id, decision(), { agentId: 'agent-a', expiresAt });
          expect(saved.applied).toBe(true);
          return Date.now() - t0;
        }),
      );
    } finally {
      for (const port of replicas) cluster.pauseNode(port, false);
    }
    // The mirror alone takes about one RETRY_MS; the outbox adds at most its copyWaitMs (1 s), not its
    // own retries (before, with RETRY_MS 2 s: 4.7 s and 7.2 s, one to three RETRY_MS on top of the mirror).
    expect(Math.max(...took)).toBeLessThan(RETRY_MS + 1000 + 2500);
    // Nothing lost: the outbox copies every decision once the replicas answer again.
    await cluster.waitHealthy();
    const deadline = Date.now() + 20_000;
    while (wired.outbox.pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of sessions) expect((await store.decisions(s.id)).map((d) => d.decision.offeredTo)).toEqual(['agent-a']);
  } finally {
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/**
 * Two copiers on one SQLite file (two processes), one of them restarted mid-copy, while 60 decisions
 * are saved at once: every row reaches the cluster exactly once with its id, and both cursors end at
 * the last row.
 */
it('copies concurrent saves exactly once with two outboxes on one file, one restarted mid-copy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-two-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const prefix = `rt-${randomUUID().slice(0, 8)}`;
  const db = join(dir, 'huiliu.db');
  const wide = await createSqliteSessionStore({ path: db, keys });
  const redisA = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  const redisB = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  // Ready first, as connectConversationCluster leaves it (the library is loaded on the masters it knows).
  await Promise.all([redisA, redisB].map((r) => new Promise((resolve) => r.once('ready', resolve))));
  const logA = await createRedisRoutingLog({ redis: redisA, prefix, waitMs: 500 });
  const logB = await createRedisRoutingLog({ redis: redisB, prefix, waitMs: 500 });
  const outboxes: RoutingLogOutbox[] = [
    await createRoutingLogOutbox({ path: db, log: logA, batch: 7, retryMs: 50 }),
    await createRoutingLogOutbox({ path: db, log: logB, batch: 5, retryMs: 50 }),
  ];
  const skipped: unknown[] = [];
  try {
    const sessions = [];
    for (let i = 0; i < 60; i++) {
      sessions.push(
        (await wide.appendInbound(draft({ identity: { channel: 'WB', externalId: `t-${randomUUID()}` } }), { skillGroup: 'general' }))
          .session,
      );
    }
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await Promise.all(
      sessions.map(async (s, i) => {
        await wide.saveRouting(s.id, decision(), { agentId: 'agent-a', expiresAt });
        if (i === 30) {
          // Process A restarts while copies run: its successor starts from the shared cursor.
          const old = outboxes[0]!;
          outboxes[0] = await createRoutingLogOutbox({ path: db, log: logA, batch: 7, retryMs: 50, onSkipped: (e) => skipped.push(e) });
          await old.close();
        }
        await outboxes[i % 2]!.flush().catch(() => undefined);
      }),
    );
    await outboxes[0]!.flush();
    await outboxes[1]!.flush();
    const rows = (() => {
      const d = new Database(db, { readonly: true });
      try {
        return d
          .prepare(
            'SELECT d.seq, d.session_id, i.nonce FROM routing_decisions d LEFT JOIN routing_log_ids i ON i.seq = d.seq ORDER BY d.seq',
          )
          .all() as { seq: number; session_id: string; nonce: string | null }[];
      } finally {
        d.close();
      }
    })();
    expect(rows).toHaveLength(60);
    for (const o of outboxes) {
      expect(o.pushedSeq()).toBe(rows.at(-1)!.seq);
      expect(o.pending()).toBe(0);
    }
    for (const r of rows) {
      const logged = await logA.ofSession(r.session_id);
      expect(logged.map((e) => e.id)).toEqual([outboxId(r.session_id, r.seq, r.nonce)]);
    }
    expect(skipped).toEqual([]);
  } finally {
    for (const o of outboxes) await o.close();
    await logA.shutdown();
    await logB.shutdown();
    redisA.disconnect();
    redisB.disconnect();
    await wide.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/**
 * A row no retry can fix — its decision_json is not JSON (a damaged file; the table is append-only) —
 * is skipped like a row the port refuses for good, so the rows after it still reach the cluster.
 */
it('skips a row whose decision is not JSON and copies the rows after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-bad-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const prefix = `rb-${randomUUID().slice(0, 8)}`;
  const db = join(dir, 'huiliu.db');
  const wide = await createSqliteSessionStore({ path: db, keys });
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  await new Promise((resolve) => redis.once('ready', resolve));
  const log = await createRedisRoutingLog({ redis, prefix, waitMs: 500 });
  const skipped: { seq: number; code: string }[] = [];
  const failed: unknown[] = [];
  const outbox = await createRoutingLogOutbox({
    path: db,
    log,
    retryMs: 50,
    onSkipped: (e, row) => skipped.push({ seq: row.seq, code: e.code }),
    onError: (e) => failed.push(e),
  });
  try {
    const a = (await wide.appendInbound(draft({ identity: { channel: 'WB', externalId: `b-${randomUUID()}` } }), { skillGroup: 'general' }))
      .session;
    const b = (await wide.appendInbound(draft({ identity: { channel: 'WB', externalId: `b-${randomUUID()}` } }), { skillGroup: 'general' }))
      .session;
    const raw = new Database(db);
    const bad = raw
      .prepare(
        `INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json) VALUES (?, ?, 1, 'new', NULL, ?)`,
      )
      .run(a.id, new Date().toISOString(), '{"valueScore": 50,');
    raw.close();
    await wide.saveRouting(b.id, decision(), { agentId: 'agent-a', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await outbox.flush();
    expect(skipped).toEqual([{ seq: Number(bad.lastInsertRowid), code: 'VALIDATION_FAILED' }]);
    expect(outbox.pending()).toBe(0);
    expect((await log.ofSession(b.id)).map((e) => e.decision.offeredTo)).toEqual(['agent-a']);
    expect(failed).toEqual([]);
  } finally {
    await outbox.close();
    await log.shutdown();
    redis.disconnect();
    await wide.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/**
 * The whole cluster frozen (SIGSTOP on all six nodes: nothing answers, nothing errs — a partition). The
 * node keeps deciding in SQLite; its decision reads answer from its own SQLite within `readWaitMs`,
 * marked `partial`, instead of waiting for the cluster; the outbox's backlog shows what waits. After the
 * thaw the backlog is copied and the reads are the cluster's again (not partial).
 */
it('answers decision reads from its own SQLite, marked partial, while the cluster is frozen, and from the cluster after the thaw', async () => {
  const READ_WAIT_MS = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-frozen-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const prefix = `rf-${randomUUID().slice(0, 8)}`;
  const db = join(dir, 'huiliu.db');
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  const conv = await createRedisConversationStore({ redis, keys, prefix, waitMs: 200 });
  const wide = await createSqliteSessionStore({ path: db, keys });
  const localReads: string[] = [];
  const wired = await connectClusterDecisions({
    redis,
    prefix,
    path: db,
    remoteSession: (id) => conv.getSession(id),
    readWaitMs: READ_WAIT_MS,
    onLocalRead: (op) => localReads.push(op),
    tuning: { waitMs: 200 },
  });
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
  const rowsIn = () => {
    const d = new Database(db, { readonly: true });
    try {
      return (d.prepare('SELECT count(*) AS n FROM routing_decisions').get() as { n: number }).n;
    } finally {
      d.close();
    }
  };
  try {
    const from = new Date(Date.now() - 1000).toISOString();
    const s = (
      await store.appendInbound(draft({ identity: { channel: 'WB', externalId: `f-${randomUUID()}` } }), { skillGroup: 'general' })
    ).session;
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    expect((await store.saveRouting(s.id, decision(), { agentId: 'agent-a', expiresAt })).applied).toBe(true);
    expect(wired.outbox.backlog()).toEqual({ rows: 0, oldestAt: null });
    const complete = await store.decisions(s.id);
    expect(complete.partial).toBeUndefined();

    const ports = cluster.livePorts();
    for (const port of ports) cluster.pauseNode(port, true);
    let saving: Promise<unknown> | undefined;
    try {
      // The re-offer commits in SQLite; its mirror and its copy wait for the cluster.
      saving = store.saveRouting(s.id, { ...decision(), offeredTo: 'agent-b', trigger: 'timeout' }, { agentId: 'agent-b', expiresAt });
      const deadline = Date.now() + 10_000;
      while (rowsIn() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(wired.outbox.backlog()).toMatchObject({ rows: 1, oldestAt: expect.any(String) as string });

      const t0 = Date.now();
      const history = await store.decisions(s.id);
      const took = Date.now() - t0;
      expect(history.partial).toBe(true);
      expect(history.map((d) => d.decision.offeredTo)).toEqual(['agent-a', 'agent-b']);
      expect(took).toBeLessThan(READ_WAIT_MS + 1500);
      const to = new Date(Date.now() + 1000).toISOString();
      // The read above waited readWaitMs and its cluster call is still unanswered: the reads after it
      // answer from SQLite at once (each waited readWaitMs again before).
      const t1 = Date.now();
      const between = await store.decisionsBetween(from, to);
      expect(between.partial).toBe(true);
      expect(between).toHaveLength(2);
      const contacts = await store.replayContacts(from, to);
      expect(contacts.partial).toBe(true);
      expect(contacts.map((c) => c.sessionId)).toEqual([s.id]);
      const offers = await store.offersBetween(from, to);
      expect(offers.partial).toBe(true);
      expect(offers.map((o) => o.agentId)).toEqual(['agent-a', 'agent-b']);
      expect(Date.now() - t1).toBeLessThan(READ_WAIT_MS);
      expect(localReads).toEqual(['decisions', 'decisionsBetween', 'replayContacts', 'offersBetween']);
    } finally {
      for (const port of ports) cluster.pauseNode(port, false);
    }
    await saving;
    await cluster.waitHealthy();
    const deadline = Date.now() + 20_000;
    while (wired.outbox.backlog()!.rows > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(wired.outbox.backlog()).toEqual({ rows: 0, oldestAt: null });
    const after = await store.decisions(s.id);
    expect(after.partial).toBeUndefined();
    expect(after.map((d) => d.decision.offeredTo)).toEqual(['agent-a', 'agent-b']);
  } finally {
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/**
 * An older copy of the node's database put back (SQLite's online backup API made the copy while the
 * node ran). The restored file hands out again the seqs of the decisions made after the backup, which
 * the cluster already holds: the decision made after the restore still reaches the shared log, under
 * an id of its own (no IDEMPOTENCY_CONFLICT skip, no second entry under one id), and the decisions the
 * restore dropped from SQLite stay in the shared log.
 */
it('copies the decisions made after a restored SQLite backup under ids of their own, and keeps those the restore dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-restore-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const prefix = `rr-${randomUUID().slice(0, 8)}`;
  const db = join(dir, 'huiliu.db');
  const backup = join(dir, 'huiliu.backup.db');
  const redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  await new Promise((resolve) => redis.once('ready', resolve));
  const log = await createRedisRoutingLog({ redis, prefix, waitMs: 500 });
  const skipped: { seq: number; code: string }[] = [];
  const open = async () => {
    const wide = await createSqliteSessionStore({ path: db, keys });
    const outbox = await createRoutingLogOutbox({
      path: db,
      log,
      retryMs: 50,
      onSkipped: (e, row) => skipped.push({ seq: row.seq, code: e.code }),
    });
    return { wide, outbox };
  };
  const rowsOf = (sessionId: string) => {
    const d = new Database(db, { readonly: true });
    try {
      return d.prepare('SELECT seq FROM routing_decisions WHERE session_id = ? ORDER BY seq').all(sessionId) as { seq: number }[];
    } finally {
      d.close();
    }
  };
  let node = await open();
  try {
    const s = (
      await node.wide.appendInbound(draft({ identity: { channel: 'WB', externalId: `r-${randomUUID()}` } }), { skillGroup: 'general' })
    ).session;
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const offer = async (agentId: string) => {
      const saved = await node.wide.saveRouting(s.id, { ...decision(), offeredTo: agentId, trigger: 'timeout' }, { agentId, expiresAt });
      expect(saved.applied).toBe(true);
      await node.outbox.flush();
    };
    await offer('agent-a');
    // The backup, taken while the node runs.
    const live = new Database(db, { readonly: true });
    await live.backup(backup);
    live.close();
    await offer('agent-b');
    await offer('agent-c');
    const lost = rowsOf(s.id).map((r) => r.seq);
    expect((await log.ofSession(s.id)).map((e) => e.decision.offeredTo)).toEqual(['agent-a', 'agent-b', 'agent-c']);

    // Stop the node, put the backup back, start again.
    await node.outbox.close();
    await node.wide.shutdown();
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    copyFileSync(backup, db);
    node = await open();
    expect(rowsOf(s.id)).toHaveLength(1);
    await offer('agent-d');
    // The restored file reused the seq agent-b's decision had: the id must not.
    expect(rowsOf(s.id).map((r) => r.seq)).toEqual(lost.slice(0, 2));

    const shared = await log.ofSession(s.id);
    expect(skipped).toEqual([]);
    expect(shared.map((e) => e.decision.offeredTo)).toEqual(['agent-a', 'agent-b', 'agent-c', 'agent-d']);
    expect(new Set(shared.map((e) => e.id)).size).toBe(4);
    expect(node.outbox.backlog()).toEqual({ rows: 0, oldestAt: null });
  } finally {
    await node.outbox.close();
    await node.wide.shutdown();
    await log.shutdown();
    redis.disconnect();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
