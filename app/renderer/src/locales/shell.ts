import type { Messages } from './messages';

/**
 * The shell (issue 15): the language switch and strings every view shares. i18next syntax:
 * `{{name}}` interpolates, `_one`/`_other` are plural forms chosen by `count`, and
 * `{{value, number}}` / `{{value, datetime}}` / `{{value, duration}}` format for the language.
 */
export const en = {
  language: 'Language',
  languages: { zh: '中文', en: 'English' },
} as const;

export const zh: Messages<typeof en> = {
  language: '语言',
  languages: { zh: '中文', en: 'English' },
};
