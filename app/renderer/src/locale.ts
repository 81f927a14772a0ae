import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { numberFormat } from './intl-cache';
import { resources } from './locales';

/** The workstation's languages (issue 15): Simplified Chinese and English. */
export type Locale = 'zh' | 'en';

/** The user's language from the browser's (Electron: the OS's) preferences: the first zh or en one, else en. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'zh' || primary === 'en') return primary;
  }
  return 'en';
}

/** Where the workstation remembers the agent's language choice (localStorage; Electron keeps it per profile). */
export const LOCALE_KEY = 'huiliu.locale';

/**
 * The language the workstation opens in: the one the user chose before (`storage[LOCALE_KEY]`), else
 * the first zh or en one of the browser's (Electron: the OS's) preferred languages, else English — so a
 * Chinese OS opens in Chinese.
 */
export function initialLocale(storage: Pick<Storage, 'getItem'> | null, languages: readonly string[]): Locale {
  let saved: string | null;
  try {
    saved = storage?.getItem(LOCALE_KEY) ?? null;
  } catch {
    saved = null; // storage can be disabled (privacy mode); fall back to the OS's language
  }
  return saved === 'zh' || saved === 'en' ? saved : detectLocale(languages);
}

/**
 * A duration for people: `seconds` (≥ 0, rounded) as "45s", "12m", "1h 5m" in English and "45秒",
 * "12分钟", "1小时5分钟" in Chinese, with the language's own unit names (Intl.NumberFormat units).
 */
export function formatDuration(seconds: number, locale: Locale): string {
  const s = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  const unit = (value: number, u: 'second' | 'minute' | 'hour') =>
    numberFormat(intlTag(locale), { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(value);
  if (s < 60) return unit(s, 'second');
  const m = Math.floor(s / 60);
  if (m < 60) return unit(m, 'minute');
  const h = Math.floor(m / 60);
  const rest = m % 60;
  const sep = locale === 'zh' ? '' : ' ';
  return rest === 0 ? unit(h, 'hour') : `${unit(h, 'hour')}${sep}${unit(rest, 'minute')}`;
}

/**
 * The workstation's one i18next instance, started synchronously in `locale` with every namespace of
 * `./locales` (no loading step, so the first render is already translated). Interpolated values are not
 * HTML-escaped here: React escapes them when it renders text. Adds the `duration` format (seconds).
 */
export function createI18n(locale: Locale): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources,
    lng: locale,
    fallbackLng: 'en',
    supportedLngs: ['zh', 'en'],
    defaultNS: 'shell',
    ns: Object.keys(resources.en),
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  instance.services.formatter?.add('duration', (value, lng) => formatDuration(Number(value), lng === 'zh' ? 'zh' : 'en'));
  return instance;
}

/** `intlTag`'s English answers per preferred-languages list (`supportedLocalesOf` negotiates locales: too slow per row per second). */
const englishTags = new Map<string, string>();

/**
 * The BCP 47 tag `Intl` formats a workstation language with: zh → zh-CN; en → the user's own English
 * (the first `en-*` of the browser's / OS's preferred languages: en-GB writes "31 Dec 2026, 12:44",
 * en-US "Dec 31, 2026, 12:44 PM"), else `en`. The one place dates and numbers get their locale.
 * Remembered per `languages` list (issue 15).
 */
export function intlTag(
  locale: Locale,
  languages: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages,
): string {
  if (locale === 'zh') return 'zh-CN';
  const key = languages.join(',');
  let tag = englishTags.get(key);
  if (tag === undefined) {
    const english = languages.find((l) => /^en(-|$)/i.test(l));
    tag = english && Intl.DateTimeFormat.supportedLocalesOf([english]).length > 0 ? english : 'en';
    englishTags.set(key, tag);
  }
  return tag;
}

/** The language an i18next instance is in now, as a workstation `Locale`. */
export const localeOf = (instance: i18n): Locale => (instance.resolvedLanguage === 'zh' ? 'zh' : 'en');
