import type { SparseVector } from './features';

/**
 * Multinomial logistic regression over sparse features (issue 9): trained by stochastic gradient
 * descent with L2 weight decay on the touched rows, a decaying step size and a seeded shuffle, so the
 * same data always gives the same model. Weights are laid out feature-major (`W[f × C + c]`) so one
 * feature's class weights are contiguous. Probabilities are `softmax(logits / T)` with the
 * temperature `T` fitted on held-out logits (Guo et al. 2017, "On Calibration of Modern Neural
 * Networks", temperature scaling).
 */

export interface LinearOptions {
  epochs: number;
  /** Initial step size; the step at update t is `lr / (1 + t × decay)`. */
  lr: number;
  decay: number;
  /** L2 strength. */
  l2: number;
  /** Seed of the shuffle (mulberry32). */
  seed: number;
}

/** Gradients smaller than this (|p − y|) are not applied. */
const GRADIENT_FLOOR = 1e-3;

export const DEFAULT_LINEAR: LinearOptions = { epochs: 12, lr: 1.0, decay: 1e-5, l2: 1e-6, seed: 7 };

export interface LinearState {
  labels: string[];
  dims: number;
  weights: Float32Array;
  bias: Float32Array;
  temperature: number;
}

/** A seeded PRNG in [0, 1) (mulberry32), for reproducible shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class LinearModel {
  readonly labels: string[];
  readonly dims: number;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  temperature: number;

  constructor(state: LinearState) {
    this.labels = state.labels;
    this.dims = state.dims;
    this.weights = state.weights;
    this.bias = state.bias;
    this.temperature = state.temperature;
  }

  /**
   * Trains on `xs` (normalised sparse vectors of `dims` features) with class indexes `ys` into
   * `labels`. Optional `sampleWeights` scale each example's gradient (class balancing).
   */
  static train(
    xs: SparseVector[],
    ys: number[],
    labels: string[],
    dims: number,
    options: LinearOptions = DEFAULT_LINEAR,
    sampleWeights?: number[],
  ): LinearModel {
    const C = labels.length;
    const W = new Float32Array(dims * C);
    const b = new Float32Array(C);
    const order = xs.map((_, i) => i);
    const random = seededRandom(options.seed);
    const p = new Float64Array(C);
    const active = new Int32Array(C);
    let t = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const n of order) {
        const x = xs[n]!;
        const y = ys[n]!;
        const lr = options.lr / (1 + t * options.decay);
        t++;
        logitsInto(W, b, C, x, p);
        softmaxInPlace(p, 1);
        p[y]! -= 1;
        const sw = sampleWeights ? sampleWeights[n]! : 1;
        const shrink = 1 - lr * options.l2;
        // Classes the example barely moves are skipped: after the first epochs most probabilities are
        // ~0, and skipping them makes an epoch several times faster with the same accuracy.
        let m = 0;
        for (let c = 0; c < C; c++) if (Math.abs(p[c]!) > GRADIENT_FLOOR) active[m++] = c;
        for (let k = 0; k < x.idx.length; k++) {
          const base = x.idx[k]! * C;
          const xv = x.val[k]! * lr * sw;
          for (let a = 0; a < m; a++) {
            const c = active[a]!;
            W[base + c] = W[base + c]! * shrink - xv * p[c]!;
          }
        }
        for (let c = 0; c < C; c++) b[c]! -= lr * sw * p[c]! * 0.1;
      }
    }
    return new LinearModel({ labels, dims, weights: W, bias: b, temperature: 1 });
  }

  state(): LinearState {
    return { labels: this.labels, dims: this.dims, weights: this.weights, bias: this.bias, temperature: this.temperature };
  }

  /** Raw class scores (before temperature and softmax). */
  logits(x: SparseVector): Float64Array {
    const out = new Float64Array(this.labels.length);
    logitsInto(this.weights, this.bias, this.labels.length, x, out);
    return out;
  }

  /** Calibrated class probabilities, `softmax(logits / T)`. */
  probabilities(x: SparseVector): Float64Array {
    const p = this.logits(x);
    softmaxInPlace(p, this.temperature);
    return p;
  }
}

function logitsInto(W: Float32Array | Float64Array, b: Float32Array, C: number, x: SparseVector, out: Float64Array): void {
  for (let c = 0; c < C; c++) out[c] = b[c]!;
  for (let k = 0; k < x.idx.length; k++) {
    const base = x.idx[k]! * C;
    const v = x.val[k]!;
    for (let c = 0; c < C; c++) out[c]! += W[base + c]! * v;
  }
}

/** Softmax of `z / temperature`, in place. */
export function softmaxInPlace(z: Float64Array, temperature: number): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    const e = Math.exp((z[c]! - max) / temperature);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
}

/** Mean negative log-likelihood of `ys` under `softmax(logits / T)`. */
export function nll(logits: Float64Array[], ys: number[], temperature: number): number {
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = Float64Array.from(logits[i]!);
    softmaxInPlace(z, temperature);
    total -= Math.log(Math.max(1e-12, z[ys[i]!]!));
  }
  return total / Math.max(1, logits.length);
}

/**
 * The temperature in [0.02, 20] that minimises the NLL of held-out `logits` (golden-section search
 * on log T; the NLL is unimodal in T). Returns 1 with no data.
 */
export function fitTemperature(logits: Float64Array[], ys: number[]): number {
  if (logits.length === 0) return 1;
  let lo = Math.log(0.02);
  let hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = nll(logits, ys, Math.exp(a));
  let fb = nll(logits, ys, Math.exp(b));
  for (let i = 0; i < 40; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(logits, ys, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(logits, ys, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}
