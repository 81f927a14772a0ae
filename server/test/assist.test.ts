import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary, Suggestion } from '../../common/ai/assist';
import { FeedbackReportSchema } from '../../common/api/ai-feedback';
import { SessionDetailSchema, type MessageView, type SessionDetail } from '../../common/api/sessions';
import { DEFAULT_ROUTING_CONFIG } from '../../common/routing/types';
import { ack, openAgentSocket } from './support/agent-client';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { eventually } from './support/until';

/**
 * Issue 10, AI assistance through the real server: the agent socket's `ai:suggest`, `draft:discard`,
 * `session:summary` and `message:send` with a draft, the session detail's draft, and the feedback
 * report's route and policy. The routing thresholds put every new contact in the assisted tier.
 */
describe('AI assistance in the running server', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    const config = writeConfigFile({ routing: { ...DEFAULT_ROUTING_CONFIG, thresholds: { expert: 99, assisted: 1 } } });
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  const postApp = async (externalId: string, name: string, text: string, skillGroup = 'general') => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId, name }, text, clientMessageId: `${externalId}-1`, hints: { skillGroup } },
    });
    expect(res.statusCode).toBe(202);
    return (res.json() as { sessionId: string }).sessionId;
  };
  const agent = async (username: string) => {
    const socket = await openAgentSocket(s, await s.login(username));
    sockets.push(socket);
    return socket;
  };
  const feedback = async (username: string | null, query = '') =>
    s.app.inject({
      method: 'GET',
      url: `/api/v1/ai/feedback${query}`,
      headers: username ? { authorization: `Bearer ${await s.login(username)}` } : {},
    });

  it('gives the accepting agent the draft, and records the edited reply sent from it', async () => {
    const agent1 = await agent('agent1');
    const sessionId = await postApp('assist-1', 'Zhang Wei', 'Where is my order 2024112900123? It has not arrived.');
    const accepted = await ack<SessionDetail>(agent1, 'offer:accept', { sessionId });
    if (!accepted.ok) throw new Error(JSON.stringify(accepted));
    const detail = SessionDetailSchema.parse(accepted.data);
    expect(detail.tier).toBe('assisted');
    expect(detail.draft?.text).toMatch(/^Hi Zhang Wei, about order 2024112900123:\n/);
    expect(detail.draft?.source).toMatchObject({ kind: 'kb', intent: 'order_status' });

    const text = `${detail.draft!.text}\nI have also asked the warehouse to hurry.`;
    const sent = await ack<MessageView>(agent1, 'message:send', {
      sessionId,
      clientMessageId: 'assist-1-reply',
      text,
      draftId: detail.draft!.id,
    });
    expect(sent.ok).toBe(true);
    // The draft is used: the detail offers it no more.
    const reopened = await ack<SessionDetail>(agent1, 'session:open', { sessionId });
    expect(reopened.ok && reopened.data.draft).toBeUndefined();
    const report = await eventually(async () => {
      const r = FeedbackReportSchema.parse((await feedback('lead')).json());
      return r.byOutcome.edited === 1 ? r : null;
    });
    expect(report.bySource.kb.edited).toBe(1);
  });

  it('suggests up to three replies with their source, discards a draft, and summarizes for the wrap-up', async () => {
    const agent1 = await agent('agent1');
    const sessionId = await postApp('assist-2', '王芳', '我想退货，订单号2024120300456，鞋子尺码不合适');
    const accepted = await ack<SessionDetail>(agent1, 'offer:accept', { sessionId });
    const draft = accepted.ok ? accepted.data.draft : undefined;
    expect(draft?.text.startsWith('王芳，您好！关于订单 2024120300456：\n')).toBe(true);

    const suggested = await ack<Suggestion[]>(agent1, 'ai:suggest', { sessionId });
    if (!suggested.ok) throw new Error(JSON.stringify(suggested));
    expect(suggested.data.length).toBeGreaterThan(0);
    expect(suggested.data.length).toBeLessThanOrEqual(3);
    expect(suggested.data[0]?.source).toMatchObject({ kind: 'kb', intent: expect.stringMatching(/^return_/) });

    expect(await ack(agent1, 'draft:discard', { sessionId, draftId: draft!.id })).toEqual({ ok: true, data: { discarded: true } });
    expect(await ack(agent1, 'draft:discard', { sessionId, draftId: draft!.id })).toEqual({ ok: true, data: { discarded: false } });
    expect(await ack(agent1, 'draft:discard', { sessionId, draftId: '' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });

    const summary = await ack<ConversationSummary>(agent1, 'session:summary', { sessionId });
    if (!summary.ok) throw new Error(JSON.stringify(summary));
    expect(summary.data).toMatchObject({ by: 'extractive' });
    expect(summary.data.lines[0]).toMatch(/^意图：return_/);
    expect(summary.data.lines).toContain('关键信息：订单 2024120300456');
  });

  it('keeps the assistance events inside the agent’s skill groups', async () => {
    const agent1 = await agent('agent1');
    const vip = await postApp('assist-3', 'Li Na', 'Where is my order 2024112900123?', 'vip');
    for (const [event, payload] of [
      ['ai:suggest', { sessionId: vip }],
      ['session:summary', { sessionId: vip }],
      ['draft:discard', { sessionId: vip, draftId: 'x' }],
    ] as const) {
      expect(await ack(agent1, event, payload)).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    }
  });

  it('reports feedback to leads and admins, with no customer text, and refuses others', async () => {
    expect((await feedback(null)).statusCode).toBe(401);
    expect((await feedback('agent1')).statusCode).toBe(403);
    expect((await feedback('auditor')).statusCode).toBe(403);
    const admin = await feedback('admin', '?skillGroup=general');
    expect(admin.statusCode).toBe(200);
    const report = FeedbackReportSchema.parse(admin.json());
    expect(report.skillGroups).toEqual(['general']);
    expect(report.byOutcome).toMatchObject({ edited: 1, discarded: 1 });
    expect(admin.body).not.toMatch(/2024112900123|2024120300456|Zhang|王芳|warehouse/);
    expect((await feedback('lead', '?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z')).statusCode).toBe(400);
    expect((await feedback('lead', '?from=yesterday')).statusCode).toBe(400);
  });
});
