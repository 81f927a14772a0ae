import { Jieba } from '@node-rs/jieba';
// The explicit .js: the compiled server is ESM, and this package has no exports map.
import { dict } from '@node-rs/jieba/dict.js';
import type { Lang } from '../../../common/ai/types';

/**
 * Text preparation for the language core (issue 9): normalisation, language detection and
 * tokenisation. Chinese is segmented into words by `@node-rs/jieba` (the jieba dictionary shipped in
 * the package; loaded once per thread, ~170 ms, on first use); English and other scripts split on
 * Unicode letter/digit runs.
 */

let jieba: Jieba | undefined;

/** The thread's jieba segmenter, loaded with the package's default dictionary on first call. */
function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

/** Loads the Chinese dictionary now (so the first request does not pay ~170 ms). */
export function warmUpTokenizer(): void {
  segmenter().cut('预热', false);
}

const HAN = /\p{Script=Han}/u;
const HAN_G = /\p{Script=Han}/gu;
const LETTER_G = /\p{L}/gu;

/**
 * NFKC (full-width letters/digits become ASCII, compatibility forms fold), lower-case, and runs of
 * white space collapsed. Emoji and punctuation stay: they carry emotion.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * `zh` when Han characters are at least 30 % of the letters (so "我的order还没到" is Chinese and an
 * English sentence with one 好 is not), else `en`. Text with no letters is `en`.
 */
export function detectLang(text: string): Lang {
  if (!HAN.test(text)) return 'en';
  const han = text.match(HAN_G)?.length ?? 0;
  const letters = text.match(LETTER_G)?.length ?? 0;
  return letters > 0 && han / letters >= 0.3 ? 'zh' : 'en';
}

/** A word or number run, keeping English contractions ("don't") whole. */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;
const HAN_RUN = /\p{Script=Han}+/gu;
const EMOJI = /\p{Extended_Pictographic}/gu;
const PUNCT_CUES = /[!?！？]{2,}|[!！]|[?？]/gu;

/** Tokens of normalised text: words (jieba words inside Han runs), then emoji and emphatic punctuation as their own tokens. */
export interface Tokens {
  /** Words in order; Han runs segmented by jieba, other runs as written (lower-cased). */
  words: string[];
  /** Han runs, in order (for character n-grams). */
  hanRuns: string[];
  /** Emoji and punctuation cues ("!", "?", "!!" …), in order. */
  cues: string[];
}

/**
 * Splits normalised text into tokens. Latin words inside Chinese text stay whole ("我的order" →
 * 我, 的, order); digits runs are kept (an order number is one token).
 */
export function tokenize(norm: string): Tokens {
  const words: string[] = [];
  const hanRuns: string[] = [];
  for (const m of norm.matchAll(WORD)) {
    const run = m[0];
    if (!HAN.test(run)) {
      words.push(run);
      continue;
    }
    // A run may mix Han and Latin ("订单order"): segment Han parts, keep the rest whole.
    let last = 0;
    for (const h of run.matchAll(HAN_RUN)) {
      if (h.index > last) words.push(run.slice(last, h.index));
      hanRuns.push(h[0]);
      for (const w of segmenter().cut(h[0], false)) words.push(w);
      last = h.index + h[0].length;
    }
    if (last < run.length) words.push(run.slice(last));
  }
  const cues: string[] = [];
  for (const m of norm.matchAll(EMOJI)) cues.push(m[0]);
  for (const m of norm.matchAll(PUNCT_CUES))
    cues.push(m[0].length > 1 ? m[0].slice(0, 2).replace(/！/g, '!').replace(/？/g, '?') : m[0].replace('！', '!').replace('？', '?'));
  return { words, hanRuns, cues };
}

/** Whether a token is a number run (order numbers, amounts). */
export const isNumberToken = (w: string) => /^\p{N}+$/u.test(w);
