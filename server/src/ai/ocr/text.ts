import type { Lang } from '../../../../common/ai/types';
import { detectLang } from '../text';

/** Han characters and the CJK punctuation set between them (、。「」，：；！？ and full-width forms). */
const CJK = '\\p{Script=Han}\\u3000-\\u303f\\uff00-\\uffef';
const SPACE_IN_CJK = new RegExp(`(?<=[${CJK}]) +(?=[${CJK}])`, 'gu');

/**
 * Tidies what the engine read: spaces it put between two Han characters (or CJK punctuation) are
 * dropped — Chinese is written without them — trailing spaces cut, runs of blank lines made one,
 * and the whole trimmed. Latin words keep their single spaces.
 */
export function tidyOcrText(raw: string): string {
  return raw
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(SPACE_IN_CJK, '').replace(/[ \t]+$/u, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The language of text read from an image: the language core's rule (≥ 30 % Han letters → `zh`). */
export const ocrLang = (text: string): Lang => detectLang(text);
