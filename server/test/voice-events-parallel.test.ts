import { request } from 'node:http';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceRouteResponse } from '../../common/api/voice';
import { readVoiceEdgeApiUrl } from '../src/voice/edge-api';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';

/** One JSON post to the server's loopback hop, as Kamailio makes it (HTTP Basic `kamailio:<token>`). */
function hopPost(url: string, path: string, payload: object, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(url),
      {
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`kamailio:${token}`).toString('base64')}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

/**
 * One call's events posted in parallel through the loopback hop (docs/voice.md "Kamailio → server over
 * loopback"): a 200 the agent's phone retransmits while the first `answered` post is still being taken
 * is posted again at once, and a hang-up may be posted twice (Kamailio's retry). Each post is answered
 * 200, the session is accepted once and closed once, and the agent is free for the next call.
 */
describe('voice events of one call in parallel', () => {
  let s: TestServer;
  let token: string;
  let hop: string;
  let agent: Socket;

  beforeAll(async () => {
    s = await startTestServer();
    // No after-call work: the agent is free for the next call as soon as this one ends.
    const admin = await s.login('admin');
    const current = (
      await s.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: { authorization: `Bearer ${admin}` } })
    ).json<{ config: Record<string, unknown> }>().config;
    const { version: _v, ...draft } = current;
    const put = await s.app.inject({
      method: 'PUT',
      url: '/api/v1/routing/config',
      headers: { authorization: `Bearer ${admin}` },
      payload: { config: { ...draft, afterCallWorkSeconds: { chat: 0, voice: 0 } }, comment: 'parallel events test' },
    });
    expect(put.statusCode, put.body).toBe(201);
    token = loadVoiceSecrets(s.dataDir).routeToken;
    hop = readVoiceEdgeApiUrl(s.dataDir)!;
    agent = await openAgentSocket(s, await s.login('agent1'));
    const id = s.services.auth.listStaff().find((u) => u.username === 'agent1')!.id;
    await until(() => s.services.pool.get(id) !== undefined);
  });
  afterAll(async () => {
    agent?.close();
    await s?.cleanup();
  });

  it('takes a repeated answer and a repeated hang-up posted at the same time: one accept, one close, the agent free again', async () => {
    const invite = { event: 'invite', callId: 'parallel-1@trunk', from: 'sip:+8613800138201@trunk', to: 'sip:support@127.0.0.1' };
    const routed = await hopPost(hop, '/api/v1/voice/route', invite, token);
    const answer = JSON.parse(routed.body) as VoiceRouteResponse;
    expect(answer).toMatchObject({ action: 'agent', user: 'agent1' });
    const base = { callId: invite.callId, sessionId: answer.sessionId!, agent: 'agent1' };
    await hopPost(hop, '/api/v1/voice/events', { ...base, event: 'ringing', status: 180 }, token);
    const answered = await Promise.all(
      [1, 2].map(() => hopPost(hop, '/api/v1/voice/events', { ...base, event: 'answered', status: 200 }, token)),
    );
    expect(answered.map((a) => [a.status, (JSON.parse(a.body) as { status?: string }).status])).toEqual([
      [200, 'active'],
      [200, 'active'],
    ]);
    const ended = await Promise.all([1, 2].map(() => hopPost(hop, '/api/v1/voice/events', { ...base, event: 'ended', status: 0 }, token)));
    expect(ended.map((e) => e.status)).toEqual([200, 200]);
    const closed = (await s.services.store.getSession(answer.sessionId!))!;
    expect(closed).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' });
    const lines = (await s.services.store.listMessages(closed.conversationId)).flatMap((m) =>
      m.kind === 'event' && m.sessionId === closed.id ? [m.body.name] : [],
    );
    expect(lines.filter((n) => n === 'call.answered')).toHaveLength(1);
    expect(lines.filter((n) => n === 'call.ended')).toHaveLength(1);
    // The agent's voice slot is free: the next call rings them.
    const next = await hopPost(hop, '/api/v1/voice/route', { ...invite, callId: 'parallel-2@trunk' }, token);
    expect(JSON.parse(next.body)).toMatchObject({ action: 'agent', user: 'agent1' });
    await hopPost(hop, '/api/v1/voice/events', { event: 'ended', callId: 'parallel-2@trunk', sessionId: '', status: 487 }, token);
  });
});
