import { describe, expect, it } from 'vitest';
import { CONTRACT_EXAMPLES, intentClassifierContract } from './intent.contract';
import { DEFAULT_INTENT_TRAINING, FULL_SCHEDULE_WORK, NgramIntentClassifier, OOS, scheduleFor } from './intent';

intentClassifierContract('NgramIntentClassifier', (examples) => NgramIntentClassifier.train(examples));
intentClassifierContract('NgramIntentClassifier restored from its state', (examples) =>
  NgramIntentClassifier.restore(structuredClone(NgramIntentClassifier.train(examples).state())),
);

describe('NgramIntentClassifier', () => {
  it('refuses to train on fewer than two intents', () => {
    expect(() => NgramIntentClassifier.train([{ text: 'hello', intent: 'greet' }])).toThrow(/two intents/);
    expect(() =>
      NgramIntentClassifier.train([
        { text: 'hello', intent: 'greet' },
        { text: 'blah', intent: OOS },
      ]),
    ).toThrow(/two intents/);
  });

  it('the same data gives the same model (seeded), and the state survives structured clone', () => {
    const a = NgramIntentClassifier.train(CONTRACT_EXAMPLES);
    const b = NgramIntentClassifier.train(CONTRACT_EXAMPLES);
    expect(Array.from(a.state().classifier.linear.weights)).toEqual(Array.from(b.state().classifier.linear.weights));
    const c = NgramIntentClassifier.restore(structuredClone(a.state()));
    expect(c.classify('退款怎么申请')).toEqual(a.classify('退款怎么申请'));
  });

  it('out of scope is exactly "confidence above chance below the threshold" when there is no oos class', () => {
    const m = NgramIntentClassifier.train(CONTRACT_EXAMPLES, { threshold: 0.5 });
    const r = m.classify('my parcel');
    // Three intents: chance is 1/3.
    const aboveChance = (r.confidence - 1 / 3) / (2 / 3);
    expect(m.classify('my parcel', aboveChance - 0.001).outOfScope).toBe(false);
    expect(m.classify('my parcel', aboveChance + 0.001).outOfScope).toBe(true);
    expect(m.classify('my parcel', 0).label).toBe(r.candidates![0]!.label);
  });

  it('with oos training examples, an oos-like text is out of scope even at threshold 0', () => {
    const m = NgramIntentClassifier.train([
      ...CONTRACT_EXAMPLES,
      ...[
        'tell me a joke',
        'what is the capital of france',
        'play some music',
        'how tall is mount everest',
        'who won the football game',
        'what time is it in tokyo',
        'set an alarm for 7am',
      ].map((text) => ({ text, intent: OOS })),
    ]);
    const r = m.classify('tell me a funny joke', 0);
    expect(r.outOfScope).toBe(true);
    expect(r.oosProbability).toBeGreaterThan(r.confidence);
    expect(m.labels).not.toContain(OOS);
  });

  it('counts several likely intents and a small margin for a message asking two things', () => {
    const m = NgramIntentClassifier.train(CONTRACT_EXAMPLES);
    const two = m.classify('where is my order and how do i get a refund');
    const one = m.classify('where is my order');
    expect(two.margin).toBeLessThan(one.margin);
    expect(two.likelyIntents).toBeGreaterThanOrEqual(2);
  });

  it('trains big knowledge bases with fewer epochs and folds, small ones with the full schedule', () => {
    expect(scheduleFor(15_100, 151, DEFAULT_INTENT_TRAINING)).toBe(DEFAULT_INTENT_TRAINING);
    const big = scheduleFor(30_000, 1_001, DEFAULT_INTENT_TRAINING);
    expect([big.linear.epochs, big.folds]).toEqual([3, 2]);
    const mid = scheduleFor(FULL_SCHEDULE_WORK / 100 + 1, 200, DEFAULT_INTENT_TRAINING);
    expect(mid.linear.epochs).toBeLessThan(DEFAULT_INTENT_TRAINING.linear.epochs);
    expect(mid.linear.epochs).toBeGreaterThanOrEqual(3);
  });
});
