import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG as C, RoutingConfigSchema, type RoutingConfig } from '../../../common/routing/types';
import { difficultyScore, priorityOf, tierOf, valueScore } from './score';

describe('priority formula', () => {
  it('is value × 0.6 + difficulty × 0.4 by default', () => {
    expect(priorityOf(100, 0, C)).toBe(60);
    expect(priorityOf(0, 100, C)).toBe(40);
    expect(priorityOf(90, 70, C)).toBe(82);
    expect(priorityOf(55, 42, C)).toBe(49.8);
  });

  it('follows admin weights', () => {
    const c: RoutingConfig = { ...C, weights: { value: 0.3, difficulty: 0.7 } };
    expect(priorityOf(90, 70, c)).toBe(76);
  });
});

describe('tier boundaries (DESIGN §5: > 80 expert, 50 < p ≤ 80 assisted, ≤ 50 ai)', () => {
  it.each([
    [100, 'expert'],
    [80.01, 'expert'],
    [80, 'assisted'],
    [65, 'assisted'],
    [50.01, 'assisted'],
    [50, 'ai'],
    [0, 'ai'],
  ] as const)('priority %d → %s', (p, tier) => {
    expect(tierOf(p, C)).toBe(tier);
  });

  it('follows admin thresholds', () => {
    const c: RoutingConfig = { ...C, thresholds: { expert: 70, assisted: 30 } };
    expect(tierOf(70.5, c)).toBe('expert');
    expect(tierOf(70, c)).toBe('assisted');
    expect(tierOf(30, c)).toBe('ai');
  });

  it('refuses configs whose weights do not sum to 1 or whose thresholds are inverted', () => {
    expect(RoutingConfigSchema.safeParse({ ...C, weights: { value: 0.6, difficulty: 0.6 } }).success).toBe(false);
    expect(RoutingConfigSchema.safeParse({ ...C, thresholds: { expert: 40, assisted: 50 } }).success).toBe(false);
    expect(RoutingConfigSchema.safeParse(C).success).toBe(true);
  });
});

describe('value score', () => {
  it('stays within 0..100 and explains every factor', () => {
    const low = valueScore({ spend: 0, csat: 5, contacts30d: 0 }, C);
    const high = valueScore({ spend: 1e9, csat: 1, contacts30d: 100 }, C);
    expect(low.score).toBe(0);
    expect(high.score).toBe(100);
    expect(high.reasons.map((r) => r.factor)).toEqual(['spend', 'satisfaction', 'frequency']);
    expect(high.reasons.reduce((s, r) => s + (r.points ?? 0), 0)).toBeCloseTo(100, 1);
  });

  it('puts spend on a log scale', () => {
    const a = valueScore({ spend: 1_000, csat: null, contacts30d: 1 }, C).score;
    const b = valueScore({ spend: 10_000, csat: null, contacts30d: 1 }, C).score;
    const c = valueScore({ spend: 100_000, csat: null, contacts30d: 1 }, C).score;
    expect(b - a).toBeCloseTo(c - b, 1);
  });
});

describe('difficulty score', () => {
  it('rates a short polite question lower than an angry multi-issue complaint', () => {
    const easy = difficultyScore({ text: 'What are your opening hours?', channel: 'WB', contacts30d: 1 });
    const hard = difficultyScore({
      text: '我要投诉！！订单 202311150001 已经付了 399 元还没发货，另外退款也一直没到账？太慢了，客服也不回。',
      channel: 'WB',
      contacts30d: 3,
    });
    expect(easy.score).toBeLessThan(30);
    expect(hard.score).toBeGreaterThan(60);
    expect(hard.score - easy.score).toBeGreaterThan(40);
    expect(hard.score).toBeLessThanOrEqual(100);
  });

  it('raises difficulty for voice', () => {
    const text = 'I need help with my bill';
    expect(difficultyScore({ text, channel: 'SP', contacts30d: 1 }).score).toBe(
      difficultyScore({ text, channel: 'WB', contacts30d: 1 }).score + 15,
    );
  });
});
