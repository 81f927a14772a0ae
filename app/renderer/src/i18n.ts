import type { Emotion } from '../../../common/ai/types';

/**
 * The workstation's languages. Most of the UI is still English only; strings that are localized live
 * in `STRINGS` below, one entry per language, and are read with `useLocale()` (context.ts).
 */
export type Locale = 'zh' | 'en';

/** The user's language from the browser's (Electron: the OS's) preferences: the first zh or en one, else en. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'zh' || primary === 'en') return primary;
  }
  return 'en';
}

/** The emotions a badge names; `neutral` shows no badge. */
export type ShownEmotion = Exclude<Emotion, 'neutral'>;

export const STRINGS: Record<Locale, { emotions: Record<ShownEmotion, string> }> = {
  en: {
    emotions: { anger: 'anger', disgust: 'disgust', fear: 'fear', happiness: 'happiness', sadness: 'sadness', surprise: 'surprise' },
  },
  zh: {
    emotions: { anger: '愤怒', disgust: '厌恶', fear: '恐惧', happiness: '高兴', sadness: '悲伤', surprise: '惊讶' },
  },
};
