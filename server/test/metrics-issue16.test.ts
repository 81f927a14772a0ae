import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { metricValue } from './support/metrics';
import { eventually, until } from './support/until';
import { openWidget } from './support/widget-client';

const ROOT = join(__dirname, '..', '..');

/** The base metric names the server registers (`# TYPE` lines of its `/metrics`). */
async function registeredNames(s: TestServer): Promise<Set<string>> {
  const body = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
  return new Set(body.split('\n').flatMap((l) => (l.startsWith('# TYPE ') ? [l.split(' ')[2]!] : [])));
}

/** The `huiliu_*` names an expression reads, histogram series (`_bucket`, `_sum`, `_count`) by their base name. */
function namesIn(expr: string, registered: Set<string>): string[] {
  return [...expr.matchAll(/\bhuiliu_[a-z0-9_]+/g)].map(([n]) => {
    const base = n.replace(/_(bucket|sum|count)$/, '');
    return registered.has(n) ? n : base;
  });
}

/**
 * Issue 16 "Metrics and alerts": each metric fed from the place that knows it, shown after a real
 * action on the running server; the deploy/ alert rules and dashboard read only registered names.
 */
describe('issue 16 metrics on the running server', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  const key = { 'x-huiliu-key': 'demo-app-key' };

  beforeAll(async () => {
    s = await startTestServer({}, { aiTier: true });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await s.cleanup();
  });

  it('a message in, an AI hand-over, a queued contact, an offer and a decline, each counted where it happens', async () => {
    expect(await metricValue(s, 'huiliu_channel_messages_total', 'channel="AP"')).toBe(0);
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId: 'm16-1' }, text: 'I want to talk to a real person', clientMessageId: 'm16-1' },
    });
    expect(r.statusCode).toBe(202);
    const { sessionId } = r.json<{ sessionId: string }>();
    expect(await metricValue(s, 'huiliu_channel_messages_total', 'channel="AP"')).toBe(1);
    // The same message again is a duplicate: not counted twice.
    await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId: 'm16-1' }, text: 'I want to talk to a real person', clientMessageId: 'm16-1' },
    });
    expect(await metricValue(s, 'huiliu_channel_messages_total', 'channel="AP"')).toBe(1);

    // No agent online: the AI hands over and the contact waits in the queue of its group and tier.
    const queued = await eventually(async () => {
      const x = await s.services.store.getSession(sessionId);
      return x?.status === 'queued' && x.routing ? x : null;
    });
    await until(async () => (await metricValue(s, 'huiliu_ai_turns_total', 'action="handover"')) === 1);
    expect(await metricValue(s, 'huiliu_ai_turn_seconds_count', 'action="handover"')).toBe(1);
    const group = `skill_group="${queued.routing!.skillGroup}",tier="${queued.routing!.tier}"`;
    expect(await metricValue(s, 'huiliu_queue_depth', group)).toBe(1);
    expect(await metricValue(s, 'huiliu_queue_oldest_wait_seconds', group)).toBeGreaterThan(0);
    expect(await metricValue(s, 'huiliu_queue_oldest_wait_seconds', group)).toBeLessThan(60);
    expect(await metricValue(s, 'huiliu_queue_past_service_level', group)).toBe(0);
    expect(await metricValue(s, 'huiliu_sessions', 'status="queued"')).toBe(1);
    expect(await metricValue(s, 'huiliu_sessions', 'status="bot"')).toBe(0);
    // The customer's data key: created by the writer, then served from the rings' caches (every thread counted).
    const hits = await metricValue(s, 'huiliu_data_key_cache_total', 'result="hit"');
    const misses = await metricValue(s, 'huiliu_data_key_cache_total', 'result="miss"');
    expect(misses).toBeGreaterThan(0);
    // Reading the conversation opens its messages with the cached key: hits grow, misses do not.
    const read = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=m16-1', headers: key });
    expect(read.statusCode).toBe(200);
    expect(await metricValue(s, 'huiliu_data_key_cache_total', 'result="hit"')).toBeGreaterThan(hits);
    expect(await metricValue(s, 'huiliu_data_key_cache_total', 'result="miss"')).toBe(misses);
    // The bus timed the delivery of that message.in to its consumers.
    expect(await metricValue(s, 'huiliu_bus_lag_seconds_count', 'type="message.in"')).toBeGreaterThan(0);

    // An agent signs in: one socket, one available agent in the group, and the contact is offered to them.
    const agent = await openAgentSocket(s, await s.login('agent1'));
    sockets.push(agent);
    expect(await metricValue(s, 'huiliu_socket_connections', 'kind="agent"')).toBe(1);
    expect(await metricValue(s, 'huiliu_agents', 'presence="available"')).toBe(1);
    expect(await metricValue(s, 'huiliu_agents_available', `skill_group="${queued.routing!.skillGroup}"`)).toBe(1);
    await until(async () => (await metricValue(s, 'huiliu_offers_total', 'outcome="offered"')) === 1);
    expect(await metricValue(s, 'huiliu_sessions', 'status="offered"')).toBe(1);
    // Offered is still waiting for a person: the depth stays 1.
    expect(await metricValue(s, 'huiliu_queue_depth', group)).toBe(1);

    const declined = await ack(agent, 'offer:decline', { sessionId, reason: 'busy' });
    expect(declined.ok).toBe(true);
    expect(await metricValue(s, 'huiliu_offers_total', 'outcome="declined"')).toBe(1);

    // AI assistance is timed: a summary the agent asks for is one observation of its kind.
    const before = await metricValue(s, 'huiliu_ai_assist_seconds_count', 'kind="summary"');
    const summary = await ack(agent, 'session:summary', { sessionId });
    expect(summary.ok, JSON.stringify(summary)).toBe(true);
    expect(await metricValue(s, 'huiliu_ai_assist_seconds_count', 'kind="summary"')).toBe(before + 1);
  });

  it('counts open widget sockets', async () => {
    const w = await openWidget(s);
    w.send({ type: 'hello' });
    await w.next('welcome');
    expect(await metricValue(s, 'huiliu_socket_connections', 'kind="widget"')).toBe(1);
    w.ws.close();
    await until(async () => (await metricValue(s, 'huiliu_socket_connections', 'kind="widget"')) === 0);
  });

  it('deploy/prometheus/huiliu-alerts.yml: the rule shape, and every expr reads only registered metrics', async () => {
    const registered = await registeredNames(s);
    const doc = parse(readFileSync(join(ROOT, 'deploy/prometheus/huiliu-alerts.yml'), 'utf8')) as {
      groups: {
        name: string;
        rules: { alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
      }[];
    };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      'HuiliuQueueOldestWaitHigh',
      'HuiliuServiceLevelLow',
      'HuiliuSlaBreachesRising',
      'HuiliuNoAgentsWhileContactsWait',
      'HuiliuBusDeadLetters',
      'HuiliuBusLagHigh',
      'HuiliuChannelRejectionsSpike',
      'HuiliuWebhookDeadLetters',
      'HuiliuAiHandoverRateHigh',
      'HuiliuAiTurnSlow',
      'HuiliuRoutingDecisionsNotShared',
    ]);
    for (const rule of rules) {
      expect(typeof rule.expr, rule.alert).toBe('string');
      expect(rule.labels?.['severity'], rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      const names = namesIn(rule.expr, registered);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const n of names) expect(registered.has(n), `${rule.alert}: ${n}`).toBe(true);
    }
  });

  it('deploy/grafana/huiliu-dashboard.json reads only registered metrics', async () => {
    const registered = await registeredNames(s);
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/huiliu-dashboard.json'), 'utf8')) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dash.uid).toBe('huiliu-overview');
    expect(dash.panels.length).toBeGreaterThanOrEqual(12);
    const read = new Set<string>();
    for (const panel of dash.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets)
        for (const n of namesIn(t.expr, registered)) {
          expect(registered.has(n), `${panel.title}: ${n}`).toBe(true);
          read.add(n);
        }
    }
    // The list is on the dashboard.
    for (const n of [
      'huiliu_channel_messages_total',
      'huiliu_queue_depth',
      'huiliu_queue_oldest_wait_seconds',
      'huiliu_offers_total',
      'huiliu_sessions',
      'huiliu_socket_connections',
      'huiliu_bus_lag_seconds',
      'huiliu_ai_turns_total',
      'huiliu_ai_turn_seconds',
      'huiliu_ai_assist_seconds',
      'huiliu_queue_past_service_level',
      'huiliu_sla_breaches_total',
      'huiliu_data_key_cache_total',
    ])
      expect(read.has(n), n).toBe(true);
  });
});
