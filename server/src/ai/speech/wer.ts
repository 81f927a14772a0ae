/**
 * Word and character error rates (issue 18, `npm run eval -- asr`): Levenshtein distance (insertions,
 * deletions, substitutions each cost 1) between the reference and the hypothesis after the same
 * normalisation, divided by the reference length. English is scored by words (WER) after upper-casing
 * and removing punctuation (LibriSpeech's convention); Mandarin by characters (CER) after removing
 * spaces and punctuation (AISHELL's convention).
 */

/** Edit distance between two sequences (words or characters), O(|a|·|b|) time, O(|b|) memory. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** English words for scoring: upper case, apostrophes kept inside words, other punctuation removed. */
export function normalizeEnglishWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/gu, ' ')
    .split(/\s+/u)
    .filter(Boolean);
}

/** Mandarin characters for scoring: NFKC (full-width → half-width), no spaces or punctuation. */
export function normalizeChineseChars(text: string): string[] {
  return [
    ...text
      .normalize('NFKC')
      .replace(/[\s\p{P}\p{S}]/gu, '')
      .toUpperCase(),
  ];
}

/** Errors and reference length of one utterance. */
export interface ErrorCount {
  errors: number;
  reference: number;
}

/** Word errors of an English hypothesis. */
export function wordErrors(reference: string, hypothesis: string): ErrorCount {
  const ref = normalizeEnglishWords(reference);
  return { errors: editDistance(ref, normalizeEnglishWords(hypothesis)), reference: ref.length };
}

/** Character errors of a Mandarin hypothesis. */
export function charErrors(reference: string, hypothesis: string): ErrorCount {
  const ref = normalizeChineseChars(reference);
  return { errors: editDistance(ref, normalizeChineseChars(hypothesis)), reference: ref.length };
}

/** Pooled error rate: all errors over all reference units (not a mean of per-clip rates). */
export function pooledRate(counts: readonly ErrorCount[]): number {
  const ref = counts.reduce((s, c) => s + c.reference, 0);
  return ref === 0 ? 0 : counts.reduce((s, c) => s + c.errors, 0) / ref;
}
