import type { ChannelKind } from '../../../../common/routing/types';
import type { ValueFacts } from '../score';
import { createRandom, type Random } from './prng';
import type { SimAgent, SimContact } from './simulate';

/**
 * A generated workload for the what-if simulator when there is no history to replay (issue 11):
 * Poisson arrivals, exponential handling, patience and AI time, each contact in one skill group by
 * `mix`, value facts and difficulty drawn from the documented distributions below. Deterministic for
 * a given `seed`.
 *
 * Distributions (docs/what-if.md):
 * - arrivals: a Poisson process of `contactsPerHour` (exponential gaps) over `hours` from `startMs`;
 * - skill group: by `mix` (shares, normalized); channel: a call with probability `voiceShare`, else a chat;
 * - handle time: exponential, mean `meanHandleSeconds` (at least 1 s); patience: exponential, mean
 *   `meanPatienceSeconds` (0: nobody abandons);
 * - spend: none for 25 % of customers, else log-uniform from 10 to 100,000; past CSAT: none for 50 %,
 *   else 1…5 with weights 10/10/20/30/30 %; contacts in 30 days: 1 + a geometric count (p = 0.6), at most 30;
 * - difficulty: 10 + 60 × the mean of two uniforms (10…70, mean 40), +15 for a call, at most 100;
 * - AI tier: kept to the end with probability `aiContainment`, else handed over after an exponential
 *   time of mean `meanAiSeconds`.
 */
export interface GenerateOptions {
  startMs: number;
  contactsPerHour: number;
  hours: number;
  meanHandleSeconds: number;
  /** 0: nobody abandons. */
  meanPatienceSeconds: number;
  /** Share of contacts per skill group (any non-negative weights; at least one positive). */
  mix: Record<string, number>;
  /** Agents per skill group, named `<group>-<n>` (ids `sim:<group>:<n>`); or agents given as they are. */
  agents: Record<string, number> | SimAgent[];
  /** Share of each group's generated agents flagged expert, rounded up. */
  expertShare: number;
  voiceShare: number;
  aiContainment: number;
  meanAiSeconds: number;
  seed: number;
}

const CSAT_WEIGHTS = [0.1, 0.1, 0.2, 0.3, 0.3];

function valueFacts(r: Random): ValueFacts {
  const spend = r.next() < 0.25 ? 0 : Math.round(10 ** (1 + 4 * r.next()));
  let csat: number | null = null;
  if (r.next() >= 0.5) {
    let u = r.next();
    csat = 5;
    for (let k = 0; k < CSAT_WEIGHTS.length; k++) {
      u -= CSAT_WEIGHTS[k]!;
      if (u < 0) {
        csat = k + 1;
        break;
      }
    }
  }
  let contacts30d = 1;
  while (contacts30d < 30 && r.next() >= 0.6) contacts30d++;
  return { spend, csat, contacts30d };
}

/** The agents of a generated workload: `count` per group, the first ⌈expertShare × count⌉ of each experts. */
export function generatedAgents(perGroup: Record<string, number>, expertShare: number): SimAgent[] {
  const agents: SimAgent[] = [];
  for (const [group, count] of Object.entries(perGroup)) {
    const experts = Math.ceil(expertShare * count);
    for (let k = 1; k <= count; k++)
      agents.push({ id: `sim:${group}:${k}`, username: `${group}-${k}`, skillGroups: [group], expert: k <= experts });
  }
  return agents;
}

/** Builds the contacts (in arrival order) and agents. Throws RangeError for a `mix` with no positive share. */
export function generateWorkload(o: GenerateOptions): { contacts: SimContact[]; agents: SimAgent[] } {
  const groups = Object.entries(o.mix).filter(([, w]) => w > 0);
  const total = groups.reduce((s, [, w]) => s + w, 0);
  if (groups.length === 0 || !(total > 0)) throw new RangeError('mix needs at least one skill group with a positive share');
  const r = createRandom(o.seed);
  const endMs = o.startMs + o.hours * 3_600_000;
  const gapMs = 3_600_000 / o.contactsPerHour;
  const contacts: SimContact[] = [];
  for (let t = o.startMs + r.exponential(gapMs); t < endMs; t += r.exponential(gapMs)) {
    let u = r.next() * total;
    let group = groups[groups.length - 1]![0];
    for (const [g, w] of groups) {
      u -= w;
      if (u < 0) {
        group = g;
        break;
      }
    }
    const channelKind: ChannelKind = r.next() < o.voiceShare ? 'voice' : 'chat';
    const value = valueFacts(r);
    const difficulty = Math.min(100, 10 + 60 * ((r.next() + r.next()) / 2) + (channelKind === 'voice' ? 15 : 0));
    const handleMs = Math.max(1000, r.exponential(o.meanHandleSeconds * 1000));
    const patienceMs = o.meanPatienceSeconds > 0 ? r.exponential(o.meanPatienceSeconds * 1000) : Infinity;
    const contained = r.next() < o.aiContainment;
    const aiMs = r.exponential(o.meanAiSeconds * 1000);
    contacts.push({
      arrivalMs: Math.round(t),
      skillGroup: group,
      channelKind,
      value,
      valueScore: 0,
      difficultyScore: Math.round(difficulty * 100) / 100,
      handleMs: Math.round(handleMs),
      patienceMs: patienceMs === Infinity ? Infinity : Math.round(patienceMs),
      ai: { contained, aiMs: Math.round(aiMs) },
    });
  }
  const agents = Array.isArray(o.agents) ? o.agents : generatedAgents(o.agents, o.expertShare);
  return { contacts, agents };
}
