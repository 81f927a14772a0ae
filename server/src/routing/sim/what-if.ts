import type { SimulationChange, SimulationMetrics } from '../../../../common/api/routing';
import type { RoutingConfig } from '../../../../common/routing/types';
import { simulate, SimulationBudgetExceeded, TIERS, type SimAgent, type SimContact, type SimOutcomes } from './simulate';

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
/** Wall time a what-if (both simulations) may take before it is abandoned, ms. */
export const WHAT_IF_BUDGET_MS = 30_000;

export interface WhatIfInput {
  workload: Workload;
  current: RoutingConfig;
  draft: RoutingConfig;
  /** How many changed contacts to list (default 200); the totals count them all. */
  maxItems?: number;
  /** Wall time both simulations together may take, ms (default 30,000). */
  budgetMs?: number;
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
export function whatIf(input: WhatIfInput): WhatIfOutput | { budgetExceeded: true } {
  const { workload } = input;
  const deadline = Date.now() + (input.budgetMs ?? WHAT_IF_BUDGET_MS);
  const options = { startMs: workload.startMs, endMs: workload.endMs, aiTier: workload.aiTier, deadline };
  let cur: ReturnType<typeof simulate>;
  let dr: ReturnType<typeof simulate>;
  try {
    cur = simulate(workload.contacts, workload.agents, input.current, options);
    dr = simulate(workload.contacts, workload.agents, input.draft, options);
  } catch (error) {
    // A plain answer, not an error: errors lose their class on the way back from the worker thread.
    if (error instanceof SimulationBudgetExceeded) return { budgetExceeded: true };
    throw error;
  }
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

/**
 * A what-if input packed for the trip to the worker thread: the contacts as columns of typed arrays
 * and one string of session ids, so the structured clone is a few memory copies (~10 ms for 100,000
 * contacts) instead of walking 100,000 objects on the sockets' thread (~300 ms).
 */
export interface PackedWhatIfInput {
  current: RoutingConfig;
  draft: RoutingConfig;
  maxItems?: number;
  agents: SimAgent[];
  startMs: number;
  endMs: number;
  aiTier: boolean;
  /** Skill group names; `group` holds indexes into it. */
  groups: string[];
  /** Per contact, `NUMS` numbers: see `pack`. */
  nums: Float64Array;
  /** Per contact: 1 a call, 2 contained by the AI, 4 has value facts, 8 has CSAT. */
  flags: Uint8Array;
  group: Uint32Array;
  /** Session ids joined by newlines, or null for a generated workload. */
  sessionIds: string | null;
}

const NUMS = 9;

/** Packs a what-if input for `unpack` (in the worker). */
export function pack(input: WhatIfInput): PackedWhatIfInput {
  const { contacts } = input.workload;
  const n = contacts.length;
  const groups: string[] = [];
  const groupIndex = new Map<string, number>();
  const nums = new Float64Array(n * NUMS);
  const flags = new Uint8Array(n);
  const group = new Uint32Array(n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = contacts[i]!;
    let g = groupIndex.get(c.skillGroup);
    if (g === undefined) {
      groupIndex.set(c.skillGroup, (g = groups.length));
      groups.push(c.skillGroup);
    }
    group[i] = g;
    const o = i * NUMS;
    nums[o] = c.arrivalMs;
    nums[o + 1] = c.valueScore;
    nums[o + 2] = c.difficultyScore;
    nums[o + 3] = c.handleMs;
    nums[o + 4] = c.patienceMs;
    nums[o + 5] = c.ai.aiMs;
    nums[o + 6] = c.value?.spend ?? 0;
    nums[o + 7] = c.value?.csat ?? 0;
    nums[o + 8] = c.value?.contacts30d ?? 0;
    flags[i] =
      (c.channelKind === 'voice' ? 1 : 0) | (c.ai.contained ? 2 : 0) | (c.value ? 4 : 0) | (c.value && c.value.csat !== null ? 8 : 0);
    if (c.sessionId !== undefined) ids.push(c.sessionId);
  }
  const { workload } = input;
  return {
    current: input.current,
    draft: input.draft,
    ...(input.maxItems !== undefined ? { maxItems: input.maxItems } : {}),
    agents: workload.agents,
    startMs: workload.startMs,
    endMs: workload.endMs,
    aiTier: workload.aiTier,
    groups,
    nums,
    flags,
    group,
    // Session ids are the store's 20-character ids: never a newline in them.
    sessionIds: ids.length === n && n > 0 ? ids.join('\n') : null,
  };
}

/** The inverse of `pack`. */
export function unpack(p: PackedWhatIfInput): WhatIfInput {
  const n = p.flags.length;
  const ids = p.sessionIds?.split('\n') ?? null;
  const contacts: SimContact[] = new Array<SimContact>(n);
  for (let i = 0; i < n; i++) {
    const o = i * NUMS;
    const f = p.flags[i]!;
    contacts[i] = {
      arrivalMs: p.nums[o]!,
      skillGroup: p.groups[p.group[i]!]!,
      channelKind: f & 1 ? 'voice' : 'chat',
      value: f & 4 ? { spend: p.nums[o + 6]!, csat: f & 8 ? p.nums[o + 7]! : null, contacts30d: p.nums[o + 8]! } : null,
      valueScore: p.nums[o + 1]!,
      difficultyScore: p.nums[o + 2]!,
      handleMs: p.nums[o + 3]!,
      patienceMs: p.nums[o + 4]!,
      ai: { contained: (f & 2) !== 0, aiMs: p.nums[o + 5]! },
      ...(ids ? { sessionId: ids[i]! } : {}),
    };
  }
  return {
    workload: { contacts, agents: p.agents, startMs: p.startMs, endMs: p.endMs, aiTier: p.aiTier },
    current: p.current,
    draft: p.draft,
    ...(p.maxItems !== undefined ? { maxItems: p.maxItems } : {}),
  };
}
