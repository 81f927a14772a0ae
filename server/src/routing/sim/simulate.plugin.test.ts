import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoutingConfigVersionView, SimulationResult } from '../../../../common/api/routing';
import type { OfferView } from '../../../../common/socket/agent-events';
import { ack, openAgentSocket } from '../../../test/support/agent-client';
import { startTestServer, type TestServer } from '../../../test/support/harness';
import { until } from '../../../test/support/until';

/** `POST /api/v1/routing/simulate` (DESIGN §6, issue 11 what-if) on the real server, simulations in their worker thread. */
describe('the what-if API', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const sockets: Socket[] = [];
  let current: Record<string, unknown>;
  beforeAll(async () => {
    s = await startTestServer();
    for (const u of ['admin', 'lead', 'agent1', 'auditor']) tokens[u] = await s.login(u);
    current = (await call('lead', 'GET', '/api/v1/routing/config')).json<RoutingConfigVersionView>().config;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await s.cleanup();
  });
  function call(user: string, method: 'GET' | 'POST', url: string, payload?: object) {
    return s.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[user]}` },
      ...(payload !== undefined ? { payload } : {}),
    });
  }
  const simulate = (user: string, body: object) => call(user, 'POST', '/api/v1/routing/simulate', body);
  const withoutTime = ({ tookMs: _t, ...rest }: SimulationResult) => rest;

  it('simulates a generated workload under the config in force and a draft, the same way for the same seed', async () => {
    const body = {
      config: { ...current, thresholds: { expert: 60, assisted: 30 } },
      // Generated contacts arrive from the window's start (without one: over the last `hours`).
      window: { from: '2026-11-02T09:00:00Z', to: '2026-11-02T17:00:00Z' },
      workload: {
        source: 'generated',
        contactsPerHour: 240,
        hours: 2,
        agents: { general: 6, vip: 2 },
        mix: { general: 3, vip: 1 },
        seed: 3,
      },
    };
    const r = await simulate('lead', body);
    expect(r.statusCode).toBe(200);
    const result = r.json<SimulationResult>();
    expect(result).toMatchObject({ source: 'generated', agents: 8, current: { configVersion: 1 }, aiTier: false });
    // Poisson, mean 480 contacts: far outside 380…580 would be a broken generator.
    expect(result.contacts).toBeGreaterThan(380);
    expect(result.contacts).toBeLessThan(580);
    expect(result.window).toEqual({ from: '2026-11-02T09:00:00.000Z', to: '2026-11-02T11:00:00.000Z' });
    expect(result.draft.metrics.tierMix.expert).toBeGreaterThan(result.current.metrics.tierMix.expert);
    expect(result.changes.tierChanged).toBeGreaterThan(0);
    expect(result.changes.items.length).toBe(Math.min(200, result.changes.total));
    expect(result.changes.items[0]).toMatchObject({ index: expect.any(Number), current: { tier: expect.any(String) } });
    expect(result.changes.items[0]!.sessionId).toBeUndefined();
    expect(Object.keys(result.current.metrics.bySkillGroup).sort()).toEqual(['general', 'vip']);
    expect(result.current.metrics.hourly).toHaveLength(2);

    const again = await simulate('auditor', body);
    expect(withoutTime(again.json<SimulationResult>())).toEqual(withoutTime(result));
    const otherSeed = await simulate('lead', { ...body, workload: { ...body.workload, seed: 4 } });
    expect(otherSeed.json<SimulationResult>().current.metrics).not.toEqual(result.current.metrics);
  });

  it('generates when the window holds no contact, with the agents on record in the groups', async () => {
    const r = await simulate('admin', {
      config: current,
      window: { from: '2020-01-06T08:00:00Z', to: '2020-01-06T16:00:00Z' },
      workload: { contactsPerHour: 30, hours: 1 },
    });
    expect(r.statusCode).toBe(200);
    const result = r.json<SimulationResult>();
    // The demo's agent1 (general) and agent2 (vip); the lead is no agent.
    expect(result).toMatchObject({ source: 'generated', agents: 2, window: { from: '2020-01-06T08:00:00.000Z' } });
    expect(result.notes.join(' ')).toContain('agents on record');
    // Issue 15: the same notes as codes, in order, the numbers as params.
    expect(result.noteDetails?.map((d) => d.code)).toHaveLength(result.notes.length);
    expect(result.noteDetails).toContainEqual({ code: 'agents-on-record', params: { count: 2, groups: expect.any(String) } });
    expect(result.noteDetails?.[0]).toEqual({ code: 'generated' });
    // The same config twice: nothing changes.
    expect(result.changes.total).toBe(0);
    expect(result.draft.metrics).toEqual(result.current.metrics);
  });

  it('replays the recorded window: the contacts routed through the real router, under the draft', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const socket = await openAgentSocket(s, tokens.agent1);
    sockets.push(socket);
    const offers: string[] = [];
    socket.on('offer:new', (o: OfferView) => void offers.push(o.sessionId));
    const post = async (externalId: string, text: string, skillGroup = 'general') => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': 'demo-app-key' },
        payload: { customer: { externalId }, text, clientMessageId: `${externalId}-1`, hints: { skillGroup } },
      });
      expect(res.statusCode).toBe(202);
      return res.json<{ sessionId: string }>().sessionId;
    };
    const answered = await post('sim-a', 'Where is my order 2024112900123?');
    await until(() => offers.includes(answered));
    expect((await ack(socket, 'offer:accept', { sessionId: answered })).ok).toBe(true);
    expect((await ack(socket, 'session:close', { sessionId: answered, wrapUpCode: 'resolved' })).ok).toBe(true);
    const open = await post('sim-b', 'I want a refund, this is unacceptable!!');
    await until(() => offers.includes(open));
    expect((await ack(socket, 'offer:accept', { sessionId: open })).ok).toBe(true);
    // Nobody of vip is signed in: it waits.
    const waiting = await post('sim-c', 'Do you ship abroad?', 'vip');
    await until(async () => (await s.services.store.getSession(waiting))?.routing !== null);

    const to = new Date(Date.now() + 1000).toISOString();
    const r = await simulate('lead', { config: { ...current, thresholds: { expert: 1, assisted: 0 } }, window: { from, to } });
    expect(r.statusCode).toBe(200);
    const result = r.json<SimulationResult>();
    expect(result).toMatchObject({ source: 'window', contacts: 3, window: { from, to }, aiTier: false });
    const agent1 = s.services.auth.listStaff().find((u) => u.username === 'agent1')!;
    expect(result.agents).toBeGreaterThanOrEqual(1);
    expect(result.current.metrics.bySkillGroup).toMatchObject({ general: { contacts: 2 }, vip: { contacts: 1 } });
    // Everything is expert under the draft: every contact's tier changed, and each is named by its session.
    expect(result.draft.metrics.tierMix).toEqual({ expert: 1, assisted: 0, ai: 0 });
    expect(result.changes.tierChanged).toBe(3);
    expect(result.changes.items.map((i) => i.sessionId).sort()).toEqual([answered, open, waiting].sort());
    const first = result.changes.items.find((i) => i.sessionId === answered)!;
    expect(first.current.agentId).toBe(agent1.id);
    expect(first.draft.tier).toBe('expert');
    expect(result.notes.join(' ')).toContain('still waiting');
    expect(result.noteDetails?.length).toBe(result.notes.length);
    expect(result.noteDetails?.find((d) => d.code === 'still-waiting')?.params).toEqual({ count: 1 });
  });

  it('refuses an invalid draft, window or workload with the field named', async () => {
    const refused = async (body: object, code: string, path?: string) => {
      const r = await simulate('lead', body);
      expect(r.statusCode, JSON.stringify(body).slice(0, 120)).toBe(400);
      const error = r.json<{ error: { code: string; details?: unknown } }>().error;
      expect(error.code).toBe(code);
      if (path) expect(JSON.stringify(error.details)).toContain(`"path":"${path}"`);
    };
    await refused({ config: { ...current, weights: { value: 0.9, difficulty: 0.9 } } }, 'VALIDATION_FAILED', 'weights');
    await refused(
      { config: { ...current, widening: { ...(current.widening as object), expert: [{ afterSeconds: 5, minProficiency: 4 }] } } },
      'VALIDATION_FAILED',
      'widening.expert',
    );
    await refused(
      { config: current, window: { from: '2026-11-30T10:00:00Z', to: '2026-11-30T09:00:00Z' } },
      'VALIDATION_FAILED',
      'window.to',
    );
    await refused({ config: current, window: { from: 'yesterday', to: '2026-11-30T09:00:00Z' } }, 'VALIDATION_FAILED', 'window.from');
    await refused({ config: current, window: { from: '2026-10-01T00:00:00Z', to: '2026-11-30T00:00:00Z' } }, 'SIMULATION_TOO_LARGE');
    await refused({ config: current, workload: { source: 'generated', contactsPerHour: 100_000, hours: 24 } }, 'SIMULATION_TOO_LARGE');
    await refused({ config: current, workload: { source: 'generated', mix: { general: 0 } } }, 'VALIDATION_FAILED', 'workload.mix');
    await refused({ config: current, extra: true }, 'VALIDATION_FAILED');
    await refused({}, 'VALIDATION_FAILED', 'config');
  });

  it('is for leads, admins and auditors: agents get 403, strangers 401', async () => {
    const body = { config: current, workload: { source: 'generated', contactsPerHour: 10, hours: 1 } };
    expect((await simulate('agent1', body)).json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/routing/simulate', payload: body })).statusCode).toBe(401);
    expect((await simulate('auditor', body)).statusCode).toBe(200);
  });
});
