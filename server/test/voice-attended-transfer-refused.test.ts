import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceRouteResponse } from '../../common/api/voice';
import { voiceEdgePath } from '../src/voice/edge';
import { bdecode, bencode } from '../src/voice/rtpengine-ng';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { ack, openAgentSocket } from './support/agent-client';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';

/**
 * A stand-in for rtpengine's ng port that knows the Call-IDs in `up` (ng `query` answers ok) and no
 * others (`Unknown call-id`, as rtpengine answers for a call it deleted at its BYE).
 */
async function fakeRtpengine(up: Set<string>): Promise<{ socket: UdpSocket; address: string }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const space = msg.indexOf(' ');
    const cookie = msg.subarray(0, space).toString();
    const { value } = bdecode(msg, space + 1);
    const request = value as Record<string, string>;
    const answer: Record<string, string> =
      request['command'] === 'query' && !up.has(request['call-id'] ?? '')
        ? { result: 'error', 'error-reason': 'Unknown call-id' }
        : { result: 'ok' };
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(answer)]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { socket, address: `127.0.0.1:${socket.address().port}` };
}

/**
 * An attended transfer the server refuses at the colleague's answer (docs/voice.md "Attended transfer":
 * the session then stays with the first agent and the new leg is the session's call). The customer talks
 * to the colleague on the new leg; the first agent hangs up the old one. The call is not lost: the liveness
 * check must ask rtpengine about the leg that is up, not the one that ended.
 */
describe('attended transfer refused at the answer: the new leg is the session’s call', () => {
  let s: TestServer;
  let token: string;
  let rtp: { socket: UdpSocket; address: string };
  const up = new Set<string>();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    rtp = await fakeRtpengine(up);
    // No liveness timer: each check is run by the test (sweepLiveness).
    s = await startTestServer({ HUILIU_CONFIG: writeConfigFile({ voice: { livenessSeconds: 0 } }) });
    token = loadVoiceSecrets(s.dataDir).routeToken;
    const edgeFile = voiceEdgePath(s.dataDir);
    mkdirSync(dirname(edgeFile), { recursive: true });
    writeFileSync(edgeFile, JSON.stringify({ domain: '127.0.0.1', uris: [], rtpengine: rtp.address }));
  });
  afterEach(() => {
    while (sockets.length > 0) sockets.pop()!.close();
  });
  afterAll(async () => {
    await s?.cleanup();
    rtp?.socket.close();
  });

  const post = async (url: string, payload: object) => {
    const res = await s.app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': token } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Record<string, unknown>>();
  };
  const staffId = (username: string) => s.services.auth.listStaff().find((u) => u.username === username)!.id;

  it('keeps the call up on the new leg after the first agent hangs up the old one; the new leg’s hang-up ends it', async () => {
    // agent1 signed in (the call is theirs). They consult a colleague who takes no contacts (the demo's
    // auditor, whose phone is registered): the transfer to them is refused (TRANSFER_TARGET_NOT_FOUND)
    // at the answer, and the session stays with agent1.
    const socket = await openAgentSocket(s, await s.login('agent1'));
    sockets.push(socket);
    await until(() => s.services.pool.get(staffId('agent1')) !== undefined);
    const invite = { event: 'invite', callId: 'old-leg@trunk', from: 'sip:+8613800138001@trunk', to: 'sip:support@127.0.0.1' };
    const first = (await post('/api/v1/voice/route', invite)) as VoiceRouteResponse;
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = first.sessionId!;
    await post('/api/v1/voice/events', { event: 'answered', callId: invite.callId, sessionId, agent: 'agent1', status: 200 });
    up.add(invite.callId);
    expect(await s.services.voice.sweepLiveness!()).toBe(0);

    await post('/api/v1/voice/events', { event: 'consult', callId: 'consult@ws', sessionId: '', agent: 'agent1' });
    await post('/api/v1/voice/events', {
      event: 'transferred',
      callId: 'new-leg@ws',
      sessionId: '',
      agent: 'auditor',
      replaces: 'consult@ws',
    });
    up.add('new-leg@ws');
    expect(
      await post('/api/v1/voice/events', { event: 'answered', callId: 'new-leg@ws', sessionId, agent: 'auditor', status: 200 }),
    ).toEqual({ sessionId, status: 'active' });
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: staffId('agent1') });

    // The first agent hangs up the customer's old leg (rtpengine deletes it at the BYE); the consult ends.
    expect((await post('/api/v1/voice/events', { event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    up.delete(invite.callId);
    await post('/api/v1/voice/events', { event: 'ended', callId: 'consult@ws', sessionId: '', status: 0 });

    // The customer is still talking on the new leg: the liveness check ends nothing.
    expect(await s.services.voice.sweepLiveness!()).toBe(0);
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ status: 'active' });

    // The new leg's hang-up ends the call as any call.
    expect((await post('/api/v1/voice/events', { event: 'ended', callId: 'new-leg@ws', sessionId, status: 0 })).status).toBe('closed');
    up.delete('new-leg@ws');
    const closed = await s.services.store.getSession(sessionId);
    expect(closed).toMatchObject({ status: 'closed', assignedAgentId: staffId('agent1'), wrapUpCode: 'resolved' });
    const lines = (await s.services.store.listMessages(closed!.conversationId)).flatMap((m) =>
      m.kind === 'event' && m.sessionId === sessionId && m.body.name === 'call.ended' ? [m.body.data] : [],
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('lost');
  });
  it('a session moved away on the desk during the consult: the Replaces INVITE is refused, and an answer while it rang moves nothing', async () => {
    await s.services.auth.createUser({
      username: 'agent7',
      displayName: 'Agent 7',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    const desk = new Map<string, Socket>();
    for (const name of ['agent1', 'agent2', 'agent7']) {
      const socket = await openAgentSocket(s, await s.login(name));
      sockets.push(socket);
      desk.set(name, socket);
      await until(() => s.services.pool.get(staffId(name)) !== undefined);
    }
    const names = async (sessionId: string) => {
      const session = (await s.services.store.getSession(sessionId))!;
      return (await s.services.store.listMessages(session.conversationId)).flatMap((m) =>
        m.kind === 'event' && m.sessionId === sessionId ? [m.body.name] : [],
      );
    };
    /** A call answered by its agent, a consult to agent2, and the session cold-transferred to the other agent on the desk. */
    const consultedThenMoved = async (n: number, ringFirst: boolean) => {
      const invite = { event: 'invite', callId: `desk-${n}@trunk`, from: `sip:+861380013810${n}@trunk`, to: 'sip:support@127.0.0.1' };
      const routed = (await post('/api/v1/voice/route', invite)) as VoiceRouteResponse & { user: string };
      const sessionId = routed.sessionId!;
      await post('/api/v1/voice/events', { event: 'answered', callId: invite.callId, sessionId, agent: routed.user, status: 200 });
      await post('/api/v1/voice/events', { event: 'consult', callId: `desk-consult-${n}@ws`, sessionId: '', agent: routed.user });
      const ringing = ringFirst
        ? await post('/api/v1/voice/events', {
            event: 'transferred',
            callId: `desk-new-${n}@ws`,
            sessionId: '',
            agent: 'agent2',
            replaces: `desk-consult-${n}@ws`,
          })
        : null;
      const other = routed.user === 'agent7' ? 'agent1' : 'agent7';
      const moved = await ack(desk.get(routed.user)!, 'session:transfer', {
        sessionId,
        to: { kind: 'agent', agentId: staffId(other) },
        mode: 'cold',
      });
      expect(moved.ok).toBe(true);
      return { invite, sessionId, ringing };
    };

    // Moved before the customer's Replaces INVITE: refused (Kamailio answers 481; the customer stays on hold).
    const before = await consultedThenMoved(1, false);
    const refused = await s.app.inject({
      method: 'POST',
      url: '/api/v1/voice/events',
      payload: { event: 'transferred', callId: 'desk-new-1@ws', sessionId: '', agent: 'agent2', replaces: 'desk-consult-1@ws' },
      headers: { 'x-huiliu-voice-token': token },
    });
    expect(refused.statusCode, refused.body).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    expect(await names(before.sessionId)).not.toContain('call.transferring');

    // Moved while the colleague's phone rang: their answer is taken (200 at once) and moves nothing —
    // no `call.transferred` line, the session where the desk put it.
    const during = await consultedThenMoved(2, true);
    expect(during.ringing).toMatchObject({ sessionId: during.sessionId, status: 'active' });
    const where = await s.services.store.getSession(during.sessionId);
    const started = Date.now();
    const answered = await post('/api/v1/voice/events', {
      event: 'answered',
      callId: 'desk-new-2@ws',
      sessionId: during.sessionId,
      agent: 'agent2',
      status: 200,
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(answered).toEqual({ sessionId: during.sessionId, status: where!.status });
    expect(await names(during.sessionId)).not.toContain('call.transferred');
    expect(await s.services.store.getSession(during.sessionId)).toMatchObject({
      status: where!.status,
      assignedAgentId: where!.assignedAgentId,
      offeredAgentId: where!.offeredAgentId,
    });
  });
});
