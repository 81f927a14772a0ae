import { afterEach, describe, expect, it } from 'vitest';
import { clockTime, dateTime, stamp, waitedFor } from './format';
import { DATE_TIME_DEFAULTS, formatDate, intlFormattersBuilt } from './intl-cache';
import { formatDuration } from './locale';
import { formatNumber, formatShare } from './locale-format';

describe('shared Intl formatters (issue 15)', () => {
  const RealNumberFormat = Intl.NumberFormat;
  const RealDateTimeFormat = Intl.DateTimeFormat;
  afterEach(() => {
    Intl.NumberFormat = RealNumberFormat;
    Intl.DateTimeFormat = RealDateTimeFormat;
  });

  /** Counts `new Intl.NumberFormat` / `new Intl.DateTimeFormat` (and `toLocale*String`'s own, which V8 builds without the global: not counted). */
  function countBuilds() {
    const built = { number: 0, dateTime: 0 };
    Intl.NumberFormat = new Proxy(RealNumberFormat, {
      construct: (target, args: ConstructorParameters<typeof Intl.NumberFormat>) => (built.number++, new target(...args)),
    });
    Intl.DateTimeFormat = new Proxy(RealDateTimeFormat, {
      construct: (target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) => (built.dateTime++, new target(...args)),
    });
    return built;
  }

  it('a wait clock formatted a thousand times builds each unit formatter once per language, at most', () => {
    waitedFor('2026-12-01T06:00:00Z', Date.parse('2026-12-01T06:00:30Z'), 'en');
    const built = countBuilds();
    const start = Date.parse('2026-12-01T06:00:00Z');
    for (let i = 0; i < 1000; i++) {
      waitedFor('2026-12-01T06:00:00Z', start + i * 7_000, 'en');
      formatDuration(i * 13, 'zh');
    }
    // en second (warm) + minute + hour, zh second + minute + hour: six at most, never per call.
    expect(built.number).toBeLessThanOrEqual(6);
    const before = built.number;
    for (let i = 0; i < 1000; i++) formatDuration(i * 13, 'zh');
    expect(built.number).toBe(before);
    expect(formatDuration(3900, 'en')).toBe('1h 5m');
  });

  it('dates, times, shares and numbers reuse their formatters and read as toLocaleString would', () => {
    const iso = '2026-03-04T14:05:00Z';
    dateTime(iso, 'en');
    clockTime(iso, 'zh');
    formatShare(0.5, 'en');
    formatNumber(1234.5, 'zh');
    stamp(iso, Date.parse('2027-01-01T00:00:00Z'), 'en');
    const counted = { ...intlFormattersBuilt };
    for (let i = 0; i < 200; i++) {
      dateTime(iso, 'en');
      clockTime(iso, 'zh');
      formatShare(i / 200, 'en');
      formatNumber(i, 'zh');
      stamp(iso, Date.parse('2027-01-01T00:00:00Z'), 'en');
    }
    expect(intlFormattersBuilt).toEqual(counted);
    expect(dateTime(iso, 'en')).toBe(new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }));
    expect(clockTime(iso, 'zh')).toBe(new Date(iso).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' }));
    expect(formatDate(iso, 'en-GB', DATE_TIME_DEFAULTS)).toBe(new Date(iso).toLocaleString('en-GB'));
    expect(formatDate('not a time', 'en', DATE_TIME_DEFAULTS)).toBe('Invalid Date');
  });
});
