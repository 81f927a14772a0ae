/**
 * Search terms of text read from images (issue 10): what the blind index stores (as keyed hashes, never
 * as text) and what a query is split into. The semantics, in docs/ocr.md:
 * - text is NFKC-normalised and lower-cased (full-width `ＡＢＣ１２３` is `abc123`);
 * - a word is a run of letters and digits outside Han characters, of at least 2 characters
 *   (`Order#88990011` → `order`, `88990011`); digit groups joined by one space, `-` or `.` are also
 *   one term (`138-1234-5678` → `13812345678` besides its groups);
 * - Han characters are indexed one by one and by neighbouring pairs (`物流信息` → 物 流 信 息 物流 流信 信息);
 * - a query matches an image whose text has every term of the query: each word exactly (no prefixes),
 *   a grouped number as one number, a Chinese query by each of its neighbouring pairs (one
 *   character: that character).
 */

const HAN = /\p{Script=Han}/u;
const TOKEN = /[\p{L}\p{N}]+/gu;
const DIGIT_CHAIN = /\d+(?:[\s.-]\d+)+/g;
/** Terms kept per text at most: an image of a full page still indexes in a bounded number of rows. */
export const MAX_TERMS = 2000;

const normalise = (text: string) => text.normalize('NFKC').toLowerCase();

/** Splits a token at Han characters: the Han runs and the other runs apart. */
function pieces(token: string): { han: boolean; text: string }[] {
  const out: { han: boolean; text: string }[] = [];
  for (const ch of token) {
    const han = HAN.test(ch);
    const last = out.at(-1);
    if (last && last.han === han) last.text += ch;
    else out.push({ han, text: ch });
  }
  return out;
}

function hanUnigrams(run: string): string[] {
  return [...run];
}

function hanBigrams(run: string): string[] {
  const chars = [...run];
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

/**
 * The distinct terms of a text for the index (see the module comment), at most `max` (the first ones
 * in reading order).
 */
export function indexTerms(text: string, max = MAX_TERMS): string[] {
  const norm = normalise(text);
  const terms = new Set<string>();
  const add = (t: string) => {
    if (terms.size < max) terms.add(t);
  };
  for (const token of norm.match(TOKEN) ?? []) {
    for (const p of pieces(token)) {
      if (p.han) {
        hanUnigrams(p.text).forEach(add);
        hanBigrams(p.text).forEach(add);
      } else if (p.text.length >= 2) add(p.text);
    }
  }
  for (const chain of norm.match(DIGIT_CHAIN) ?? []) add(chain.replace(/[\s.-]/g, ''));
  return [...terms];
}

/**
 * The terms a query must all match (see the module comment); empty when the query has no term (only
 * one-letter words or punctuation).
 */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  // A number written in groups is searched as one number: its groups alone would miss a text that
  // has it unbroken (the index has both forms of a grouped number).
  const norm = normalise(query).replace(DIGIT_CHAIN, (chain) => {
    terms.add(chain.replace(/[\s.-]/g, ''));
    return ' ';
  });
  for (const token of norm.match(TOKEN) ?? []) {
    for (const p of pieces(token)) {
      if (p.han) {
        const pairs = hanBigrams(p.text);
        (pairs.length > 0 ? pairs : hanUnigrams(p.text)).forEach((t) => terms.add(t));
      } else if (p.text.length >= 2) terms.add(p.text);
    }
  }
  return [...terms];
}
