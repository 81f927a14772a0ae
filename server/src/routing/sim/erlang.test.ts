import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, RoutingConfigSchema, type ChannelKind } from '../../../../common/routing/types';
import { erlangAsa, erlangC, erlangServiceLevel } from './erlang';
import { createRandom } from './prng';
import { simulate, type SimAgent, type SimContact } from './simulate';

/** Erlang C from its textbook sum, to check the recursion against. */
function erlangCBySum(n: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < n; k++) {
    term *= a / k;
    sum += term;
  }
  const top = ((term * a) / n) * (n / (n - a));
  return top / (sum + top);
}

describe('Erlang C', () => {
  it('gives the textbook values', () => {
    // Two agents, one Erlang: a contact waits with probability 1/3.
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    for (const [n, a] of [
      [1, 0.5],
      [10, 8],
      [11, 10],
      [50, 45],
      [200, 190],
    ] as const) {
      expect(erlangC(n, a)).toBeCloseTo(erlangCBySum(n, a), 9);
    }
    // One agent (M/M/1): P(wait) = ρ, ASA = ρ/(1−ρ) × AHT.
    expect(erlangC(1, 0.75)).toBeCloseTo(0.75, 12);
    expect(erlangAsa(1, 0.75, 100)).toBeCloseTo(300, 9);
    expect(erlangServiceLevel(3, 3, 100, 20)).toBe(0);
    expect(erlangC(3, 4)).toBe(1);
  });
});

/**
 * Issue 11 "Measure": the simulator agrees with queueing theory. One skill group, N agents each
 * taking one contact at a time, Poisson arrivals, exponential handling, no abandonment, no after-call
 * work, every contact of the same priority (so the engine's queue order is first come first served and
 * aging changes nothing): the simulated service level is within 2 percentage points of Erlang C.
 *
 * Erlang C is evaluated at the workload's realized offered load (its arrivals per second × its mean
 * handle time): at 90 % occupancy a 0.4 % wobble of the generated load alone moves the service level
 * by about a point, which is the generator's sampling noise, not the simulator's. 300 simulated hours
 * (60,000–80,000 contacts) per level keep the remaining noise near half a point.
 */
describe('the what-if simulator against Erlang C (M/M/N)', () => {
  const AGENTS = 10;
  const AHT_S = 100;
  const THRESHOLD_S = 20;
  const HOURS = 300;
  const config = RoutingConfigSchema.parse({
    ...DEFAULT_ROUTING_CONFIG,
    // Every contact in one tier; one contact per agent whatever the channel; nothing after a contact.
    thresholds: { expert: 100, assisted: 0 },
    capacity: { chat: 1, voice: 1, chatsDuringVoice: 0 },
    afterCallWorkSeconds: { chat: 0, voice: 0 },
    serviceLevel: { thresholdSeconds: THRESHOLD_S, target: 0.8 },
  });
  const agents: SimAgent[] = Array.from({ length: AGENTS }, (_, i) => ({
    id: `a${i}`,
    username: `a${i}`,
    skillGroups: ['general'],
    expert: false,
  }));

  function run(occupancy: number, seed: number, channelKind: ChannelKind) {
    const r = createRandom(seed);
    const perSecond = (occupancy * AGENTS) / AHT_S;
    const endMs = HOURS * 3_600_000;
    const contacts: SimContact[] = [];
    let handleSum = 0;
    for (let t = r.exponential(1000 / perSecond); t < endMs; t += r.exponential(1000 / perSecond)) {
      const handleMs = r.exponential(AHT_S * 1000);
      handleSum += handleMs;
      contacts.push({
        arrivalMs: t,
        skillGroup: 'general',
        channelKind,
        value: null,
        valueScore: 50,
        difficultyScore: 50,
        handleMs,
        patienceMs: Infinity,
        ai: { contained: false, aiMs: 0 },
      });
    }
    const sim = simulate(contacts, agents, config, { startMs: 0, endMs, aiTier: false });
    const ahtS = handleSum / contacts.length / 1000;
    const erlangs = (contacts.length / (endMs / 1000)) * ahtS;
    return { sim: sim.metrics, theory: erlangServiceLevel(AGENTS, erlangs, ahtS, THRESHOLD_S), erlangs };
  }

  it.each([
    [0.7, 11, 'chat'],
    [0.8, 12, 'chat'],
    [0.9, 13, 'chat'],
    [0.85, 14, 'voice'],
  ] as const)('at %s occupancy (seed %s, %s) the service level is within 2 points of Erlang C', (occupancy, seed, kind) => {
    const { sim, theory, erlangs } = run(occupancy, seed, kind);
    expect(sim.serviceLevel).toBeGreaterThan(theory - 0.02);
    expect(sim.serviceLevel).toBeLessThan(theory + 0.02);
    // And the simulator's own accounting agrees with the load it was given.
    expect(sim.occupancy).toBeCloseTo(erlangs / AGENTS, 2);
    expect(sim.abandonment).toBe(0);
  });

  it('waits exactly as a plain first-come-first-served M/M/N loop on the same arrivals', () => {
    const r = createRandom(21);
    const contacts: SimContact[] = [];
    for (let t = 0, k = 0; k < 5000; k++) {
      t += r.exponential(1000 / ((0.9 * AGENTS) / AHT_S));
      contacts.push({
        arrivalMs: t,
        skillGroup: 'general',
        channelKind: 'chat',
        value: null,
        valueScore: 50,
        difficultyScore: 50,
        handleMs: r.exponential(AHT_S * 1000),
        patienceMs: Infinity,
        ai: { contained: false, aiMs: 0 },
      });
    }
    const sim = simulate(contacts, agents, config, { startMs: 0, endMs: contacts.at(-1)!.arrivalMs, aiTier: false });
    // Each contact takes the server free first; identical servers, so which one does not matter.
    const freeAt = new Array<number>(AGENTS).fill(0);
    const waits = contacts.map((c) => {
      let m = 0;
      for (let k = 1; k < AGENTS; k++) if (freeAt[k]! < freeAt[m]!) m = k;
      const start = Math.max(c.arrivalMs, freeAt[m]!);
      freeAt[m] = start + c.handleMs;
      return start - c.arrivalMs;
    });
    expect(waits.filter((w) => w > 0).length).toBeGreaterThan(1000);
    for (let i = 0; i < contacts.length; i++) expect(sim.outcomes.waitMs[i]).toBeCloseTo(waits[i]!, 6);
  });
});
