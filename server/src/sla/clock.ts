import { minutesOf, WEEKDAYS, type BusinessCalendar } from '../../../common/api/sla';

/**
 * The SLA clock (issue 16, docs/sla.md): pure functions of business time. Times are ms since the
 * epoch; a calendar's hours are local wall-clock times in its IANA zone, converted with Intl, so DST
 * changes shorten or lengthen a business day as the wall clock does. A local time that does not
 * exist (the spring-forward gap) moves forward by the gap (New York 02:30 → 03:30); an ambiguous one (fall-back)
 * to its first occurrence.
 */

/** How far ahead a due time is looked for (days): a calendar with no business time in a year has none. */
export const SLA_HORIZON_DAYS = 400;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall clock of `t` in `timeZone`: `{y, m (1–12), d, h, mi, s}`. */
export function localParts(t: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour! % 24, mi: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at instant `t` (ms; Asia/Shanghai = +8 h). */
export function offsetAt(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(t / 1000) * 1000;
}

/** The instant of local wall time `y-m-d h:mi` in `timeZone` (day and minute may overflow, as in Date.UTC). */
export function zonedTime(timeZone: string, y: number, m: number, d: number, h = 0, mi = 0): number {
  const wall = Date.UTC(y, m - 1, d, h, mi);
  const o1 = offsetAt(wall, timeZone);
  const t1 = wall - o1;
  const o2 = offsetAt(t1, timeZone);
  if (o2 === o1) return t1;
  const t2 = wall - o2;
  // t2 is that wall time under the other offset; if it reads back, it exists; else (a gap) t1 is past the jump.
  return offsetAt(t2, timeZone) === o2 ? Math.min(t1, t2) : t1;
}

/** The business spans of one local day as instants `[start, end)`, oldest first; none on a holiday. */
export function businessSpansOf(cal: BusinessCalendar, y: number, m: number, d: number): [number, number][] {
  const date = new Date(Date.UTC(y, m - 1, d));
  const iso = date.toISOString().slice(0, 10);
  if (cal.holidays.includes(iso)) return [];
  const spans = cal.hours[WEEKDAYS[date.getUTCDay()]!] ?? [];
  const tz = cal.timeZone;
  const ny = date.getUTCFullYear();
  const nm = date.getUTCMonth() + 1;
  const nd = date.getUTCDate();
  return spans
    .map((s): [number, number] => {
      const a = minutesOf(s.start);
      const b = minutesOf(s.end);
      return [zonedTime(tz, ny, nm, nd, Math.floor(a / 60), a % 60), zonedTime(tz, ny, nm, nd, Math.floor(b / 60), b % 60)];
    })
    .filter(([a, b]) => a < b)
    .sort((p, q) => p[0] - q[0])
    .reduce<[number, number][]>((out, span) => {
      // Overlapping or touching spans count once.
      const last = out.at(-1);
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else out.push([span[0], span[1]]);
      return out;
    }, []);
}

/** Days whose spans are kept per calendar (more than the SLA_HORIZON_DAYS a clock may look ahead). */
const DAY_SPANS_MAX = 1_000;
/**
 * `businessSpansOf` per calendar (by identity: the policy store hands out one object per published
 * version) and local day (`Date.UTC` of its midnight). Each day costs ~6 `Intl` time-zone conversions,
 * and every contact's SLA clock asks for the same few days (issue 18: ≈ 1 ms a call). Read-only.
 */
const daySpans = new WeakMap<BusinessCalendar, Map<number, readonly (readonly [number, number])[]>>();
function spansOfDay(cal: BusinessCalendar, dayUtc: number): readonly (readonly [number, number])[] {
  let days = daySpans.get(cal);
  if (!days) daySpans.set(cal, (days = new Map()));
  let spans = days.get(dayUtc);
  if (!spans) {
    const day = new Date(dayUtc);
    spans = businessSpansOf(cal, day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate());
    if (days.size >= DAY_SPANS_MAX) days.delete(days.keys().next().value!);
    days.set(dayUtc, spans);
  }
  return spans;
}

/** Each business span overlapping `[from, ∞)` clipped to it, day by day, for up to SLA_HORIZON_DAYS. */
function* spansFrom(cal: BusinessCalendar, from: number): Generator<[number, number]> {
  // Start a day early: a span of the local day before may still be open (a night shift past midnight is two spans).
  const p = localParts(from, cal.timeZone);
  const first = Date.UTC(p.y, p.m - 1, p.d) - DAY;
  for (let i = 0; i <= SLA_HORIZON_DAYS + 1; i++) {
    for (const [a, b] of spansOfDay(cal, first + i * DAY)) {
      if (b <= from) continue;
      yield [Math.max(a, from), b];
    }
  }
}

/**
 * When `seconds` of business time after `start` are used up: the due time of a response whose clock
 * started at `start` (ms). Outside business hours the clock stands still, so a contact queued on a
 * Friday at 17:59 with a 5-minute target in a 09:00–18:00 week is due on Monday at 09:04.
 * Null when the calendar has no business time in the next SLA_HORIZON_DAYS.
 */
export function dueTime(cal: BusinessCalendar, start: number, seconds: number): number | null {
  let left = seconds * 1000;
  for (const [a, b] of spansFrom(cal, start)) {
    if (b - a >= left) return a + left;
    left -= b - a;
  }
  return null;
}

/**
 * Business time between `from` and `to` (ms, 0 when `to` ≤ `from`): how long the SLA clock ran. With
 * `paused` (`[from, to)` spans, e.g. the conversation resolved or put on hold), those spans do not count.
 */
export function businessMsBetween(cal: BusinessCalendar, from: number, to: number, paused: readonly [number, number][] = []): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [a, b0] of spansFrom(cal, from)) {
    if (a >= to) break;
    const b = Math.min(b0, to);
    let run = b - a;
    for (const [pa, pb] of paused) run -= Math.max(0, Math.min(b, pb) - Math.max(a, pa));
    total += Math.max(0, run);
  }
  return total;
}

/** Whether `t` is inside business hours (the clock is running). */
export function isBusinessTime(cal: BusinessCalendar, t: number): boolean {
  for (const [a] of spansFrom(cal, t)) return a === t;
  return false;
}

/** Every weekday open all day in UTC: the calendar when none is configured. */
export const ALWAYS_OPEN: BusinessCalendar = {
  timeZone: 'UTC',
  hours: Object.fromEntries(WEEKDAYS.map((d) => [d, [{ start: '00:00', end: '24:00' }]])) as BusinessCalendar['hours'],
  holidays: [],
};
