import type { ValueFactsSource } from '../../../common/api/customers';
import type { SessionStore } from '../sessions/store';
import { CONTACT_WINDOW_DAYS, CSAT_MAX_RATINGS, CSAT_WINDOW_DAYS, DEFAULT_VALUE_FACTS, type CustomerFacts } from './facts';

const DAY_MS = 86_400_000;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** The reads the embedded adapter makes of the session store. */
export type FactsStorePort = Pick<SessionStore, 'countSessions' | 'customerFacts' | 'customerRatings'>;

/**
 * The mean of a customer's own ratings in the CSAT window (`CSAT_WINDOW_DAYS`, at most the newest
 * `CSAT_MAX_RATINGS`), rounded to 2 decimals; null when they gave none there.
 */
export async function ratingsSummary(
  store: Pick<SessionStore, 'customerRatings'>,
  customerId: string,
  now: number,
): Promise<{ count: number; mean: number | null }> {
  const since = new Date(now - CSAT_WINDOW_DAYS * DAY_MS).toISOString();
  const ratings = await store.customerRatings(customerId, { since, limit: CSAT_MAX_RATINGS });
  if (ratings.length === 0) return { count: 0, mean: null };
  return { count: ratings.length, mean: round2(ratings.reduce((sum, r) => sum + r.score, 0) / ratings.length) };
}

/**
 * The embedded `CustomerFacts` adapter (issue 11), over the session store:
 * - `contacts30d`: the customer's sessions opened in the last `CONTACT_WINDOW_DAYS` days, on every
 *   channel (the contact being routed included);
 * - `csat`: the mean of the customer's own ratings here (`ratingsSummary`); when they gave none in the
 *   window, the CSAT an import or the app channel set; else null (neutral);
 * - `spend`: what an import or the app channel set last; else 0.
 * Three indexed SQLite reads and, with stored facts, one AES-GCM open: well under a millisecond.
 */
export function createStoreCustomerFacts(deps: { store: FactsStorePort }): CustomerFacts {
  const { store } = deps;
  return {
    async valueFacts(customerId, now) {
      const [contacts30d, stored, ratings] = await Promise.all([
        store.countSessions({ customerId, contactsOnly: true, createdSince: new Date(now - CONTACT_WINDOW_DAYS * DAY_MS).toISOString() }),
        store.customerFacts(customerId),
        ratingsSummary(store, customerId, now),
      ]);
      const source: ValueFactsSource = { ...DEFAULT_VALUE_FACTS.source };
      let spend = DEFAULT_VALUE_FACTS.spend;
      let csat = DEFAULT_VALUE_FACTS.csat;
      if (stored?.spend) {
        spend = stored.spend.value;
        source.spend = stored.spend.source;
      }
      // The customer's own ratings here are the freshest evidence; another system's CSAT fills in.
      if (ratings.mean !== null) {
        csat = ratings.mean;
        source.csat = 'ratings';
      } else if (stored?.csat) {
        csat = stored.csat.value;
        source.csat = stored.csat.source;
      }
      return { spend, csat, contacts30d, source };
    },
  };
}

/**
 * The skill groups a customer was served in — their whole merge group's sessions (issue 12): what
 * `customer.view` and `customer.merge` are scoped by (auth/policy.ts).
 */
export async function customerSkillGroups(store: Pick<SessionStore, 'listSessions'>, customerId: string): Promise<string[]> {
  const sessions = await store.listSessions({ customerId, limit: 5000 });
  return [...new Set(sessions.map((s) => s.skillGroup))];
}
