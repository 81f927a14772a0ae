import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpiReportSchema, type KpiReport } from '../../../common/api/kpis';
import { startTestServer, type TestServer } from '../../test/support/harness';
import { kpiEvent, type KpiEvent } from './events';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const S = 1000;
const M = 60 * S;

/** One answered and closed contact in `group`: waited `waitS`, handled 5 minutes by `agent`. */
function handled(k: string, group: string, agent: string, at: number, waitS: number): KpiEvent[] {
  const d = {
    sessionId: `S-${k}`,
    conversationId: `conv-${k}`,
    customerId: `cust-${k}`,
    skillGroup: group,
    channel: 'WB' as const,
    tier: 'expert' as const,
  };
  return [
    kpiEvent({ id: `${k}-c`, kind: 'contact.created', at, ...d }),
    kpiEvent({ id: `${k}-q`, kind: 'contact.queued', at, ...d, data: { waitingSince: at } }),
    kpiEvent({ id: `${k}-a`, kind: 'contact.answered', at: at + waitS * S, ...d, agentId: agent, data: { waitMs: waitS * S } }),
    kpiEvent({
      id: `${k}-w`,
      kind: 'contact.wrapped-up',
      at: at + waitS * S + 5 * M,
      ...d,
      agentId: agent,
      data: { disposition: 'resolved', resolvedOnFirstContact: true },
    }),
    kpiEvent({ id: `${k}-x`, kind: 'contact.closed', at: at + waitS * S + 5 * M, ...d, agentId: agent }),
  ];
}

/** `GET /api/v1/metrics/kpis` and `.csv` (issue 16, DESIGN §6): the KPIs over the contact log, scoped by `metrics.view`. */
describe('the KPI API', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const range = `from=${new Date(T0 - 3_600_000).toISOString()}&to=${new Date(T0 + 86_400_000).toISOString()}`;
  let agentIds: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer();
    for (const u of ['admin', 'lead', 'agent1', 'agent2', 'auditor', 'privacy']) tokens[u] = await s.login(u);
    agentIds = Object.fromEntries(s.services.auth.listStaff().map((u) => [u.username, u.id]));
    s.services.kpis.log.append([
      ...handled('g1', 'general', agentIds.agent1!, T0, 30),
      ...handled('g2', 'general', agentIds.agent1!, T0 + 10 * M, 50),
      ...handled('v1', 'vip', agentIds.agent2!, T0 + 2 * M, 5),
    ]);
  });
  afterAll(async () => {
    await s?.cleanup();
  });
  const get = (user: string | null, url: string) =>
    s.app.inject({ method: 'GET', url, headers: user ? { authorization: `Bearer ${tokens[user]}` } : {} });

  it('gives an admin every group, in the documented shape', async () => {
    const r = await get('admin', `/api/v1/metrics/kpis?${range}`);
    expect(r.statusCode).toBe(200);
    const report = KpiReportSchema.parse(r.json());
    expect(report.skillGroups).toBeNull();
    expect(report.kpis.asa).toEqual({ seconds: (30 + 50 + 5) / 3, answered: 3 });
    expect(report.kpis.fcr).toMatchObject({ rate: 1, handled: 3 });
    expect(report.kpis.csat.mean).toBeNull();
  });

  it('gives an agent their own groups only, and 403 for another group', async () => {
    const own = (await get('agent1', `/api/v1/metrics/kpis?${range}`)).json<KpiReport>();
    expect(own.skillGroups).toEqual(['general']);
    expect(own.kpis.asa).toEqual({ seconds: 40, answered: 2 });
    const asked = await get('agent1', `/api/v1/metrics/kpis?${range}&skillGroup=general`);
    expect(asked.json<KpiReport>().kpis.asa.answered).toBe(2);
    const other = await get('agent1', `/api/v1/metrics/kpis?${range}&skillGroup=vip`);
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await get('agent2', `/api/v1/metrics/kpis?${range}`)).json<KpiReport>().kpis.asa).toEqual({ seconds: 5, answered: 1 });
    expect((await get('agent2', `/api/v1/metrics/kpis.csv?${range}&skillGroup=general`)).statusCode).toBe(403);
  });

  it('lets a lead of both groups pick one; refuses roles without metrics.view and anonymous callers', async () => {
    const vip = (await get('lead', `/api/v1/metrics/kpis?${range}&skillGroup=vip`)).json<KpiReport>();
    expect(vip.skillGroups).toEqual(['vip']);
    expect(vip.kpis.asa.answered).toBe(1);
    expect((await get('auditor', `/api/v1/metrics/kpis?${range}`)).statusCode).toBe(200);
    expect((await get('privacy', `/api/v1/metrics/kpis?${range}`)).statusCode).toBe(403);
    expect((await get(null, `/api/v1/metrics/kpis?${range}`)).statusCode).toBe(401);
  });

  it('filters by agent and channel', async () => {
    const a1 = (await get('lead', `/api/v1/metrics/kpis?${range}&agent=${agentIds.agent1}`)).json<KpiReport>();
    expect(a1.filters.agent).toBe(agentIds.agent1);
    expect(a1.kpis.aht).toMatchObject({ handled: 2, talkSeconds: 300 });
    const voice = (await get('lead', `/api/v1/metrics/kpis?${range}&channel=SP`)).json<KpiReport>();
    expect(voice.kpis.asa).toEqual({ seconds: null, answered: 0 });
  });

  it('gives a series per hour for charts', async () => {
    const r = (
      await get(
        'admin',
        `/api/v1/metrics/kpis?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * 3_600_000).toISOString()}&bucket=hour`,
      )
    ).json<KpiReport>();
    expect(r.series?.points.map((p) => p.kpis.asa.answered)).toEqual([3, 0, 0]);
    expect(r.series?.points[1]!.kpis.asa.seconds).toBeNull();
  });

  it('refuses a bad query with VALIDATION_FAILED', async () => {
    const backwards = await get('admin', `/api/v1/metrics/kpis?from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'from' }] } });
    expect((await get('admin', '/api/v1/metrics/kpis?from=yesterday')).statusCode).toBe(400);
    expect((await get('admin', '/api/v1/metrics/kpis?tier=gold')).statusCode).toBe(400);
    expect((await get('admin', '/api/v1/metrics/kpis?extra=1')).statusCode).toBe(400);
    const tooMany = `from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&bucket=hour`;
    expect((await get('admin', `/api/v1/metrics/kpis?${tooMany}`)).json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ path: 'bucket' }] },
    });
  });

  it('exports the same numbers as CSV', async () => {
    const r = await get('lead', `/api/v1/metrics/kpis.csv?${range}&skillGroup=general`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/csv');
    expect(r.headers['content-disposition']).toContain('attachment; filename="huiliu-kpis-');
    const [header, total] = r.body
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    const cell = (name: string) => total![header!.indexOf(name)];
    expect(cell('row')).toBe('total');
    expect(cell('asa_seconds')).toBe('40');
    expect(cell('asa_answered')).toBe('2');
    expect(cell('fcr')).toBe('1');
    expect(cell('csat_mean')).toBe('');
  });

  it('records a new contact from the bus: created and queued, with its dimensions', async () => {
    const sent = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'kpi-1' }, text: 'Where is my order?', clientMessageId: 'kpi-1-1' },
    });
    const { sessionId } = sent.json<{ sessionId: string }>();
    await expect
      .poll(() => s.services.kpis.log.has(sessionId, 'contact.created') && s.services.kpis.log.has(sessionId, 'contact.queued'), {
        timeout: 5000,
      })
      .toBe(true);
    const facts = s.services.kpis.log.read(Date.now() - 60_000, Date.now() + 1000).filter((e) => e.sessionId === sessionId);
    expect(facts.find((e) => e.kind === 'contact.created')).toMatchObject({ channel: 'AP', skillGroup: 'general' });
    // Ids and numbers only: the customer's words are nowhere in the log.
    expect(JSON.stringify(facts)).not.toContain('order');
  });
});
