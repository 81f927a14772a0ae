import { NEGATIVE_EMOTIONS, type EmotionResult } from '../../../common/ai/types';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Reason, RoutingConfig, Tier } from '../../../common/routing/types';

/** What we know of the customer's value (DESIGN §5). Unknowns stay neutral, never zero-by-accident. */
export interface ValueFacts {
  /** Total purchase spend; 0 when unknown. */
  spend: number;
  /** Mean past CSAT, 1..5; null when the customer never rated. */
  csat: number | null;
  /** Contacts in the last 30 days, this one included. */
  contacts30d: number;
}

export interface DifficultyFacts {
  text: string;
  channel: ChannelCode;
  contacts30d: number;
  /**
   * The AI language core's reading of `text` (ai/core.ts `analyze`, already given this channel and
   * contact count). When present it is the difficulty; without a model loaded it is absent and the
   * surface features below are the documented fallback.
   */
  analysis?: { difficulty: number; factors: Reason[]; model: string };
  /**
   * A measured emotion of this message (issue 18: a call transcript's speech emotion,
   * common/message/transcript.ts): the language core reads it instead of the text's emotion, and the
   * surface fallback counts a negative one as 25 × intensity points at most like its negative words.
   */
  emotion?: EmotionResult;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const round2 = (x: number) => Math.round(x * 100) / 100;

export function valueScore(facts: ValueFacts, config: RoutingConfig): { score: number; reasons: Reason[] } {
  const w = config.value.factorWeights;
  const spend = clamp01(Math.log10(1 + Math.max(0, facts.spend)) / Math.log10(1 + config.value.spendCap));
  // Low past satisfaction raises value: an unhappy customer is the one at risk of leaving.
  const satisfaction = facts.csat === null ? 0.5 : clamp01((5 - facts.csat) / 4);
  const frequency = clamp01(facts.contacts30d / config.value.frequencyCap);
  const total = w.spend + w.satisfaction + w.frequency || 1;
  const pts = (weight: number, f: number) => round2((100 * weight * f) / total);
  const reasons: Reason[] = [
    {
      factor: 'spend',
      value: round2(spend),
      points: pts(w.spend, spend),
      note: `spend ${facts.spend} on a log scale to ${config.value.spendCap}`,
      code: 'value-spend',
      params: { spend: facts.spend, cap: config.value.spendCap },
    },
    {
      factor: 'satisfaction',
      value: round2(satisfaction),
      points: pts(w.satisfaction, satisfaction),
      note: facts.csat === null ? 'no CSAT yet (neutral)' : `past CSAT ${facts.csat}/5`,
      ...(facts.csat === null ? { code: 'value-no-csat' } : { code: 'value-csat', params: { csat: facts.csat } }),
    },
    {
      factor: 'frequency',
      value: round2(frequency),
      points: pts(w.frequency, frequency),
      note: `${facts.contacts30d} contacts in 30 days (saturates at ${config.value.frequencyCap})`,
      code: 'value-frequency',
      params: { count: facts.contacts30d, cap: config.value.frequencyCap },
    },
  ];
  return { score: round2(clamp01((w.spend * spend + w.satisfaction * satisfaction + w.frequency * frequency) / total) * 100), reasons };
}

const NEGATIVE = [
  /投诉|生气|愤怒|垃圾|骗|差劲|失望|退款|太慢|不满|气死|坑/g,
  /\b(angry|furious|terrible|awful|scam|refund|complain(?:t)?|unacceptable|worst|ridiculous|disappointed|lawyer)\b/gi,
];
const ISSUE_SPLIT = /[?？]|(?:\b(?:also|another|and also|plus)\b)|另外|还有|以及|并且/gi;
const ENTITY = /\d{4,}|\d+(?:\.\d+)?\s*(?:元|块|yuan|rmb|usd|\$|¥)|\b[A-Z]{2,}\d{3,}\b/gi;

/**
 * The text difficulty (DESIGN §5), 0..100 with its reasons: the language core's (`facts.analysis`,
 * issue 9: out of scope, ambiguity, intents, emotion, a request for a person …) when given, else the
 * surface fallback — length, question count, entities, a few negative words, channel, repeat contact.
 */
export function difficultyScore(facts: DifficultyFacts): { score: number; reasons: Reason[] } {
  if (facts.analysis) {
    return {
      score: round2(Math.min(100, Math.max(0, facts.analysis.difficulty))),
      reasons: [
        ...facts.analysis.factors,
        { factor: 'model', note: `language core ${facts.analysis.model}`, code: 'model-core', params: { model: facts.analysis.model } },
      ],
    };
  }
  const text = facts.text;
  const length = clamp01([...text].length / 300);
  const issues = Math.max(1, (text.match(ISSUE_SPLIT) ?? []).length);
  const entities = (text.match(ENTITY) ?? []).length;
  const negativeHits = NEGATIVE.reduce((n, re) => n + (text.match(re) ?? []).length, 0) + (/[!！]{2,}/.test(text) ? 1 : 0);
  const heard = facts.emotion && NEGATIVE_EMOTIONS.includes(facts.emotion.label) ? facts.emotion.intensity : 0;
  const voice = facts.channel === 'SP';
  const repeat = facts.contacts30d >= 2;

  const reasons: Reason[] = [
    {
      factor: 'length',
      value: round2(length),
      points: round2(length * 20),
      note: `${[...text].length} characters`,
      code: 'difficulty-length',
      params: { count: [...text].length },
    },
    {
      factor: 'issues',
      value: issues,
      points: Math.min(25, (issues - 1) * 10),
      note: `${issues} distinct question(s)`,
      code: 'difficulty-issues',
      params: { count: issues },
    },
    {
      factor: 'entities',
      value: entities,
      points: Math.min(15, entities * 5),
      note: `${entities} order numbers, amounts or codes`,
      code: 'difficulty-entities',
      params: { count: entities },
    },
    {
      factor: 'negative-emotion',
      value: negativeHits,
      points: round2(Math.min(25, Math.max(negativeHits * 10, 25 * heard))),
      note: `${negativeHits} negative cue(s)${heard > 0 ? `; ${facts.emotion!.label} heard at intensity ${round2(heard)}` : ''}`,
      ...(heard > 0
        ? { code: 'difficulty-negative-heard', params: { count: negativeHits, emotion: facts.emotion!.label, intensity: round2(heard) } }
        : { code: 'difficulty-negative', params: { count: negativeHits } }),
    },
    {
      factor: 'channel',
      points: voice ? 15 : 0,
      note: voice ? 'voice is harder to serve' : 'text channel',
      code: voice ? 'difficulty-voice' : 'difficulty-text',
    },
    {
      factor: 'repeat-contact',
      points: repeat ? 10 : 0,
      note: repeat ? 'contacted us again within 30 days' : 'first contact in 30 days',
      code: repeat ? 'difficulty-repeat' : 'difficulty-first-contact',
    },
  ];
  const base = 10; // every contact carries some difficulty
  const score = Math.min(100, base + reasons.reduce((s, r) => s + (r.points ?? 0), 0));
  return {
    score: round2(score),
    reasons: [
      { factor: 'base', points: base, note: 'baseline', code: 'difficulty-base' },
      ...reasons,
      { factor: 'model', note: 'surface features (no language model loaded)', code: 'model-surface' },
    ],
  };
}

/** `priority = value × w.value + difficulty × w.difficulty` (DESIGN §5; weights are admin config). */
export function priorityOf(value: number, difficulty: number, config: RoutingConfig): number {
  return round2(value * config.weights.value + difficulty * config.weights.difficulty);
}

/** `> expert` → expert; `> assisted` (and ≤ expert) → assisted; `≤ assisted` → ai. */
export function tierOf(priority: number, config: RoutingConfig): Tier {
  if (priority > config.thresholds.expert) return 'expert';
  if (priority > config.thresholds.assisted) return 'assisted';
  return 'ai';
}

/** What scoring one new contact reads: its value facts, its first message's difficulty facts, and the config. */
export interface ContactFacts {
  value: ValueFacts;
  difficulty: DifficultyFacts;
  config: RoutingConfig;
}

/** A contact's scores (DESIGN §5): value and difficulty with their reasons, the priority and its tier. */
export interface ContactScore {
  value: { score: number; reasons: Reason[] };
  difficulty: { score: number; reasons: Reason[] };
  priority: number;
  tier: Tier;
}

/**
 * Scores one new contact: value, difficulty, `priority` and `tier`. Pure and synchronous (~µs for a
 * message of `MAX_TEXT_LENGTH`), so the router calls it inline; `workers/cpu.worker.ts` registers it as
 * the pool's `score` task for batch re-scoring.
 */
export function scoreContact(facts: ContactFacts): ContactScore {
  const value = valueScore(facts.value, facts.config);
  const difficulty = difficultyScore(facts.difficulty);
  const priority = priorityOf(value.score, difficulty.score, facts.config);
  return { value, difficulty, priority, tier: tierOf(priority, facts.config) };
}
