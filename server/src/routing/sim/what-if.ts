import type { SimulationChange, SimulationMetrics } from '../../../../common/api/routing';
import type { RoutingConfig } from '../../../../common/routing/types';
import { simulate, TIERS, type SimAgent, type SimContact, type SimOutcomes } from './simulate';

/** A workload ready to simulate: contacts in arrival order, agents, the measured interval. */
export interface Workload {
  contacts: SimContact[];
  agents: SimAgent[];
  startMs: number;
  endMs: number;
  /** Whether the AI tier answers `ai`-tier contacts. */
  aiTier: boolean;
}

/** What-if input: one workload, the config in force and the draft. Plain data (it crosses to a worker thread). */
export interface WhatIfInput {
  workload: Workload;
  current: RoutingConfig;
  draft: RoutingConfig;
  /** How many changed contacts to list (default 200); the totals count them all. */
  maxItems?: number;
}

export interface WhatIfOutput {
  current: SimulationMetrics;
  draft: SimulationMetrics;
  changes: { total: number; tierChanged: number; agentChanged: number; items: SimulationChange[] };
  /** Events each simulation processed. */
  events: { current: number; draft: number };
}

/**
 * Simulates the workload under the current config and under the draft (the same contacts, agents
 * and assumptions) and lists the contacts whose tier or answering agent differs. Pure and
 * synchronous: the server runs it in a worker thread (`sim.worker.ts`).
 */
export function whatIf(input: WhatIfInput): WhatIfOutput {
  const { workload } = input;
  const options = { startMs: workload.startMs, endMs: workload.endMs, aiTier: workload.aiTier };
  const cur = simulate(workload.contacts, workload.agents, input.current, options);
  const dr = simulate(workload.contacts, workload.agents, input.draft, options);
  return {
    current: cur.metrics,
    draft: dr.metrics,
    changes: changesBetween(workload, cur.outcomes, dr.outcomes, input.maxItems ?? 200),
    events: { current: cur.events, draft: dr.events },
  };
}

function changesBetween(workload: Workload, a: SimOutcomes, b: SimOutcomes, maxItems: number): WhatIfOutput['changes'] {
  let total = 0;
  let tierChanged = 0;
  let agentChanged = 0;
  const items: SimulationChange[] = [];
  const agentId = (k: number) => (k >= 0 ? workload.agents[k]!.id : null);
  for (let i = 0; i < workload.contacts.length; i++) {
    const tier = a.tier[i] !== b.tier[i];
    const agent = a.agent[i] !== b.agent[i];
    if (!tier && !agent) continue;
    total++;
    if (tier) tierChanged++;
    if (agent) agentChanged++;
    if (items.length >= maxItems) continue;
    const c = workload.contacts[i]!;
    items.push({
      ...(c.sessionId ? { sessionId: c.sessionId } : {}),
      index: i,
      arrivedAt: new Date(c.arrivalMs).toISOString(),
      current: { tier: TIERS[a.tier[i]!]!, agentId: agentId(a.agent[i]!), priority: a.priority[i]! },
      draft: { tier: TIERS[b.tier[i]!]!, agentId: agentId(b.agent[i]!), priority: b.priority[i]! },
    });
  }
  return { total, tierChanged, agentChanged, items };
}
