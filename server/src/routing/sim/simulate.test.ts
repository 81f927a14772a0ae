import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, RoutingConfigSchema, type RoutingConfig, type RoutingConfigInput } from '../../../../common/routing/types';
import { generateWorkload } from './generate';
import { OUTCOME, simulate, type SimAgent, type SimContact, type SimOptions } from './simulate';
import { pack, unpack, whatIf } from './what-if';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const S = 1000;
const MIN = 60 * S;

const configOf = (over: Partial<RoutingConfigInput> = {}): RoutingConfig =>
  RoutingConfigSchema.parse({ ...DEFAULT_ROUTING_CONFIG, afterCallWorkSeconds: { chat: 0, voice: 0 }, ...over });

/** A contact at `atS` seconds after T0, scored into `tier` by its difficulty (value facts: none, value score 0). */
function contact(atS: number, over: Partial<SimContact> & { tier?: 'expert' | 'assisted' | 'ai' } = {}): SimContact {
  const { tier = 'assisted', ...rest } = over;
  // priority = 0.6 × value + 0.4 × difficulty, value 0: difficulty 100 → 40 (ai), 0.6 × 100 + 0.4 × 100 = 100 (expert).
  const scores = {
    expert: { valueScore: 100, difficultyScore: 100 },
    assisted: { valueScore: 90, difficultyScore: 20 },
    ai: { valueScore: 0, difficultyScore: 50 },
  }[tier];
  return {
    arrivalMs: T0 + atS * S,
    skillGroup: 'general',
    channelKind: 'chat',
    value: null,
    ...scores,
    handleMs: 5 * MIN,
    patienceMs: Infinity,
    ai: { contained: false, aiMs: 60 * S },
    ...rest,
  };
}

const agent = (id: string, over: Partial<SimAgent> = {}): SimAgent => ({
  id,
  username: id,
  skillGroups: ['general'],
  expert: false,
  ...over,
});
const window = (hours = 1, aiTier = false): SimOptions => ({ startMs: T0, endMs: T0 + hours * 3600 * S, aiTier });

describe('the what-if simulator decides with the routing engine', () => {
  it('offers an expert-tier contact to an expert at once, and to others only when its ring widens', () => {
    const config = configOf();
    const atOnce = simulate([contact(0, { tier: 'expert' })], [agent('ann', { expert: true }), agent('bob')], config, window());
    expect(atOnce.outcomes.agent[0]).toBe(0);
    expect(atOnce.outcomes.waitMs[0]).toBe(0);
    // Bob has the default proficiency 3: the expert ring wants 4 until 30 s of waiting.
    const widened = simulate([contact(0, { tier: 'expert' })], [agent('bob')], config, window());
    expect(widened.outcomes.agent[0]).toBe(0);
    expect(widened.outcomes.waitMs[0]).toBe(30 * S);
    expect(widened.metrics.tierMix).toEqual({ expert: 1, assisted: 0, ai: 0 });
  });

  it('widens a skill group to its fallback after 120 s', () => {
    const config = configOf({ skillGroups: { vip: { fallback: 'general', proficiency: {} } } });
    const run = simulate([contact(0, { skillGroup: 'vip' })], [agent('bob')], config, window());
    expect(run.outcomes.waitMs[0]).toBe(120 * S);
    expect(run.metrics.bySkillGroup.vip).toMatchObject({ contacts: 1, serviceLevel: 0, asaSeconds: 120 });
  });

  it('takes waiting contacts by priority plus aging when an agent frees up', () => {
    const contacts = [
      contact(0, { handleMs: 10 * MIN }), // takes the only agent for 10 minutes
      contact(10, { valueScore: 60, difficultyScore: 60 }), // priority 60, waits 9:50
      contact(20, { valueScore: 100, difficultyScore: 100, tier: 'expert', skillGroup: 'general' }), // priority 100: first
    ];
    const run = simulate(
      contacts,
      [agent('bob', { expert: true })],
      configOf({ capacity: { chat: 1, voice: 1, chatsDuringVoice: 0 } }),
      window(),
    );
    expect(run.outcomes.waitMs[2]).toBe(10 * MIN - 20 * S);
    expect(run.outcomes.waitMs[1]).toBe(10 * MIN - 10 * S + 5 * MIN);
  });

  it('serves the oldest first once aging outweighs priority', () => {
    // 10 points a minute: the contact with priority 60 waiting 9:50 (+98) passes a fresh 100.
    const config = configOf({ capacity: { chat: 1, voice: 1, chatsDuringVoice: 0 }, aging: { pointsPerMinute: 10, maxBoost: 100 } });
    const contacts = [
      contact(0, { handleMs: 10 * MIN }),
      contact(10, { valueScore: 60, difficultyScore: 60 }),
      contact(590, { valueScore: 100, difficultyScore: 100, tier: 'expert' }),
    ];
    const run = simulate(contacts, [agent('bob', { expert: true })], config, window());
    expect(run.outcomes.waitMs[1]).toBe(10 * MIN - 10 * S);
  });

  it('holds up to the chat capacity at once and counts an agent holding any contact as busy', () => {
    const config = configOf(); // 3 chats
    const contacts = [0, 1, 2, 3].map((k) => contact(k, { handleMs: 30 * MIN }));
    const run = simulate(contacts, [agent('bob')], config, window());
    expect([...run.outcomes.waitMs]).toEqual([0, 0, 0, 30 * MIN - 3 * S]);
    // Busy from 0 s to 60:03 of a 60-minute window: all of it.
    expect(run.metrics.occupancy).toBe(1);
  });

  it('keeps an agent in after-call work after a call before the next one', () => {
    const config = configOf({ afterCallWorkSeconds: { chat: 0, voice: 30 } });
    const calls = [contact(0, { channelKind: 'voice', handleMs: 60 * S }), contact(10, { channelKind: 'voice' })];
    const run = simulate(calls, [agent('bob')], config, window());
    expect(run.outcomes.waitMs[1]).toBe(60 * S + 30 * S - 10 * S);
    // After-call work counts as busy: 0 → 90 s, then the second call for 5 minutes, then its 30 s.
    expect(run.metrics.occupancy).toBeCloseTo((90 + 300 + 30) / 3600, 4);
  });

  it('lets a customer abandon when their patience runs out, and counts them', () => {
    const config = configOf({ capacity: { chat: 1, voice: 1, chatsDuringVoice: 0 } });
    const contacts = [contact(0), contact(1, { patienceMs: 10 * S }), contact(2)];
    const run = simulate(contacts, [agent('bob')], config, window());
    expect(run.outcomes.outcome[1]).toBe(OUTCOME.abandoned);
    expect(run.outcomes.waitMs[1]).toBe(10 * S);
    expect(run.metrics.abandonment).toBeCloseTo(1 / 3, 4);
    // Nobody answers the one that never abandons until the agent is free: 5 minutes less 2 s.
    expect(run.outcomes.waitMs[2]).toBe(5 * MIN - 2 * S);
  });

  it('counts a contact no agent ever qualifies for as unanswered', () => {
    const run = simulate([contact(0, { skillGroup: 'billing' })], [agent('bob')], configOf(), window());
    expect(run.outcomes.outcome[0]).toBe(OUTCOME.unanswered);
    expect(run.metrics).toMatchObject({ unanswered: 1, abandonment: 1, serviceLevel: 0 });
  });

  it('lets the AI tier keep a contained contact, and queues a handed-over one from the hand-over on', () => {
    const contacts = [
      contact(0, { tier: 'ai', ai: { contained: true, aiMs: 0 } }),
      contact(0, { tier: 'ai', ai: { contained: false, aiMs: 45 * S } }),
    ];
    const withAi = simulate(contacts, [agent('bob')], configOf(), window(1, true));
    expect([...withAi.outcomes.outcome]).toEqual([OUTCOME.contained, OUTCOME.answered]);
    expect(withAi.outcomes.waitMs[1]).toBe(0);
    expect(withAi.metrics).toMatchObject({ containment: 0.5, serviceLevel: 1 });
    // Without the AI tier answering, both go to people (as the live router does).
    const without = simulate(contacts, [agent('bob')], configOf(), window(1, false));
    expect([...without.outcomes.outcome]).toEqual([OUTCOME.answered, OUTCOME.answered]);
    expect(without.metrics.containment).toBe(0);
  });

  it('takes no contact from an agent off shift, and counts only their shift as staffed', () => {
    const late = agent('bob', { shift: { fromMs: T0 + 30 * MIN, toMs: T0 + 60 * MIN } });
    const run = simulate([contact(0, { handleMs: 15 * MIN })], [late], configOf(), window());
    expect(run.outcomes.waitMs[0]).toBe(30 * MIN);
    expect(run.metrics.occupancy).toBe(0.5);
  });

  it('re-scores value from the facts under each config and compares current and draft', () => {
    const { contacts, agents } = generateWorkload({
      startMs: T0,
      contactsPerHour: 200,
      hours: 2,
      meanHandleSeconds: 240,
      meanPatienceSeconds: 120,
      mix: { general: 3, vip: 1 },
      agents: { general: 10, vip: 4 },
      expertShare: 0.25,
      voiceShare: 0.2,
      aiContainment: 0.4,
      meanAiSeconds: 60,
      seed: 5,
    });
    const current = configOf();
    const draft = configOf({ weights: { value: 0.9, difficulty: 0.1 }, thresholds: { expert: 60, assisted: 30 } });
    const workload = { contacts, agents, startMs: T0, endMs: T0 + 2 * 3600 * S, aiTier: true };
    const result = whatIf({ workload, current, draft });
    if ('budgetExceeded' in result) throw new Error('over budget');
    const out = result;
    expect(out.current.contacts).toBe(contacts.length);
    expect(out.draft.tierMix.expert).toBeGreaterThan(out.current.tierMix.expert);
    expect(out.changes.tierChanged).toBeGreaterThan(0);
    expect(out.changes.total).toBeGreaterThanOrEqual(out.changes.tierChanged);
    expect(out.changes.items.length).toBe(Math.min(200, out.changes.total));
    for (const item of out.changes.items)
      expect(item.current.tier !== item.draft.tier || item.current.agentId !== item.draft.agentId).toBe(true);
    // The same input, the same answer.
    expect(whatIf({ workload, current, draft })).toEqual(out);
    // A queue that never drains stops at the budget, with a plain answer the server turns into an error.
    expect(whatIf({ workload, current, draft, budgetMs: -1 })).toEqual({ budgetExceeded: true });
    for (const m of [out.current, out.draft]) {
      for (const rate of [m.serviceLevel, m.abandonment, m.occupancy, m.containment]) expect(rate).toBeGreaterThanOrEqual(0);
      for (const rate of [m.serviceLevel, m.abandonment, m.occupancy, m.containment]) expect(rate).toBeLessThanOrEqual(1);
      expect(m.hourly.map((h) => h.contacts).reduce((a, b) => a + b, 0)).toBe(contacts.length);
      expect(Object.values(m.bySkillGroup).reduce((a, g) => a + g.contacts, 0)).toBe(contacts.length);
    }
  });

  it('crosses to the worker thread packed into columns and back unchanged', () => {
    const contacts = [
      contact(0, { sessionId: 'WB178000000000012345', value: { spend: 120, csat: null, contacts30d: 2 } }),
      contact(5, { sessionId: 'AP178000000000054321', channelKind: 'voice', skillGroup: 'vip', patienceMs: 90 * S }),
      contact(9, { sessionId: 'SP178000000000011111', value: { spend: 0, csat: 2, contacts30d: 1 }, ai: { contained: true, aiMs: 0 } }),
    ];
    const input = {
      workload: { contacts, agents: [agent('bob')], startMs: T0, endMs: T0 + 3600 * S, aiTier: true },
      current: configOf(),
      draft: configOf(),
    };
    expect(unpack(structuredClone(pack(input)))).toEqual(input);
    const generated = { ...input, workload: { ...input.workload, contacts: contacts.map(({ sessionId: _s, ...c }) => c) } };
    expect(unpack(structuredClone(pack(generated)))).toEqual(generated);
  });
});
