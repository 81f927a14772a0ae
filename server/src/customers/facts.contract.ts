import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { valueScore } from '../routing/score';
import { DEFAULT_VALUE_FACTS, type CustomerFacts } from './facts';

const DAY_MS = 86_400_000;

export interface FactsHarness {
  facts: CustomerFacts;
  /**
   * A customer with this history, made the adapter's way (an import and past contacts for the
   * embedded adapter, fixtures for a CRM adapter). `contactsDaysAgo`: when each of their contacts
   * opened, in days before `now`. Resolves with their customer id.
   */
  customer(history: { spend?: number; csat?: number; contactsDaysAgo?: number[] }): Promise<string>;
  /** The harness's "now" (ms), which `valueFacts` is asked with. */
  now: number;
  cleanup(): Promise<void>;
}

/** The CustomerFacts contract (issue 11): the embedded adapter now, a deployment's CRM adapter later, the same suite. */
export function customerFactsContract(name: string, factory: () => Promise<FactsHarness>): void {
  describe(`CustomerFacts contract: ${name}`, () => {
    let h: FactsHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('answers the documented default for a customer it knows nothing of, and never throws', async () => {
      const facts = await h.facts.valueFacts('00000000-0000-7000-8000-000000000001', h.now);
      expect(facts).toEqual({ ...DEFAULT_VALUE_FACTS, contacts30d: 0 });
    });

    it('answers the spend and CSAT it knows, within their ranges', async () => {
      const id = await h.customer({ spend: 60_000, csat: 2, contactsDaysAgo: [0] });
      const facts = await h.facts.valueFacts(id, h.now);
      expect(facts).toMatchObject({ spend: 60_000, csat: 2, contacts30d: 1 });
      expect(facts.source.spend).not.toBe('default');
      expect(facts.source.csat).not.toBe('default');
    });

    it('counts the contacts of the last 30 days only, the newest one included', async () => {
      const id = await h.customer({ contactsDaysAgo: [200, 45, 31, 29, 3, 0] });
      const facts = await h.facts.valueFacts(id, h.now);
      expect(facts.contacts30d).toBe(3);
      expect(facts).toMatchObject({ spend: 0, csat: null });
    });

    it('ends the windows at the `now` it is asked with', async () => {
      const id = await h.customer({ contactsDaysAgo: [20, 0] });
      expect((await h.facts.valueFacts(id, h.now)).contacts30d).toBe(2);
      // Fifteen days later the older contact has left the window (the newest still counts).
      expect((await h.facts.valueFacts(id, h.now + 15 * DAY_MS)).contacts30d).toBe(1);
    });

    it('gives a customer with purchase history and an unhappy past a higher value than a stranger', async () => {
      const known = await h.customer({ spend: 100_000, csat: 1, contactsDaysAgo: [0] });
      const stranger = await h.customer({ contactsDaysAgo: [0] });
      const score = async (id: string) => valueScore(await h.facts.valueFacts(id, h.now), DEFAULT_ROUTING_CONFIG).score;
      expect(await score(known)).toBeGreaterThan((await score(stranger)) + 40);
    });
  });
}
