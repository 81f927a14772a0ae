import type { ValueFactsSource } from '../../../common/api/customers';
import type { ValueFacts } from '../routing/score';

/**
 * What routing's `valueScore` reads of one customer (DESIGN §5, issue 11), with where each fact came
 * from. The units: `spend` in the deployment's currency (≥ 0; `routing.value.spendCap` scales it),
 * `csat` 1..5 or null, `contacts30d` a count that includes the contact being routed.
 */
export interface CustomerValueFacts extends ValueFacts {
  source: ValueFactsSource;
}

/**
 * The customer facts port (issue 11; docs/customer-facts.md). The router asks it once per new contact,
 * before scoring. The embedded adapter (`facts.store.ts`) answers from the session store: the
 * customer's own contact history and ratings, plus facts imported by an admin or sent by the app
 * channel. A deployment with a CRM plugs in its own adapter (or wraps the embedded one and overrides
 * what its CRM knows better); every adapter passes `facts.contract.ts`.
 *
 * Rules every adapter keeps:
 * - never throws for a customer it does not know: it answers `DEFAULT_VALUE_FACTS` (spend 0, csat
 *   null — neutral, contacts from history), so a contact is never left unrouted for want of facts;
 * - answers within the router's budget (the embedded one reads SQLite: well under a millisecond; a
 *   CRM adapter should cache or time out and fall back to the default);
 * - `spend` ≥ 0, `csat` in 1..5 or null, `contacts30d` ≥ 1 for a customer who is writing now.
 */
export interface CustomerFacts {
  /**
   * @param customerId the store's customer id (UUIDv7)
   * @param now ms since the epoch: the 30-day contact window and the CSAT window end here
   */
  valueFacts(customerId: string, now: number): Promise<CustomerValueFacts>;
}

/** Contact frequency counts sessions opened in this many days (the `contacts30d` of DESIGN §5). */
export const CONTACT_WINDOW_DAYS = 30;
/** The customer's CSAT is the mean of their ratings in this many days… */
export const CSAT_WINDOW_DAYS = 365;
/** …counting at most this many, the newest: one bad day long ago weighs less than the last few. */
export const CSAT_MAX_RATINGS = 20;

/** What a customer with no history at all gets (documented in docs/customer-facts.md). */
export const DEFAULT_VALUE_FACTS: Readonly<Omit<CustomerValueFacts, 'contacts30d'>> = Object.freeze({
  spend: 0,
  csat: null,
  source: Object.freeze({ spend: 'default', csat: 'default', contacts30d: 'history' }),
});
