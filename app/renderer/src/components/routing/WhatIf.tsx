import { Bar, BarChart, CartesianGrid, LabelList, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import type { UserView } from '../../../../../common/api/auth';
import type { SimulationMetrics, SimulationResult } from '../../../../../common/api/routing';
import type { ReasonText, Tier } from '../../../../../common/routing/types';
import { hasKey } from '../../locale-format';
import { isKnownCode } from '../../error-text';
import { en } from '../../locales/routing';
import { reasonParams } from './reason-text';
import { useLocale } from '../../context';
import { staffName } from '../../staff';
import { draftKey, type PageError } from '../../stores/routing-admin';
import { useAdmin } from './admin-context';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { intlTag, type Locale } from '../../locale';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

const CURRENT_FILL = '#94a3b8';
const DRAFT_FILL = '#0f766e';
const TIER_FILL: Record<Tier, string> = { expert: '#b91c1c', assisted: '#b45309', ai: '#1d4ed8' };
const TIERS: readonly Tier[] = ['expert', 'assisted', 'ai'];

const pct = (rate: number) => Math.round(rate * 1000) / 10;
const secs = (s: number) => Math.round(s * 10) / 10;

/**
 * A page error in the page's language: the codes the page words itself, then every registry code's
 * sentence (`errors:codes.<CODE>`, issue 15: a refused what-if such as SIMULATION_TOO_LARGE or
 * OVERLOADED is no longer the server's English), else the server's words.
 */
export function errorText(e: PageError, t: Tr): string {
  if (e.network) return t('errors.network');
  if (e.code === 'FORBIDDEN') return t('errors.forbidden');
  if (isKnownCode(e.code)) return (t as unknown as (key: string, options: { ns: string }) => string)(`codes.${e.code}`, { ns: 'errors' });
  return e.message || t('errors.invalid');
}

/**
 * The simulation's assumptions in the page's language (issue 15): each `noteDetails` code as
 * `routing:whatIfNotes.<code>` with its numbers (`reasonParams`); the server's English `notes` as they
 * are when the details are missing (an older server) or a code is unknown to this client.
 */
export function whatIfNotes(notes: readonly string[], details: readonly ReasonText[] | undefined, t: Tr, locale: Locale): string[] {
  if (!details || details.length !== notes.length) return [...notes];
  const tr = t as unknown as (key: string, options: Record<string, string | number>) => string;
  return details.map((d, i) =>
    hasKey(en.whatIfNotes, d.code) || hasKey(en.whatIfNotes, `${d.code}_other`)
      ? tr(`whatIfNotes.${d.code}`, reasonParams(d.params, t, locale))
      : notes[i]!,
  );
}

/** Tier shares in percent; `tierMix` may hold counts or shares (each is divided by their sum). */
function tierShares(m: SimulationMetrics): Record<Tier, number> {
  const sum = TIERS.reduce((n, k) => n + (m.tierMix[k] ?? 0), 0);
  return Object.fromEntries(TIERS.map((k) => [k, sum > 0 ? Math.round(((m.tierMix[k] ?? 0) / sum) * 1000) / 10 : 0])) as Record<
    Tier,
    number
  >;
}

/** Draft minus current, signed, with whether the move is for the better (`higher`: more is better). */
function Delta({ from, to, unit, higher }: { from: number; to: number; unit: string; higher: boolean | null }) {
  const d = Math.round((to - from) * 10) / 10;
  if (d === 0) return <span className="delta">0</span>;
  const better = higher === null ? null : d > 0 === higher;
  return (
    <span className={`delta${better === null ? '' : better ? ' delta--good' : ' delta--bad'}`}>
      {d > 0 ? '+' : '−'}
      {Math.abs(d)}
      {unit}
    </span>
  );
}

function TierChip({ tier, t }: { tier: Tier; t: Tr }) {
  return <span className={`tier tier--${tier}`}>{t(`tiers.${tier}`)}</span>;
}

/** The comparison of one what-if run: charts, key figures, skill groups and the contacts that change. */
export function SimulationView({ result, stale, staff }: { result: SimulationResult; stale: boolean; staff: readonly UserView[] }) {
  const locale = useLocale();
  const { t } = useTranslation('routing');
  const tag = intlTag(locale);
  const cur = result.current.metrics;
  const dft = result.draft.metrics;
  const currentName = t('whatIf.current', { v: result.current.configVersion });
  const rates: { key: keyof SimulationMetrics; label: string; higher: boolean | null }[] = [
    { key: 'serviceLevel', label: t('whatIf.serviceLevel'), higher: true },
    { key: 'abandonment', label: t('whatIf.abandonment'), higher: false },
    { key: 'occupancy', label: t('whatIf.occupancy'), higher: null },
    { key: 'containment', label: t('whatIf.containment'), higher: true },
  ];
  const rateData = rates.map((r) => ({ label: r.label, current: pct(cur[r.key] as number), draft: pct(dft[r.key] as number) }));
  const curShares = tierShares(cur);
  const dftShares = tierShares(dft);
  const tierData = [
    { name: currentName, ...curShares },
    { name: t('whatIf.draft'), ...dftShares },
  ];
  const groups = [...new Set([...Object.keys(cur.bySkillGroup), ...Object.keys(dft.bySkillGroup)])].sort();
  const time = (iso: string) => new Date(iso).toLocaleString(tag, { dateStyle: 'short', timeStyle: 'short' });
  const agent = (id: string | null) => (id ? staffName(staff, id) : t('whatIf.queue'));
  const ch = result.changes;
  // The simulator's later additions (agents, aiTier, notes, unanswered) are read as optional: a server
  // of an earlier build answers without them.
  const extras: Partial<Pick<SimulationResult, 'agents' | 'aiTier' | 'notes' | 'noteDetails'>> = result;
  const notes = extras.notes ? whatIfNotes(extras.notes, extras.noteDetails, t, locale) : [];
  const unanswered: (number | undefined)[] = [cur.unanswered, dft.unanswered];
  return (
    <div className="sim" data-testid="simulation">
      <p className="sim__source" data-testid="sim-source" data-source={result.source}>
        <span className={`source source--${result.source}`}>
          {result.source === 'window'
            ? t('whatIf.sourceWindow', { from: time(result.window.from), to: time(result.window.to) })
            : t('whatIf.sourceGeneratedText')}
        </span>
        <span data-testid="sim-contacts">{t('whatIf.contacts', { count: result.contacts })}</span>
        {extras.agents !== undefined ? <span data-testid="sim-agents">{t('whatIf.agents', { count: extras.agents })}</span> : null}
        {extras.aiTier !== undefined ? <span className="muted">{extras.aiTier ? t('whatIf.aiTierOn') : t('whatIf.aiTierOff')}</span> : null}
        <span className="muted">{t('whatIf.took', { ms: Math.round(result.tookMs) })}</span>
      </p>
      {notes.length > 0 ? (
        <details className="sim__notes" data-testid="sim-notes">
          <summary>
            {t('whatIf.notes')} ({notes.length})
          </summary>
          <ul>
            {notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </details>
      ) : null}
      {stale ? (
        <p className="stale" role="status" data-testid="sim-stale">
          {t('whatIf.stale')}
        </p>
      ) : null}
      <div className="sim__grid">
        <figure className="chart" data-testid="sim-chart">
          <figcaption>{t('whatIf.ratesChart')}</figcaption>
          <BarChart width={410} height={230} data={rateData} margin={{ top: 18, right: 8, bottom: 0, left: -12 }} barGap={2}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} interval={0} />
            <YAxis domain={[0, 100]} tick={{ fontSize: 11 }} />
            <Tooltip formatter={(v) => `${String(v)}%`} />
            <Legend wrapperStyle={{ fontSize: 12 }} itemSorter="dataKey" />
            <Bar dataKey="current" name={currentName} fill={CURRENT_FILL} isAnimationActive={false}>
              <LabelList dataKey="current" position="top" fontSize={10} />
            </Bar>
            <Bar dataKey="draft" name={t('whatIf.draft')} fill={DRAFT_FILL} isAnimationActive={false}>
              <LabelList dataKey="draft" position="top" fontSize={10} />
            </Bar>
          </BarChart>
        </figure>
        <table className="kpis" data-testid="sim-kpis">
          <thead>
            <tr>
              <th>{t('whatIf.metric')}</th>
              <th className="num">{t('whatIf.currentShort')}</th>
              <th className="num">{t('whatIf.draft')}</th>
              <th className="num">{t('whatIf.delta')}</th>
            </tr>
          </thead>
          <tbody>
            {rates.map((r) => (
              <tr key={r.key} data-metric={r.key}>
                <td>{r.label}</td>
                <td className="num">{pct(cur[r.key] as number)}%</td>
                <td className="num">{pct(dft[r.key] as number)}%</td>
                <td className="num">
                  <Delta from={pct(cur[r.key] as number)} to={pct(dft[r.key] as number)} unit={t('whatIf.pp')} higher={r.higher} />
                </td>
              </tr>
            ))}
            <tr data-metric="asa">
              <td>{t('whatIf.asa')}</td>
              <td className="num">{secs(cur.asaSeconds)}</td>
              <td className="num">{secs(dft.asaSeconds)}</td>
              <td className="num">
                <Delta from={secs(cur.asaSeconds)} to={secs(dft.asaSeconds)} unit={t('whatIf.seconds')} higher={false} />
              </td>
            </tr>
            {typeof unanswered[0] === 'number' && typeof unanswered[1] === 'number' ? (
              <tr data-metric="unanswered">
                <td>{t('whatIf.unanswered')}</td>
                <td className="num">{unanswered[0]}</td>
                <td className="num">{unanswered[1]}</td>
                <td className="num">
                  <Delta from={unanswered[0]} to={unanswered[1]} unit="" higher={false} />
                </td>
              </tr>
            ) : null}
            <tr className="kpis__group">
              <td colSpan={4}>{t('whatIf.tierMix')}</td>
            </tr>
            {TIERS.map((k) => (
              <tr key={k} data-metric={`tier-${k}`}>
                <td>
                  <TierChip tier={k} t={t} />
                </td>
                <td className="num">{curShares[k]}%</td>
                <td className="num">{dftShares[k]}%</td>
                <td className="num">
                  <Delta from={curShares[k]} to={dftShares[k]} unit={t('whatIf.pp')} higher={null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <figure className="chart chart--wide" data-testid="sim-tier-chart">
        <figcaption>{t('whatIf.tierMix')} (%)</figcaption>
        <BarChart width={640} height={110} data={tierData} layout="vertical" margin={{ top: 0, right: 16, bottom: 0, left: 8 }}>
          <XAxis type="number" domain={[0, 100]} tick={{ fontSize: 11 }} />
          <YAxis type="category" dataKey="name" width={110} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => `${String(v)}%`} />
          <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={(item) => TIERS.indexOf(item.dataKey as Tier)} />
          {TIERS.map((k) => (
            <Bar key={k} dataKey={k} name={t(`tiers.${k}`)} stackId="tiers" fill={TIER_FILL[k]} isAnimationActive={false} />
          ))}
        </BarChart>
      </figure>
      {groups.length > 0 ? (
        <>
          <h4>{t('whatIf.bySkillGroup')}</h4>
          <table className="grid-table" data-testid="sim-groups">
            <thead>
              <tr>
                <th>{t('whatIf.groupCol')}</th>
                <th className="num">{t('whatIf.contactsCol')}</th>
                <th className="num">{t('whatIf.serviceLevel')}</th>
                <th className="num">{t('whatIf.asa')}</th>
                <th className="num">{t('whatIf.abandonment')}</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => {
                const a = cur.bySkillGroup[g];
                const b = dft.bySkillGroup[g];
                const pair = (x: number | undefined, y: number | undefined, f: (n: number) => number, unit: string) =>
                  `${x === undefined ? '—' : `${f(x)}${unit}`} → ${y === undefined ? '—' : `${f(y)}${unit}`}`;
                return (
                  <tr key={g}>
                    <td>{g}</td>
                    <td className="num">{pair(a?.contacts, b?.contacts, (n) => n, '')}</td>
                    <td className="num">{pair(a?.serviceLevel, b?.serviceLevel, pct, '%')}</td>
                    <td className="num">{pair(a?.asaSeconds, b?.asaSeconds, secs, t('whatIf.seconds'))}</td>
                    <td className="num">{pair(a?.abandonment, b?.abandonment, pct, '%')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      ) : null}
      <h4>{t('whatIf.changed')}</h4>
      <p className="muted small" data-testid="sim-changes-summary">
        {t('whatIf.changedSummary', { total: ch.total, tier: ch.tierChanged, agent: ch.agentChanged })}
        {ch.items.length < ch.total ? ` · ${t('whatIf.showingFirst', { n: ch.items.length })}` : ''}
      </p>
      {ch.items.length === 0 ? (
        <p className="muted small">{t('whatIf.noChanges')}</p>
      ) : (
        <div className="scroll-table">
          <table className="grid-table" data-testid="sim-changes">
            <thead>
              <tr>
                <th>{t('whatIf.contactCol')}</th>
                <th>{t('whatIf.arrivedCol')}</th>
                <th>{t('whatIf.tierCol')}</th>
                <th>{t('whatIf.agentCol')}</th>
                <th className="num">{t('whatIf.priorityCol')}</th>
              </tr>
            </thead>
            <tbody>
              {ch.items.map((c) => (
                <tr key={c.sessionId ?? `#${c.index}`} data-testid="sim-change">
                  <td>
                    <code>{c.sessionId ?? t('whatIf.generatedContact', { number: c.index + 1 })}</code>
                  </td>
                  <td className="small">{new Date(c.arrivedAt).toLocaleTimeString(tag)}</td>
                  <td className={c.current.tier !== c.draft.tier ? 'moved' : undefined}>
                    <TierChip tier={c.current.tier} t={t} /> → <TierChip tier={c.draft.tier} t={t} />
                  </td>
                  <td className={c.current.agentId !== c.draft.agentId ? 'moved' : undefined}>
                    {agent(c.current.agentId)} → {agent(c.draft.agentId)}
                  </td>
                  <td className="num">
                    {secs(c.current.priority)} → {secs(c.draft.priority)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The what-if panel (issue 11): what to replay or generate, Compare, and the comparison. */
export function WhatIf({ blocked }: { blocked: boolean }) {
  const { t } = useTranslation('routing');
  const p = useAdmin((s) => s.simulationParams);
  const setParams = useAdmin((s) => s.setSimulationParams);
  const compare = useAdmin((s) => s.compare);
  const simulating = useAdmin((s) => s.simulating);
  const error = useAdmin((s) => s.simulationError);
  const simulation = useAdmin((s) => s.simulation);
  const currentKey = useAdmin((s) => draftKey(s.draft));
  const staff = useAdmin((s) => s.staff);
  const num = (
    key: 'contactsPerHour' | 'hours' | 'meanHandleSeconds' | 'meanPatienceSeconds' | 'seed',
    label: string,
    min: number,
    step = 1,
  ) => (
    <label className="field">
      <span className="field__label">{label}</span>
      <input type="number" min={min} step={step} value={p[key]} onChange={(e) => setParams({ [key]: Number(e.target.value) })} />
    </label>
  );
  return (
    <section className="card whatif" data-testid="whatif">
      <header className="card__head">
        <h3>{t('whatIf.title')}</h3>
        <button type="button" data-testid="compare" onClick={() => void compare()} disabled={simulating || blocked}>
          {simulating ? t('whatIf.comparing') : t('whatIf.compare')}
        </button>
      </header>
      <p className="muted small">{t('whatIf.hint')}</p>
      <details className="whatif__params">
        <summary>
          {t('whatIf.window')} · {t('whatIf.workload')}
        </summary>
        <div className="row">
          <label className="field">
            <span className="field__label">{t('whatIf.from')}</span>
            <input type="datetime-local" value={p.from} onChange={(e) => setParams({ from: e.target.value })} />
          </label>
          <label className="field">
            <span className="field__label">{t('whatIf.to')}</span>
            <input type="datetime-local" value={p.to} onChange={(e) => setParams({ to: e.target.value })} />
          </label>
          <span className="field__hint">{t('whatIf.windowHint')}</span>
        </div>
        <div className="row">
          <label className="field">
            <span className="field__label">{t('whatIf.source')}</span>
            <select value={p.source} onChange={(e) => setParams({ source: e.target.value as 'auto' | 'generated' })}>
              <option value="auto">{t('whatIf.sourceAuto')}</option>
              <option value="generated">{t('whatIf.sourceGenerated')}</option>
            </select>
          </label>
          {num('contactsPerHour', t('whatIf.contactsPerHour'), 1)}
          {num('hours', t('whatIf.hours'), 1)}
        </div>
        <div className="row">
          {num('meanHandleSeconds', t('whatIf.meanHandle'), 1)}
          {num('meanPatienceSeconds', t('whatIf.meanPatience'), 0)}
          {num('seed', t('whatIf.seed'), 0)}
        </div>
      </details>
      {error ? (
        <p className="error-line" role="alert" data-testid="sim-error">
          {t('whatIf.failed', { why: errorText(error, t) })}
        </p>
      ) : null}
      {simulation ? <SimulationView result={simulation.result} stale={simulation.draftKey !== currentKey} staff={staff} /> : null}
    </section>
  );
}
