import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '../../../common/api/sessions';
import { ack, openAgentSocket } from '../support/agent-client';
import { startTestServer, type TestServer } from '../support/harness';
import { eventually } from '../support/until';

/** Concurrency races on the agent path (issue 6, C9). */
describe('concurrent agent actions', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  async function post(externalId: string) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId }, text: 'hello', clientMessageId: `race-${externalId}` },
    });
    return (res.json() as { sessionId: string }).sessionId;
  }

  it('counts simultaneous accepts of one contact once against the agent capacity', async () => {
    const token = await s.login('agent1');
    const agent = await openAgentSocket(s, token);
    const secondWindow = await openAgentSocket(s, token); // the desktop app and a browser tab
    sockets.push(agent, secondWindow);
    const first = await post('race-1');
    // Several accepts at the same moment (a double click, a retry racing its original).
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ack(i % 2 ? secondWindow : agent, 'offer:accept', { sessionId: first })),
    );
    expect(all.every((r) => r.ok)).toBe(true);

    // The router's explanation states the agent's load when it offers the next contact: 1 chat, not 2.
    const second = await post('race-2');
    const offeredDetail = (sessionId: string) =>
      eventually(async () => {
        const res = await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } });
        const d = res.json() as SessionDetail;
        return d.routing?.offeredTo ? d : null;
      });
    const detail = await offeredDetail(second);
    expect(detail.routing?.assignment).toContain('1/3 chats');

    // Closing the one chat frees the capacity completely: the next offer says 0/3... after accepting it, 1/3.
    expect((await ack(agent, 'session:close', { sessionId: first, wrapUpCode: 'resolved' })).ok).toBe(true);
    expect((await ack(agent, 'offer:accept', { sessionId: second })).ok).toBe(true);
    const third = await post('race-3');
    const next = await offeredDetail(third);
    expect(next.routing?.assignment).toContain('1/3 chats');
  });
});
