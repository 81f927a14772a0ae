import type { ValueFacts } from '../routing/score';

/**
 * The `--demo` stand-in for a CRM (issue 10): a few named customers with purchase history and past
 * satisfaction, so the demo shows all three tiers. Everyone else has no history (spend 0, no CSAT):
 * with the default weights their priority stays at or below 50, the AI tier. A deployment plugs its
 * own customer facts in instead (the routing issue's `CustomerFacts` port).
 *
 * With the default config (spend cap 100,000; factor weights 0.5 / 0.3 / 0.2; weights 0.6 / 0.4):
 * - "Wang Fang": value ≈ 72 → priority ≈ 43 + 0.4 × difficulty: assisted for most questions;
 * - "Li Na":     value ≈ 82 → priority ≈ 49 + 0.4 × difficulty: expert when difficulty passes ≈ 78.
 */
export const DEMO_CUSTOMER_FACTS: Readonly<Record<string, { spend: number; csat: number }>> = {
  'wang fang': { spend: 60_000, csat: 2 },
  'li na': { spend: 100_000, csat: 1 },
};

/** Value facts for the router (`RouterDeps.valueFacts`) from the customer's name. */
export function demoValueFacts(nameOf: (customerId: string) => Promise<string | null>) {
  return async (customerId: string, contacts30d: number): Promise<ValueFacts> => {
    const name = (await nameOf(customerId))?.trim().toLowerCase();
    const known = name ? DEMO_CUSTOMER_FACTS[name] : undefined;
    return { spend: known?.spend ?? 0, csat: known?.csat ?? null, contacts30d };
  };
}
