import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlaPoliciesView } from '../../../common/api/sla';
import type { KpiReport } from '../../../common/api/kpis';
import type { SessionSummary } from '../../../common/api/sessions';
import { startTestServer, type TestServer } from '../../test/support/harness';

const always = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));
const tight = {
  skillGroup: 'general',
  channel: 'AP',
  firstResponseSeconds: 1,
  nextResponseSeconds: 60,
  calendar: { timeZone: 'Asia/Shanghai', hours: always, holidays: ['2026-10-01'] },
};

/** `GET|PUT /api/v1/sla/policies` (issue 16, docs/sla.md): admins only, versioned, validated, taken by the running clocks. */
describe('the SLA policies admin API', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startTestServer();
    for (const u of ['admin', 'lead', 'agent1', 'auditor']) tokens[u] = await s.login(u);
  });
  afterAll(async () => {
    await s.cleanup();
  });
  const call = (user: string, method: 'GET' | 'PUT', url: string, payload?: object) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload !== undefined ? { payload } : {}) });

  it('shows the default policies from the config to admins only', async () => {
    const r = await call('admin', 'GET', '/api/v1/sla/policies');
    expect(r.statusCode).toBe(200);
    expect(r.json<SlaPoliciesView>()).toMatchObject({
      version: 1,
      publishedBy: 'config-file',
      policies: [{ skillGroup: '*', channel: '*', firstResponseSeconds: 60, nextResponseSeconds: 120, calendar: { timeZone: 'UTC' } }],
    });
    for (const u of ['lead', 'agent1', 'auditor']) {
      const refused = await call(u, 'GET', '/api/v1/sla/policies');
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect((await s.app.inject({ method: 'GET', url: '/api/v1/sla/policies' })).statusCode).toBe(401);
    expect((await call('lead', 'PUT', '/api/v1/sla/policies', { policies: [] })).statusCode).toBe(403);
  });

  it('refuses invalid policies with VALIDATION_FAILED naming the field', async () => {
    const cases: [object, string][] = [
      [{ ...tight, calendar: { ...tight.calendar, timeZone: 'Mars/Olympus' } }, 'policies.0.calendar.timeZone'],
      [{ ...tight, firstResponseSeconds: 0 }, 'policies.0.firstResponseSeconds'],
      [
        { ...tight, calendar: { ...tight.calendar, hours: { mon: [{ start: '18:00', end: '09:00' }] } } },
        'policies.0.calendar.hours.mon.0.end',
      ],
      [
        { ...tight, calendar: { ...tight.calendar, hours: { mon: [{ start: '9:00', end: '18:00' }] } } },
        'policies.0.calendar.hours.mon.0.start',
      ],
      [{ ...tight, calendar: { ...tight.calendar, holidays: ['2026-13-01'] } }, 'policies.0.calendar.holidays.0'],
      [{ ...tight, channel: 'ZZ' }, 'policies.0.channel'],
      // A group that does not exist could never apply (`__proto__` included).
      [{ ...tight, skillGroup: 'nonexistent-group' }, 'policies.0.skillGroup'],
      [{ ...tight, skillGroup: '__proto__' }, 'policies.0.skillGroup'],
    ];
    for (const [policy, path] of cases) {
      const r = await call('admin', 'PUT', '/api/v1/sla/policies', { policies: [policy] });
      expect(r.statusCode, path).toBe(400);
      expect(r.json(), path).toMatchObject({
        error: { code: 'VALIDATION_FAILED', details: expect.arrayContaining([expect.objectContaining({ path })]) },
      });
    }
    const twice = await call('admin', 'PUT', '/api/v1/sla/policies', { policies: [tight, tight] });
    expect(twice.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'policies.1' }] } });
    const extra = await call('admin', 'PUT', '/api/v1/sla/policies', { policies: [], surprise: true });
    expect(extra.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await call('admin', 'GET', '/api/v1/sla/policies')).json<SlaPoliciesView>().version).toBe(1);
  });

  it('publishes a new version, audited, that the clocks use: a contact left unanswered breaches, shown on its row and in the KPIs', async () => {
    const r = await call('admin', 'PUT', '/api/v1/sla/policies', { policies: [tight], comment: 'tight for the test' });
    expect(r.statusCode).toBe(201);
    expect(r.json<SlaPoliciesView>()).toMatchObject({ version: 2, comment: 'tight for the test', policies: [{ firstResponseSeconds: 1 }] });
    await s.services.audit.flush();
    const audited = await s.services.audit.log.search({
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      limit: 500,
    });
    expect(audited.entries.some((e) => e.action === 'sla.policies-change' && e.outcome === 'ok')).toBe(true);

    const sent = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'sla-1' }, text: 'My parcel never came', clientMessageId: 'sla-1-1' },
    });
    const { sessionId } = sent.json<{ sessionId: string }>();
    const row = async () =>
      (await call('lead', 'GET', '/api/v1/sessions?skillGroup=general'))
        .json<{ sessions: SessionSummary[] }>()
        .sessions.find((x) => x.id === sessionId);
    await expect.poll(async () => (await row())?.sla?.kind, { timeout: 5000 }).toBe('first');
    await expect.poll(async () => (await row())?.sla?.breached, { timeout: 5000 }).toBe(true);
    const kpis = (await call('lead', 'GET', '/api/v1/metrics/kpis?skillGroup=general')).json<KpiReport>();
    expect(kpis.kpis.slaBreaches).toEqual({ total: 1, first: 1, next: 0 });
    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/huiliu_sla_policy_breaches_total\{skill_group="general",channel="AP",kind="first"\} 1/);
    await s.services.audit.flush();
    const entries = await s.services.audit.log.search({
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      limit: 500,
    });
    expect(entries.entries.filter((e) => e.action === 'sla.breached' && e.target?.id === sessionId)).toHaveLength(1);
  });

  it('stores a time zone in its canonical spelling', async () => {
    const r = await call('admin', 'PUT', '/api/v1/sla/policies', {
      policies: [{ ...tight, channel: 'WB', calendar: { ...tight.calendar, timeZone: 'asia/shanghai' } }],
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json<SlaPoliciesView>().policies[0]?.calendar.timeZone).toBe('Asia/Shanghai');
  });
});
