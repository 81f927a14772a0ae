import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { Ingest } from '../gateway/ingest';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { AgentPool } from './agent-pool';
import { createRouter, type Router } from './router';
import { until } from '../../test/support/until';

describe('router', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let pool: AgentPool;
  let router: Router;
  let ingest: Ingest;
  let config: RoutingConfig;

  const agent = (id: string, skillGroups: string[], expert = false, idleSince = 0) =>
    pool.connect({ id, username: id, displayName: id, skillGroups, expert }, 0, idleSince);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-router-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    pool = new AgentPool();
    config = { ...DEFAULT_ROUTING_CONFIG, offerTimeoutMs: 150, chatCapacity: 2, reassignAfterMs: 200 };
    router = createRouter({ store, bus, pool, config: () => config, logger: createLogger({ level: 'silent' }) });
    ingest = new Ingest(store, bus);
  });
  afterEach(async () => {
    await router.stop();
    await bus.close();
    await store.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const contact = async (externalId: string, text = 'Where is my parcel?', skillGroup = 'general') => {
    const r = await ingest.accept(draft({ identity: { channel: 'WB', externalId }, text }), skillGroup);
    await until(async () => (await store.getSession(r.session.id))?.routing !== null);
    return (await store.getSession(r.session.id))!;
  };

  it('offers a new contact to the longest-idle available agent of its group', async () => {
    await router.start();
    agent('busy-newer', ['general'], false, 2000);
    agent('idle-longest', ['general'], false, 1000);
    agent('other-group', ['vip'], false, 0);
    const s = await contact('r-1');
    expect(s.status).toBe('offered');
    expect(s.offeredAgentId).toBe('idle-longest');
    expect(s.routing?.offeredTo).toBe('idle-longest');
  });

  it('prefers an expert for an expert-tier contact', async () => {
    config = { ...config, thresholds: { expert: 5, assisted: 2 } }; // every contact is expert tier
    await router.start();
    agent('generalist', ['general'], false, 0);
    agent('expert', ['general'], true, 5000);
    const s = await contact('r-2');
    expect(s.routing?.tier).toBe('expert');
    expect(s.offeredAgentId).toBe('expert');
  });

  it('passes an unanswered offer to the next agent when it times out', async () => {
    await router.start();
    agent('first', ['general'], false, 0);
    agent('second', ['general'], false, 1);
    const s = await contact('r-3');
    expect(s.offeredAgentId).toBe('first');
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'second');
    // With nobody else left, it waits in the queue rather than bouncing back forever.
    await until(async () => (await store.getSession(s.id))?.status === 'queued');
  });

  it('keeps a contact queued when nobody is free, and offers it when someone becomes available', async () => {
    await router.start();
    const s = await contact('r-4');
    expect(s.status).toBe('queued');
    expect(s.routing?.assignment).toMatch(/no available agent/);
    agent('late', ['general']);
    await router.agentAvailable('late');
    expect((await store.getSession(s.id))?.offeredAgentId).toBe('late');
  });

  it('respects chat capacity, counting pending offers', async () => {
    await router.start();
    agent('solo', ['general']);
    const a = await contact('cap-1');
    const b = await contact('cap-2');
    const c = await contact('cap-3');
    expect([a.offeredAgentId, b.offeredAgentId, c.offeredAgentId]).toEqual(['solo', 'solo', null]);
  });

  it('routes contacts stored before a restart (crash recovery)', async () => {
    const r = await store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'pre-crash' } }), { skillGroup: 'general' });
    expect(r.session.routing).toBeNull();
    agent('on-duty', ['general']);
    await router.start();
    const s = await store.getSession(r.session.id);
    expect(s?.routing).not.toBeNull();
    expect(s?.offeredAgentId).toBe('on-duty');
  });

  it('takes the chats of an agent who stays gone back to the queue and offers them to another agent', async () => {
    await router.start();
    agent('leaver', ['general'], false, 0);
    const s = await contact('gone-1');
    await store.claim(s.id, 'leaver');
    pool.setActiveChats('leaver', await store.activeChatCount('leaver'), Date.now());
    router.settle(s.id);
    const changes: { status: string; reason?: string }[] = [];
    await bus.subscribe('session.changed', 'test', (p) => void changes.push(p));
    // The leaver's app dies; a colleague is on duty.
    pool.disconnect('leaver');
    router.agentDisconnected('leaver');
    agent('colleague', ['general'], false, 0);
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'colleague');
    expect(await store.getSession(s.id)).toMatchObject({ status: 'offered', assignedAgentId: null });
    expect(changes[0]).toMatchObject({ status: 'queued', reason: 'released' });
  });

  it('leaves the chats alone when the agent comes back within the grace period', async () => {
    await router.start();
    agent('blinker', ['general'], false, 0);
    const s = await contact('gone-2');
    await store.claim(s.id, 'blinker');
    router.settle(s.id);
    pool.disconnect('blinker');
    router.agentDisconnected('blinker');
    agent('blinker', ['general'], false, 0);
    await router.agentAvailable('blinker');
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.getSession(s.id)).toMatchObject({ status: 'active', assignedAgentId: 'blinker' });
  });
});
