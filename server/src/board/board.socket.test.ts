import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import type { BoardContact, BoardSnapshot } from '../../../common/api/board';
import { DEFAULT_SLA_POLICIES, type SlaPolicy } from '../../../common/api/sla';
import type { Result } from '../../../common/errors/codes';
import { AGENT_NAMESPACE } from '../../../common/socket/agent-events';
import type { IdentityStore } from '../auth/identity';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { sessionChanged } from '../bus/events';
import { loadConfig } from '../config/config';
import type { ConversationService } from '../conversations/service';
import { Ingest } from '../gateway/ingest';
import { Limits } from '../http/limits';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { createMetrics } from '../metrics/metrics';
import { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { until } from '../../test/support/until';
import { createAgentHub, type AgentHub } from '../agent/hub';
import { createSqliteKpiEventLog, type KpiEventLog } from '../kpis/log.sqlite';
import { createSlaTracker, type SlaTracker } from '../sla/tracker';
import { createLiveBoard, type LiveBoard } from './service';

const user = (id: string, roles: UserView['roles'], skillGroups: string[]): UserView => ({
  id,
  username: id,
  displayName: id,
  roles,
  skillGroups,
  expert: false,
});
const USERS: Record<string, UserView> = {
  'lead-token': user('lead', ['lead'], ['general']),
  'admin-token': user('admin', ['admin'], []),
  'agent-token': user('agent1', ['agent'], ['general']),
};
const identity = {
  verifyToken: (token: string | undefined) => {
    const u = token ? USERS[token] : undefined;
    return u ? { user: u, tokenHash: `h-${u.id}`, expiresAt: Date.now() + 3_600_000 } : null;
  },
  verify: (token: string | undefined) => (token ? (USERS[token] ?? null) : null),
  onRevoked: () => () => undefined,
} as unknown as IdentityStore;

const PUSH_MS = 400;

describe('live board over the agent socket (issue 16: scope, pushes, coalescing)', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let ingest: Ingest;
  let http: HttpServer;
  let hub: AgentHub;
  let board: LiveBoard;
  let pool: AgentPool;
  let url: string;
  let kpiLog: KpiEventLog;
  let sla: SlaTracker;
  /** The SLA policies in force: none unless a test sets one (every contact then falls back to the threshold rule). */
  let policies: SlaPolicy[] = [];
  const sockets: Socket[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-board-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    ingest = new Ingest(store, bus);
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as { port: number }).port}${AGENT_NAMESPACE}`;
    const config = loadConfig({ env: { HUILIU_DATA_DIR: dir }, argv: [], cwd: process.cwd() });
    const metrics = createMetrics();
    pool = new AgentPool();
    const logger = createLogger({ level: 'silent' });
    policies = [];
    kpiLog = createSqliteKpiEventLog({ path: join(dir, 'kpis.sqlite') });
    sla = createSlaTracker({ bus, store, policies: () => policies, log: kpiLog, logger });
    await sla.start();
    board = await createLiveBoard({
      store,
      bus,
      pool,
      sla,
      serviceLevel: { voiceSeconds: 20, chatSeconds: 60, target: 0.8 },
      chatCapacity: async () => 3,
      skillGroups: () => ['general', 'vip'],
      pushIntervalMs: PUSH_MS,
      logger,
    });
    const router = {
      agentAvailable: async () => {},
      agentGone: async () => {},
      agentDisconnected: () => {},
      agentSignedOut: async () => {},
    };
    hub = await createAgentHub({
      httpServer: http as unknown as HttpsServer,
      auth: identity,
      store,
      bus,
      pool,
      router: router as unknown as Router,
      conversations: {} as ConversationService,
      logger,
      limits: new Limits(config.limits, [], metrics),
      metrics,
      board,
    });
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await hub.close();
    await board.close();
    await sla.stop();
    await bus.close();
    kpiLog.close();
    await new Promise((resolve) => http.close(resolve));
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function online(token: string): Promise<{ socket: Socket; updates: BoardSnapshot[] }> {
    const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    const updates: BoardSnapshot[] = [];
    socket.on('board:update', (s: BoardSnapshot) => void updates.push(s));
    await new Promise((resolve) => socket.once('hello', resolve));
    return { socket, updates };
  }
  const ask = <T>(socket: Socket, event: string, payload: unknown) =>
    new Promise<Result<T>>((resolve) => socket.emit(event, payload, (r: Result<T>) => resolve(r)));
  const say = (externalId: string, group: string, text = 'hello') =>
    ingest.accept(draft({ identity: { channel: 'AP', externalId, displayName: `Visitor ${externalId}` }, text }), group);
  const sessionIds = (snapshots: BoardSnapshot[]) => snapshots.flatMap((s) => s.groups.flatMap((g) => g.contacts.map((c) => c.sessionId)));

  it('refuses an agent with FORBIDDEN and pushes them nothing', async () => {
    const { socket, updates } = await online('agent-token');
    const r = await ask<BoardSnapshot>(socket, 'board:subscribe', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    await say('v1', 'general');
    await new Promise((resolve) => setTimeout(resolve, PUSH_MS + 300));
    expect(updates).toEqual([]);
  });

  it("gives a lead of general their group's board and pushes, and never a vip contact", async () => {
    const { socket, updates } = await online('lead-token');
    const vipBefore = await say('vip-early', 'vip');
    const r = await ask<BoardSnapshot>(socket, 'board:subscribe', {});
    expect(r.ok).toBe(true);
    const snapshot = (r as { data: BoardSnapshot }).data;
    expect(snapshot.groups.map((g) => g.skillGroup)).toEqual(['general']);
    expect(snapshot.rules).toEqual({ thresholds: { voice: 20, chat: 60 }, slaWarnShare: 0.8, silenceSeconds: 120 });
    expect(await ask(socket, 'board:subscribe', { skillGroups: ['vip'] })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await ask(socket, 'board:subscribe', { skillGroups: ['general', 'vip'] })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    // The refused asks left the first subscription as it was.
    const vip = await say('vip-1', 'vip');
    const general = await say('gen-1', 'general');
    await until(() => sessionIds(updates).includes(general.session.id));
    const pushed = updates.flatMap((u) => u.groups).find((g) => g.contacts.some((c) => c.sessionId === general.session.id))!;
    expect(pushed.skillGroup).toBe('general');
    expect(pushed.waiting.total).toBe(1);
    expect(pushed.contacts[0]).toMatchObject({ channel: 'AP', status: 'queued', customerName: 'Visitor gen-1' });
    await new Promise((resolve) => setTimeout(resolve, PUSH_MS + 300));
    const everything = JSON.stringify(updates) + JSON.stringify(snapshot);
    expect(everything).not.toContain(vip.session.id);
    expect(everything).not.toContain(vipBefore.session.id);
    expect(updates.every((u) => u.groups.every((g) => g.skillGroup === 'general'))).toBe(true);
    // No customer content: the message's words are not on the board.
    expect(everything).not.toContain('hello');
  });

  it('gives an admin every group, and pushes both', async () => {
    const { socket, updates } = await online('admin-token');
    const r = await ask<BoardSnapshot>(socket, 'board:subscribe', {});
    expect(r.ok && r.data.groups.map((g) => g.skillGroup)).toEqual(['general', 'vip']);
    const vip = await say('vip-2', 'vip');
    const general = await say('gen-2', 'general');
    await until(() => sessionIds(updates).includes(vip.session.id) && sessionIds(updates).includes(general.session.id));
  });

  it('coalesces a burst of changes into at most one push per interval', async () => {
    const { socket, updates } = await online('lead-token');
    await ask(socket, 'board:subscribe', {});
    const started = Date.now();
    for (let i = 0; i < 20; i++) await say(`burst-${i}`, 'general');
    await until(() => updates.some((u) => u.groups[0]!.waiting.total === 20));
    const elapsed = Date.now() - started;
    // One push per interval at most (+1 for the first, which waits only 100 ms).
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(elapsed / PUSH_MS) + 1);
    expect(updates.length).toBeLessThan(20);
  });

  it("pushes an agent's presence change, and stops on unsubscribe and with the socket", async () => {
    const lead = await online('lead-token');
    await ask(lead.socket, 'board:subscribe', {});
    const agent = await online('agent-token');
    await until(() => lead.updates.some((u) => u.groups[0]!.agents.list.some((a) => a.id === 'agent1' && a.presence === 'available')));
    pool.setPresence('agent1', 'away', Date.now());
    await until(() => lead.updates.some((u) => u.groups[0]!.agents.byPresence.away === 1));
    expect(await ask(lead.socket, 'board:unsubscribe', {})).toMatchObject({ ok: true });
    const count = lead.updates.length;
    await say('after-unsub', 'general');
    agent.socket.close();
    await new Promise((resolve) => setTimeout(resolve, PUSH_MS + 300));
    expect(lead.updates.length).toBe(count);
  });

  it('follows the SLA clock: a waiting contact under a 5 s first-response policy is pushed at risk, then breached', async () => {
    policies = [{ ...DEFAULT_SLA_POLICIES.policies[0]!, firstResponseSeconds: 5 }];
    const { socket, updates } = await online('lead-token');
    await ask(socket, 'board:subscribe', {});
    const queuedAt = Date.now();
    const waiting = await say('sla-1', 'general');
    const row = (u: BoardSnapshot): BoardContact | undefined =>
      u.groups.flatMap((g) => g.contacts).find((c) => c.sessionId === waiting.session.id);
    // Queued for a person (what the router announces): the tracker starts the first-response clock.
    await bus.publish(sessionChanged(waiting.session, 'routed', 'system'));
    await until(() => updates.some((u) => row(u)?.sla));
    const first = updates.map(row).find((c) => c?.sla)!;
    // The row carries the clock; at the queue time it is neither at risk nor breached.
    expect(first.sla).toMatchObject({ kind: 'first', breached: false, targetSeconds: 5 });
    expect(Date.parse(first.sla!.dueAt!) - Date.parse(waiting.session.waitingSince)).toBe(5_000);
    expect(first.trouble).toEqual([]);
    // No event happens after the queueing: the warn point (last 20 %: 4 s in) and the breach push by themselves.
    await until(() => updates.some((u) => row(u)?.trouble.includes('sla-risk')), 8_000);
    const risk = updates.map(row).find((c) => c?.trouble.includes('sla-risk'))!;
    expect(risk.sla!.breached).toBe(false);
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(3_900);
    await until(() => updates.some((u) => row(u)?.trouble.includes('sla-breached')), 8_000);
    const breached = updates.map(row).find((c) => c?.trouble.includes('sla-breached'))!;
    expect(breached.sla!.breached).toBe(true);
    expect(sla.statusOf(waiting.session.id)?.breached).toBe(true);
  }, 20_000);
});
