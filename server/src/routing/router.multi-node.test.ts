import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import type { Envelope } from '../../../common/message/envelope';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { AgentPool } from './agent-pool';
import { createRouter, type Router } from './router';

const CAPACITY = 2;
const AGENTS = ['a1', 'a2'];

/** Two server processes on one database: each its own connection, bus, agent pool and router. */
interface Node {
  store: SessionStore;
  bus: Bus;
  router: Router;
}

describe('routers of two servers on one SQLite database', () => {
  let dir: string;
  let keys: KeyProvider;
  let nodes: Node[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-two-nodes-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    const config: RoutingConfig = { ...DEFAULT_ROUTING_CONFIG, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: CAPACITY } };
    nodes = [];
    for (let i = 0; i < 2; i++) {
      const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys });
      const bus = createMemoryBus();
      // Both nodes see both agents (as a shared presence view will): the store must keep them apart.
      const pool = new AgentPool();
      for (const id of AGENTS) pool.connect({ id, username: id, displayName: id, skillGroups: ['general'], expert: false }, 0, 0);
      const router = createRouter({ store, bus, pool, config: () => config, logger: createLogger({ level: 'silent' }) });
      nodes.push({ store, bus, router });
    }
  });
  afterEach(async () => {
    for (const n of nodes) {
      await n.router.stop();
      await n.bus.close();
      await n.store.shutdown();
    }
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never lets their offers overfill an agent, and gives each contact to exactly one agent', async () => {
    const [a, b] = nodes as [Node, Node];
    const contacts: Envelope[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await a.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `race-${i}` } }), { skillGroup: 'general' });
      contacts.push(r.envelope);
    }
    // Both routers decide every contact at once, interleaving at every await.
    await Promise.all(contacts.flatMap((e) => [a.router.route(e), b.router.route(e)]));

    for (const agentId of AGENTS) {
      for (const n of nodes) {
        const load = await n.store.agentLoad(agentId);
        expect(load.active + load.offered).toBeLessThanOrEqual(CAPACITY);
        expect(load.offered).toBeGreaterThan(0);
      }
    }
    const sessions = await Promise.all(contacts.map((e) => b.store.getSession(e.sessionId)));
    for (const s of sessions) {
      expect(s!.status === 'offered' ? AGENTS : [null]).toContain(s!.offeredAgentId);
      // The session's state is the one its newest logged decision describes.
      expect((await a.store.decisions(s!.id)).at(-1)?.decision.offeredTo ?? null).toBe(s!.offeredAgentId);
    }

    // Each agent presses accept on a different server for every contact at the same moment.
    const outcomes = await Promise.all(
      contacts.map((e) =>
        Promise.allSettled([a.store.claim(e.sessionId, 'a1'), b.store.claim(e.sessionId, 'a2')]).then((pair) => ({
          id: e.sessionId,
          pair,
        })),
      ),
    );
    for (const { id, pair } of outcomes) {
      const winners = pair.flatMap((o, i) => (o.status === 'fulfilled' && o.value.changed ? [AGENTS[i]] : []));
      expect(winners).toHaveLength(1);
      const loser = pair.find((o) => o.status === 'rejected');
      expect(loser?.reason).toMatchObject({ code: 'OFFER_TAKEN' });
      expect((await a.store.getSession(id))?.assignedAgentId).toBe(winners[0]);
    }
    const held = await Promise.all(AGENTS.map(async (id) => (await b.store.agentLoad(id)).active));
    expect(held[0]! + held[1]!).toBe(contacts.length);
  });
});
