import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, extractFeatures, sparseDot, Vectorizer } from './features';

describe('TF-IDF features', () => {
  it('names word, bigram, character and Han n-gram features, with Porter2 stems and number shapes', () => {
    const bag = extractFeatures('Arrived late: order 2024112900123 退款');
    expect(bag.has('w:arriv')).toBe(true);
    expect(bag.has('w:#long')).toBe(true);
    expect(bag.has('b:arriv_late')).toBe(true);
    expect(bag.has('h:退款')).toBe(true);
    expect([...bag.keys()].some((k) => k.startsWith('c:'))).toBe(true);
  });

  it('does not extract a group weighted 0', () => {
    const bag = extractFeatures('arrived late', { ...DEFAULT_FEATURES, weights: { ...DEFAULT_FEATURES.weights, c: 0 } });
    expect([...bag.keys()].some((k) => k.startsWith('c:'))).toBe(false);
  });

  it('keeps only the most frequent features when capped, and vectors stay unit length', () => {
    const bags = ['a b c', 'a b', 'a'].map((t) => new Map(t.split(' ').map((w) => [`w:${w}`, 1])));
    const capped = Vectorizer.fit(bags, DEFAULT_FEATURES, 2);
    expect(capped.features).toEqual(['w:a', 'w:b']);
    const v = capped.transform(
      new Map([
        ['w:a', 1],
        ['w:b', 2],
        ['w:c', 1],
      ]),
    );
    expect(v.idx.length).toBe(2);
    expect(sparseDot(v, v)).toBeCloseTo(1, 5);
  });
});
