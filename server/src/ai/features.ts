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

/** A sparse vector: parallel arrays of feature indexes (in no particular order) and values. */
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
/** Group number by the feature name's first character code. */
const GROUP_INDEX: Record<number, number> = Object.fromEntries(GROUPS.map((g, i) => [g.charCodeAt(0), i]));

/** Counts of each named feature in one text, by group. */
export type FeatureBag = Map<string, number>;

/** English words are reduced to their Porter2 stem ("arrived", "arrival" → "arriv"). */
const LATIN_WORD = /^[a-z][a-z']+$/;

const numberShape = (w: string) => (w.length >= 5 ? '#long' : w.length >= 3 ? '#mid' : w);

/** The named features of a text (before weighting), e.g. `w:refund`, `b:my_card`, `c: ca`, `h:退款`, `e:!`. */
export function extractFeatures(text: string, opts: FeatureOptions = DEFAULT_FEATURES): FeatureBag {
  const bag: FeatureBag = new Map();
  const add = (f: string) => bag.set(f, (bag.get(f) ?? 0) + 1);
  const { norm, tokens, words } = prepared(text);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    add(`w:${w}`);
    if (i > 0) add(`b:${words[i - 1]}_${w}`);
  }
  if (words.length > 0) {
    add(`b:^_${words[0]}`);
  }
  // A group weighted 0 is not extracted at all (the emotion model has no English character n-grams).
  const [cmin, cmax] = opts.weights.c > 0 ? opts.charRange : [1, 0];
  for (const w of cmax >= cmin ? words : []) {
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

/**
 * The normalised text, its tokens and its feature words (stems, number shapes), remembered for the
 * last text: one analysis runs three models on the same message, and each would otherwise normalise
 * and segment it again.
 */
let last: { text: string; norm: string; tokens: ReturnType<typeof tokenize>; words: string[] } | null = null;
function prepared(text: string): NonNullable<typeof last> {
  if (last?.text === text) return last;
  const norm = normalizeText(text);
  const tokens = tokenize(norm);
  const words = tokens.words.map((w) => (isNumberToken(w) ? numberShape(w) : LATIN_WORD.test(w) ? stem(w) : w));
  last = { text, norm, tokens, words };
  return last;
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

  /**
   * Fits the vocabulary and idf (`ln((1 + N) / (1 + df)) + 1`) on `bags`, the training texts'
   * features. With `maxFeatures`, only that many are kept: those seen in the most texts (ties by name).
   */
  static fit(bags: FeatureBag[], options: FeatureOptions = DEFAULT_FEATURES, maxFeatures = Infinity): Vectorizer {
    const df = new Map<string, number>();
    for (const bag of bags) for (const f of bag.keys()) df.set(f, (df.get(f) ?? 0) + 1);
    let features: string[] = [];
    for (const [f, n] of df) if (n >= options.minDf) features.push(f);
    if (features.length > maxFeatures) {
      features.sort((a, b) => df.get(b)! - df.get(a)! || (a < b ? -1 : 1));
      features = features.slice(0, Math.max(0, Math.floor(maxFeatures)));
    }
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

  /**
   * The weighted, normalised vector of a feature bag; features outside the vocabulary are ignored.
   * Indexes come in the bag's order, not sorted (the linear model does not need them sorted; `sparseDot` sorts).
   */
  transform(bag: FeatureBag): SparseVector {
    const groupNorm = new Float64Array(GROUPS.length);
    const idx = new Int32Array(bag.size);
    const raw = new Float64Array(bag.size);
    const group = new Uint8Array(bag.size);
    let n = 0;
    for (const [f, tf] of bag) {
      const i = this.index.get(f);
      if (i === undefined) continue;
      const g = GROUP_INDEX[f.charCodeAt(0)] ?? 0;
      const v = (1 + Math.log(tf)) * this.idf[i]!;
      groupNorm[g]! += v * v;
      idx[n] = i;
      raw[n] = v;
      group[n] = g;
      n++;
    }
    const scale = new Float64Array(GROUPS.length);
    for (let g = 0; g < GROUPS.length; g++) scale[g] = groupNorm[g]! > 0 ? this.options.weights[GROUPS[g]!] / Math.sqrt(groupNorm[g]!) : 0;
    let total = 0;
    for (let k = 0; k < n; k++) {
      raw[k]! *= scale[group[k]!]!;
      total += raw[k]! * raw[k]!;
    }
    const norm = total > 0 ? 1 / Math.sqrt(total) : 0;
    const val = new Float32Array(n);
    for (let k = 0; k < n; k++) val[k] = raw[k]! * norm;
    return { idx: idx.subarray(0, n), val };
  }

  /** `transform(extractFeatures(text))`. */
  vector(text: string): SparseVector {
    return this.transform(extractFeatures(text, this.options));
  }
}

/** The vector with its indexes in ascending order. */
function sortedVector(v: SparseVector): SparseVector {
  const order = Array.from(v.idx.keys()).sort((x, y) => v.idx[x]! - v.idx[y]!);
  return { idx: Int32Array.from(order, (k) => v.idx[k]!), val: Float32Array.from(order, (k) => v.val[k]!) };
}

/** Cosine of two normalised sparse vectors (in any index order). */
export function sparseDot(x: SparseVector, y: SparseVector): number {
  const a = sortedVector(x);
  const b = sortedVector(y);
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
