import type { FastifyInstance } from 'fastify';
import { KPI_MAX_BUCKETS, KPI_MAX_RANGE_DAYS, KpiQuerySchema, type KpiQuery, type KpiReport, type Kpis } from '../../../common/api/kpis';
import { HuiliuError } from '../../../common/errors/codes';
import { scopeOf } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import { buckets, buildFacts, computeKpis, DEFAULT_KPI_OPTIONS, FCR_WINDOW_MS, type KpiOptions } from './compute';
import type { KpiEventLog } from './log.sqlite';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Facts this long before `from` are read too: the contacts a range's facts belong to began earlier (FCR looks 7 days back). */
const LOOKBACK_MS = FCR_WINDOW_MS + DAY;

export interface KpiPluginOptions {
  log: Pick<KpiEventLog, 'read'>;
  /** Service-level thresholds (seconds) and goal; default 20 s voice, 60 s chat, 80 %. */
  serviceLevel?: Omit<KpiOptions, 'now'>;
  now?: () => number;
}

const iso = (t: number) => new Date(t).toISOString();
const invalid = (path: string, message: string) => new HuiliuError('VALIDATION_FAILED', undefined, [{ path, message }]);

/**
 * The KPI report for a staff user (issue 16): the range (default the 24 hours before now), the groups
 * in their scope (`metrics.view`: agents and leads their own groups, admins and auditors all), and the
 * KPIs over the log, with a series per bucket when asked.
 * @throws HuiliuError VALIDATION_FAILED (bad time, `from` not before `to`, range over 366 days, too
 *   many buckets), FORBIDDEN (a skill group out of the caller's scope)
 */
export function kpiReport(user: Parameters<typeof scopeOf>[0], query: KpiQuery, opts: KpiPluginOptions): KpiReport {
  const now = (opts.now ?? Date.now)();
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - DAY;
  if (!(from < to)) throw invalid('from', 'must be before to');
  if (to - from > KPI_MAX_RANGE_DAYS * DAY) throw invalid('from', `the range is at most ${KPI_MAX_RANGE_DAYS} days`);
  const scope = scopeOf(user, 'metrics.view');
  let skillGroups = scope === null ? null : [...scope];
  if (query.skillGroup) {
    if (scope !== null && !scope.includes(query.skillGroup)) throw new HuiliuError('FORBIDDEN');
    skillGroups = [query.skillGroup];
  }
  const slots = query.bucket ? buckets({ from, to }, query.bucket) : [];
  if (slots.length > KPI_MAX_BUCKETS) throw invalid('bucket', `at most ${KPI_MAX_BUCKETS} buckets; use a shorter range or day buckets`);
  const facts = buildFacts(opts.log.read(from - LOOKBACK_MS, to + FCR_WINDOW_MS));
  const filter = { skillGroups, agent: query.agent, channel: query.channel, tier: query.tier };
  const options: KpiOptions = { ...(opts.serviceLevel ?? DEFAULT_KPI_OPTIONS), now };
  return {
    from: iso(from),
    to: iso(to),
    skillGroups,
    filters: { agent: query.agent ?? null, channel: query.channel ?? null, tier: query.tier ?? null },
    kpis: computeKpis(facts, { from, to }, filter, options),
    ...(query.bucket
      ? {
          series: {
            bucket: query.bucket,
            points: slots.map((r) => ({ from: iso(r.from), to: iso(r.to), kpis: computeKpis(facts, r, filter, options) })),
          },
        }
      : {}),
  };
}

/** The CSV columns, in order, and how each is read from the KPIs (null → empty cell). */
const COLUMNS: readonly [string, (k: Kpis) => number | null][] = [
  ['csat_mean', (k) => k.csat.mean],
  ['csat_satisfied', (k) => k.csat.satisfied],
  ['csat_response_rate', (k) => k.csat.responseRate],
  ['csat_asked', (k) => k.csat.asked],
  ['csat_answered', (k) => k.csat.answered],
  ['fcr', (k) => k.fcr.rate],
  ['fcr_resolved_first_time', (k) => k.fcr.resolvedFirstTime],
  ['fcr_handled', (k) => k.fcr.handled],
  ['fcr_pending', (k) => k.fcr.pending],
  ['aht_seconds', (k) => k.aht.seconds],
  ['aht_talk_seconds', (k) => k.aht.talkSeconds],
  ['aht_wrap_up_seconds', (k) => k.aht.wrapUpSeconds],
  ['aht_handled', (k) => k.aht.handled],
  ['asa_seconds', (k) => k.asa.seconds],
  ['asa_answered', (k) => k.asa.answered],
  ['service_level', (k) => k.serviceLevel.rate],
  ['service_level_target', (k) => k.serviceLevel.target],
  ['service_level_answered_within', (k) => k.serviceLevel.answeredWithin],
  ['service_level_abandoned_after', (k) => k.serviceLevel.abandonedAfter],
  ['abandonment', (k) => k.abandonment.rate],
  ['abandoned', (k) => k.abandonment.abandoned],
  ['queued', (k) => k.abandonment.queued],
  ['occupancy', (k) => k.occupancy.rate],
  ['handling_seconds', (k) => k.occupancy.handlingSeconds],
  ['available_seconds', (k) => k.occupancy.availableSeconds],
  ['ai_containment', (k) => k.aiContainment.rate],
  ['ai_contained', (k) => k.aiContainment.contained],
  ['ai_contacts', (k) => k.aiContainment.aiContacts],
  ['handover_rate', (k) => k.handoverRate.rate],
  ['handed_over', (k) => k.handoverRate.handedOver],
  ['sla_breaches', (k) => k.slaBreaches.total],
  ['sla_breaches_first', (k) => k.slaBreaches.first],
  ['sla_breaches_next', (k) => k.slaBreaches.next],
];

/**
 * The report as CSV (RFC 4180, CRLF): a header, one `total` row for the whole range, then one
 * `bucket` row per bucket when a series was asked. Numbers and ISO times only (nothing a spreadsheet
 * could run as a formula); a null KPI is an empty cell.
 */
export function kpiCsv(report: KpiReport): string {
  const row = (kind: string, from: string, to: string, k: Kpis) =>
    [
      kind,
      from,
      to,
      ...COLUMNS.map(([, read]) => {
        const v = read(k);
        return v === null ? '' : String(Number.isInteger(v) ? v : Number(v.toFixed(6)));
      }),
    ].join(',');
  const lines = [['row', 'from', 'to', ...COLUMNS.map(([name]) => name)].join(','), row('total', report.from, report.to, report.kpis)];
  for (const p of report.series?.points ?? []) lines.push(row('bucket', p.from, p.to, p.kpis));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * `GET /api/v1/metrics/kpis` and `GET /api/v1/metrics/kpis.csv` (issue 16, DESIGN §6; common/api/kpis.ts,
 * formulas in docs/kpis.md), policy `metrics.view`: agents and leads see their skill groups only
 * (asking for another group is 403 FORBIDDEN; no `skillGroup` means all of theirs), admins and
 * auditors every group. Errors: 400 VALIDATION_FAILED, 401, 403.
 */
export async function kpisPlugin(app: FastifyInstance, opts: KpiPluginOptions): Promise<void> {
  app.get('/api/v1/metrics/kpis', { config: { policy: 'metrics.view' } }, async (request): Promise<KpiReport> => {
    return kpiReport(staffOf(request), parseWith(KpiQuerySchema, request.query), opts);
  });
  app.get('/api/v1/metrics/kpis.csv', { config: { policy: 'metrics.view' } }, async (request, reply) => {
    const report = kpiReport(staffOf(request), parseWith(KpiQuerySchema, request.query), opts);
    const stamp = (t: string) => t.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    void reply.header('content-type', 'text/csv; charset=utf-8');
    void reply.header('content-disposition', `attachment; filename="huiliu-kpis-${stamp(report.from)}-${stamp(report.to)}.csv"`);
    return kpiCsv(report);
  });
}
