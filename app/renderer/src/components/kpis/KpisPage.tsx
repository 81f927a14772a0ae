import { createContext, useContext, useEffect, useMemo, type FormEvent } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useStore } from 'zustand';
import type { KpiReport, Kpis } from '../../../../../common/api/kpis';
import { CHANNEL_CODES } from '../../../../../common/message/session-id';
import { createKpisApi, type KpisApi } from '../../api/kpis';
import { StoreContext, useLocale, useWorkstation } from '../../context';
import type { Locale } from '../../locale';
import { useStaff } from '../../staff';
import { createKpisStore, type KpiRange, type KpisStore, type KpisView } from '../../stores/kpis';
import './kpis.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { formatNumber, formatSeconds, formatShare, hasKey } from '../../locale-format';
import { intlTag } from '../../locale';
import { en } from '../../locales/kpis';

/** The kpis namespace's translate function (react-i18next). */
type Tr = TFunction<'kpis'>;

/** The KPI REST client; tests may give one with a fake fetch. */
export const KpisApiContext = createContext<KpisApi>(createKpisApi());

const RANGES: readonly KpiRange[] = ['today', '7d', '30d', 'custom'];
const TIERS = ['expert', 'assisted', 'ai'] as const;
const COLORS = { a: '#2563eb', b: '#dc2626', c: '#16a34a', d: '#9333ea' };

function useKpis<T>(store: KpisStore, selector: (s: KpisView) => T): T {
  return useStore(store, selector);
}

/** Saves a Blob under `filename` through a temporary link (the browser's and Electron's download). */
function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The KPI view for leads and admins (issue 16, docs/kpis.md): a range (today, 7 or 30 days, two
 * dates) and filters (skill group within the user's scope, channel, tier, agent), headline tiles
 * (null shown as "—"), hourly or daily charts, and the same query as CSV. The server scopes the
 * numbers (policy `metrics.view`); asking for a group out of scope is refused there.
 */
export function KpisPage() {
  const api = useContext(KpisApiContext);
  const workstation = useContext(StoreContext);
  const store = useMemo(() => createKpisStore(api, () => workstation?.getState().token ?? ''), [api, workstation]);
  useEffect(() => {
    void store.getState().load();
  }, [store]);
  return <KpisView store={store} />;
}

function KpisView({ store }: { store: KpisStore }) {
  const locale = useLocale();
  const { t } = useTranslation('kpis');
  const user = useWorkstation((s) => s.user);
  const staff = useStaff();
  const range = useKpis(store, (s) => s.range);
  const customFrom = useKpis(store, (s) => s.customFrom);
  const customTo = useKpis(store, (s) => s.customTo);
  const filters = useKpis(store, (s) => s.filters);
  const report = useKpis(store, (s) => s.report);
  const status = useKpis(store, (s) => s.status);
  const error = useKpis(store, (s) => s.error);
  const { setRange, setCustom, setFilter, load, exportCsv } = store.getState();
  // The groups a lead leads (admins: every group a colleague is in), and the agents of those groups.
  const groups = useMemo(() => {
    const own = user?.skillGroups ?? [];
    const all = user?.roles.includes('admin') ? staff.flatMap((u) => u.skillGroups) : own;
    return [...new Set([...own, ...all])].sort();
  }, [user, staff]);
  const agents = useMemo(
    () =>
      staff
        .filter(
          (u) =>
            u.roles.includes('agent') && u.skillGroups.some((g) => (filters.skillGroup ? g === filters.skillGroup : groups.includes(g))),
        )
        .sort((a, b) => a.username.localeCompare(b.username)),
    [staff, groups, filters.skillGroup],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void load();
  };
  const onExport = async () => {
    const file = await exportCsv();
    if (file) download(file.blob, file.filename);
  };
  return (
    <main className="kpis" data-testid="kpis-page">
      <div className="kpis__head">
        <h2>{t('title')}</h2>
        <p className="muted kpis__intro">{t('intro')}</p>
      </div>
      <form className="kpis__form" onSubmit={submit} data-testid="kpis-form">
        <div className="kpis__ranges" role="radiogroup">
          {RANGES.map((r) => (
            <button
              key={r}
              type="button"
              role="radio"
              aria-checked={range === r}
              className={range === r ? 'kpis__range kpis__range--on' : 'kpis__range'}
              data-testid={`kpis-range-${r}`}
              onClick={() => {
                setRange(r);
                if (r !== 'custom') void load();
              }}
            >
              {t(`ranges.${r}`)}
            </button>
          ))}
        </div>
        {range === 'custom' ? (
          <>
            <label>
              <span>{t('from')}</span>
              <input type="date" value={customFrom} onChange={(e) => setCustom({ from: e.target.value })} data-testid="kpis-from" />
            </label>
            <label>
              <span>{t('to')}</span>
              <input type="date" value={customTo} onChange={(e) => setCustom({ to: e.target.value })} data-testid="kpis-to" />
            </label>
          </>
        ) : null}
        <label>
          <span>{t('skillGroup')}</span>
          <select
            value={filters.skillGroup}
            onChange={(e) => setFilter({ skillGroup: e.target.value, agent: '' })}
            data-testid="kpis-group"
          >
            <option value="">{t('all')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('channel')}</span>
          <select
            value={filters.channel}
            onChange={(e) => setFilter({ channel: e.target.value as KpisView['filters']['channel'] })}
            data-testid="kpis-channel"
          >
            <option value="">{t('all')}</option>
            {CHANNEL_CODES.map((c) => (
              <option key={c} value={c}>
                {hasKey(en.channels, c) ? t(`channels.${c}`) : c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('tier')}</span>
          <select
            value={filters.tier}
            onChange={(e) => setFilter({ tier: e.target.value as KpisView['filters']['tier'] })}
            data-testid="kpis-tier"
          >
            <option value="">{t('all')}</option>
            {TIERS.map((x) => (
              <option key={x} value={x}>
                {t(`tiers.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('agent')}</span>
          <select value={filters.agent} onChange={(e) => setFilter({ agent: e.target.value })} data-testid="kpis-agent">
            <option value="">{t('all')}</option>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.displayName ?? a.username}
              </option>
            ))}
          </select>
        </label>
        <div className="kpis__actions">
          <button type="submit" disabled={status === 'loading'} data-testid="kpis-refresh">
            {status === 'loading' ? t('loading') : t('refresh')}
          </button>
          <button type="button" className="secondary" onClick={() => void onExport()} data-testid="kpis-export">
            {t('exportCsv')}
          </button>
        </div>
      </form>
      {error ? (
        <p className="kpis__error" role="alert" data-testid="kpis-error">
          {hasKey(en.errors, error) ? t(`errors.${error}`) : t('errors.fallback')}
        </p>
      ) : null}
      {report ? (
        <>
          <Tiles k={report.kpis} t={t} locale={locale} />
          <Charts report={report} t={t} locale={locale} />
        </>
      ) : null}
    </main>
  );
}

function Tile({ id, label, value, sub, warn }: { id: string; label: string; value: string; sub?: string; warn?: string | undefined }) {
  return (
    <div className={warn ? 'kpis__tile kpis__tile--warn' : 'kpis__tile'} data-testid={`kpi-${id}`}>
      <div className="kpis__tile-label">{label}</div>
      <div className="kpis__tile-value" data-testid={`kpi-${id}-value`}>
        {value}
      </div>
      {sub ? <div className="kpis__tile-sub muted">{sub}</div> : null}
      {warn ? <div className="kpis__tile-warn">{warn}</div> : null}
    </div>
  );
}

function Tiles({ k, t, locale }: { k: Kpis; t: Tr; locale: Locale }) {
  const sl = k.serviceLevel;
  const below = sl.rate !== null && sl.rate < sl.target;
  return (
    <section className="kpis__tiles" data-testid="kpis-tiles">
      <Tile
        id="csat"
        label={t('tiles.csat')}
        value={k.csat.mean === null ? '—' : `${formatNumber(k.csat.mean, locale, 2)} / 5`}
        sub={t('sub.csat', { count: k.csat.answered, rate: formatShare(k.csat.responseRate, locale) })}
      />
      <Tile
        id="fcr"
        label={t('tiles.fcr')}
        value={formatShare(k.fcr.rate, locale)}
        sub={t('sub.fcr', { n: k.fcr.resolvedFirstTime, h: k.fcr.handled })}
      />
      <Tile id="aht" label={t('tiles.aht')} value={formatSeconds(k.aht.seconds, t)} sub={t('sub.aht', { n: k.aht.handled })} />
      <Tile id="asa" label={t('tiles.asa')} value={formatSeconds(k.asa.seconds, t)} sub={t('sub.asa', { n: k.asa.answered })} />
      <Tile
        id="service-level"
        label={t('tiles.serviceLevel')}
        value={formatShare(sl.rate, locale)}
        sub={t('sub.serviceLevel', { target: formatShare(sl.target, locale) })}
        warn={below ? t('belowTarget') : undefined}
      />
      <Tile
        id="abandonment"
        label={t('tiles.abandonment')}
        value={formatShare(k.abandonment.rate, locale)}
        sub={t('sub.abandonment', { n: k.abandonment.abandoned, q: k.abandonment.queued })}
      />
      <Tile id="occupancy" label={t('tiles.occupancy')} value={formatShare(k.occupancy.rate, locale)} sub={t('sub.occupancy')} />
      <Tile
        id="ai-containment"
        label={t('tiles.aiContainment')}
        value={formatShare(k.aiContainment.rate, locale)}
        sub={t('sub.ai', { n: k.aiContainment.aiContacts })}
      />
      <Tile
        id="handover-rate"
        label={t('tiles.handoverRate')}
        value={formatShare(k.handoverRate.rate, locale)}
        sub={t('sub.ai', { n: k.handoverRate.aiContacts })}
      />
      <Tile
        id="sla-breaches"
        label={t('tiles.slaBreaches')}
        value={formatNumber(k.slaBreaches.total, locale, 0)}
        sub={t('sub.slaBreaches', { f: k.slaBreaches.first, n: k.slaBreaches.next })}
        warn={undefined}
      />
    </section>
  );
}

function Charts({ report, t, locale }: { report: KpiReport; t: Tr; locale: Locale }) {
  const series = report.series;
  if (!series || series.points.length === 0) return null;
  const tag = intlTag(locale);
  const label = (iso: string) =>
    series.bucket === 'hour'
      ? new Date(iso).toLocaleTimeString(tag, { hour: '2-digit', minute: '2-digit' })
      : new Date(iso).toLocaleDateString(tag, { month: '2-digit', day: '2-digit' });
  const data = series.points.map((p) => ({
    at: label(p.from),
    serviceLevel: p.kpis.serviceLevel.rate,
    abandonment: p.kpis.abandonment.rate,
    fcr: p.kpis.fcr.rate,
    asa: p.kpis.asa.seconds === null ? null : Math.round(p.kpis.asa.seconds),
    aht: p.kpis.aht.seconds === null ? null : Math.round(p.kpis.aht.seconds),
    answered: p.kpis.asa.answered,
    abandoned: p.kpis.abandonment.abandoned,
    breaches: p.kpis.slaBreaches.total,
  }));
  const by = series.bucket === 'hour' ? t('charts.hour') : t('charts.day');
  const pct = (v: unknown) => (typeof v === 'number' ? formatShare(v, locale) : '—');
  return (
    <section className="kpis__charts" data-testid="kpis-charts" data-points={data.length}>
      <figure className="kpis__chart">
        <figcaption>
          {t('charts.rates')} <span className="muted">{by}</span>
        </figcaption>
        <LineChart width={400} height={220} data={data} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis domain={[0, 1]} tickFormatter={pct} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => pct(v)} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line
            type="monotone"
            dataKey="serviceLevel"
            name={t('series.serviceLevel')}
            stroke={COLORS.a}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="abandonment"
            name={t('series.abandonment')}
            stroke={COLORS.b}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="fcr"
            name={t('series.fcr')}
            stroke={COLORS.c}
            dot={{ r: 3 }}
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </figure>
      <figure className="kpis__chart">
        <figcaption>
          {t('charts.times')} <span className="muted">{by}</span>
        </figcaption>
        <LineChart width={400} height={220} data={data} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? formatSeconds(v, t) : '—')} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line type="monotone" dataKey="asa" name={t('series.asa')} stroke={COLORS.a} connectNulls isAnimationActive={false} />
          <Line type="monotone" dataKey="aht" name={t('series.aht')} stroke={COLORS.d} connectNulls isAnimationActive={false} />
        </LineChart>
      </figure>
      <figure className="kpis__chart">
        <figcaption>
          {t('charts.volume')} <span className="muted">{by}</span>
        </figcaption>
        <BarChart width={400} height={220} data={data} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="answered" name={t('series.answered')} fill={COLORS.c} isAnimationActive={false} />
          <Bar dataKey="abandoned" name={t('series.abandoned')} fill={COLORS.b} isAnimationActive={false} />
          <Bar dataKey="breaches" name={t('series.breaches')} fill={COLORS.d} isAnimationActive={false} />
        </BarChart>
      </figure>
    </section>
  );
}
