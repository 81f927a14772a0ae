import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, RoutingConfigSchema, type RoutingConfig } from '../../../common/routing/types';
import {
  channelKindOf,
  compareWaiting,
  effectivePriority,
  proficiencyOf,
  ringAt,
  roomFor,
  selectAgents,
  type EngineAgent,
  type EngineContact,
} from './engine';

const NOW = Date.parse('2026-11-30T10:00:00Z');
const config: RoutingConfig = RoutingConfigSchema.parse({
  ...DEFAULT_ROUTING_CONFIG,
  skillGroups: {
    vip: { fallback: 'general', proficiency: { ann: 5, bob: 2 } },
    general: { proficiency: { cat: 4, dan: 2 } },
  },
});

function agent(id: string, over: Partial<EngineAgent> = {}): EngineAgent {
  return {
    id,
    username: id,
    skillGroups: ['general'],
    expert: false,
    presence: 'available',
    load: { chat: 0, voice: 0 },
    idleSince: NOW - 60_000,
    ...over,
  };
}

function contact(over: Partial<EngineContact> = {}): EngineContact {
  return { id: 'c1', skillGroup: 'general', channelKind: 'chat', tier: 'assisted', priority: 60, queuedAt: NOW, ...over };
}

describe('queue order', () => {
  it('ages waiting contacts by points per minute up to the cap', () => {
    expect(effectivePriority(40, 0, config.aging)).toBe(40);
    expect(effectivePriority(40, 5 * 60_000, config.aging)).toBe(50); // 2 points a minute
    expect(effectivePriority(40, 600 * 60_000, { pointsPerMinute: 2, maxBoost: 30 })).toBe(70);
  });

  it('orders by effective priority, then first come first served', () => {
    const fresh = contact({ id: 'fresh', priority: 70, queuedAt: NOW });
    const old = contact({ id: 'old', priority: 55, queuedAt: NOW - 10 * 60_000 }); // 55 + 20 = 75
    const sameEarly = contact({ id: 'a', priority: 60, queuedAt: NOW - 1000 });
    const sameLate = contact({ id: 'b', priority: 60, queuedAt: NOW - 1000, seq: 2 });
    const order = [fresh, sameLate, old, sameEarly].sort((x, y) => compareWaiting(x, y, NOW, config)).map((c) => c.id);
    expect(order).toEqual(['old', 'fresh', 'a', 'b']);
  });

  it('lets nothing starve: a low priority contact passes a stream of fresh high ones', () => {
    const low = contact({ id: 'low', priority: 0, queuedAt: NOW - 51 * 60_000 });
    const high = contact({ id: 'high', priority: 100, queuedAt: NOW });
    expect(compareWaiting(low, high, NOW, config)).toBeLessThan(0);
    const noAging = { ...config, aging: { pointsPerMinute: 0, maxBoost: 0 } };
    expect(compareWaiting(low, high, NOW, noAging)).toBeGreaterThan(0);
  });
});

describe('widening rings', () => {
  it('opens rings by waiting time and keeps groups earlier rings added', () => {
    expect(ringAt(config, 'expert', 'vip', 0)).toMatchObject({ index: 0, minProficiency: 4, skillGroups: ['vip'], nextAtMs: 30_000 });
    expect(ringAt(config, 'expert', 'vip', 30_000)).toMatchObject({ index: 1, minProficiency: 1, skillGroups: ['vip'] });
    expect(ringAt(config, 'expert', 'vip', 120_000)).toMatchObject({ index: 2, skillGroups: ['vip', 'general'], nextAtMs: null });
    // A group without a fallback gains nothing from addFallback.
    expect(ringAt(config, 'assisted', 'general', 999_000).skillGroups).toEqual(['general']);
  });

  it('can add skill groups explicitly, not only relax proficiency', () => {
    const c = RoutingConfigSchema.parse({
      ...config,
      widening: {
        ...config.widening,
        assisted: [
          { afterSeconds: 0, minProficiency: 3 },
          { afterSeconds: 60, minProficiency: 3, addSkillGroups: ['billing'] },
        ],
      },
    });
    expect(ringAt(c, 'assisted', 'general', 59_999).skillGroups).toEqual(['general']);
    expect(ringAt(c, 'assisted', 'general', 60_000).skillGroups).toEqual(['general', 'billing']);
  });

  it('an expert contact goes to high proficiency first, then to anyone after the ring widens', () => {
    const agents = [agent('bob', { skillGroups: ['vip'] }), agent('ann', { skillGroups: ['vip'], load: { chat: 3, voice: 0 } })];
    const early = selectAgents(contact({ skillGroup: 'vip', tier: 'expert' }), agents, config, NOW);
    expect(early.ranked).toEqual([]);
    expect(early.candidates.find((c) => c.agentId === 'bob')).toMatchObject({ codes: ['below-ring-proficiency'], proficiency: 2 });
    expect(early.candidates.find((c) => c.agentId === 'ann')).toMatchObject({
      codes: ['at-capacity'],
      reasons: ['at capacity: 3/3 chats'],
    });
    const later = selectAgents(contact({ skillGroup: 'vip', tier: 'expert', queuedAt: NOW - 31_000 }), agents, config, NOW);
    expect(later.ranked.map((a) => a.id)).toEqual(['bob']);
    expect(later.ring.index).toBe(1);
  });

  it('reaches the fallback skill group after the last ring opens', () => {
    const agents = [agent('cat', { skillGroups: ['general'] })];
    expect(selectAgents(contact({ skillGroup: 'vip', tier: 'assisted' }), agents, config, NOW).ranked).toEqual([]);
    const wide = selectAgents(contact({ skillGroup: 'vip', tier: 'assisted', queuedAt: NOW - 120_000 }), agents, config, NOW);
    expect(wide.ranked.map((a) => a.id)).toEqual(['cat']);
    expect(wide.candidates[0]).toMatchObject({ chosen: true, skillGroup: 'general', proficiency: 4 });
  });
});

describe('agent choice', () => {
  it('qualified, then capacity, then highest proficiency, then longest idle', () => {
    const agents = [
      agent('dan', { idleSince: NOW - 900_000 }), // proficiency 2, idle longest
      agent('cat', { idleSince: NOW - 10_000 }), // proficiency 4
      agent('eve', { idleSince: NOW - 20_000 }), // default 3
      agent('fay', { idleSince: NOW - 30_000 }), // default 3, idle longer than eve
      agent('gus', { presence: 'away' }),
      agent('hal', { load: { chat: 3, voice: 0 } }),
      agent('ivy', { skillGroups: ['vip'] }),
    ];
    const s = selectAgents(contact(), agents, config, NOW);
    expect(s.ranked.map((a) => a.id)).toEqual(['cat', 'fay', 'eve', 'dan']);
    const why = Object.fromEntries(s.candidates.map((c) => [c.agentId, c]));
    expect(why.cat).toMatchObject({ chosen: true, codes: ['chosen'] });
    expect(why.fay).toMatchObject({ chosen: false, codes: ['lower-proficiency'] });
    expect(why.gus).toMatchObject({ codes: ['presence'], reasons: ['presence away'] });
    expect(why.hal).toMatchObject({ codes: ['at-capacity'], reasons: ['at capacity: 3/3 chats'] });
    expect(why.ivy).toMatchObject({ codes: ['not-in-skill-group'], reasons: ['not in skill group general'] });
  });

  it('breaks a proficiency tie by longest idle and says so', () => {
    const s = selectAgents(contact(), [agent('eve', { idleSince: NOW - 20_000 }), agent('fay', { idleSince: NOW - 30_000 })], config, NOW);
    expect(s.ranked.map((a) => a.id)).toEqual(['fay', 'eve']);
    expect(s.candidates.find((c) => c.agentId === 'eve')).toMatchObject({ codes: ['shorter-idle'] });
  });

  it('passes over an agent who declined within one offer time-out, and says when they qualify again', () => {
    const declinedAt = NOW - 10_000;
    const declined = new Map([['cat', declinedAt]]);
    const both = selectAgents(contact(), [agent('cat'), agent('eve')], config, NOW, { declined });
    expect(both.ranked.map((a) => a.id)).toEqual(['eve']);
    expect(both.coolingEndsAt).toBeNull();
    expect(both.candidates.find((c) => c.agentId === 'cat')).toMatchObject({
      codes: ['declined-recently'],
      reasons: ['declined or missed this contact 10 s ago'],
    });
    const alone = selectAgents(contact(), [agent('cat')], config, NOW, { declined });
    expect(alone.ranked).toEqual([]);
    expect(alone.coolingEndsAt).toBe(declinedAt + config.offerTimeoutMs);
    const past = selectAgents(contact(), [agent('cat'), agent('eve')], config, NOW, { declined: new Map([['cat', NOW - 25_000]]) });
    expect(past.ranked.map((a) => a.id)).toEqual(['cat', 'eve']);
  });

  it('never offers a contact to the agent transferring it', () => {
    const s = selectAgents(contact(), [agent('cat'), agent('eve')], config, NOW, { exclude: new Set(['cat']) });
    expect(s.ranked.map((a) => a.id)).toEqual(['eve']);
    expect(s.candidates.find((c) => c.agentId === 'cat')).toMatchObject({ codes: ['transfer-source'] });
  });

  it('counts experts as proficiency 5 everywhere they belong', () => {
    expect(proficiencyOf(config, { username: 'zed', expert: true }, 'general')).toBe(5);
    expect(proficiencyOf(config, { username: 'dan', expert: false }, 'general')).toBe(2);
    expect(proficiencyOf(config, { username: 'new', expert: false }, 'general')).toBe(3);
  });

  it('does not build explanations when asked not to, and lists other groups only on small floors', () => {
    const quiet = selectAgents(contact(), [agent('cat')], config, NOW, { explain: false });
    expect(quiet.ranked).toHaveLength(1);
    expect(quiet.candidates).toEqual([]);
    const floor = Array.from({ length: 60 }, (_, i) => agent(`v${i}`, { skillGroups: ['vip'] }));
    const big = selectAgents(contact(), [agent('cat'), ...floor], config, NOW);
    expect(big.candidates.map((c) => c.agentId)).toEqual(['cat']);
  });
});

describe('capacity per channel kind and the mixed-load rule', () => {
  const cap = { chat: 3, voice: 1, chatsDuringVoice: 0 };
  it('counts chats and calls separately', () => {
    expect(roomFor({ load: { chat: 2, voice: 0 } }, 'chat', cap)).toEqual({ ok: true });
    expect(roomFor({ load: { chat: 3, voice: 0 } }, 'chat', cap)).toMatchObject({ ok: false, code: 'at-capacity' });
    expect(roomFor({ load: { chat: 0, voice: 1 } }, 'voice', cap)).toMatchObject({ ok: false, code: 'at-capacity' });
  });
  it('a call is exclusive by default, and a looser rule allows chats beside it', () => {
    expect(roomFor({ load: { chat: 0, voice: 1 } }, 'chat', cap)).toMatchObject({ ok: false, code: 'mixed-load' });
    expect(roomFor({ load: { chat: 1, voice: 0 } }, 'voice', cap)).toMatchObject({ ok: false, code: 'mixed-load' });
    const loose = { ...cap, chatsDuringVoice: 1 };
    expect(roomFor({ load: { chat: 0, voice: 1 } }, 'chat', loose)).toEqual({ ok: true });
    expect(roomFor({ load: { chat: 1, voice: 1 } }, 'chat', loose)).toMatchObject({ ok: false, code: 'mixed-load' });
    expect(roomFor({ load: { chat: 1, voice: 0 } }, 'voice', loose)).toEqual({ ok: true });
  });
  it('voice is the SIP channel; everything else is chat', () => {
    expect(channelKindOf('SP')).toBe('voice');
    expect(['WB', 'AP', 'WX', 'XM'].map((c) => channelKindOf(c as 'WB'))).toEqual(['chat', 'chat', 'chat', 'chat']);
  });
});

describe('config version 2', () => {
  it('reads a stored first-shape config: chatCapacity becomes capacity.chat, the rest defaults', () => {
    const {
      capacity: _c,
      afterCallWorkSeconds: _a,
      aging: _g,
      defaultProficiency: _d,
      skillGroups: _s,
      widening: _w,
      serviceLevel: _l,
      ...v1
    } = DEFAULT_ROUTING_CONFIG;
    const parsed = RoutingConfigSchema.parse({ ...v1, chatCapacity: 5 });
    expect(parsed.capacity).toEqual({ chat: 5, voice: 1, chatsDuringVoice: 0 });
    expect(parsed.widening.expert[0]).toMatchObject({ afterSeconds: 0, minProficiency: 4 });
    expect(parsed.aging).toEqual({ pointsPerMinute: 2, maxBoost: 100 });
  });
  it('refuses rings out of order, a first ring after 0 and a group falling back to itself, naming the field', () => {
    const bad = (patch: object) => RoutingConfigSchema.safeParse({ ...DEFAULT_ROUTING_CONFIG, ...patch });
    const outOfOrder = bad({
      widening: {
        ...DEFAULT_ROUTING_CONFIG.widening,
        ai: [
          { afterSeconds: 0, minProficiency: 1 },
          { afterSeconds: 0, minProficiency: 1 },
        ],
      },
    });
    expect(outOfOrder.success).toBe(false);
    expect(outOfOrder.error?.issues[0]?.path).toEqual(['widening', 'ai']);
    expect(bad({ widening: { ...DEFAULT_ROUTING_CONFIG.widening, ai: [{ afterSeconds: 5, minProficiency: 1 }] } }).success).toBe(false);
    const self = bad({ skillGroups: { vip: { fallback: 'vip' } } });
    expect(self.error?.issues[0]?.path).toEqual(['skillGroups', 'vip', 'fallback']);
    expect(bad({ capacity: { chat: 0, voice: 1, chatsDuringVoice: 0 } }).error?.issues[0]?.path).toEqual(['capacity', 'chat']);
    // Weights so large their sum overflows would make every score NaN: refused, naming the field.
    const huge = bad({
      value: { ...DEFAULT_ROUTING_CONFIG.value, factorWeights: { spend: 1e308, satisfaction: 1e308, frequency: 1e308 } },
    });
    expect(huge.error?.issues[0]?.path).toEqual(['value', 'factorWeights', 'spend']);
    expect(bad({ value: { ...DEFAULT_ROUTING_CONFIG.value, spendCap: 1e308 } }).error?.issues[0]?.path).toEqual(['value', 'spendCap']);
  });
});
