import { describe, expect, it } from 'vitest';
import type { KpiQuery, KpiReport } from '../../../../common/api/kpis';
import { HuiliuError } from '../../../../common/errors/codes';
import type { KpisApi } from '../api/kpis';
import { kpiParams } from '../api/kpis';
import { createI18n } from '../locale';
import { formatCountdown, formatNumber, formatSeconds, formatShare } from '../locale-format';

const formatDuration = (s: number | null, lng: 'en' | 'zh') => formatSeconds(s, createI18n(lng).getFixedT(lng, 'kpis'));
import { createKpisStore, localDate, queryOf } from './kpis';

const NOW = new Date(2026, 10, 30, 15, 30); // local time
const filters = { skillGroup: '', channel: '' as const, tier: '' as const, agent: '' };

function fakeApi(
  calls: KpiQuery[],
  answer: (q: KpiQuery) => Promise<KpiReport> = async (q) => ({ from: q.from!, to: q.to! }) as KpiReport,
): KpisApi {
  return {
    report: async (_t, q) => {
      calls.push(q);
      return answer(q);
    },
    csv: async (_t, q) => {
      calls.push(q);
      return { blob: new Blob(['row,from,to\r\n']), filename: 'huiliu-kpis.csv' };
    },
  };
}

describe('the KPI view store', () => {
  it('asks for today from local midnight by the hour, and the last 7 and 30 local days by the day', () => {
    const today = queryOf({ range: 'today', customFrom: '', customTo: '', filters }, NOW)!;
    expect(today).toEqual({ from: new Date(2026, 10, 30).toISOString(), to: NOW.toISOString(), bucket: 'hour' });
    const week = queryOf({ range: '7d', customFrom: '', customTo: '', filters }, NOW)!;
    expect(week.from).toBe(new Date(2026, 10, 24).toISOString());
    expect(week.bucket).toBe('day');
    expect(queryOf({ range: '30d', customFrom: '', customTo: '', filters }, NOW)!.from).toBe(new Date(2026, 9, 32).toISOString());
  });

  it('takes a custom range as whole local days, both included, and refuses one out of order', () => {
    const one = queryOf({ range: 'custom', customFrom: '2026-11-02', customTo: '2026-11-02', filters }, NOW)!;
    expect(one).toMatchObject({ from: new Date(2026, 10, 2).toISOString(), to: new Date(2026, 10, 3).toISOString(), bucket: 'hour' });
    expect(queryOf({ range: 'custom', customFrom: '2026-11-01', customTo: '2026-11-20', filters }, NOW)!.bucket).toBe('day');
    expect(queryOf({ range: 'custom', customFrom: '2026-11-05', customTo: '2026-11-01', filters }, NOW)).toBeNull();
    expect(queryOf({ range: 'custom', customFrom: 'soon', customTo: '2026-11-01', filters }, NOW)).toBeNull();
  });

  it('sends the filters that are set, and the CSV export sends the same query', async () => {
    const calls: KpiQuery[] = [];
    const store = createKpisStore(
      fakeApi(calls),
      () => 't',
      () => NOW,
    );
    store.getState().setFilter({ skillGroup: 'vip', channel: 'WB', tier: 'expert' });
    await store.getState().load();
    expect(calls[0]).toMatchObject({ skillGroup: 'vip', channel: 'WB', tier: 'expert', bucket: 'hour' });
    expect(calls[0]).not.toHaveProperty('agent');
    expect(store.getState()).toMatchObject({ status: 'ready', error: null });
    const file = await store.getState().exportCsv();
    expect(file?.filename).toBe('huiliu-kpis.csv');
    expect(calls[1]).toEqual(calls[0]);
    expect(kpiParams(calls[0]!).toString()).toContain('skillGroup=vip');
  });

  it('shows the server refusal code and keeps a newer answer over an older one', async () => {
    const calls: KpiQuery[] = [];
    let release: (r: KpiReport) => void = () => {};
    let first = true;
    const store = createKpisStore(
      fakeApi(calls, (q) => {
        if (first) {
          first = false;
          return new Promise((resolve) => (release = resolve));
        }
        return Promise.resolve({ from: q.from!, to: 'newer' } as KpiReport);
      }),
      () => 't',
      () => NOW,
    );
    const older = store.getState().load();
    await store.getState().load();
    release({ from: 'x', to: 'older' } as KpiReport);
    await older;
    expect(store.getState().report?.to).toBe('newer');

    const refused = createKpisStore(
      fakeApi([], () => Promise.reject(new HuiliuError('FORBIDDEN'))),
      () => 't',
      () => NOW,
    );
    await refused.getState().load();
    expect(refused.getState().error).toBe('FORBIDDEN');
    refused.getState().setRange('custom');
    refused.getState().setCustom({ from: '2026-11-09', to: '2026-11-01' });
    await refused.getState().load();
    expect(refused.getState().error).toBe('range');
    expect(localDate(NOW)).toBe('2026-11-30');
  });

  it('formats shares, numbers, durations and countdowns in zh and en, null as "—"', () => {
    expect(formatShare(0.8, 'en')).toBe('80%');
    expect(formatShare(0.8, 'zh')).toBe('80%');
    expect(formatShare(null, 'zh')).toBe('—');
    expect(formatNumber(12345.67, 'en')).toBe('12,345.7');
    expect(formatDuration(42, 'en')).toBe('42 s');
    expect(formatDuration(185, 'zh')).toBe('3 分 5 秒');
    expect(formatDuration(3720, 'en')).toBe('1 h 2 min');
    expect(formatDuration(null, 'en')).toBe('—');
    expect(formatCountdown(299_000)).toBe('4:59');
    expect(formatCountdown(-12_000)).toBe('-0:12');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
  });
});
