import { describe, expect, it } from 'vitest';
import type { EmotionResult } from '../../../common/ai/types';
import { ReasonSchema } from '../../../common/routing/types';
import { assessDifficulty, DIFFICULTY_POINTS } from './difficulty';
import type { IntentPrediction } from './intent';

const neutral: EmotionResult = {
  label: 'neutral',
  intensity: 0,
  scores: { anger: 0, disgust: 0, fear: 0, happiness: 0, sadness: 0, surprise: 0, neutral: 1 },
};
const angry: EmotionResult = { label: 'anger', intensity: 0.9, scores: { ...neutral.scores, anger: 0.9, neutral: 0.1 } };
const sure: IntentPrediction = {
  label: 'order_status',
  confidence: 0.97,
  outOfScope: false,
  candidates: [{ label: 'order_status', p: 0.97 }],
  margin: 0.95,
  oosProbability: 0,
  likelyIntents: 1,
};
const lost: IntentPrediction = {
  label: 'oos',
  confidence: 0.2,
  outOfScope: true,
  candidates: [{ label: 'order_status', p: 0.2 }],
  margin: 0.05,
  oosProbability: 0,
  likelyIntents: 1,
};
const points = (r: ReturnType<typeof assessDifficulty>, factor: string) => r.reasons.find((x) => x.factor === factor)!.points;

describe('difficulty', () => {
  it('a clear, calm, in-scope question is easy', () => {
    const r = assessDifficulty({ text: 'where is my order', intent: sure, emotion: neutral, wantsHuman: false });
    expect(r.score).toBeLessThan(15);
  });

  it('out of scope, negative emotion and a request for a person each raise it, and each shows as a factor', () => {
    const base = assessDifficulty({ text: 'where is my order', intent: sure, emotion: neutral, wantsHuman: false });
    const oos = assessDifficulty({ text: 'where is my order', intent: lost, emotion: neutral, wantsHuman: false });
    const upset = assessDifficulty({ text: 'where is my order', intent: sure, emotion: angry, wantsHuman: false });
    const human = assessDifficulty({ text: 'where is my order', intent: sure, emotion: neutral, wantsHuman: true });
    expect(points(oos, 'out-of-scope')).toBe(DIFFICULTY_POINTS.outOfScope);
    expect(oos.score).toBeGreaterThan(base.score + 25);
    expect(points(upset, 'negative-emotion')).toBeCloseTo(DIFFICULTY_POINTS.negativeEmotion * 0.9, 5);
    expect(points(human, 'wants-human')).toBe(DIFFICULTY_POINTS.wantsHuman);
    expect(human.score).toBeGreaterThanOrEqual(base.score + 40);
  });

  it('voice and a repeat contact add their points; the total never passes 100', () => {
    const text = 'where is my order';
    const web = assessDifficulty({ text, intent: sure, emotion: neutral, wantsHuman: false, channel: 'WB', contacts30d: 1 });
    const voice = assessDifficulty({ text, intent: sure, emotion: neutral, wantsHuman: false, channel: 'SP', contacts30d: 3 });
    expect(voice.score).toBeCloseTo(web.score + DIFFICULTY_POINTS.voice + DIFFICULTY_POINTS.repeat, 5);
    const worst = assessDifficulty({
      text: `${'订单 12345678 退款 ¥199？'.repeat(40)}不不不`,
      intent: lost,
      emotion: angry,
      wantsHuman: true,
      channel: 'SP',
      contacts30d: 9,
    });
    expect(worst.score).toBe(100);
  });

  it('counts several questions, entities and negations', () => {
    const r = assessDifficulty({
      text: '订单2024112900123还没到？另外退款199元什么时候到？我没有收到短信',
      intent: sure,
      emotion: neutral,
      wantsHuman: false,
    });
    expect(r.reasons.find((x) => x.factor === 'issues')!.value).toBeGreaterThanOrEqual(2);
    expect(r.reasons.find((x) => x.factor === 'entities')!.value).toBeGreaterThanOrEqual(2);
    expect(r.reasons.find((x) => x.factor === 'negation')!.value).toBeGreaterThanOrEqual(1);
  });
});

describe('difficulty: questions are counted as a person would', () => {
  it('counts a run of question marks as one question, and "another" or "plus" as no new question', () => {
    const q = (text: string) =>
      assessDifficulty({ text, intent: sure, emotion: neutral, wantsHuman: false }).reasons.find((r) => r.factor === 'issues')!.points;
    expect(q('Where is my order???')).toBe(0);
    expect(q('我的订单呢？？？？')).toBe(0);
    expect(q('I want another one, plus a bag')).toBe(0);
    expect(q('Where is my order? And when do refunds arrive?')).toBe(7.5);
  });
});

describe('the language core’s factors as codes (issue 15)', () => {
  it('gives every factor a stable code with numbers and ids as params, never the customer’s text', () => {
    const text = 'My order 12345678 is not here and I am not happy, get me a person!';
    const r = assessDifficulty({ text, intent: lost, emotion: angry, wantsHuman: true, channel: 'SP', contacts30d: 3 });
    for (const x of r.reasons) expect(ReasonSchema.parse(x).code, x.factor).toMatch(/^(core|difficulty)-/);
    const by = Object.fromEntries(r.reasons.map((x) => [x.factor, x]));
    expect(by.base).toMatchObject({ code: 'difficulty-base' });
    expect(by['out-of-scope']).toMatchObject({ code: 'core-out-of-scope', params: { intent: 'order_status', confidence: 0.2 } });
    expect(by.ambiguity).toMatchObject({ code: 'core-ambiguity', params: { margin: 0.05 } });
    expect(by.issues).toMatchObject({ code: 'core-issues', params: { count: 1, intents: 1 } });
    expect(by.length).toMatchObject({ code: 'core-length', params: { count: [...text].length } });
    expect(by.entities).toMatchObject({ code: 'core-entities', params: { count: 1 } });
    expect(by.negation).toMatchObject({ code: 'core-negation', params: { count: 2 } });
    expect(by['negative-emotion']).toMatchObject({ code: 'core-negative-emotion', params: { emotion: 'anger', intensity: 0.9 } });
    expect(by['wants-human']).toMatchObject({ code: 'core-wants-human' });
    expect(by.channel).toMatchObject({ code: 'difficulty-voice' });
    expect(by['repeat-contact']).toMatchObject({ code: 'difficulty-repeat' });
    for (const x of r.reasons) for (const v of Object.values(x.params ?? {})) expect(String(v)).not.toMatch(/happy|person|order 1/);

    const calm = assessDifficulty({ text: 'where is my order', intent: sure, emotion: neutral, wantsHuman: false });
    const calmBy = Object.fromEntries(calm.reasons.map((x) => [x.factor, x]));
    expect(calmBy['out-of-scope']).toMatchObject({ code: 'core-intent', params: { intent: 'order_status', confidence: 0.97 } });
    expect(calmBy['negative-emotion']).toMatchObject({ code: 'core-emotion-not-negative', params: { emotion: 'neutral' } });
    expect(calmBy['wants-human']).toMatchObject({ code: 'core-no-human-request' });
    expect(calmBy.channel).toMatchObject({ code: 'difficulty-text' });
    expect(calmBy['repeat-contact']).toMatchObject({ code: 'difficulty-first-contact' });
  });
});
