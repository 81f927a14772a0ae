import type { Lang } from '../../../common/ai/types';
import { EMOTION_LEXICON, INTENSIFIERS, NEGATORS, type LexiconEmotion } from './data/emotion-lexicon';

/**
 * Emotion-lexicon matching (issue 9): finds the project's lexicon terms (data/emotion-lexicon.ts) in
 * normalised text, with negation ("不开心", "not happy": a negator up to 2 characters (zh) or 3 words
 * (en) before a term cancels it) and intensifiers ("非常", "so": raise the strength of the next term).
 * Terms that begin with a negator themselves ("不满意", "not bad") are matched whole first.
 */

export const LEXICON_EMOTIONS: readonly LexiconEmotion[] = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];

export interface LexiconHits {
  /** Summed weight of un-negated terms per emotion (0 when none), intensified terms × 1.5. */
  strength: Record<LexiconEmotion, number>;
  /** Terms cancelled by a negator. */
  negated: number;
  /** Intensifiers seen. */
  intensifiers: number;
}

interface Matcher {
  re: RegExp;
  entries: Map<string, { emotion: LexiconEmotion; weight: number }>;
  negators: RegExp;
  intensifiers: RegExp;
  /** Every intensifier, anywhere (zh: removed before looking for a negator, so 非常 is not 非). */
  anyIntensifier: RegExp;
}

/** `s` as a literal inside a regular expression. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const matchers = new Map<Lang, Matcher>();

function matcher(lang: Lang): Matcher {
  const cached = matchers.get(lang);
  if (cached) return cached;
  const entries = new Map<string, { emotion: LexiconEmotion; weight: number }>();
  for (const emotion of LEXICON_EMOTIONS) {
    for (const { term, weight } of EMOTION_LEXICON[lang][emotion]) entries.set(term.normalize('NFKC').toLowerCase(), { emotion, weight });
  }
  // Longest first, so "气死我了" wins over "气死" and "not bad" over "bad".
  const terms = [...entries.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const words = (list: string[]) => list.map((t) => escapeRegExp(t.toLowerCase())).sort((a, b) => b.length - a.length);
  const m: Matcher =
    lang === 'zh'
      ? {
          re: new RegExp(terms.join('|'), 'gu'),
          entries,
          negators: new RegExp(`(?:${words(NEGATORS.zh).join('|')})`, 'u'),
          intensifiers: new RegExp(`(?:${words(INTENSIFIERS.zh).join('|')})$`, 'u'),
          anyIntensifier: new RegExp(words(INTENSIFIERS.zh).join('|'), 'gu'),
        }
      : {
          re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${terms.join('|')})(?![\\p{L}\\p{N}])`, 'gu'),
          entries,
          negators: new RegExp(`(?:^|[^\\p{L}])(?:${words(NEGATORS.en).join('|')})(?:\\s+\\S+){0,2}\\s+$`, 'u'),
          intensifiers: new RegExp(`(?:^|[^\\p{L}])(?:${words(INTENSIFIERS.en).join('|')})\\s+$`, 'u'),
          anyIntensifier: /(?!)/gu,
        };
  matchers.set(lang, m);
  return m;
}

/** The last answer: features and intensity both read the same message's hits. */
let last: { norm: string; lang: Lang; hits: LexiconHits } | null = null;

/** Lexicon hits in `norm` (text already normalised by `normalizeText`), read in language `lang`. Do not mutate the answer. */
export function lexiconHits(norm: string, lang: Lang): LexiconHits {
  if (last && last.norm === norm && last.lang === lang) return last.hits;
  const hits = findHits(norm, lang);
  last = { norm, lang, hits };
  return hits;
}

function findHits(norm: string, lang: Lang): LexiconHits {
  const m = matcher(lang);
  const strength: Record<LexiconEmotion, number> = { anger: 0, disgust: 0, fear: 0, happiness: 0, sadness: 0, surprise: 0 };
  let negated = 0;
  let intensifiers = 0;
  for (const hit of norm.matchAll(m.re)) {
    const entry = m.entries.get(hit[0]);
    if (!entry) continue;
    const before = norm.slice(Math.max(0, hit.index - (lang === 'zh' ? 3 : 40)), hit.index);
    const selfNegating = NEGATOR_START[lang].test(hit[0]);
    const window = lang === 'zh' ? (before.split(/[，。！？,.!?\s]/u).pop() ?? '').replace(m.anyIntensifier, '') : before;
    if (!selfNegating && m.negators.test(window)) {
      negated++;
      continue;
    }
    let weight = entry.weight;
    if (m.intensifiers.test(before)) {
      weight *= 1.5;
      intensifiers++;
    }
    strength[entry.emotion] += weight;
  }
  return { strength, negated, intensifiers };
}

const NEGATOR_START: Record<Lang, RegExp> = { zh: /^(?:不|没|别|未)/u, en: /^(?:not|no|never|don't|isn't)\b/u };

/** Feature names for the model: `l:<emotion>` repeated by strength (rounded to 0.5 steps), `l:negated`, `l:intense`. */
export function lexiconFeatures(hits: LexiconHits): string[] {
  const out: string[] = [];
  for (const e of LEXICON_EMOTIONS) {
    const units = Math.min(6, Math.round(hits.strength[e] * 2));
    for (let i = 0; i < units; i++) out.push(`l:${e}`);
  }
  for (let i = 0; i < Math.min(3, hits.negated); i++) out.push('l:negated');
  for (let i = 0; i < Math.min(3, hits.intensifiers); i++) out.push('l:intense');
  return out;
}
