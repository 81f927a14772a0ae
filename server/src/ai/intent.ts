import type { IntentResult } from '../../../common/ai/types';
import { DEFAULT_FEATURES, extractFeatures, Vectorizer, type FeatureOptions, type SparseVector, type VectorizerState } from './features';
import { DEFAULT_LINEAR, fitTemperature, LinearModel, seededRandom, type LinearOptions, type LinearState } from './linear';

/**
 * Intent classification with an explicit out-of-scope decision (issue 9). The port is
 * `IntentClassifier`; `NgramIntentClassifier` is the built-in model: TF-IDF word + character
 * n-grams (features.ts) and a multinomial logistic regression (linear.ts) whose probabilities are
 * calibrated by temperature scaling on cross-validated logits. A text is out of scope when the best
 * class is the optional out-of-scope class (`oos`, when the training data has examples of it) or
 * its calibrated confidence is below `threshold`.
 */

/** The label an out-of-scope answer carries (and the class name of out-of-scope training examples). */
export const OOS = 'oos';

/** One training utterance. `intent: 'oos'` marks an out-of-scope example. */
export interface IntentExample {
  text: string;
  intent: string;
}

/** What any intent model answers (a deployment may swap in a bigger model behind this). */
export interface IntentClassifier {
  /** The in-scope intents it knows, sorted. */
  readonly labels: readonly string[];
  classify(text: string): IntentPrediction;
}

/** An `IntentResult` plus the numbers difficulty reads. */
export interface IntentPrediction extends IntentResult {
  /** Confidence of the best in-scope intent minus the second's, 0..1 (0 = a coin toss). */
  margin: number;
  /** Probability mass on the out-of-scope class, 0..1 (0 without one). */
  oosProbability: number;
  /** How many intents are each at least `multiIntentFloor` likely: more than one suggests several questions. */
  likelyIntents: number;
}

export interface IntentTrainingOptions {
  features: FeatureOptions;
  linear: LinearOptions;
  /** Out of scope below this calibrated confidence, 0..1. Chosen on CLINC150's validation split (docs/ai-quality.md). */
  threshold: number;
  /** Folds for the cross-validated logits the temperature is fitted on (2..10); 0 = no calibration (T = 1). */
  folds: number;
  /** Add each intent's name as one more example ("order_status" → "order status"). */
  labelAsExample: boolean;
  /** An intent at or above this probability counts in `likelyIntents`. */
  multiIntentFloor: number;
}

export const DEFAULT_INTENT_TRAINING: IntentTrainingOptions = {
  features: DEFAULT_FEATURES,
  linear: DEFAULT_LINEAR,
  threshold: 0.5,
  folds: 3,
  labelAsExample: true,
  multiIntentFloor: 0.2,
};

/** A trained model as plain data (typed arrays), to move between threads or save. */
export interface IntentModelState {
  kind: 'ngram-linear';
  vectorizer: VectorizerState;
  linear: LinearState;
  threshold: number;
  multiIntentFloor: number;
  /** Training facts for reports: examples, features, milliseconds. */
  stats: { examples: number; features: number; trainMs: number; temperature: number };
}

export class NgramIntentClassifier implements IntentClassifier {
  readonly labels: readonly string[];
  private readonly oosIndex: number;

  constructor(
    private readonly vectorizer: Vectorizer,
    private readonly model: LinearModel,
    readonly threshold: number,
    private readonly multiIntentFloor: number,
    readonly stats: IntentModelState['stats'],
  ) {
    this.oosIndex = model.labels.indexOf(OOS);
    this.labels = model.labels.filter((l) => l !== OOS);
  }

  /**
   * Trains on `examples` (any languages mixed; at least 2 in-scope intents, else VALIDATION-style
   * `Error`). Synchronous CPU work: ~0.5 s per 1,000 examples × (folds + 1) on one core; run it in
   * a worker for big knowledge bases.
   */
  static train(examples: readonly IntentExample[], options: Partial<IntentTrainingOptions> = {}): NgramIntentClassifier {
    const opts = { ...DEFAULT_INTENT_TRAINING, ...options };
    const started = performance.now();
    const data = [...examples];
    const labels = [...new Set(data.map((e) => e.intent))].sort();
    if (labels.filter((l) => l !== OOS).length < 2) throw new Error('An intent model needs at least two intents.');
    if (opts.labelAsExample) for (const l of labels) if (l !== OOS) data.push({ text: l.replace(/[_.-]+/g, ' '), intent: l });
    const index = new Map(labels.map((l, i) => [l, i]));
    const bags = data.map((e) => extractFeatures(e.text, opts.features));
    const ys = data.map((e) => index.get(e.intent)!);

    let temperature = 1;
    if (opts.folds >= 2) {
      // Cross-validated logits: each example scored by a model that never saw it.
      const fold = stratifiedFolds(ys, opts.folds, opts.linear.seed);
      const heldLogits: Float64Array[] = [];
      const heldYs: number[] = [];
      for (let f = 0; f < opts.folds; f++) {
        const trainIdx = ys.map((_, i) => i).filter((i) => fold[i] !== f);
        const testIdx = ys.map((_, i) => i).filter((i) => fold[i] === f);
        if (testIdx.length === 0) continue;
        const vec = Vectorizer.fit(
          trainIdx.map((i) => bags[i]!),
          opts.features,
        );
        const m = LinearModel.train(
          trainIdx.map((i) => vec.transform(bags[i]!)),
          trainIdx.map((i) => ys[i]!),
          labels,
          vec.size,
          opts.linear,
        );
        for (const i of testIdx) {
          heldLogits.push(m.logits(vec.transform(bags[i]!)));
          heldYs.push(ys[i]!);
        }
      }
      temperature = fitTemperature(heldLogits, heldYs);
    }
    const vectorizer = Vectorizer.fit(bags, opts.features);
    const xs: SparseVector[] = bags.map((b) => vectorizer.transform(b));
    const model = LinearModel.train(xs, ys, labels, vectorizer.size, opts.linear);
    model.temperature = temperature;
    return new NgramIntentClassifier(vectorizer, model, opts.threshold, opts.multiIntentFloor, {
      examples: data.length,
      features: vectorizer.size,
      trainMs: Math.round(performance.now() - started),
      temperature,
    });
  }

  static restore(state: IntentModelState): NgramIntentClassifier {
    return new NgramIntentClassifier(
      Vectorizer.restore(state.vectorizer),
      new LinearModel(state.linear),
      state.threshold,
      state.multiIntentFloor,
      state.stats,
    );
  }

  state(): IntentModelState {
    return {
      kind: 'ngram-linear',
      vectorizer: this.vectorizer.state(),
      linear: this.model.state(),
      threshold: this.threshold,
      multiIntentFloor: this.multiIntentFloor,
      stats: this.stats,
    };
  }

  /** Calibrated probabilities of every class (the `oos` class included when trained with one). */
  probabilities(text: string): { labels: readonly string[]; p: Float64Array } {
    return { labels: this.model.labels, p: this.model.probabilities(this.vectorizer.vector(text)) };
  }

  classify(text: string, threshold = this.threshold): IntentPrediction {
    const { p } = this.probabilities(text);
    const labels = this.model.labels;
    const oosProbability = this.oosIndex >= 0 ? p[this.oosIndex]! : 0;
    const ranked: { label: string; p: number }[] = [];
    let best = -1;
    for (let c = 0; c < labels.length; c++) {
      if (c === this.oosIndex) continue;
      ranked.push({ label: labels[c]!, p: p[c]! });
      if (best < 0 || p[c]! > p[best]!) best = c;
    }
    ranked.sort((a, b) => b.p - a.p);
    const top = ranked[0]!;
    const second = ranked[1]?.p ?? 0;
    const oosWins = this.oosIndex >= 0 && oosProbability > top.p;
    const outOfScope = oosWins || top.p < threshold;
    return {
      label: outOfScope ? OOS : top.label,
      confidence: round4(top.p),
      outOfScope,
      candidates: ranked.slice(0, 3).map((c) => ({ label: c.label, p: round4(c.p) })),
      margin: round4(top.p - second),
      oosProbability: round4(oosProbability),
      likelyIntents: ranked.filter((c) => c.p >= this.multiIntentFloor).length,
    };
  }
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Fold number (0..k-1) of each example, round-robin within each class after a seeded shuffle. */
export function stratifiedFolds(ys: readonly number[], k: number, seed: number): number[] {
  const random = seededRandom(seed + 1);
  const byClass = new Map<number, number[]>();
  ys.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  const fold = new Array<number>(ys.length).fill(0);
  for (const members of byClass.values()) {
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const offset = Math.floor(random() * k);
    members.forEach((m, i) => (fold[m] = (i + offset) % k));
  }
  return fold;
}
