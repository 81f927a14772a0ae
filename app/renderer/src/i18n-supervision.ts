import { fixedT } from './i18n-legacy';
import type { Locale } from './i18n';
import { hasKey } from './locale-format';
import { resources } from './locales';

/**
 * Legacy adapter (issue 15): the note and composer-mode strings of `locales/supervision.ts` in the old
 * shape, for the desk components that still read them (Conversation's composer, TopBar's "state set
 * by" line) until their migration to `useTranslation('supervision')`. Delete once nothing imports it.
 */
export function supervisionStrings(locale: Locale) {
  const s = resources[locale].supervision;
  const t = fixedT(locale, 'supervision');
  return {
    composerMode: s.composerMode,
    modeReply: s.modeReply,
    modeNote: s.modeNote,
    note: s.note,
    notePlaceholder: s.notePlaceholder,
    addNote: s.addNote,
    presenceChangedBy: (name: string, presence: string) => t('presenceChangedBy', { name, presence }),
  };
}

/** An error's words (legacy adapter): the code's own line, else the fallback. */
export const supervisionError = (locale: Locale, code: string | null | undefined): string => {
  const errors = resources[locale].supervision.errors;
  return hasKey(errors, code) ? errors[code] : errors.fallback;
};
