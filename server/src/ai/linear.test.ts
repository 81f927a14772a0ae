import { describe, expect, it } from 'vitest';
import type { SparseVector } from './features';
import { fitTemperature, LinearModel, nll, softmaxInPlace } from './linear';

const v = (pairs: [number, number][]): SparseVector => ({
  idx: Int32Array.from(pairs.map((p) => p[0])),
  val: Float32Array.from(pairs.map((p) => p[1])),
});

describe('logistic regression', () => {
  const xs = [
    v([[0, 1]]),
    v([[1, 1]]),
    v([[2, 1]]),
    v([
      [0, 0.7],
      [3, 0.7],
    ]),
    v([
      [1, 0.7],
      [3, 0.7],
    ]),
    v([
      [2, 0.7],
      [3, 0.7],
    ]),
  ];
  const ys = [0, 1, 2, 0, 1, 2];

  it('learns a separable problem and answers probabilities that sum to 1', () => {
    const m = LinearModel.train(xs, ys, ['a', 'b', 'c'], 4, { epochs: 30, lr: 1, decay: 0, l2: 0, seed: 1 });
    xs.forEach((x, i) => {
      const p = m.probabilities(x);
      expect(p.indexOf(Math.max(...p))).toBe(ys[i]);
      expect(p.reduce((s, q) => s + q, 0)).toBeCloseTo(1, 9);
    });
  });

  it('is reproducible for a seed', () => {
    const o = { epochs: 5, lr: 1, decay: 0, l2: 1e-4, seed: 3 };
    expect(Array.from(LinearModel.train(xs, ys, ['a', 'b', 'c'], 4, o).weights)).toEqual(
      Array.from(LinearModel.train(xs, ys, ['a', 'b', 'c'], 4, o).weights),
    );
  });
});

describe('temperature scaling', () => {
  it('softmax with a higher temperature is flatter', () => {
    const a = Float64Array.from([2, 0, 0]);
    const b = Float64Array.from([2, 0, 0]);
    softmaxInPlace(a, 1);
    softmaxInPlace(b, 4);
    expect(b[0]!).toBeLessThan(a[0]!);
  });

  it('cools down over-confident logits (T > 1) and sharpens timid ones (T < 1), lowering the NLL', () => {
    // Over-confident: large logits, right only 60 % of the time.
    const logits: Float64Array[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 100; i++) {
      logits.push(Float64Array.from([10, 0]));
      ys.push(i < 60 ? 0 : 1);
    }
    const t = fitTemperature(logits, ys);
    expect(t).toBeGreaterThan(5);
    expect(nll(logits, ys, t)).toBeLessThan(nll(logits, ys, 1));
    // Timid: small logits, always right.
    const timid = Array.from({ length: 50 }, () => Float64Array.from([0.2, 0]));
    expect(fitTemperature(timid, new Array(50).fill(0))).toBeLessThan(0.1);
  });

  it('returns 1 with nothing to fit', () => {
    expect(fitTemperature([], [])).toBe(1);
  });
});
