import { DEFAULT_FEATURES, extractFeatures, Vectorizer, type FeatureOptions, type VectorizerState } from './features';
import { DEFAULT_LINEAR, fitTemperature, LinearModel, seededRandom, type LinearOptions, type LinearState } from './linear';

/**
 * A calibrated text classifier (issue 9): TF-IDF n-gram features (features.ts) into a multinomial
 * logistic regression (linear.ts), with the softmax temperature fitted on cross-validated logits, so
 * each example's held-out score comes from a model that never saw it. Intent and emotion models are
 * both this, trained on different labels with different feature options.
 */

export interface TrainingExample {
  text: string;
  label: string;
  /** Gradient weight (class balancing); 1 when absent. */
  weight?: number;
}

export interface ClassifierOptions {
  features: FeatureOptions;
  linear: LinearOptions;
  /** Folds for the cross-validated logits the temperature is fitted on (2..10); 0 = no calibration (T = 1). */
  folds: number;
}

/**
 * The most weights (features × labels) a model may have: 16 M floats, 64 MB. A bigger vocabulary
 * keeps only its most frequent features, so a huge knowledge base cannot exhaust memory.
 */
export const MAX_WEIGHTS = 16_000_000;

export const DEFAULT_CLASSIFIER: ClassifierOptions = { features: DEFAULT_FEATURES, linear: DEFAULT_LINEAR, folds: 3 };

/** A trained classifier as plain data (typed arrays): moves between threads by structured clone. */
export interface TextClassifierState {
  vectorizer: VectorizerState;
  linear: LinearState;
  /** Training facts for reports. */
  stats: { examples: number; features: number; trainMs: number; temperature: number };
}

export class TextClassifier {
  private constructor(
    private readonly vectorizer: Vectorizer,
    private readonly model: LinearModel,
    readonly stats: TextClassifierState['stats'],
  ) {}

  /** Class labels, sorted. */
  get labels(): readonly string[] {
    return this.model.labels;
  }

  /**
   * Trains on `examples`. Throws `Error` when there are fewer than two labels. Synchronous CPU work,
   * about (folds + 1) × epochs × examples × features-per-text × labels multiply-adds.
   */
  static train(examples: readonly TrainingExample[], options: Partial<ClassifierOptions> = {}): TextClassifier {
    const opts = { ...DEFAULT_CLASSIFIER, ...options };
    const started = performance.now();
    const labels = [...new Set(examples.map((e) => e.label))].sort();
    if (labels.length < 2) throw new Error('A classifier needs examples of at least two labels.');
    const index = new Map(labels.map((l, i) => [l, i]));
    const bags = examples.map((e) => extractFeatures(e.text, opts.features));
    const ys = examples.map((e) => index.get(e.label)!);
    const weights = examples.some((e) => e.weight !== undefined) ? examples.map((e) => e.weight ?? 1) : undefined;
    const fit = (rows: number[]) => {
      const vec = Vectorizer.fit(
        rows.map((i) => bags[i]!),
        opts.features,
        MAX_WEIGHTS / labels.length,
      );
      const xs = rows.map((i) => vec.transform(bags[i]!));
      const model = LinearModel.train(
        xs,
        rows.map((i) => ys[i]!),
        labels,
        vec.size,
        opts.linear,
        weights && rows.map((i) => weights[i]!),
      );
      return { vec, model };
    };
    let temperature = 1;
    if (opts.folds >= 2) {
      const fold = stratifiedFolds(ys, opts.folds, opts.linear.seed);
      const heldLogits: Float64Array[] = [];
      const heldYs: number[] = [];
      for (let f = 0; f < opts.folds; f++) {
        const held = ys.map((_, i) => i).filter((i) => fold[i] === f);
        if (held.length === 0) continue;
        const { vec, model } = fit(ys.map((_, i) => i).filter((i) => fold[i] !== f));
        for (const i of held) {
          heldLogits.push(model.logits(vec.transform(bags[i]!)));
          heldYs.push(ys[i]!);
        }
      }
      temperature = fitTemperature(heldLogits, heldYs);
    }
    const { vec, model } = fit(ys.map((_, i) => i));
    model.temperature = temperature;
    return new TextClassifier(vec, model, {
      examples: examples.length,
      features: vec.size,
      trainMs: Math.round(performance.now() - started),
      temperature,
    });
  }

  static restore(state: TextClassifierState): TextClassifier {
    return new TextClassifier(Vectorizer.restore(state.vectorizer), new LinearModel(state.linear), state.stats);
  }

  state(): TextClassifierState {
    return { vectorizer: this.vectorizer.state(), linear: this.model.state(), stats: this.stats };
  }

  /** Calibrated probability of each label (same order as `labels`). */
  probabilities(text: string): Float64Array {
    return this.model.probabilities(this.vectorizer.vector(text));
  }

  /** Uncalibrated class scores. */
  logits(text: string): Float64Array {
    return this.model.logits(this.vectorizer.vector(text));
  }

  /** Bytes of the weights and idf (the model's size in memory, vocabulary strings aside). */
  get weightBytes(): number {
    return this.model.weights.byteLength + this.vectorizer.idf.byteLength;
  }
}

/** Fold number (0..k-1) of each example, round-robin within each class after a seeded shuffle. */
export function stratifiedFolds(ys: readonly number[], k: number, seed: number): number[] {
  const random = seededRandom(seed + 1);
  const byClass = new Map<number, number[]>();
  ys.forEach((y, i) => {
    const members = byClass.get(y);
    if (members) members.push(i);
    else byClass.set(y, [i]);
  });
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
