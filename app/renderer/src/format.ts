import { useLocale } from './context';
import type { Locale } from './locale';
import { formatDate } from './intl-cache';
import { formatDuration, intlTag } from './locale';

/**
 * How long since `iso` (an ISO 8601 time) at `now` (epoch ms), as a duration in `locale`:
 * "45s" / "12m" / "1h 5m" in English, "45秒" / "12分钟" / "1小时5分钟" in Chinese (formatDuration).
 */
export function waitedFor(iso: string, now: number, locale: Locale = 'en'): string {
  return formatDuration((now - Date.parse(iso)) / 1000, locale);
}

const HOUR_MINUTE: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
const MONTH_DAY: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' };
const MONTH_DAY_YEAR: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', year: 'numeric' };
const MEDIUM_SHORT: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };

/**
 * A message's time for the bubble: hours and minutes for today (in the viewer's time zone), with the
 * date in front for any other day (and the year when it is not this year), in `locale`'s words and
 * order ("Mar 4 14:05" / "3月4日 14:05"; no locale: the browser's). Pass `receivedAt`, the server's
 * time of record; a sender's `sentAt` comes from a device clock and is never shown (C12).
 */
export function stamp(iso: string, now: number = Date.now(), locale?: Locale): string {
  const tag = locale ? intlTag(locale) : undefined;
  const d = new Date(iso);
  const today = new Date(now);
  const time = formatDate(d, tag, HOUR_MINUTE);
  if (d.toDateString() === today.toDateString()) return time;
  const date = formatDate(d, tag, d.getFullYear() !== today.getFullYear() ? MONTH_DAY_YEAR : MONTH_DAY);
  return `${date} ${time}`;
}

/** A full date and time (a tooltip, a due date) in `locale`: "Mar 4, 2026, 2:05 PM" / "2026/3/4 14:05". */
export function dateTime(iso: string | number, locale: Locale): string {
  return formatDate(iso, intlTag(locale), MEDIUM_SHORT);
}

/** A clock time (hours and minutes) in `locale`. */
export function clockTime(iso: string | number, locale: Locale): string {
  return formatDate(iso, intlTag(locale), HOUR_MINUTE);
}

/** A countdown to a due time: `4:59` / `-0:12` (overdue) / `1:02:03` (ms; the same in every language). */
export function countdown(ms: number): string {
  const neg = ms < 0;
  const t = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
  return neg ? `-${body}` : body;
}

/** The formatting helpers in the UI's current language (re-rendered when the language switches). */
export function useFormat() {
  const locale = useLocale();
  return {
    locale,
    stamp: (iso: string) => stamp(iso, Date.now(), locale),
    dateTime: (iso: string | number) => dateTime(iso, locale),
    clockTime: (iso: string | number) => clockTime(iso, locale),
  };
}
