import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { Ingest } from '../gateway/ingest';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { AgentPool } from '../routing/agent-pool';
import { createRouter, type Router } from '../routing/router';
import { valueScore } from '../routing/score';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { until } from '../../test/support/until';
import { createStoreCustomerFacts } from './facts.store';
import { storeFactsRows } from './import';

/** Issue 11: the router's value score is made from what the CustomerFacts port answers, as main.ts wires it. */
describe('routing with the customer facts port', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let router: Router;
  let ingest: Ingest;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-facts-router-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    const facts = createStoreCustomerFacts({ store });
    router = createRouter({
      store,
      bus,
      pool: new AgentPool(),
      config: () => DEFAULT_ROUTING_CONFIG,
      logger: createLogger({ level: 'silent' }),
      valueFacts: (customerId) => facts.valueFacts(customerId, Date.now()),
    });
    ingest = new Ingest(store, bus);
    await router.start();
  });
  afterEach(async () => {
    await router.stop();
    await bus.close();
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const contact = async (externalId: string) => {
    const r = await ingest.accept(draft({ identity: { channel: 'AP', externalId }, text: 'Where is my parcel?' }), 'general');
    await until(async () => (await store.getSession(r.session.id))?.routing !== null);
    return (await store.getSession(r.session.id))!.routing!;
  };

  it('scores value from imported spend and CSAT, past ratings and contact history, and records the facts it used', async () => {
    await storeFactsRows(store, [{ row: 1, identity: { channel: 'AP', externalId: 'shop:vip' }, spend: 60_000, csat: 2 }], 'import');
    const vip = await contact('shop:vip');
    const stranger = await contact('shop:new');
    expect(vip.facts?.value).toEqual({ spend: 60_000, csat: 2, contacts30d: 1 });
    expect(stranger.facts?.value).toEqual({ spend: 0, csat: null, contacts30d: 1 });
    expect(vip.valueScore).toBe(valueScore({ spend: 60_000, csat: 2, contacts30d: 1 }, DEFAULT_ROUTING_CONFIG).score);
    expect(vip.valueScore).toBeGreaterThan(stranger.valueScore + 50);
    expect(vip.reasons.find((r) => r.factor === 'value.satisfaction')?.note).toBe('past CSAT 2/5');

    // The stranger's chat closes and they rate it 1/5: their next contact is worth more (an unhappy
    // customer is at risk), and it counts as their second contact in 30 days.
    const [first] = await store.listSessions({ customerId: (await store.findCustomerByIdentity('AP', 'shop:new'))!.id });
    await store.claim(first!.id, 'agent-a');
    await store.close(first!.id, 'agent-a', 'resolved');
    await store.rateSession({ sessionId: first!.id, customerId: first!.customerId, score: 1 });
    const again = await contact('shop:new');
    expect(again.facts?.value).toEqual({ spend: 0, csat: 1, contacts30d: 2 });
    expect(again.valueScore).toBe(valueScore({ spend: 0, csat: 1, contacts30d: 2 }, DEFAULT_ROUTING_CONFIG).score);
    expect(again.valueScore).toBeGreaterThan(stranger.valueScore);
  });
});
