import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROUTING_CONFIG,
  ReasonSchema,
  ReasonTextSchema,
  RoutingConfigSchema,
  type RoutingConfig,
} from '../../../common/routing/types';
import { roomFor, selectAgents, type EngineAgent, type EngineContact } from './engine';
import { difficultyScore, valueScore } from './score';
import { transferDecision } from './transfer';

// Issue 15: every routing phrase the server builds carries a stable code and numeric/identifier params,
// so the desk can show it in the agent's language; the English note stays for logs and old clients.

const NOW = Date.parse('2026-11-30T10:00:00Z');
const config: RoutingConfig = RoutingConfigSchema.parse({
  ...DEFAULT_ROUTING_CONFIG,
  skillGroups: { general: { proficiency: { cat: 4, dan: 2, eve: 4 } } },
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
const contact: EngineContact = { id: 'c1', skillGroup: 'general', channelKind: 'chat', tier: 'expert', priority: 90, queuedAt: NOW };

describe('score reasons carry codes and params', () => {
  it('gives each value factor its code and numbers', () => {
    const { reasons } = valueScore({ spend: 1200, csat: 2, contacts30d: 3 }, config);
    for (const r of reasons) expect(ReasonSchema.parse(r).code).toMatch(/^value-/);
    expect(reasons.map((r) => [r.code, r.params])).toEqual([
      ['value-spend', { spend: 1200, cap: config.value.spendCap }],
      ['value-csat', { csat: 2 }],
      ['value-frequency', { count: 3, cap: config.value.frequencyCap }],
    ]);
    expect(valueScore({ spend: 0, csat: null, contacts30d: 0 }, config).reasons[1]).toMatchObject({ code: 'value-no-csat' });
  });

  it('gives each surface difficulty factor its code, and the heard emotion as a label and number', () => {
    const { reasons } = difficultyScore({
      text: 'Order 123456 is late?? I want a refund!!',
      channel: 'SP',
      contacts30d: 2,
      emotion: { label: 'anger', intensity: 0.8 },
    } as Parameters<typeof difficultyScore>[0]);
    expect(reasons.every((r) => typeof r.code === 'string')).toBe(true);
    const byFactor = Object.fromEntries(reasons.map((r) => [r.factor, r]));
    expect(byFactor.length).toMatchObject({ code: 'difficulty-length', params: { count: 40 } });
    expect(byFactor.issues).toMatchObject({ code: 'difficulty-issues' });
    expect(byFactor['negative-emotion']).toMatchObject({ code: 'difficulty-negative-heard', params: { emotion: 'anger', intensity: 0.8 } });
    expect(byFactor.channel).toMatchObject({ code: 'difficulty-voice' });
    expect(byFactor['repeat-contact']).toMatchObject({ code: 'difficulty-repeat' });
    expect(byFactor.base).toMatchObject({ code: 'difficulty-base' });
    expect(byFactor.model).toMatchObject({ code: 'model-surface' });
    // Params never carry the customer's text.
    for (const r of reasons) for (const v of Object.values(r.params ?? {})) expect(String(v)).not.toContain('refund');
  });

  it('names the language core by its model id', () => {
    const { reasons } = difficultyScore({
      text: 'x',
      channel: 'WX',
      contacts30d: 1,
      analysis: { difficulty: 40, factors: [], model: 'core-v2' },
    });
    expect(reasons.at(-1)).toMatchObject({ code: 'model-core', params: { model: 'core-v2' } });
  });
});

describe('candidate reasons carry details', () => {
  it('explains every candidate with one phrase per reason, numbers as params', () => {
    const agents = [
      agent('cat', { idleSince: NOW - 125_000, load: { chat: 1, voice: 0 } }),
      agent('dan'),
      agent('eve', { idleSince: NOW - 5_000 }),
      agent('full', { load: { chat: 3, voice: 0 } }),
      agent('away', { presence: 'after-call-work' }),
      agent('other', { skillGroups: ['vip'] }),
    ];
    const { candidates } = selectAgents(contact, agents, config, NOW, { declined: new Map() });
    for (const c of candidates) {
      expect(c.details?.length, c.agentId).toBeGreaterThan(0);
      for (const d of c.details!) ReasonTextSchema.parse(d);
    }
    const by = Object.fromEntries(candidates.map((c) => [c.agentId, c.details]));
    expect(by.cat).toEqual([
      { code: 'proficiency-in', params: { proficiency: 4, group: 'general' } },
      { code: 'idle', params: { idleMs: 125_000 } },
      { code: 'load', params: { chat: 1, chatMax: config.capacity.chat, voice: 0, voiceMax: config.capacity.voice } },
    ]);
    expect(by.eve).toEqual([{ code: 'shorter-idle', params: { proficiency: 4, idleMs: 5_000 } }]);
    expect(by.away?.map((d) => d.code)).toContain('presence-after-call-work');
    expect(by.full?.[0]).toEqual({ code: 'at-capacity-chats', params: { n: 3, max: config.capacity.chat } });
    expect(by.other).toEqual([{ code: 'not-in-skill-group', params: { groups: expect.stringContaining('general') } }]);
  });

  it('says why room is missing as a phrase', () => {
    const cap = { ...config.capacity, chat: 3, voice: 1, chatsDuringVoice: 1 };
    expect(roomFor({ load: { chat: 0, voice: 1 } }, 'voice', cap)).toMatchObject({
      detail: { code: 'at-capacity-calls', params: { n: 1, max: 1 } },
    });
    expect(roomFor({ load: { chat: 2, voice: 0 } }, 'voice', cap)).toMatchObject({
      detail: { code: 'mixed-load-chats-open', params: { n: 2, max: 1 } },
    });
    expect(roomFor({ load: { chat: 1, voice: 1 } }, 'chat', cap)).toMatchObject({
      detail: { code: 'mixed-load-on-call', params: { max: 1 } },
    });
  });
});

describe('transfer reasons carry codes', () => {
  it('words the newest transfer as a code with the names and modes as params', () => {
    const at = new Date(NOW).toISOString();
    const base = {
      ...transferDecision(null, { from: 'u1', target: { kind: 'agent', agentId: 'u2' }, mode: 'warm', skillGroup: 'general', at }, config),
    };
    expect(base.reasons[0]).toMatchObject({ factor: 'unscored', code: 'unscored' });
    expect(base.reasons.at(-1)).toMatchObject({
      factor: 'transfer',
      code: 'transfer-agent',
      params: { mode: 'warm', from: 'u1', target: 'u2' },
    });
    const named = transferDecision(
      null,
      { from: 'u1', target: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold', skillGroup: 'vip', at, names: { from: 'Agent One' } },
      config,
    );
    expect(named.reasons.at(-1)).toMatchObject({ code: 'transfer-group', params: { mode: 'cold', from: 'Agent One', target: 'vip' } });
    const expert = transferDecision(
      { ...base, tier: 'assisted', skillGroup: 'general' },
      { from: 'u1', target: { kind: 'expert', skillGroup: 'vip' }, mode: 'warm', skillGroup: 'vip', at },
      config,
    );
    expect(expert.reasons.at(-1)).toMatchObject({
      code: 'transfer-expert-moved-raised',
      params: { target: 'vip', fromGroup: 'general', tier: 'assisted' },
    });
    // Only the newest transfer is a reason.
    expect(expert.reasons.filter((r) => r.factor === 'transfer')).toHaveLength(1);
  });
});
