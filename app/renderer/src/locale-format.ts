import { numberFormat } from './intl-cache';
import { intlTag } from './locale';
import type { TFunction } from 'i18next';
import type { Locale } from './locale';

/**
 * Formatting for the lead/admin/auditor pages in the current language (issue 15): pass `useLocale()`
 * (or a namespace's `t`, whose language is the current one). Words live in `./locales`, never here.
 */

/** A share 0..1 as a percentage (one decimal at most, Intl percent); null → "—". */
export function formatShare(v: number | null, locale: Locale): string {
  if (v === null) return '—';
  return numberFormat(intlTag(locale), { style: 'percent', maximumFractionDigits: 1 }).format(v);
}

/** A count or score with the language's separators (`digits` decimals at most, default 1); null → "—". */
export function formatNumber(v: number | null, locale: Locale, digits = 1): string {
  if (v === null) return '—';
  return numberFormat(intlTag(locale), { maximumFractionDigits: digits }).format(v);
}

/**
 * Seconds (rounded) as the KPI view's short duration, in the language of `t` (keys `kpis:duration.*`):
 * `42 s` / `42 秒`, `3 min 5 s` / `3 分 5 秒`, `1 h 2 min` / `1 小时 2 分`; null → "—".
 */
export function formatSeconds(seconds: number | null, t: TFunction<'kpis'>): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return t('duration.hours', { h, m });
  if (m > 0) return t('duration.minutes', { m, s: r });
  return t('duration.seconds', { s: r });
}

/** A wait as the live board shows it (a clock, the same in every language): m:ss, or h:mm:ss from an hour on; never negative. `ms` in milliseconds. */
export function formatWait(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A countdown to an SLA due time (a clock, the same in every language), `ms` in milliseconds: `4:59` / `-0:12` (overdue) / `1:02:03`. */
export function formatCountdown(ms: number): string {
  const neg = ms < 0;
  const t = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
  return neg ? `-${body}` : body;
}

/**
 * Whether `key` names an entry of `table` (e.g. a server error code the namespace has words for), so
 * `` t(`errors.${key}`) `` is a typed key; anything else (unknown code, undefined) is false.
 */
export const hasKey = <T extends object>(table: T, key: string | null | undefined): key is Extract<keyof T, string> =>
  typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key);
