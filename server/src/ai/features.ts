import stem from 'wink-porter2-stemmer';
import { lexiconFeatures, lexiconHits } from './lexicon';
import { detectLang, isNumberToken, tokenize, normalizeText } from './text';

/**
 * Sparse TF-IDF features over word and character n-grams (issue 9). Each text becomes a bag of named
 * features in groups — word unigrams `w:`, word bigrams `b:`, character n-grams inside words `c:`
 * (English) or inside Han runs `h:` (Chinese), and emoji/punctuation cues `e:` — weighted
 * `(1 + ln tf) × idf`, each group L2-normalised and scaled by its weight, then the whole vector
 * L2-normalised. The vocabulary is the features seen in at least `minDf` training texts.
 */

/** A sparse vector: parallel arrays of feature indexes (ascending) and values. */
export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

export interface FeatureOptions {
  /** Character n-gram lengths inside Latin words (padded with spaces), e.g. [3, 5]. */
  charRange: [number, number];
  /** Character n-gram lengths inside Han runs, e.g. [1, 3]. */
  hanRange: [number, number];
  /** Features seen in fewer training texts are dropped. */
  minDf: number;
  /** Emotion-lexicon features `l:` (lexicon.ts); the emotion model uses them, intents do not. */
  lexicon: boolean;
  /** Group weights before the final normalisation. */
  weights: { w: number; b: number; c: number; h: number; e: number; l: number };
}

export const DEFAULT_FEATURES: FeatureOptions = {
  charRange: [3, 5],
  hanRange: [1, 3],
  minDf: 1,
  lexicon: false,
  weights: { w: 1, b: 0.6, c: 2, h: 1, e: 0.5, l: 1 },
};

type Group = keyof FeatureOptions['weights'];
const GROUPS: Group[] = ['w', 'b', 'c', 'h', 'e', 'l'];

/** Counts of each named feature in one text, by group. */
export type FeatureBag = Map<string, number>;

/** English words are reduced to their Porter2 stem ("arrived", "arrival" → "arriv"). */
const LATIN_WORD = /^[a-z][a-z']+$/;

const numberShape = (w: string) => (w.length >= 5 ? '#long' : w.length >= 3 ? '#mid' : w);

/** The named features of a text (before weighting), e.g. `w:refund`, `b:my_card`, `c: ca`, `h:退款`, `e:!`. */
export function extractFeatures(text: string, opts: FeatureOptions = DEFAULT_FEATURES): FeatureBag {
  const bag: FeatureBag = new Map();
  const add = (f: string) => bag.set(f, (bag.get(f) ?? 0) + 1);
  const norm = normalizeText(text);
  const tokens = tokenize(norm);
  const words = tokens.words.map((w) => (isNumberToken(w) ? numberShape(w) : LATIN_WORD.test(w) ? stem(w) : w));
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    add(`w:${w}`);
    if (i > 0) add(`b:${words[i - 1]}_${w}`);
  }
  if (words.length > 0) {
    add(`b:^_${words[0]}`);
  }
  const [cmin, cmax] = opts.charRange;
  for (const w of words) {
    if (w.startsWith('#') || /\p{Script=Han}/u.test(w)) continue;
    const padded = ` ${w} `;
    for (let n = cmin; n <= cmax; n++) {
      if (padded.length < n) break;
      for (let i = 0; i + n <= padded.length; i++) add(`c:${padded.slice(i, i + n)}`);
    }
  }
  const [hmin, hmax] = opts.hanRange;
  for (const run of tokens.hanRuns) {
    const chars = Array.from(run);
    for (let n = hmin; n <= hmax; n++) {
      for (let i = 0; i + n <= chars.length; i++) add(`h:${chars.slice(i, i + n).join('')}`);
    }
  }
  for (const cue of tokens.cues) add(`e:${cue}`);
  if (opts.lexicon) for (const f of lexiconFeatures(lexiconHits(norm, detectLang(norm)))) add(f);
  return bag;
}

/** A fitted vocabulary: feature name → index, its idf, and the options it was fitted with. */
export interface VectorizerState {
  options: FeatureOptions;
  features: string[];
  idf: Float32Array;
}

/** Turns texts into sparse TF-IDF vectors with a vocabulary fitted on training texts. */
export class Vectorizer {
  readonly options: FeatureOptions;
  private readonly index: Map<string, number>;
  readonly features: string[];
  readonly idf: Float32Array;

  private constructor(state: VectorizerState) {
    this.options = state.options;
    this.features = state.features;
    this.idf = state.idf;
    this.index = new Map(state.features.map((f, i) => [f, i]));
  }

  /** Fits the vocabulary and idf (`ln((1 + N) / (1 + df)) + 1`) on `bags`, the training texts' features. */
  static fit(bags: FeatureBag[], options: FeatureOptions = DEFAULT_FEATURES): Vectorizer {
    const df = new Map<string, number>();
    for (const bag of bags) for (const f of bag.keys()) df.set(f, (df.get(f) ?? 0) + 1);
    const features: string[] = [];
    for (const [f, n] of df) if (n >= options.minDf) features.push(f);
    features.sort();
    const n = bags.length;
    const idf = new Float32Array(features.length);
    features.forEach((f, i) => (idf[i] = Math.log((1 + n) / (1 + df.get(f)!)) + 1));
    return new Vectorizer({ options, features, idf });
  }

  static restore(state: VectorizerState): Vectorizer {
    return new Vectorizer(state);
  }

  state(): VectorizerState {
    return { options: this.options, features: this.features, idf: this.idf };
  }

  get size(): number {
    return this.features.length;
  }

  /** The weighted, normalised vector of a feature bag; features outside the vocabulary are ignored. */
  transform(bag: FeatureBag): SparseVector {
    const groupNorm: Record<Group, number> = { w: 0, b: 0, c: 0, h: 0, e: 0, l: 0 };
    const entries: [number, number, Group][] = [];
    for (const [f, tf] of bag) {
      const i = this.index.get(f);
      if (i === undefined) continue;
      const g = f[0] as Group;
      const v = (1 + Math.log(tf)) * this.idf[i]!;
      groupNorm[g] += v * v;
      entries.push([i, v, g]);
    }
    let total = 0;
    const scale: Record<Group, number> = { w: 0, b: 0, c: 0, h: 0, e: 0, l: 0 };
    for (const g of GROUPS) scale[g] = groupNorm[g] > 0 ? this.options.weights[g] / Math.sqrt(groupNorm[g]) : 0;
    for (const e of entries) {
      e[1] *= scale[e[2]];
      total += e[1] * e[1];
    }
    const norm = total > 0 ? 1 / Math.sqrt(total) : 0;
    entries.sort((a, b) => a[0] - b[0]);
    const idx = new Int32Array(entries.length);
    const val = new Float32Array(entries.length);
    entries.forEach((e, k) => {
      idx[k] = e[0];
      val[k] = e[1] * norm;
    });
    return { idx, val };
  }

  /** `transform(extractFeatures(text))`. */
  vector(text: string): SparseVector {
    return this.transform(extractFeatures(text, this.options));
  }
}

/** Cosine of two normalised sparse vectors (indexes ascending). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const x = a.idx[i]!;
    const y = b.idx[j]!;
    if (x === y) s += a.val[i++]! * b.val[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}
