import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail, SessionSummary } from '../../../common/api/sessions';
import { ack, openAgentSocket } from '../support/agent-client';
import { startTestServer, type TestServer } from '../support/harness';
import { eventually, until } from '../support/until';

/** B6: every view and push of session data filters by the same policy as the route that shows it. */
describe('authorization of views and pushes', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  async function post(externalId: string, text: string, skillGroup: string, clientMessageId: string) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId, name: 'Zhao Min' }, text, clientMessageId, hints: { skillGroup } },
    });
    expect(res.statusCode).toBe(202);
    return res.json() as { sessionId: string };
  }

  it("does not list a customer's sessions of other skill groups in the context an agent sees", async () => {
    const vip = await post('ctx-1', 'vip question', 'vip', 'ctx-1-a');
    const lead = await openAgentSocket(s, await s.login('lead'));
    sockets.push(lead);
    expect((await ack(lead, 'offer:accept', { sessionId: vip.sessionId })).ok).toBe(true);
    expect((await ack(lead, 'session:close', { sessionId: vip.sessionId, wrapUpCode: 'resolved' })).ok).toBe(true);
    const general = await post('ctx-1', 'general question', 'general', 'ctx-1-b');
    expect(general.sessionId).not.toBe(vip.sessionId);

    const agentToken = await s.login('agent1');
    const rest = await s.app.inject({ url: `/api/v1/sessions/${general.sessionId}`, headers: { authorization: `Bearer ${agentToken}` } });
    const detail = rest.json() as SessionDetail;
    expect(detail.context.previousSessions.map((p) => p.id)).not.toContain(vip.sessionId);
    const agent = await openAgentSocket(s, agentToken);
    sockets.push(agent);
    const opened = await ack<SessionDetail>(agent, 'session:open', { sessionId: general.sessionId });
    expect(opened.ok && opened.data.context.previousSessions.map((p) => p.id)).not.toContain(vip.sessionId);
    // The lead sees both groups, so the vip session is part of the customer's context for them.
    const leadView = await ack<SessionDetail>(lead, 'session:open', { sessionId: general.sessionId });
    expect(leadView.ok && leadView.data.context.previousSessions.map((p) => p.id)).toContain(vip.sessionId);
  });

  it("stops pushing a colleague's chat to an agent once the colleague took it, and never pushes its messages", async () => {
    const agent = await openAgentSocket(s, await s.login('agent1'));
    const lead = await openAgentSocket(s, await s.login('lead'));
    sockets.push(agent, lead);
    const upserts: SessionSummary[] = [];
    const removed: string[] = [];
    agent.on('queue:upsert', (x: SessionSummary) => upserts.push(x));
    agent.on('queue:remove', (x: { sessionId: string }) => removed.push(x.sessionId));

    const { sessionId } = await post('push-1', 'first words', 'general', 'push-1-a');
    await until(() => upserts.some((u) => u.id === sessionId)); // waiting contacts are the group's to see
    expect((await ack(lead, 'offer:accept', { sessionId })).ok).toBe(true);
    await until(() => removed.includes(sessionId));

    upserts.length = 0;
    await post('push-1', 'my card number is private', 'general', 'push-1-b');
    const leadSaw = await new Promise<SessionSummary>((resolve) =>
      lead.on('queue:upsert', (x: SessionSummary) => x.id === sessionId && x.lastMessagePreview.includes('private') && resolve(x)),
    );
    expect(leadSaw.assignedAgentId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    expect(upserts.filter((u) => u.id === sessionId)).toEqual([]);
    const queue = await ack<SessionSummary[]>(agent, 'queue:list', {});
    expect(queue.ok && queue.data.map((q) => q.id)).not.toContain(sessionId);
  });

  it("shows an agent only their own line of the candidates, and the lead every colleague's", async () => {
    const agentToken = await s.login('agent1');
    const leadToken = await s.login('lead');
    sockets.push(await openAgentSocket(s, agentToken), await openAgentSocket(s, leadToken));
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'cand-1' }, text: 'hello', clientMessageId: 'cand-1-a' },
    });
    const { sessionId } = res.json() as { sessionId: string };
    const detail = (token: string) =>
      eventually(async () => {
        const d = (
          await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } })
        ).json() as SessionDetail;
        return d.routing?.candidates?.length ? d : null;
      });
    const asLead = await detail(leadToken);
    const ids = asLead.routing!.candidates!.map((c) => c.agentId);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const asAgent = (
      await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${agentToken}` } })
    ).json() as SessionDetail;
    const me = (await s.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${agentToken}` } })).json() as {
      user: { id: string };
    };
    expect(asAgent.routing!.candidates!.map((c) => c.agentId)).toEqual([me.user.id]);
  });
});
