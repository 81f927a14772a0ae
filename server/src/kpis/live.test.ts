import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '../../../common/api/kpis';
import type { SessionDetail } from '../../../common/api/sessions';
import { ack, openAgentSocket } from '../../test/support/agent-client';
import { startTestServer, type TestServer } from '../../test/support/harness';

/**
 * The KPI log fed by the running server (issue 16): a contact from the app channel, offered to an
 * agent, accepted, closed as resolved and rated — and the report counts it.
 */
describe('the KPIs of a real contact', () => {
  let s: TestServer;
  let agent: Socket;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    agent?.disconnect();
    await s?.cleanup();
  });

  it('counts an answered, resolved and rated contact, and the agent’s handling time', async () => {
    const started = Date.now();
    agent = await openAgentSocket(s, await s.login('agent1'));
    const offers: string[] = [];
    agent.on('offer:new', (o: { sessionId: string }) => offers.push(o.sessionId));
    const key = { 'x-huiliu-key': 'demo-app-key' };
    const sent = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId: 'kpi-live-1' }, text: 'My parcel has not arrived', clientMessageId: 'kpi-live-1-1' },
    });
    const { sessionId } = sent.json<{ sessionId: string }>();
    await expect.poll(() => offers.includes(sessionId), { timeout: 5000 }).toBe(true);
    expect(await ack<SessionDetail>(agent, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
    // The agent holds the contact a little while (its handling time must not round to nothing).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
    const rated = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/csat',
      headers: key,
      payload: { externalId: 'kpi-live-1', sessionId, score: 5 },
    });
    expect(rated.statusCode).toBe(201);
    const log = s.services.kpis.log;
    await expect.poll(() => log.has(sessionId, 'csat.asked') && log.has(sessionId, 'csat.answered'), { timeout: 5000 }).toBe(true);
    expect(log.has(sessionId, 'contact.wrapped-up')).toBe(true);

    const token = await s.login('lead');
    const url = `/api/v1/metrics/kpis?from=${new Date(started - 1000).toISOString()}&to=${new Date(Date.now() + 1000).toISOString()}&skillGroup=general`;
    const report = (await s.app.inject({ url, headers: { authorization: `Bearer ${token}` } })).json<KpiReport>();
    expect(report.kpis.asa.answered).toBe(1);
    expect(report.kpis.asa.seconds).toBeGreaterThanOrEqual(0);
    expect(report.kpis.fcr).toMatchObject({ rate: 1, resolvedFirstTime: 1, handled: 1, pending: 1 });
    expect(report.kpis.csat).toEqual({ mean: 5, satisfied: 1, responseRate: 1, asked: 1, answered: 1 });
    expect(report.kpis.abandonment).toMatchObject({ rate: 0, abandoned: 0, queued: 1 });
    // agent1 was sampled while holding the contact.
    expect(report.kpis.occupancy.handlingSeconds).toBeGreaterThan(0);
  });
});
