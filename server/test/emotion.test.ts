import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MessagePageSchema,
  MessageViewSchema,
  SessionDetailSchema,
  SessionSummarySchema,
  type SessionSummary,
} from '../../common/api/sessions';
import { createLogger } from '../src/logging/logger';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';

const ANGRY = '气死我了！！你们这什么破服务';

/** Issue 9 "Wiring": the demo server shows each customer message's emotion to staff, read by the language core. */
describe('emotion on queue items and messages in the running demo server', () => {
  let s: TestServer;
  const lines: string[] = [];
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Debug: every line the server writes is checked for the customer's text below.
    s = await startTestServer({}, { logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }) });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await s.cleanup();
  });

  const postApp = async (externalId: string, text: string) => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId, name: externalId }, text, clientMessageId: `emo-${externalId}`, hints: { skillGroup: 'general' } },
    });
    expect(res.statusCode).toBe(202);
    return (res.json() as { sessionId: string }).sessionId;
  };

  it('shows an angry customer as anger in the session view, the queue and the pushes, and never logs the text', async () => {
    const token = await s.login('agent1');
    const socket = await openAgentSocket(s, token);
    sockets.push(socket);
    const upserts: SessionSummary[] = [];
    socket.on('queue:upsert', (row: SessionSummary) => void upserts.push(row));
    const sessionId = await postApp('angry-emo', ANGRY);
    const auth = { authorization: `Bearer ${token}` };

    const detail = SessionDetailSchema.parse((await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: auth })).json());
    expect(detail.messages[0]!.emotion?.label).toBe('anger');
    expect(detail.messages[0]!.emotion!.intensity).toBeGreaterThanOrEqual(0.6);
    expect(detail.emotion?.label).toBe('anger');

    // Any status: the test's agent is online, so the router may have offered it already (it did in the
    // scale-out lane, where the list came after the offer).
    const list = (await s.app.inject({ url: '/api/v1/sessions', headers: auth })).json() as { sessions: unknown[] };
    const listed = list.sessions.map((x) => SessionSummarySchema.parse(x)).find((x) => x.id === sessionId);
    expect(listed?.emotion?.label).toBe('anger');

    const queue = await ack<SessionSummary[]>(socket, 'queue:list', {});
    expect(queue.ok && queue.data.find((q) => q.id === sessionId)?.emotion?.label).toBe('anger');
    await until(() => upserts.some((u) => u.id === sessionId));
    expect(SessionSummarySchema.parse(upserts.find((u) => u.id === sessionId)).emotion?.label).toBe('anger');

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('气死我了');
  });

  it("gives the agent's reply no emotion and keeps the customer's on the queue item and in the history", async () => {
    const token = await s.login('agent1');
    const socket = await openAgentSocket(s, token);
    sockets.push(socket);
    const sessionId = await postApp('angry-emo-2', ANGRY);
    const accepted = await ack<unknown>(socket, 'offer:accept', { sessionId });
    expect(accepted.ok).toBe(true);
    const open = SessionDetailSchema.parse(accepted.ok && accepted.data);
    expect(open.messages.map((m) => m.emotion?.label)).toEqual(['anger']);

    const sent = await ack<unknown>(socket, 'message:send', {
      sessionId,
      clientMessageId: 'emo-reply-1',
      text: '非常抱歉！我马上为您处理',
    });
    const reply = MessageViewSchema.parse(sent.ok && sent.data);
    expect(reply.direction).toBe('out');
    expect(reply).not.toHaveProperty('emotion');

    const history = await ack<unknown>(socket, 'session:history', { sessionId, beforeSeq: 100 });
    const page = MessagePageSchema.parse(history.ok && history.data);
    expect(page.messages.map((m) => [m.direction, m.emotion?.label])).toEqual([
      ['in', 'anger'],
      ['out', undefined],
    ]);
    const queue = await ack<SessionSummary[]>(socket, 'queue:list', {});
    const row = queue.ok ? queue.data.find((q) => q.id === sessionId) : undefined;
    expect(row?.lastMessagePreview).toBe('非常抱歉！我马上为您处理');
    expect(row?.emotion?.label).toBe('anger');
  });
});
