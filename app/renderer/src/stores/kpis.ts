import { createStore } from 'zustand/vanilla';
import type { KpiQuery, KpiReport } from '../../../../common/api/kpis';
import { HuiliuError } from '../../../../common/errors/codes';
import type { ChannelCode } from '../../../../common/message/session-id';
import type { Tier } from '../../../../common/routing/types';
import type { KpisApi } from '../api/kpis';

/** The ranges the picker offers: since local midnight, the last 7 or 30 days, or two dates. */
export type KpiRange = 'today' | '7d' | '30d' | 'custom';

export interface KpiFilters {
  skillGroup: string;
  channel: ChannelCode | '';
  tier: Tier | '';
  agent: string;
}

export interface KpisView {
  range: KpiRange;
  /** `custom`: local dates `YYYY-MM-DD`, both days included. */
  customFrom: string;
  customTo: string;
  filters: KpiFilters;
  report: KpiReport | null;
  status: 'idle' | 'loading' | 'ready';
  /** An error code the view translates (`range`, `network`, or the server's code). */
  error: string | null;
  setRange(range: KpiRange): void;
  setCustom(patch: { from?: string; to?: string }): void;
  setFilter(patch: Partial<KpiFilters>): void;
  /** Loads the report for the range and filters (the series by hour for a day or two, else by day). */
  load(): Promise<void>;
  /** The CSV of the same range and filters, from the server. */
  exportCsv(): Promise<{ blob: Blob; filename: string } | null>;
}
export type KpisStore = ReturnType<typeof createKpisStore>;

const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');
/** `YYYY-MM-DD` of a Date in the local time zone. */
export const localDate = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
/** Local midnight of `YYYY-MM-DD`, or null when it is not a date. */
function localMidnight(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(d.getTime()) ? d : null;
}

/**
 * The server query of a view at `now`: `today` from local midnight (hourly), `7d`/`30d` the last 7 or
 * 30 local days including today (daily), `custom` from the first date's midnight to the day after the
 * second (hourly up to 2 days, else daily). Null when a custom range is not two dates in order.
 */
export function queryOf(v: Pick<KpisView, 'range' | 'customFrom' | 'customTo' | 'filters'>, now: Date): KpiQuery | null {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  let from: Date;
  let to: Date = now;
  if (v.range === 'today') from = midnight;
  else if (v.range === '7d' || v.range === '30d')
    from = new Date(midnight.getFullYear(), midnight.getMonth(), midnight.getDate() - (v.range === '7d' ? 6 : 29));
  else {
    const a = localMidnight(v.customFrom);
    const b = localMidnight(v.customTo);
    if (!a || !b || b < a) return null;
    from = a;
    to = new Date(b.getFullYear(), b.getMonth(), b.getDate() + 1);
  }
  if (!(from < to)) to = new Date(from.getTime() + 60_000);
  const f = v.filters;
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    bucket: to.getTime() - from.getTime() <= 2 * DAY ? 'hour' : 'day',
    ...(f.skillGroup ? { skillGroup: f.skillGroup } : {}),
    ...(f.channel ? { channel: f.channel } : {}),
    ...(f.tier ? { tier: f.tier } : {}),
    ...(f.agent ? { agent: f.agent } : {}),
  };
}

const codeOf = (error: unknown): string =>
  error instanceof HuiliuError ? ((error.details as { network?: boolean } | undefined)?.network ? 'network' : error.code) : 'fallback';

/**
 * The KPI view's state (issue 16): range and filters, the report loaded for them (a newer load wins
 * over an older one still in flight), and the CSV export of the same query.
 */
export function createKpisStore(api: KpisApi, token: () => string, now: () => Date = () => new Date()) {
  let generation = 0;
  const today = localDate(now());
  return createStore<KpisView>((set, get) => ({
    range: 'today',
    customFrom: localDate(new Date(now().getTime() - 6 * DAY)),
    customTo: today,
    filters: { skillGroup: '', channel: '', tier: '', agent: '' },
    report: null,
    status: 'idle',
    error: null,
    setRange(range) {
      set({ range });
    },
    setCustom(patch) {
      set({ ...(patch.from !== undefined ? { customFrom: patch.from } : {}), ...(patch.to !== undefined ? { customTo: patch.to } : {}) });
    },
    setFilter(patch) {
      set({ filters: { ...get().filters, ...patch } });
    },
    async load() {
      const query = queryOf(get(), now());
      if (!query) {
        set({ error: 'range' });
        return;
      }
      const mine = ++generation;
      set({ status: 'loading', error: null });
      try {
        const report = await api.report(token(), query);
        if (mine === generation) set({ report, status: 'ready' });
      } catch (error) {
        if (mine === generation) set({ status: 'ready', error: codeOf(error) });
      }
    },
    async exportCsv() {
      const query = queryOf(get(), now());
      if (!query) {
        set({ error: 'range' });
        return null;
      }
      try {
        return await api.csv(token(), query);
      } catch (error) {
        set({ error: codeOf(error) });
        return null;
      }
    },
  }));
}
