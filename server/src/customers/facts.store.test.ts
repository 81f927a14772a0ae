import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { draft } from '../sessions/store.contract';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import type { SessionStore } from '../sessions/store';
import { customerFactsContract, type FactsHarness } from './facts.contract';
import { CSAT_MAX_RATINGS } from './facts';
import { createStoreCustomerFacts } from './facts.store';

const DAY_MS = 86_400_000;

/** A store on a temp dir whose clock the test moves, and the embedded adapter over it. */
async function openStore() {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-facts-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const now = Date.parse('2025-06-01T12:00:00Z');
  let clock = now;
  const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, now: () => clock, writer: 'inline' });
  let n = 0;
  /** One closed contact of `externalId`, opened `daysAgo` days before `now`, rated `score` when given. */
  async function contact(externalId: string, daysAgo: number, score?: number): Promise<string> {
    clock = now - daysAgo * DAY_MS;
    const r = await store.appendInbound(draft({ identity: { channel: 'AP', externalId }, clientMessageId: `c-${++n}` }), {
      skillGroup: 'general',
    });
    await store.claim(r.session.id, 'agent-a');
    await store.close(r.session.id, 'agent-a', 'resolved');
    if (score !== undefined) await store.rateSession({ sessionId: r.session.id, customerId: r.envelope.customerId, score });
    clock = now;
    return r.envelope.customerId;
  }
  return {
    store,
    now,
    contact,
    async cleanup() {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

customerFactsContract('embedded, over the SQLite session store', async (): Promise<FactsHarness> => {
  const s = await openStore();
  let n = 0;
  return {
    facts: createStoreCustomerFacts({ store: s.store }),
    now: s.now,
    async customer({ spend, csat, contactsDaysAgo = [] }) {
      const externalId = `contract:${++n}`;
      const [created] = await s.store.ensureCustomers([{ channel: 'AP', externalId }]);
      if (spend !== undefined || csat !== undefined) {
        await s.store.putCustomerFacts([{ customerId: created!.customerId, spend, csat, source: 'import' }]);
      }
      for (const days of [...contactsDaysAgo].sort((a, b) => b - a)) await s.contact(externalId, days);
      return created!.customerId;
    },
    cleanup: s.cleanup,
  };
});

describe('the embedded customer facts', () => {
  let s: Awaited<ReturnType<typeof openStore>>;
  let store: SessionStore;
  beforeEach(async () => {
    s = await openStore();
    store = s.store;
  });
  afterEach(async () => {
    await s.cleanup();
  });

  it("takes CSAT from the customer's own ratings over an imported one, and says so", async () => {
    const id = await s.contact('rater', 10, 5);
    await s.contact('rater', 5, 4);
    await store.putCustomerFacts([{ customerId: id, spend: 500, csat: 1, source: 'import' }]);
    const facts = await createStoreCustomerFacts({ store }).valueFacts(id, s.now);
    expect(facts).toEqual({ spend: 500, csat: 4.5, contacts30d: 2, source: { spend: 'import', csat: 'ratings', contacts30d: 'history' } });
  });

  it('uses the imported CSAT when the customer rated nothing in the last 12 months', async () => {
    const id = await s.contact('old-rater', 400, 5);
    await store.putCustomerFacts([{ customerId: id, csat: 2, source: 'app' }]);
    const facts = await createStoreCustomerFacts({ store }).valueFacts(id, s.now);
    expect(facts).toMatchObject({ spend: 0, csat: 2, contacts30d: 0, source: { spend: 'default', csat: 'app' } });
  });

  it(`averages only the newest ${CSAT_MAX_RATINGS} ratings`, async () => {
    // 25 ratings: the five oldest are 1s, the twenty newest 5s.
    let id = '';
    for (let i = 0; i < 25; i++) id = await s.contact('regular', 300 - i, i < 5 ? 1 : 5);
    const facts = await createStoreCustomerFacts({ store }).valueFacts(id, s.now);
    expect(facts.csat).toBe(5);
  });

  it("counts this customer's contacts only, and reads no other customer's facts", async () => {
    const id = await s.contact('one', 2);
    const other = await s.contact('someone-else', 1);
    await s.contact('someone-else', 0, 1);
    await store.putCustomerFacts([{ customerId: other, spend: 90_000, source: 'import' }]);
    expect(await createStoreCustomerFacts({ store }).valueFacts(id, s.now)).toMatchObject({ contacts30d: 1, spend: 0, csat: null });
  });
});
