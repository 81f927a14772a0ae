import { OUT_OF_SCOPE_INTENT, type IntentResult } from '../../../common/ai/types';
import { DEFAULT_CLASSIFIER, TextClassifier, type ClassifierOptions, type TextClassifierState } from './classifier';

/**
 * Intent classification with an explicit out-of-scope decision (issue 9). The port is
 * `IntentClassifier`; `NgramIntentClassifier` is the built-in model (classifier.ts: TF-IDF word +
 * character n-grams, logistic regression, temperature-calibrated). A text is out of scope when the
 * optional out-of-scope class (`oos`, when the training data has examples of it) beats every intent,
 * or the best intent's calibrated confidence above chance, `(p − 1/K) / (1 − 1/K)` for K intents, is
 * below `threshold`.
 */

/** The label an out-of-scope answer carries (and the class of out-of-scope training examples). */
export const OOS = OUT_OF_SCOPE_INTENT;

/** One training utterance. `intent: 'oos'` marks an out-of-scope example. */
export interface IntentExample {
  text: string;
  intent: string;
}

/** An `IntentResult` plus the numbers difficulty reads. */
export interface IntentPrediction extends IntentResult {
  /** Confidence of the best intent minus the second's, 0..1 (0 = a coin toss between two). */
  margin: number;
  /** Probability on the out-of-scope class, 0..1 (0 without one). */
  oosProbability: number;
  /** How many intents are each at least `multiIntentFloor` likely: more than one suggests several questions. */
  likelyIntents: number;
}

/** What any intent model answers; a deployment may put a bigger model behind it. */
export interface IntentClassifier {
  /** The in-scope intents it knows, sorted. */
  readonly labels: readonly string[];
  /** Never throws; any text (empty included) gets an answer. */
  classify(text: string): IntentPrediction;
}

export interface IntentTrainingOptions extends ClassifierOptions {
  /** Out of scope below this confidence above chance, 0..1 (chosen on CLINC150's validation split, docs/ai-quality.md). */
  threshold: number;
  /** Add each intent's name as one more example ("order_status" → "order status"). */
  labelAsExample: boolean;
  /** An intent at or above this probability counts in `likelyIntents`. */
  multiIntentFloor: number;
}

export const DEFAULT_INTENT_TRAINING: IntentTrainingOptions = {
  ...DEFAULT_CLASSIFIER,
  linear: { ...DEFAULT_CLASSIFIER.linear, epochs: 12 },
  threshold: 0.4,
  labelAsExample: true,
  multiIntentFloor: 0.2,
};

export interface IntentModelState {
  kind: 'ngram-linear';
  classifier: TextClassifierState;
  threshold: number;
  multiIntentFloor: number;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Work above which big knowledge bases train with fewer epochs and folds: examples × classes. CLINC150
 * (15,100 × 151 ≈ 2.3 M) and Banking77 train with the full schedule; a KB at the limits (30,000
 * questions × 1,000 intents = 30 M) with 3 epochs and 2 folds: 218 s measured for 28,000 × 1,000, instead of most of an hour.
 */
export const FULL_SCHEDULE_WORK = 3_000_000;

/** The training schedule for `examples` × `classes`: the given one up to FULL_SCHEDULE_WORK, then scaled down. */
export function scheduleFor<T extends ClassifierOptions>(examples: number, classes: number, opts: T): T {
  const work = examples * classes;
  if (work <= FULL_SCHEDULE_WORK) return opts;
  const epochs = Math.max(3, Math.round((opts.linear.epochs * FULL_SCHEDULE_WORK) / work));
  return { ...opts, folds: Math.min(opts.folds, 2), linear: { ...opts.linear, epochs } };
}

export class NgramIntentClassifier implements IntentClassifier {
  readonly labels: readonly string[];
  private readonly oosIndex: number;

  private constructor(
    readonly classifier: TextClassifier,
    readonly threshold: number,
    private readonly multiIntentFloor: number,
  ) {
    this.oosIndex = classifier.labels.indexOf(OOS);
    this.labels = classifier.labels.filter((l) => l !== OOS);
  }

  /**
   * Trains on `examples` (languages may be mixed: an intent is one class whatever the language).
   * Throws `Error` with fewer than two in-scope intents. ~0.3 s per 1,000 examples on one core with
   * the defaults; the core trains in a worker thread (ai/core.ts).
   */
  static train(examples: readonly IntentExample[], options: Partial<IntentTrainingOptions> = {}): NgramIntentClassifier {
    const opts = { ...DEFAULT_INTENT_TRAINING, ...options };
    const data = examples.map((e) => ({ text: e.text, label: e.intent }));
    const intents = [...new Set(data.map((e) => e.label))].filter((l) => l !== OOS);
    if (intents.length < 2) throw new Error('An intent model needs at least two intents.');
    if (opts.labelAsExample) for (const l of intents) data.push({ text: l.replace(/[_.-]+/g, ' '), label: l });
    return new NgramIntentClassifier(
      TextClassifier.train(data, scheduleFor(data.length, intents.length + 1, opts)),
      opts.threshold,
      opts.multiIntentFloor,
    );
  }

  static restore(state: IntentModelState): NgramIntentClassifier {
    return new NgramIntentClassifier(TextClassifier.restore(state.classifier), state.threshold, state.multiIntentFloor);
  }

  state(): IntentModelState {
    return {
      kind: 'ngram-linear',
      classifier: this.classifier.state(),
      threshold: this.threshold,
      multiIntentFloor: this.multiIntentFloor,
    };
  }

  get stats(): TextClassifierState['stats'] {
    return this.classifier.stats;
  }

  classify(text: string, threshold = this.threshold): IntentPrediction {
    const p = this.classifier.probabilities(text);
    const labels = this.classifier.labels;
    const oosProbability = this.oosIndex >= 0 ? p[this.oosIndex]! : 0;
    const ranked: { label: string; p: number }[] = [];
    for (let c = 0; c < labels.length; c++) if (c !== this.oosIndex) ranked.push({ label: labels[c]!, p: p[c]! });
    ranked.sort((a, b) => b.p - a.p);
    const top = ranked[0]!;
    // The threshold applies to the confidence above chance, so it means the same for 3 intents as for
    // 150: with K intents a shrug is 1/K each, and (p − 1/K) / (1 − 1/K) is 0 for it.
    const chance = 1 / ranked.length;
    const aboveChance = (top.p - chance) / (1 - chance);
    const outOfScope = (this.oosIndex >= 0 && oosProbability > top.p) || aboveChance < threshold;
    return {
      label: outOfScope ? OOS : top.label,
      confidence: round4(top.p),
      outOfScope,
      candidates: ranked.slice(0, 3).map((c) => ({ label: c.label, p: round4(c.p) })),
      margin: round4(top.p - (ranked[1]?.p ?? 0)),
      oosProbability: round4(oosProbability),
      likelyIntents: ranked.filter((c) => c.p >= this.multiIntentFloor).length,
    };
  }
}
