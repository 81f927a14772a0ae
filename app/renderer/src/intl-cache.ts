/**
 * Shared `Intl` formatters (issue 15): building an `Intl.NumberFormat` / `Intl.DateTimeFormat` costs
 * tens of microseconds (locale negotiation, pattern compilation) and `Date#toLocaleString(tag, options)`
 * builds one on every call, while using a built one costs about a microsecond. The queue re-formats a
 * wait clock per row per second, so every formatter is built once per (BCP 47 tag, options) and kept.
 * The cache is bounded by the call sites' fixed option sets × the two UI languages (and the user's own
 * English tag, `intlTag`), so it needs no eviction.
 */

const numberFormats = new Map<string, Intl.NumberFormat>();
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** How many formatters this module has built (each `(tag, options)` once): tests read it to show reuse. */
export const intlFormattersBuilt = { number: 0, dateTime: 0 };

/** The cache key of `(tag, options)`: `undefined` tag is the runtime's default locale. Options are plain literals of strings/numbers/booleans. */
const keyOf = (tag: string | undefined, options: object | undefined) => `${tag ?? ''}\u0000${options ? JSON.stringify(options) : ''}`;

/**
 * The `Intl.NumberFormat` for `tag` (a BCP 47 tag, e.g. `zh-CN`, `en-GB`; `undefined`: the runtime's
 * default) and `options`, built on first use and reused after. Throws what `Intl.NumberFormat` throws
 * (`RangeError` for a malformed tag or an unknown unit).
 */
export function numberFormat(tag: string | undefined, options?: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = keyOf(tag, options);
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(tag, options);
    numberFormats.set(key, f);
    intlFormattersBuilt.number++;
  }
  return f;
}

/**
 * The `Intl.DateTimeFormat` for `tag` (BCP 47; `undefined`: the runtime's default) and `options`, built
 * on first use and reused after. `format(date)` gives what `date.toLocaleString(tag, options)` does
 * when `options` names at least one field (ECMA-402 §20.4: toLocaleString/-DateString/-TimeString build
 * this formatter, adding default date and/or time fields only when `options` names none; so a caller
 * replacing `toLocaleString(tag)` passes those defaults itself, e.g. `DATE_TIME_DEFAULTS`). Throws what `Intl.DateTimeFormat` throws.
 */
export function dateTimeFormat(tag: string | undefined, options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = keyOf(tag, options);
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(tag, options);
    dateTimeFormats.set(key, f);
    intlFormattersBuilt.dateTime++;
  }
  return f;
}

/** What `Date#toLocaleString(tag)` shows with no options (ECMA-402 ToDateTimeOptions "any"/"all"): numeric date and time with seconds. */
export const DATE_TIME_DEFAULTS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
};

/** What `Date#toLocaleTimeString(tag)` shows with no options: numeric hours, minutes and seconds. */
export const TIME_DEFAULTS: Intl.DateTimeFormatOptions = { hour: 'numeric', minute: 'numeric', second: 'numeric' };

/**
 * `date` (a `Date`, epoch ms or an ISO 8601 string) as `new Date(date).toLocaleString(tag, options)`
 * shows it, through the cached formatter: the same text, including "Invalid Date" for a time that
 * does not parse (where `Intl.DateTimeFormat#format` would throw a `RangeError`).
 */
export function formatDate(date: Date | number | string, tag: string | undefined, options: Intl.DateTimeFormatOptions): string {
  const d = date instanceof Date ? date : new Date(date);
  return Number.isNaN(d.getTime()) ? 'Invalid Date' : dateTimeFormat(tag, options).format(d);
}
