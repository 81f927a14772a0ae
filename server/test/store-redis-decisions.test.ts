import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoutingConfigVersionView, SimulationResult } from '../../common/api/routing';
import { startTestServer, type TestServer } from './support/harness';
import { useRedisCluster, type RedisClusterHandle } from './support/redis-cluster';
import { until } from './support/until';

/** `routing_decisions` rows of one session in a server's SQLite file (a connection of the test's own). */
function rowsOf(server: TestServer, sessionId: string): { seq: number; at: string }[] {
  const db = new Database(server.config.paths.db, { readonly: true });
  try {
    return db.prepare('SELECT seq, at FROM routing_decisions WHERE session_id = ? ORDER BY seq').all(sessionId) as {
      seq: number;
      at: string;
    }[];
  } finally {
    db.close();
  }
}

/**
 * HUILIU_STORE=redis (issue 14, docs/store.md "Routing decisions in redis mode"): two real servers, each
 * with its own data directory (its own SQLite file), on one 6-node Redis Cluster and one prefix. A
 * contact routed on A is in B's decision reads and in B's what-if replay of the window.
 */
describe('HUILIU_STORE=redis: routing decisions shared by two servers with separate SQLite files', () => {
  let cluster: RedisClusterHandle;
  const servers: TestServer[] = [];
  const prefix = `hd-${randomUUID().slice(0, 8)}`;
  const bDir = mkdtempSync(join(tmpdir(), 'huiliu-test-b-'));

  beforeAll(async () => {
    cluster = await useRedisCluster();
    // The local key file, pinned (also in the scale-out lane, whose KEK label follows each data dir): B
    // shares A's KEK by a copy of it below.
    const env = { HUILIU_STORE: 'redis', HUILIU_REDIS_NODES: cluster.nodes, HUILIU_REDIS_PREFIX: prefix, HUILIU_KEYS: 'local' };
    servers.push(await startTestServer(env));
    // B: a data directory of its own (its own SQLite file) holding the same KEK, as nodes of one
    // deployment share their key (an HSM in production): the cluster's data keys are wrapped by it.
    cpSync(join(servers[0]!.dataDir, 'keys'), join(bDir, 'keys'), { recursive: true });
    servers.push(await startTestServer({ ...env, HUILIU_DATA_DIR: bDir }));
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.cleanup();
    await cluster?.stop();
    rmSync(bDir, { recursive: true, force: true });
  });

  it('replays on B the contact A routed, and answers its decision history on B from the cluster', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    expect(a.config.paths.db).not.toBe(b.config.paths.db);
    const from = new Date(Date.now() - 1000).toISOString();
    const externalId = `rlog-${randomUUID()}`;
    const posted = await a.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId, name: 'Replay Test' }, text: 'where is my parcel', clientMessageId: `${externalId}-1` },
    });
    expect(posted.statusCode).toBe(202);
    const { sessionId } = posted.json() as { sessionId: string };

    // A's router decides (nobody is signed in: the contact is queued) and logs it in A's SQLite only.
    await until(() => rowsOf(a, sessionId).length > 0, 20_000);
    expect(rowsOf(b, sessionId)).toEqual([]);
    expect(await b.services.store.getSession(sessionId)).toBeNull();
    // B reads it from the cluster: the same decisions, with A's times.
    await until(async () => (await b.services.store.decisions(sessionId)).length === rowsOf(a, sessionId).length, 10_000);
    expect((await b.services.store.decisions(sessionId)).map((d) => d.at)).toEqual(rowsOf(a, sessionId).map((r) => r.at));

    // B's what-if replays the window from the cluster: the one contact of this prefix, A's.
    const lead = await b.login('lead');
    const auth = { authorization: `Bearer ${lead}` };
    const current = (await b.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: auth })).json<RoutingConfigVersionView>()
      .config;
    const to = new Date(Date.now() + 1000).toISOString();
    const r = await b.app.inject({
      method: 'POST',
      url: '/api/v1/routing/simulate',
      headers: auth,
      payload: { config: current, window: { from, to }, workload: { source: 'auto', seed: 1 } },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json<SimulationResult>()).toMatchObject({ source: 'window', contacts: 1 });
    expect(r.json<SimulationResult>().partial).toBeUndefined();
  }, 90_000);

  it('with the cluster frozen, answers the what-if from its own log marked partial, and shows the outbox backlog rise on /metrics, then drain after the thaw', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    // From now: the contact of the test above (its first decision made before this) is not in the window.
    const from = new Date().toISOString();
    const externalId = `rlog-frozen-${randomUUID()}`;
    const posted = await a.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId, name: 'Frozen Test' }, text: 'my order did not arrive', clientMessageId: `${externalId}-1` },
    });
    expect(posted.statusCode).toBe(202);
    const { sessionId } = posted.json() as { sessionId: string };
    await until(() => rowsOf(a, sessionId).length > 0, 20_000);
    await until(async () => (await outboxGauges(a)).backlog === 0, 10_000);
    const [first] = await a.services.store.decisions(sessionId);
    const auths = await Promise.all([a, b].map(async (s) => ({ authorization: `Bearer ${await s.login('lead')}` })));
    const simulate = async (server: TestServer, auth: Record<string, string>) => {
      const current = (
        await server.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: auth })
      ).json<RoutingConfigVersionView>().config;
      const r = await server.app.inject({
        method: 'POST',
        url: '/api/v1/routing/simulate',
        headers: auth,
        payload: {
          config: current,
          window: { from, to: new Date(Date.now() + 1000).toISOString() },
          workload: { source: 'auto', seed: 1 },
        },
      });
      expect(r.statusCode).toBe(200);
      return r.json<SimulationResult>();
    };
    const rows = rowsOf(a, sessionId).length;

    const ports = cluster.livePorts();
    for (const port of ports) cluster.pauseNode(port, true);
    let saving: Promise<unknown> | undefined;
    try {
      // A decides again (a re-score of the queued contact): committed in A's SQLite, its copy waits.
      saving = a.services.store.saveRouting(
        sessionId,
        { ...first!.decision, trigger: 'rescored', decidedAt: new Date().toISOString() },
        null,
      );
      await until(() => rowsOf(a, sessionId).length > rows, 10_000);
      await until(async () => (await outboxGauges(a)).backlog >= 1, 10_000);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await outboxGauges(a)).oldestSeconds).toBeGreaterThanOrEqual(1);

      // A replays the window from its own SQLite: its contact, marked partial, with the note saying so.
      const onA = await simulate(a, auths[0]!);
      expect(onA, JSON.stringify({ ...onA, current: undefined, draft: undefined })).toMatchObject({
        source: 'window',
        contacts: 1,
        partial: true,
      });
      expect(onA.noteDetails?.map((n) => n.code)).toContain('decisions-local-only');
      // B's own SQLite has no decision of the window: its answer is partial too (a generated workload).
      expect(await simulate(b, auths[1]!)).toMatchObject({ source: 'generated', partial: true });
    } finally {
      for (const port of ports) cluster.pauseNode(port, false);
    }
    await saving;
    await cluster.waitHealthy();
    await until(async () => {
      const g = await outboxGauges(a);
      return g.backlog === 0 && g.oldestSeconds === 0;
    }, 30_000);
    const again = await simulate(b, auths[1]!);
    expect(again).toMatchObject({ source: 'window', contacts: 1 });
    expect(again.partial).toBeUndefined();
    expect((await b.services.store.decisions(sessionId)).map((d) => d.at)).toEqual(rowsOf(a, sessionId).map((r) => r.at));
  }, 120_000);
});

/** The routing decisions outbox's gauges on the server's real `GET /metrics` (loopback: no token). */
async function outboxGauges(server: TestServer): Promise<{ backlog: number; oldestSeconds: number }> {
  const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
  const value = (name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return { backlog: value('huiliu_routing_log_outbox_backlog'), oldestSeconds: value('huiliu_routing_log_outbox_oldest_seconds') };
}
