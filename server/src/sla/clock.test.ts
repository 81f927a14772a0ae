import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../../common/api/sla';
import { ALWAYS_OPEN, businessMsBetween, dueTime, isBusinessTime, offsetAt, zonedTime } from './clock';

const nineToSix = [{ start: '09:00', end: '18:00' }];
const weekdays = (timeZone: string, spans = nineToSix, holidays: string[] = []): BusinessCalendar => ({
  timeZone,
  hours: { mon: spans, tue: spans, wed: spans, thu: spans, fri: spans },
  holidays,
});
const at = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const H = 3_600_000;

describe('SLA clock: due times in business hours', () => {
  it('starts a contact queued on Friday at 17:59 (Shanghai) with a 5-minute target, breaching on Monday at 09:04', () => {
    const due = dueTime(weekdays('Asia/Shanghai'), at('2026-11-27T17:59:00+08:00'), 300);
    expect(iso(due)).toBe(new Date('2026-11-30T09:04:00+08:00').toISOString());
  });

  it('runs straight through inside business hours', () => {
    expect(iso(dueTime(weekdays('Asia/Shanghai'), at('2026-11-25T10:00:00+08:00'), 60))).toBe('2026-11-25T02:01:00.000Z');
  });

  it('pauses for a holiday: Monday off makes it Tuesday at 09:04', () => {
    const cal = weekdays('Asia/Shanghai', nineToSix, ['2026-11-30']);
    expect(iso(dueTime(cal, at('2026-11-27T17:59:00+08:00'), 300))).toBe(new Date('2026-12-01T09:04:00+08:00').toISOString());
  });

  it('waits for opening when queued at night, and when queued exactly at closing time', () => {
    const cal = weekdays('Asia/Shanghai');
    expect(iso(dueTime(cal, at('2026-11-25T03:00:00+08:00'), 120))).toBe(new Date('2026-11-25T09:02:00+08:00').toISOString());
    expect(iso(dueTime(cal, at('2026-11-25T18:00:00+08:00'), 120))).toBe(new Date('2026-11-26T09:02:00+08:00').toISOString());
  });

  it('keeps 09:00–17:00 New York local across the end of DST (EDT Friday → EST Monday)', () => {
    const cal = weekdays('America/New_York', [{ start: '09:00', end: '17:00' }]);
    // Friday 30 Oct 2026 16:58 EDT (-4) + 5 min → Monday 2 Nov 09:03 EST (-5) = 14:03Z.
    expect(iso(dueTime(cal, at('2026-10-30T16:58:00-04:00'), 300))).toBe('2026-11-02T14:03:00.000Z');
  });

  it('keeps 09:00–17:00 New York local across the start of DST (EST Friday → EDT Monday)', () => {
    const cal = weekdays('America/New_York', [{ start: '09:00', end: '17:00' }]);
    expect(iso(dueTime(cal, at('2026-03-06T16:58:00-05:00'), 300))).toBe('2026-03-09T13:03:00.000Z');
  });

  it('counts a New York day open 00:00–24:00 as 23 hours on the spring-forward day and 25 on the fall-back day', () => {
    const cal: BusinessCalendar = { ...ALWAYS_OPEN, timeZone: 'America/New_York' };
    const spring = businessMsBetween(cal, zonedTime('America/New_York', 2026, 3, 8), zonedTime('America/New_York', 2026, 3, 9));
    const fall = businessMsBetween(cal, zonedTime('America/New_York', 2026, 11, 1), zonedTime('America/New_York', 2026, 11, 2));
    expect(spring / H).toBe(23);
    expect(fall / H).toBe(25);
  });

  it('runs a night shift across midnight (Saturday 22:00–24:00, Sunday 00:00–02:00)', () => {
    const cal: BusinessCalendar = {
      timeZone: 'Asia/Shanghai',
      hours: { sat: [{ start: '22:00', end: '24:00' }], sun: [{ start: '00:00', end: '02:00' }] },
      holidays: [],
    };
    expect(iso(dueTime(cal, at('2026-11-28T23:58:00+08:00'), 300))).toBe(new Date('2026-11-29T00:03:00+08:00').toISOString());
  });

  it('has no due time when the calendar never opens', () => {
    expect(dueTime({ timeZone: 'UTC', hours: {}, holidays: [] }, at('2026-11-27T10:00:00Z'), 60)).toBeNull();
  });

  it('counts overlapping spans of one day once', () => {
    const cal = weekdays('UTC', [
      { start: '09:00', end: '12:00' },
      { start: '11:00', end: '13:00' },
    ]);
    expect(businessMsBetween(cal, at('2026-11-25T00:00:00Z'), at('2026-11-26T00:00:00Z')) / H).toBe(4);
  });
});

describe('SLA clock: how long it ran', () => {
  const cal = weekdays('Asia/Shanghai');

  it('stands still over a weekend: Friday 17:00 to Monday 10:00 is two business hours', () => {
    expect(businessMsBetween(cal, at('2026-11-27T17:00:00+08:00'), at('2026-11-30T10:00:00+08:00')) / H).toBe(2);
  });

  it('does not count a pause (the conversation resolved or on hold) and stops at resolution', () => {
    const from = at('2026-11-25T09:00:00+08:00');
    const resolved = at('2026-11-25T12:00:00+08:00');
    const paused: [number, number][] = [[at('2026-11-25T10:00:00+08:00'), at('2026-11-25T11:30:00+08:00')]];
    expect(businessMsBetween(cal, from, resolved, paused) / H).toBe(1.5);
    expect(businessMsBetween(cal, from, resolved) / H).toBe(3);
    expect(businessMsBetween(cal, resolved, from)).toBe(0);
  });

  it('tells business time from closed time', () => {
    expect(isBusinessTime(cal, at('2026-11-25T09:30:00+08:00'))).toBe(true);
    expect(isBusinessTime(cal, at('2026-11-25T18:00:00+08:00'))).toBe(false);
    expect(isBusinessTime(cal, at('2026-11-28T10:00:00+08:00'))).toBe(false);
  });
});

describe('SLA clock: local times in a zone', () => {
  it('converts Shanghai (no DST) and New York (DST) wall times', () => {
    expect(iso(zonedTime('Asia/Shanghai', 2026, 7, 1, 9))).toBe('2026-07-01T01:00:00.000Z');
    expect(iso(zonedTime('America/New_York', 2026, 7, 1, 9))).toBe('2026-07-01T13:00:00.000Z');
    expect(iso(zonedTime('America/New_York', 2026, 12, 1, 9))).toBe('2026-12-01T14:00:00.000Z');
    expect(offsetAt(at('2026-07-01T00:00:00Z'), 'Asia/Shanghai')).toBe(8 * H);
  });

  it('moves a wall time in the spring-forward gap forward, and takes the first of an ambiguous one', () => {
    expect(iso(zonedTime('America/New_York', 2026, 3, 8, 2, 30))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(zonedTime('America/New_York', 2026, 11, 1, 1, 30))).toBe('2026-11-01T05:30:00.000Z');
  });
});
