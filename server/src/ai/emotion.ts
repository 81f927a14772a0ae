import { EMOTIONS, type Emotion, type EmotionResult } from '../../../common/ai/types';
import { DEFAULT_CLASSIFIER, TextClassifier, type ClassifierOptions, type TextClassifierState, type TrainingExample } from './classifier';
import { EMOTION_SEED } from './data/emotion-seed';
import { EMOTION_SEED_ZH_MORE } from './data/emotion-seed-zh-more';
import { lexiconHits, LEXICON_EMOTIONS } from './lexicon';
import { detectLang, normalizeText } from './text';

/**
 * Six-emotion analysis (Ekman: anger, disgust, fear, happiness, sadness, surprise) plus neutral, in
 * Chinese and English, with an intensity (issue 9). `NgramEmotionClassifier` is the same calibrated
 * n-gram classifier as intents, with the emotion lexicon (lexicon.ts) as extra features. What it is
 * trained on is decided by `shippedEmotionExamples` (data with a declared licence only).
 */

export interface EmotionClassifier {
  /** Never throws; empty text is neutral. */
  classify(text: string): EmotionResult;
}

/**
 * Emotion is carried by words, Chinese characters and the lexicon, not by English character n-grams,
 * and short comments need few epochs: no English character n-grams (half the cost of a message, same
 * macro-F1), Han 1.5, 4 epochs — chosen on a held-out fifth of GoEmotions dev (macro-F1 0.540–0.541;
 * 6 settings tried), never on a test split.
 */
export const EMOTION_TRAINING: ClassifierOptions = {
  ...DEFAULT_CLASSIFIER,
  features: {
    ...DEFAULT_CLASSIFIER.features,
    lexicon: true,
    weights: { ...DEFAULT_CLASSIFIER.features.weights, c: 0, h: 1.5 },
  },
  linear: { ...DEFAULT_CLASSIFIER.linear, epochs: 4 },
};

export interface EmotionModelState {
  kind: 'ngram-linear';
  classifier: TextClassifierState;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export class NgramEmotionClassifier implements EmotionClassifier {
  /** The feature options emotion models train with (lexicon features on). */
  static readonly features = EMOTION_TRAINING.features;

  private constructor(readonly classifier: TextClassifier) {}

  /** Trains on examples labelled with `EMOTIONS` names; throws `Error` on any other label. */
  static train(
    examples: readonly TrainingExample[],
    options: Partial<ClassifierOptions> & { balance?: number } = {},
  ): NgramEmotionClassifier {
    for (const e of examples)
      if (!(EMOTIONS as readonly string[]).includes(e.label)) throw new Error(`Unknown emotion label "${e.label}".`);
    return new NgramEmotionClassifier(
      TextClassifier.train(balanced(examples, options.balance ?? 0.5), { ...EMOTION_TRAINING, ...options }),
    );
  }

  static restore(state: EmotionModelState): NgramEmotionClassifier {
    return new NgramEmotionClassifier(TextClassifier.restore(state.classifier));
  }

  state(): EmotionModelState {
    return { kind: 'ngram-linear', classifier: this.classifier.state() };
  }

  classify(text: string): EmotionResult {
    const p = this.classifier.probabilities(text);
    const labels = this.classifier.labels as readonly Emotion[];
    const scores = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as Record<Emotion, number>;
    let label: Emotion = 'neutral';
    labels.forEach((l, c) => {
      scores[l] = round4(p[c]!);
      if (p[c]! > scores[label]) label = l;
    });
    return { label, intensity: label === 'neutral' ? 0 : intensityOf(text, label, scores), scores };
  }
}

/**
 * Weights each example by `(mean class size / its class size) ^ power`, so rare emotions (fear,
 * disgust: 2 % of GoEmotions) are not drowned by happiness and neutral; power 0 = unweighted.
 */
function balanced(examples: readonly TrainingExample[], power: number): TrainingExample[] {
  if (power === 0) return [...examples];
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const mean = examples.length / counts.size;
  return examples.map((e) => ({ ...e, weight: (e.weight ?? 1) * (mean / counts.get(e.label)!) ** power }));
}

/**
 * How strongly `label` is expressed, 0..1: the model's certainty that the text is not neutral,
 * raised by lexicon strength (intensified terms count 1.5×) and by "!!" / "！！".
 */
export function intensityOf(text: string, label: Exclude<Emotion, 'neutral'> | Emotion, scores: Record<Emotion, number>): number {
  const norm = normalizeText(text);
  const hits = lexiconHits(norm, detectLang(norm));
  const lex = label === 'neutral' ? 0 : Math.min(1, hits.strength[label as (typeof LEXICON_EMOTIONS)[number]] / 2);
  const emphasis = /[!！]{2,}/u.test(norm) ? 0.15 : 0;
  return round4(Math.min(1, 0.6 * (1 - scores.neutral) + 0.4 * lex + emphasis));
}

/**
 * The emotion examples the product ships a model of: the project's own seed sentences (zh + en,
 * Apache-2.0 with the project), GoEmotions' dev split (Apache-2.0; Ekman labels, first label of
 * multi-label rows) when `goEmotionsDev` is given, and `calmQuestions` labelled neutral when they are
 * calm (`isCalm`). SMP2020-EWECT has no declared licence and is never among them.
 */
export function shippedEmotionExamples(
  goEmotionsDev: readonly { text: string; labels: string[] }[] = [],
  calmQuestions: readonly string[] = [],
): TrainingExample[] {
  return [
    ...[...EMOTION_SEED, ...EMOTION_SEED_ZH_MORE].map((s) => ({ text: s.text, label: s.label })),
    ...goEmotionsDev.map((r) => ({ text: r.text, label: r.labels[0]! })),
    ...calmQuestions.filter(isCalm).map((text) => ({ text, label: 'neutral' })),
  ];
}

/**
 * A weak "neutral" label for customer questions (issue 9 review): no emotion-lexicon term, no "!",
 * no emoji. GoEmotions files questions under surprise (curiosity, confusion), so without such
 * examples "Where is my order?" read as surprise and a polite "我要人工客服" as anger.
 */
export function isCalm(text: string): boolean {
  if (/[!！]|\p{Extended_Pictographic}/u.test(text)) return false;
  const norm = normalizeText(text);
  const hits = lexiconHits(norm, detectLang(norm));
  return LEXICON_EMOTIONS.every((e) => hits.strength[e] === 0);
}
