import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import { createI18n } from './locale';
import { diffConfigs, fieldLabel, setIn, showValue, validateDraft } from './routing-form';

const en = createI18n('en').getFixedT('en', 'routing');
const zh = createI18n('zh').getFixedT('zh', 'routing');

describe('editing a routing config draft by field path', () => {
  it('copies only the objects on the way, creates missing ones, and removes a key or a ring with undefined', () => {
    const base = DEFAULT_ROUTING_CONFIG;
    const next = setIn(base, ['skillGroups', 'vip', 'proficiency', 'agent2'], 4);
    expect(next.skillGroups).toEqual({ vip: { proficiency: { agent2: 4 } } });
    expect(base.skillGroups).toEqual({});
    expect(next.widening).toBe(base.widening);
    expect(setIn(next, ['skillGroups', 'vip', 'proficiency', 'agent2'], undefined).skillGroups).toEqual({ vip: { proficiency: {} } });
    const fewer = setIn(base, ['widening', 'expert', 1], undefined);
    expect(fewer.widening.expert.map((r) => r.afterSeconds)).toEqual([0, 120]);
    expect(base.widening.expert).toHaveLength(3);
  });

  it('lists what changed, with null and absent the same and the version not a change', () => {
    const draft: RoutingConfig = {
      ...setIn(DEFAULT_ROUTING_CONFIG, ['weights'], { value: 0.3, difficulty: 0.7 }),
      version: 9,
      skillGroups: { vip: { fallback: null, proficiency: {} } },
    };
    expect(diffConfigs(DEFAULT_ROUTING_CONFIG, draft)).toEqual([
      { path: 'weights.value', from: 0.6, to: 0.3 },
      { path: 'weights.difficulty', from: 0.4, to: 0.7 },
    ]);
    const ring = setIn(DEFAULT_ROUTING_CONFIG, ['widening', 'ai', 1, 'addSkillGroups'], ['general']);
    expect(diffConfigs(DEFAULT_ROUTING_CONFIG, ring)).toEqual([{ path: 'widening.ai.1.addSkillGroups', from: [], to: ['general'] }]);
    expect(fieldLabel('widening.ai.1.addSkillGroups', en)).toBe('AI tier · Ring 2 · Add skill groups');
    expect(showValue('offerTimeoutMs', 20_000)).toBe('20');
    expect(showValue('serviceLevel.target', 0.8)).toBe('80');
  });

  it('reports every problem at once, cross-field rules included, where the schema alone would stop at the first kind', () => {
    const draft = setIn(setIn(DEFAULT_ROUTING_CONFIG, ['capacity', 'chat'], 0), ['thresholds', 'expert'], 10);
    expect(validateDraft(draft, en)).toEqual([
      { path: 'capacity.chat', text: 'at least 1' },
      { path: 'thresholds', text: 'the expert threshold must be above the assisted one' },
    ]);
    expect(validateDraft(DEFAULT_ROUTING_CONFIG, en)).toEqual([]);
    const selfFallback = setIn(DEFAULT_ROUTING_CONFIG, ['skillGroups', 'vip'], { fallback: 'vip', proficiency: {} });
    expect(validateDraft(selfFallback, zh)).toEqual([{ path: 'skillGroups.vip.fallback', text: '技能组不能以自身为后备' }]);
    expect(validateDraft(setIn(DEFAULT_ROUTING_CONFIG, ['widening', 'ai'], []), en)).toEqual([{ path: 'widening.ai', text: 'at least 1' }]);
  });
});
