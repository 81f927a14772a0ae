import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VoiceCredentials, VoiceRouteResponse } from '../../common/api/voice';
import { voiceEdgePath } from '../src/voice/edge';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { writeConfigFile } from './support/config-file';
import { fakeRtpengine } from './support/rtpengine-fake';
import { eventually, until } from './support/until';

/**
 * Issue 18, the server half of a call: what Kamailio asks (`POST /api/v1/voice/route`), what it reports
 * (`POST /api/v1/voice/events`) and the agents' SIP credentials, on the real server (demo seed).
 */
describe('voice API', () => {
  let s: TestServer;
  let token: string;
  const sockets: Socket[] = [];
  let n = 0;

  beforeAll(async () => {
    s = await startTestServer();
    token = loadVoiceSecrets(s.dataDir).routeToken;
  });
  afterEach(() => {
    while (sockets.length > 0) sockets.pop()!.close();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const post = (url: string, payload: unknown, voiceToken: string | null = token) =>
    s.app.inject({
      method: 'POST',
      url,
      payload: payload as object,
      headers: voiceToken === null ? {} : { 'x-huiliu-voice-token': voiceToken },
    });
  const route = async (payload: object) => {
    const res = await post('/api/v1/voice/route', payload);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<VoiceRouteResponse>();
  };
  /** The session id of an answer that has one (every answer but a refusal of an unknown call). */
  const sid = (a: VoiceRouteResponse) => {
    if (!a.sessionId) throw new Error(`no session in ${JSON.stringify(a)}`);
    return a.sessionId;
  };
  const event = async (payload: object) => {
    const res = await post('/api/v1/voice/events', payload);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ sessionId: string; status: string }>();
  };
  const online = async (username: string) => {
    const socket = await openAgentSocket(s, await s.login(username));
    sockets.push(socket);
    await until(() => s.services.pool.get(s.services.auth.listStaff().find((u) => u.username === username)!.id) !== undefined);
    return socket;
  };
  const call = (from = `sip:+861380013${String(++n).padStart(4, '0')}@trunk.example`) => ({
    event: 'invite',
    callId: `call-${n}-${Date.now()}@trunk.example`,
    from: `"Caller" <${from}>;tag=abc`,
    to: 'sip:support@127.0.0.1',
  });

  it('refuses Kamailio calls without the token, with a wrong one, and bodies that break the schema', async () => {
    expect((await post('/api/v1/voice/route', call(), null)).json()).toMatchObject({ error: { code: 'INVALID_VOICE_TOKEN' } });
    expect((await post('/api/v1/voice/route', call(), 'x'.repeat(43))).statusCode).toBe(401);
    const bad = await post('/api/v1/voice/route', { event: 'invite' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await post('/api/v1/voice/events', { event: 'ended', callId: 'c', sessionId: 'WB1692081000123482130' })).statusCode).toBe(400);
  });

  it("takes the token as the HTTP Basic password of the user kamailio (Kamailio's kept-alive httpcon) and refuses other users", async () => {
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const asBasic = (headers: Record<string, string>) =>
      s.app.inject({ method: 'POST', url: '/api/v1/voice/events', payload: { event: 'ended' }, headers });
    // Past the token check: the body is what is wrong.
    expect((await asBasic(basic('kamailio', token))).json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await asBasic(basic('admin', token))).json()).toMatchObject({ error: { code: 'INVALID_VOICE_TOKEN' } });
    expect((await asBasic(basic('kamailio', 'x'.repeat(43)))).json()).toMatchObject({ error: { code: 'INVALID_VOICE_TOKEN' } });
  });

  it('issues an agent ephemeral SIP credentials that Kamailio can check (HMAC-SHA1 of the username)', async () => {
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/voice/credentials',
      headers: { authorization: `Bearer ${await s.login('agent1')}` },
    });
    expect(res.statusCode).toBe(200);
    const c = res.json<VoiceCredentials>();
    const [expiry, user] = c.username.split(':');
    expect(user).toBe('agent1');
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000 + 3600);
    expect(c.password).toBe(createHmac('sha1', loadVoiceSecrets(s.dataDir).authSecret).update(c.username).digest('base64'));
    expect(c.aor).toMatch(/^sip:agent1@/);
    expect((await s.app.inject({ method: 'GET', url: '/api/v1/voice/credentials' })).statusCode).toBe(401);
  });

  it('routes a call to an online agent as an SP session; answer, hang-up and the durations reach history and KPIs', async () => {
    await online('agent1');
    const answer = await route(call());
    expect(answer).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = sid(answer);
    expect(sessionId).toMatch(/^SP\d{18}$/);
    const base = { callId: 'x', sessionId, agent: 'agent1' };
    expect((await event({ ...base, event: 'ringing', status: 180 })).status).toBe('offered');
    expect((await event({ ...base, event: 'answered', status: 200 })).status).toBe('active');
    // The agent's one voice slot is taken: the next caller waits in the queue.
    const second = await route(call());
    expect(second).toMatchObject({ action: 'queue', position: 1 });
    expect((await event({ ...base, event: 'ended', status: 0 })).status).toBe('closed');
    // Hanging up freed the slot; the router offered the waiting call after the agent's wrap-up, or now.
    const detail = await s.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${sessionId}`,
      headers: { authorization: `Bearer ${await s.login('lead')}` },
    });
    const messages = detail.json<{ messages: { kind: string; body?: { name?: string; data?: Record<string, unknown> } }[] }>().messages;
    const names = messages.map((m) => m.body?.name);
    expect(names).toEqual(expect.arrayContaining(['call.incoming', 'call.ringing', 'call.answered', 'call.ended']));
    // The ringing is written with the answer (one store write), before it, and keeps when the phone rang.
    expect(names.indexOf('call.ringing')).toBeLessThan(names.indexOf('call.answered'));
    const rang = messages.find((m) => m.body?.name === 'call.ringing')!.body!.data!;
    expect(rang).toMatchObject({ agent: 'agent1' });
    expect(Date.parse(String(rang['at']))).toBeLessThanOrEqual(Date.now());
    const kinds = s.services.kpis.log.read(0, Date.now() + 1000).filter((e) => e.sessionId === sessionId);
    expect(kinds.map((e) => e.kind)).toEqual(expect.arrayContaining(['contact.answered', 'call.answered', 'call.ended', 'contact.closed']));
    expect(kinds.find((e) => e.kind === 'call.ended')!.data.talkMs).toBeGreaterThanOrEqual(0);
    await event({ callId: 'y', sessionId: sid(second), event: 'ended', status: 487 });
  });

  it('reads no session for a ringing post, and one fewer for the answer, when the call is known (issue 18)', async () => {
    await online('agent1');
    const sessionId = sid(await route(call()));
    const base = { callId: 'x', sessionId, agent: 'agent1' };
    const reads = vi.spyOn(s.services.store, 'getSession');
    const readsOf = async (payload: object) => {
      reads.mockClear();
      const answer = await event(payload);
      return { status: answer.status, reads: reads.mock.calls.filter(([id]) => id === sessionId).length };
    };
    try {
      expect(await readsOf({ ...base, event: 'ringing', status: 180 })).toEqual({ status: 'offered', reads: 0 });
      // The accept reads it once to check the offer (conversations), the voice service no more.
      expect(await readsOf({ ...base, event: 'answered', status: 200 })).toEqual({ status: 'active', reads: 1 });
      expect((await readsOf({ ...base, event: 'ended', status: 0 })).status).toBe('closed');
    } finally {
      reads.mockRestore();
    }
  });

  it('queues a caller with nobody online, tells the position, and records an abandoned call when they hang up', async () => {
    const first = await route(call());
    const second = await route(call());
    expect(first).toMatchObject({ action: 'queue', position: 1 });
    expect(second).toMatchObject({ action: 'queue', position: 2 });
    expect(await route({ event: 'retry', callId: 'z', sessionId: sid(second) })).toMatchObject({ action: 'queue', position: 2 });
    expect((await event({ callId: 'z', sessionId: sid(first), event: 'ended', status: 487 })).status).toBe('closed');
    expect(await route({ event: 'retry', callId: 'z', sessionId: sid(second) })).toMatchObject({ action: 'queue', position: 1 });
    expect(s.services.kpis.log.has(sid(first), 'contact.abandoned')).toBe(true);
    expect(await route({ event: 'retry', callId: 'z', sessionId: sid(first) })).toMatchObject({ action: 'reject', status: 480 });
    const sessionId = sid(first);
    expect(
      s.services.kpis.log.read(0, Date.now() + 1000).find((e) => e.sessionId === sessionId && e.kind === 'call.ended')?.data,
    ).toMatchObject({ talkMs: 0 });
    await event({ callId: 'z', sessionId: sid(second), event: 'ended', status: 487 });
  });

  it('offers the call to the next agent when the first one does not pick up', async () => {
    // A second agent of the general group beside the demo's agent1.
    await s.services.auth.createUser({
      username: 'agent3',
      displayName: 'Agent 3',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    await online('agent1');
    await online('agent3');
    const invite = call();
    const first = await route(invite);
    expect(first.action).toBe('agent');
    if (first.action !== 'agent') return;
    await event({ callId: 'n', sessionId: sid(first), event: 'no-answer', agent: first.user, status: 408 });
    const next = await route({ event: 'retry', callId: 'n', sessionId: sid(first) });
    expect(next.action).toBe('agent');
    if (next.action === 'agent') expect(next.user).not.toBe(first.user);
    if (next.action === 'agent') await event({ callId: 'n', sessionId: sid(first), event: 'answered', agent: next.user, status: 200 });
    expect((await event({ callId: 'n', sessionId: sid(first), event: 'ended', status: 0 })).status).toBe('closed');
  });

  it('attended transfer: a consult ties to the agent’s call, the Replaces call’s answer moves the session to the colleague, the replaced leg does not end it', async () => {
    await s.services.auth.createUser({
      username: 'agent5',
      displayName: 'Agent 5',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    await online('agent5');
    await online('agent2');
    const invite = call();
    const first = await route(invite);
    expect(first.action).toBe('agent');
    if (first.action !== 'agent') return;
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: first.user, status: 200 });
    // A consult from an agent on no customer call is an ordinary call between agents: not the server's.
    const stray = await post('/api/v1/voice/events', { event: 'consult', callId: 'consult-stray', sessionId: '', agent: 'agent2' });
    expect(stray.statusCode).toBe(404);
    expect(await event({ event: 'consult', callId: 'consult-1@ws', sessionId: '', agent: first.user })).toEqual({
      sessionId,
      status: 'active',
    });
    const unknown = await post('/api/v1/voice/events', {
      event: 'transferred',
      callId: 'new-x@ws',
      sessionId: '',
      agent: 'agent2',
      replaces: 'no-such-consult',
    });
    expect(unknown.statusCode).toBe(404);
    const asked = await event({ event: 'transferred', callId: 'new-1@ws', sessionId: '', agent: 'agent2', replaces: 'consult-1@ws' });
    expect(asked.sessionId).toBe(sessionId);
    // Not moved yet: the customer is on hold with the first agent until the colleague's phone answers.
    expect(asked.status).toBe('active');
    // The first agent hangs up the customer's old leg, the colleague's phone ends the consult: the session goes on.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    expect((await event({ event: 'ended', callId: 'consult-1@ws', sessionId: '', status: 0 })).status).not.toBe('closed');
    // The colleague's answer of the Replaces INVITE accepts the transferred contact.
    expect((await event({ event: 'answered', callId: 'new-1@ws', sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    const detail = await s.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${sessionId}`,
      headers: { authorization: `Bearer ${await s.login('lead')}` },
    });
    const body = detail.json<{ assignedAgentId: string; messages: { kind: string; body?: { name?: string } }[] }>();
    expect(body.assignedAgentId).toBe(s.services.auth.listStaff().find((u) => u.username === 'agent2')!.id);
    expect(body.messages.map((m) => m.body?.name)).toEqual(expect.arrayContaining(['call.answered', 'call.transferred']));
    // The new leg's BYE ends the call and closes the session.
    expect((await event({ event: 'ended', callId: 'new-1@ws', sessionId: '', status: 0 })).status).toBe('closed');
  });
  it('attended transfer that fails: the session stays with the first agent, whose hang-up then ends the call', async () => {
    await online('agent1');
    await online('agent2');
    const invite = call();
    const first = await route(invite);
    expect(first.action).toBe('agent');
    if (first.action !== 'agent') return;
    const sessionId = sid(first);
    const agent1 = s.services.auth.listStaff().find((u) => u.username === first.user)!;
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: first.user, status: 200 });
    await event({ event: 'consult', callId: 'consult-f@ws', sessionId: '', agent: first.user });
    await event({ event: 'transferred', callId: 'new-f@ws', sessionId: '', agent: 'agent2', replaces: 'consult-f@ws' });
    await event({ event: 'ringing', callId: 'new-f@ws', sessionId, agent: 'agent2', status: 180 });
    // The colleague's phone declines the customer's INVITE with Replaces (failure_route[REPLACES_FAILED]).
    const failed = { event: 'transfer_failed', callId: 'new-f@ws', sessionId, agent: 'agent2', status: 486 };
    expect(await event(failed)).toEqual({ sessionId, status: 'active' });
    // Posted again (Kamailio retried): nothing more happens.
    expect(await event(failed)).toEqual({ sessionId, status: 'active' });
    const kept = await s.services.store.getSession(sessionId);
    expect(kept).toMatchObject({ status: 'active', assignedAgentId: agent1.id, offeredAgentId: null });
    expect(await s.services.store.transfers(sessionId)).toEqual([]);
    const lines = (await detailOf(sessionId)).messages.flatMap((m) => (m.body?.name?.startsWith('call.') ? [m.body] : []));
    expect(lines.filter((l) => l.name === 'call.transfer_failed')).toEqual([
      { name: 'call.transfer_failed', data: { from: first.user, to: 'agent2', sipStatus: 486 } },
    ]);
    expect(lines.map((l) => l.name)).not.toContain('call.transferred');
    // Bad input: a failure of a leg nobody knows, a body that breaks the schema.
    const unknown = await post('/api/v1/voice/events', { event: 'transfer_failed', callId: 'nobody@ws', sessionId: '', status: 486 });
    expect(unknown.json()).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    const bad = await post('/api/v1/voice/events', { event: 'transfer_failed', callId: '', sessionId: 'SP1', status: 486 });
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    // The consult ends, then the first agent's leg: the call ends and the session closes as any call.
    await event({ event: 'ended', callId: 'consult-f@ws', sessionId: '', status: 0 });
    const ended = await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 });
    expect(ended.status).toBe('closed');
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ assignedAgentId: agent1.id, wrapUpCode: 'resolved' });
  });

  it('attended transfer: a failure posted after the colleague answered changes nothing; the old leg hung up while it rang ends with a failure', async () => {
    await online('agent1');
    await online('agent2');
    const agent2 = s.services.auth.listStaff().find((u) => u.username === 'agent2')!;
    // Answered, then a stray failure post for the same leg: the session stays with the colleague.
    const invite = call();
    const first = await route(invite);
    if (first.action !== 'agent') throw new Error(JSON.stringify(first));
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: first.user, status: 200 });
    await event({ event: 'consult', callId: 'consult-a@ws', sessionId: '', agent: first.user });
    await event({ event: 'transferred', callId: 'new-a@ws', sessionId: '', agent: 'agent2', replaces: 'consult-a@ws' });
    expect((await event({ event: 'answered', callId: 'new-a@ws', sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    expect(await event({ event: 'transfer_failed', callId: 'new-a@ws', sessionId, agent: 'agent2', status: 408 })).toEqual({
      sessionId,
      status: 'active',
    });
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: agent2.id });
    expect((await detailOf(sessionId)).messages.map((m) => m.body?.name)).not.toContain('call.transfer_failed');
    // The old leg's BYE (the first agent's, after the NOTIFY 200) does not end it; the new leg's does.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    expect((await event({ event: 'ended', callId: 'new-a@ws', sessionId: '', status: 0 })).status).toBe('closed');

    // The customer's old leg hangs up while the Replaces INVITE rings; then that INVITE times out: the call is over.
    const other = call();
    const second = await route(other);
    if (second.action !== 'agent') throw new Error(JSON.stringify(second));
    const otherId = sid(second);
    await event({ callId: other.callId, sessionId: otherId, event: 'answered', agent: second.user, status: 200 });
    await event({ event: 'consult', callId: 'consult-b@ws', sessionId: '', agent: second.user });
    await event({ event: 'transferred', callId: 'new-b@ws', sessionId: '', agent: 'agent2', replaces: 'consult-b@ws' });
    expect((await event({ event: 'ended', callId: other.callId, sessionId: '', status: 0 })).status).toBe('active');
    expect((await event({ event: 'transfer_failed', callId: 'new-b@ws', sessionId: otherId, agent: 'agent2', status: 408 })).status).toBe(
      'closed',
    );
    const names = (await detailOf(otherId)).messages.flatMap((m) => (m.body?.name?.startsWith('call.') ? [m.body.name] : []));
    expect(names.slice(-2)).toEqual(['call.transfer_failed', 'call.ended']);
  });

  /** The SP session as a lead sees it: its agent and its history's call events. */
  const detailOf = async (sessionId: string) => {
    const detail = await s.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${sessionId}`,
      headers: { authorization: `Bearer ${await s.login('lead')}` },
    });
    return detail.json<{
      assignedAgentId: string;
      messages: { kind: string; body?: { name?: string; data?: Record<string, unknown> } }[];
    }>();
  };
  const staffId = (username: string) => s.services.auth.listStaff().find((u) => u.username === username)!.id;

  it('blind transfer: the customer’s INVITE after the agent’s REFER joins the same SP session and rings the named colleague', async () => {
    await online('agent1');
    await online('agent2');
    const invite = call();
    const first = await route(invite);
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: 'agent1', status: 200 });
    // A REFER to nobody the contact centre knows is refused (Kamailio relays it all the same).
    const nobody = await post('/api/v1/voice/events', {
      event: 'refer',
      callId: invite.callId,
      sessionId: '',
      referTo: '<sip:nobody@127.0.0.1>',
    });
    expect(nobody.statusCode).toBe(400);
    expect(await event({ event: 'refer', callId: invite.callId, sessionId: '', agent: '', referTo: '<sip:agent2@127.0.0.1>' })).toEqual({
      sessionId,
      status: 'active',
    });
    // Another caller's INVITE to the same colleague with a Referred-By is not tied: the REFER named this caller.
    const stranger = { ...call(), to: 'sip:agent2@127.0.0.1', referredBy: '<sip:agent1@127.0.0.1>' };
    const other = await route(stranger);
    expect(sid(other)).not.toBe(sessionId);
    await event({ callId: stranger.callId, sessionId: sid(other), event: 'ended', status: 487 });

    const follow = {
      event: 'invite',
      callId: `follow-${Date.now()}@trunk.example`,
      from: invite.from.replace('tag=abc', 'tag=def'),
      to: 'sip:agent2@127.0.0.1',
      referredBy: '<sip:agent1@127.0.0.1>',
    };
    expect(await route(follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId });
    // The first agent's leg ends (BYE after the NOTIFY 200): the session goes on.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    expect((await event({ event: 'answered', callId: follow.callId, sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    const body = await detailOf(sessionId);
    expect(body.assignedAgentId).toBe(staffId('agent2'));
    expect(body.messages.find((m) => m.body?.name === 'call.transferred')?.body?.data).toEqual({
      from: 'agent1',
      to: 'agent2',
      mode: 'blind',
    });
    // The new leg's BYE ends the call and closes the session.
    expect((await event({ event: 'ended', callId: follow.callId, sessionId: '', status: 0 })).status).toBe('closed');
    // The REFER was used once: the same INVITE again is a new call.
    const again = await route({ ...follow, callId: `again-${Date.now()}@trunk.example` });
    expect(sid(again)).not.toBe(sessionId);
    await event({ callId: 'again', sessionId: sid(again), event: 'ended', status: 487 });
  });

  it('blind transfer to a skill group: the old leg may hang up first; the following INVITE goes to that group’s agent in the same session', async () => {
    await online('agent1');
    await online('agent2');
    const invite = call();
    const first = await route(invite);
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: 'agent1', status: 200 });
    await event({ event: 'refer', callId: invite.callId, sessionId: '', referTo: 'sip:vip@127.0.0.1' });
    // The agent hangs up right after the 202: the session waits for the customer's INVITE.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    const follow = {
      event: 'invite',
      callId: `vip-${Date.now()}@trunk.example`,
      from: invite.from,
      to: 'sip:vip@127.0.0.1',
      referredBy: '<sip:agent1@127.0.0.1>',
    };
    expect(await route(follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId });
    expect((await event({ event: 'answered', callId: follow.callId, sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    expect((await detailOf(sessionId)).messages.find((m) => m.body?.name === 'call.transferred')?.body?.data).toEqual({
      from: 'agent1',
      to: 'vip',
      mode: 'blind',
    });
    expect((await event({ event: 'ended', callId: follow.callId, sessionId: '', status: 0 })).status).toBe('closed');
  });

  it('blind transfer of an anonymous caller (RFC 3323): the INVITE is matched by the agent its Referred-By names', async () => {
    await online('agent1');
    await online('agent2');
    const anonymous = '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=anon1';
    const invite = { ...call(), from: anonymous };
    const first = await route(invite);
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: 'agent1', status: 200 });
    await event({ event: 'refer', callId: invite.callId, sessionId: '', referTo: '<sip:agent2@127.0.0.1>' });
    // Another anonymous caller whose Referred-By names someone else is not this transfer.
    const stranger = {
      ...call(),
      from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=anon9',
      to: 'sip:agent2@127.0.0.1',
      referredBy: '<sip:agent9@127.0.0.1>',
    };
    const other = await route(stranger);
    expect(sid(other)).not.toBe(sessionId);
    await event({ callId: stranger.callId, sessionId: sid(other), event: 'ended', status: 487 });
    const follow = {
      event: 'invite',
      callId: `anon-follow-${Date.now()}@trunk.example`,
      from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=anon2',
      to: 'sip:agent2@127.0.0.1',
      referredBy: '"Agent 1" <sip:agent1@127.0.0.1>',
    };
    expect(await route(follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId });
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    expect((await event({ event: 'answered', callId: follow.callId, sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    expect((await detailOf(sessionId)).messages.find((m) => m.body?.name === 'call.transferred')?.body?.data).toEqual({
      from: 'agent1',
      to: 'agent2',
      mode: 'blind',
    });
    expect((await event({ event: 'ended', callId: follow.callId, sessionId: '', status: 0 })).status).toBe('closed');
  });

  /** A call answered by agent1 and blind-transferred to `target` (REFER, then the customer's INVITE with Referred-By). */
  const blindTransfer = async (target: string, tag: string) => {
    const invite = call();
    const first = await route(invite);
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: 'agent1', status: 200 });
    await event({ event: 'refer', callId: invite.callId, sessionId: '', referTo: `<sip:${target}@127.0.0.1>` });
    const follow = {
      event: 'invite',
      callId: `${tag}-${Date.now()}@trunk.example`,
      from: invite.from,
      to: `sip:${target}@127.0.0.1`,
      referredBy: '<sip:agent1@127.0.0.1>',
    };
    return { invite, follow, sessionId };
  };
  /** The session's `call.*` history lines, oldest first. */
  const callLines = async (sessionId: string) =>
    (await detailOf(sessionId)).messages.flatMap((m) => (m.body?.name?.startsWith('call.') ? [m.body] : []));

  it('blind transfer whose new INVITE the customer’s phone cancels before the answer: undone, back with the first agent; the old leg’s BYE closes it resolved', async () => {
    await online('agent1');
    await online('agent2');
    const { invite, follow, sessionId } = await blindTransfer('agent2', 'cancelled');
    // agent2 is in vip only: the transfer moved the contact to vip and rings them.
    expect(await route(follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId });
    expect(await s.services.store.getSession(sessionId)).toMatchObject({
      status: 'offered',
      offeredAgentId: staffId('agent2'),
      skillGroup: 'vip',
    });
    await event({ callId: follow.callId, sessionId, event: 'ringing', agent: 'agent2', status: 180 });
    // failure_route[CALL_FAILED], t_is_canceled: `ended` for the new leg with the session and the agent it rang.
    const cancelled = { event: 'ended', callId: follow.callId, sessionId, agent: 'agent2', status: 487 };
    expect(await event(cancelled)).toEqual({ sessionId, status: 'active' });
    // Posted again (Kamailio's retry of an `ended`): nothing more happens.
    expect(await event(cancelled)).toEqual({ sessionId, status: 'active' });
    expect(await s.services.store.getSession(sessionId)).toMatchObject({
      status: 'active',
      assignedAgentId: staffId('agent1'),
      offeredAgentId: null,
      skillGroup: 'general',
    });
    expect((await s.services.store.transfers(sessionId)).map((t) => t.status)).toEqual(['cancelled']);
    const lines = await callLines(sessionId);
    expect(lines.filter((l) => l.name === 'call.transfer_failed')).toEqual([
      { name: 'call.transfer_failed', data: { from: 'agent1', to: 'agent2', sipStatus: 487, mode: 'blind' } },
    ]);
    // The first agent can consult again: they hold the call (onCall restored).
    expect(await event({ event: 'consult', callId: `consult-${follow.callId}`, sessionId: '', agent: 'agent1' })).toEqual({
      sessionId,
      status: 'active',
    });
    await event({ event: 'ended', callId: `consult-${follow.callId}`, sessionId: '', status: 0 });
    // The old leg's BYE ends the call as any call: closed resolved by agent1.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('closed');
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ assignedAgentId: staffId('agent1'), wrapUpCode: 'resolved' });
    const names = (await callLines(sessionId)).map((l) => l.name);
    expect(names).toEqual(['call.incoming', 'call.answered', 'call.transferred', 'call.ringing', 'call.transfer_failed', 'call.ended']);
  });

  it('blind transfer to a skill group whose new INVITE waits in the queue and is cancelled there: undone, back with the first agent', async () => {
    await online('agent1');
    // Nobody of vip online: the customer's INVITE waits in vip's queue (parked, `182 Queued`).
    const { invite, follow, sessionId } = await blindTransfer('vip', 'parked');
    expect(await route(follow)).toMatchObject({ action: 'queue', sessionId });
    // route[PARKED_CANCEL]: `ended` 487 naming the Call-ID only.
    expect(await event({ event: 'ended', callId: follow.callId, sessionId: '', agent: '', status: 487 })).toEqual({
      sessionId,
      status: 'active',
    });
    expect(await s.services.store.getSession(sessionId)).toMatchObject({
      status: 'active',
      assignedAgentId: staffId('agent1'),
      skillGroup: 'general',
    });
    expect((await event({ event: 'ended', callId: invite.callId, sessionId, status: 0 })).status).toBe('closed');
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ wrapUpCode: 'resolved', assignedAgentId: staffId('agent1') });
  });

  it('blind transfer whose new leg the target answered: no undo, an `ended` of that leg is the call’s end', async () => {
    await online('agent1');
    await online('agent2');
    const next = await blindTransfer('agent2', 'answered');
    expect(await route(next.follow)).toMatchObject({ action: 'agent', user: 'agent2' });
    await event({ callId: next.follow.callId, sessionId: next.sessionId, event: 'answered', agent: 'agent2', status: 200 });
    expect((await event({ event: 'ended', callId: next.invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    expect(
      (await event({ event: 'ended', callId: next.follow.callId, sessionId: next.sessionId, agent: 'agent2', status: 200 })).status,
    ).toBe('closed');
    expect(await s.services.store.getSession(next.sessionId)).toMatchObject({ wrapUpCode: 'resolved', assignedAgentId: staffId('agent2') });
    expect((await callLines(next.sessionId)).map((l) => l.name)).not.toContain('call.transfer_failed');
  });

  it('blind transfer whose old leg hung up before the new INVITE failed (503, no media): the call is over, closed resolved by the first agent', async () => {
    await online('agent1');
    await online('agent2');
    // The old leg hangs up while the new one rings (the agent's phone BYEs early).
    const ringing = await blindTransfer('agent2', 'media');
    expect(await route(ringing.follow)).toMatchObject({ action: 'agent', user: 'agent2' });
    expect((await event({ event: 'ended', callId: ringing.invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    // route[RELAY_ANCHORED]: no media anchor for the new leg, 503 to the customer's phone.
    const failed = await event({
      event: 'ended',
      callId: ringing.follow.callId,
      sessionId: ringing.sessionId,
      agent: 'agent2',
      status: 503,
    });
    expect(failed).toEqual({ sessionId: ringing.sessionId, status: 'closed' });
    expect(await s.services.store.getSession(ringing.sessionId)).toMatchObject({
      wrapUpCode: 'resolved',
      assignedAgentId: staffId('agent1'),
    });
    expect((await callLines(ringing.sessionId)).map((l) => l.name).slice(-2)).toEqual(['call.transfer_failed', 'call.ended']);
  });

  it('blind transfer whose old leg hung up right after the REFER, then the new INVITE was cancelled: closed resolved by the first agent', async () => {
    await online('agent1');
    await online('agent2');
    const early = await blindTransfer('agent2', 'early');
    expect((await event({ event: 'ended', callId: early.invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    expect(await route(early.follow)).toMatchObject({ action: 'agent', user: 'agent2' });
    expect(
      (await event({ event: 'ended', callId: early.follow.callId, sessionId: early.sessionId, agent: 'agent2', status: 487 })).status,
    ).toBe('closed');
    expect(await s.services.store.getSession(early.sessionId)).toMatchObject({
      wrapUpCode: 'resolved',
      assignedAgentId: staffId('agent1'),
    });
  });

  it('blind transfer that fails after the first agent answered another call: that call stays the one they are on (review6)', async () => {
    await online('agent1');
    await online('agent2');
    const a = await blindTransfer('agent2', 'other-call');
    expect(await route(a.follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId: a.sessionId });
    // agent1's call went to agent2: the router offers agent1 the next caller, and agent1 picks up.
    const b = call();
    const second = await route(b);
    expect(second).toMatchObject({ action: 'agent', user: 'agent1' });
    const bId = sid(second);
    await event({ callId: b.callId, sessionId: bId, event: 'answered', agent: 'agent1', status: 200 });
    // The customer of A cancels their new INVITE: A goes back to agent1 (they still hold its old leg).
    expect(await event({ event: 'ended', callId: a.follow.callId, sessionId: a.sessionId, agent: 'agent2', status: 487 })).toEqual({
      sessionId: a.sessionId,
      status: 'active',
    });
    // agent1 talks with B: a consult they place now is B's, not the held A's.
    expect(await event({ event: 'consult', callId: `consult-${b.callId}`, sessionId: '', agent: 'agent1' })).toEqual({
      sessionId: bId,
      status: 'active',
    });
    await event({ event: 'ended', callId: `consult-${b.callId}`, sessionId: '', status: 0 });
    expect((await event({ event: 'ended', callId: a.invite.callId, sessionId: '', status: 0 })).status).toBe('closed');
    expect((await event({ event: 'ended', callId: b.callId, sessionId: '', status: 0 })).status).toBe('closed');
  });

  it('blind transfer whose session the target took and closed on the desk before the new INVITE failed: nothing undone, every post answered (review6)', async () => {
    await online('agent1');
    const desk = await online('agent2');
    const a = await blindTransfer('agent2', 'closed-meanwhile');
    expect(await route(a.follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId: a.sessionId });
    expect(await ack(desk, 'offer:accept', { sessionId: a.sessionId })).toMatchObject({ ok: true });
    expect(await ack(desk, 'session:close', { sessionId: a.sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
    const failed = { event: 'ended', callId: a.follow.callId, sessionId: a.sessionId, agent: 'agent2', status: 487 };
    expect(await event(failed)).toEqual({ sessionId: a.sessionId, status: 'closed' });
    expect(await event(failed)).toEqual({ sessionId: a.sessionId, status: 'closed' });
    expect((await event({ event: 'ended', callId: a.invite.callId, sessionId: '', status: 0 })).status).toBe('closed');
    expect(await s.services.store.getSession(a.sessionId)).toMatchObject({ assignedAgentId: staffId('agent2'), wrapUpCode: 'resolved' });
  });

  it('blind transfer whose new leg was answered but its `answered` post was lost: that leg’s BYE is no failed transfer, nothing is undone (review6)', async () => {
    await online('agent1');
    await online('agent2');
    const a = await blindTransfer('agent2', 'answer-lost');
    expect(await route(a.follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId: a.sessionId });
    // agent2's phone answers; Kamailio's `answered` post fails (logged, not posted again). agent1 hangs up
    // at the NOTIFY 200, then the customer and agent2 talk and hang up: two BYEs (status 0, in-dialog).
    expect((await event({ event: 'ended', callId: a.invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    expect((await event({ event: 'ended', callId: a.follow.callId, sessionId: a.sessionId, agent: '', status: 0 })).status).toBe('closed');
    const names = (await callLines(a.sessionId)).map((l) => l.name);
    expect(names).not.toContain('call.transfer_failed');
    expect((await s.services.store.transfers(a.sessionId)).map((t) => t.status)).not.toContain('cancelled');
    expect(await s.services.store.getSession(a.sessionId)).not.toMatchObject({
      assignedAgentId: staffId('agent1'),
      wrapUpCode: 'resolved',
    });
  });

  it('blind transfer not answered by its target: recalled to the transferring agent when available, else to the queue', async () => {
    // Two agents of the general group (the demo's agent2 is vip only: a transfer to them moves the contact to vip).
    if (!s.services.auth.listStaff().some((u) => u.username === 'agent6'))
      await s.services.auth.createUser({
        username: 'agent6',
        displayName: 'Agent 6',
        password: 'huiliu-demo',
        roles: ['agent'],
        skillGroups: ['general'],
      });
    const socketOf = new Map([
      ['agent1', await online('agent1')],
      ['agent6', await online('agent6')],
    ]);
    const invite = call();
    const first = await route(invite);
    expect(first.action).toBe('agent');
    if (first.action !== 'agent') return;
    const [from, to] = first.user === 'agent1' ? ['agent1', 'agent6'] : ['agent6', 'agent1'];
    const sessionId = sid(first);
    await event({ callId: invite.callId, sessionId, event: 'answered', agent: from, status: 200 });
    await event({ event: 'refer', callId: invite.callId, sessionId: '', referTo: `<sip:${to}@127.0.0.1>` });
    const follow = {
      event: 'invite',
      callId: `recall-${Date.now()}@trunk.example`,
      from: invite.from,
      to: `sip:${to}@127.0.0.1`,
      referredBy: `<sip:${from}@127.0.0.1>`,
    };
    expect(await route(follow)).toMatchObject({ action: 'agent', user: to, sessionId });
    // The colleague's phone is busy (486): Kamailio reports no-answer and parks the call; its next question rings the first agent.
    await event({ callId: follow.callId, sessionId, event: 'no-answer', agent: to, status: 486 });
    expect(await route({ event: 'retry', callId: follow.callId, sessionId })).toMatchObject({ action: 'agent', user: from, sessionId });
    // The old leg's BYE does not end it; the first agent answers the recalled call.
    expect((await event({ event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).not.toBe('closed');
    expect((await event({ event: 'answered', callId: follow.callId, sessionId, agent: from, status: 200 })).status).toBe('active');
    const body = await detailOf(sessionId);
    expect(body.assignedAgentId).toBe(staffId(from));
    const names = body.messages.map((m) => m.body?.name);
    expect(body.messages.find((m) => m.body?.name === 'call.transfer_recalled')?.body?.data).toEqual({
      from: to,
      to: from,
      sipStatus: 486,
    });
    expect(names.indexOf('call.transferred')).toBeLessThan(names.indexOf('call.missed'));
    expect(names.indexOf('call.missed')).toBeLessThan(names.indexOf('call.transfer_recalled'));
    expect(names.indexOf('call.transfer_recalled')).toBeLessThan(names.lastIndexOf('call.answered'));
    expect((await event({ event: 'ended', callId: follow.callId, sessionId: '', status: 0 })).status).toBe('closed');

    // Again, but the transferring agent signs out before the colleague misses it: the queue, as any missed offer.
    const again = call();
    const second = await route(again);
    expect(second).toMatchObject({ action: 'agent', user: to });
    const secondId = sid(second);
    await event({ callId: again.callId, sessionId: secondId, event: 'answered', agent: to, status: 200 });
    await event({ event: 'refer', callId: again.callId, sessionId: '', referTo: `<sip:${from}@127.0.0.1>` });
    const follow2 = {
      ...follow,
      callId: `recall2-${Date.now()}@trunk.example`,
      from: again.from,
      to: `sip:${from}@127.0.0.1`,
      referredBy: `<sip:${to}@127.0.0.1>`,
    };
    expect(await route(follow2)).toMatchObject({ sessionId: secondId });
    socketOf.get(to)!.close();
    await until(() => s.services.pool.get(staffId(to))?.presence !== 'available');
    await event({ callId: follow2.callId, sessionId: secondId, event: 'no-answer', agent: from, status: 486 });
    expect(await route({ event: 'retry', callId: follow2.callId, sessionId: secondId })).toMatchObject({ action: 'queue' });
    expect((await detailOf(secondId)).messages.some((m) => m.body?.name === 'call.transfer_recalled')).toBe(false);
    // The customer's phone gives up on the new call: undone — the transferring agent is signed out, so the
    // contact waits in its first group's queue; the old leg's BYE then ends it as a caller who hung up waiting.
    expect((await event({ callId: follow2.callId, sessionId: secondId, event: 'ended', status: 487 })).status).not.toBe('closed');
    expect((await detailOf(secondId)).messages.some((m) => m.body?.name === 'call.transfer_failed')).toBe(true);
    expect((await event({ event: 'ended', callId: again.callId, sessionId: '', status: 0 })).status).toBe('closed');
  });
});

/** Issue 18: the REFER-not-followed timer, shortened by config (`voice.referFollowSeconds`, default 32). */
describe('voice API: a blind transfer whose INVITE never follows', () => {
  let s: TestServer;
  let token: string;
  const sockets: Socket[] = [];
  let n = 0;

  beforeAll(async () => {
    s = await startTestServer({ HUILIU_CONFIG: writeConfigFile({ voice: { referFollowSeconds: 1 } }) });
    token = loadVoiceSecrets(s.dataDir).routeToken;
    for (const username of ['agent1', 'agent2']) {
      sockets.push(await openAgentSocket(s, await s.login(username)));
      await until(() => s.services.pool.get(s.services.auth.listStaff().find((u) => u.username === username)!.id) !== undefined);
    }
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await s.cleanup();
  });

  const post = async (url: string, payload: object) => {
    const res = await s.app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': token } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<VoiceRouteResponse & { status: string }>();
  };
  const call = () => ({
    event: 'invite',
    callId: `expire-${++n}-${Date.now()}@trunk.example`,
    from: `"Caller" <sip:+86139002${String(n).padStart(4, '0')}@trunk.example>;tag=abc`,
    to: 'sip:support@127.0.0.1',
  });
  /** A call `agent` answers, then REFERs to agent2. */
  const answered = async (agent: string) => {
    const invite = call();
    const first = await post('/api/v1/voice/route', invite);
    expect(first).toMatchObject({ action: 'agent', user: agent });
    const sessionId = first.sessionId!;
    await post('/api/v1/voice/events', { callId: invite.callId, sessionId, event: 'answered', agent, status: 200 });
    await post('/api/v1/voice/events', { event: 'refer', callId: invite.callId, sessionId: '', referTo: '<sip:agent2@127.0.0.1>' });
    return { invite, sessionId };
  };
  const follow = (invite: { from: string }) => ({
    event: 'invite',
    callId: `late-${Date.now()}@trunk.example`,
    from: invite.from,
    to: 'sip:agent2@127.0.0.1',
    referredBy: '<sip:agent1@127.0.0.1>',
  });
  const history = async (sessionId: string) => {
    const session = await s.services.store.getSession(sessionId);
    const messages = await s.services.store.listMessages(session!.conversationId);
    return messages.flatMap((m) => (m.kind === 'event' ? [m.body] : []));
  };

  it('the old leg hung up first: past the timer the REFER is forgotten and the call ends, closed resolved by the first agent', async () => {
    const { invite, sessionId } = await answered('agent1');
    expect((await post('/api/v1/voice/events', { event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('active');
    const closed = await eventually(async () => {
      const found = await s.services.store.getSession(sessionId);
      return found?.status === 'closed' ? found : null;
    }, 10_000);
    expect(closed.assignedAgentId).toBe(s.services.auth.listStaff().find((u) => u.username === 'agent1')!.id);
    expect(closed.wrapUpCode).toBe('resolved');
    const events = await history(sessionId);
    expect(events.find((e) => e.name === 'call.transfer_expired')?.data).toEqual({ to: 'agent2', afterMs: 1000 });
    const names = events.map((e) => e.name);
    expect(names.indexOf('call.transfer_expired')).toBeLessThan(names.indexOf('call.ended'));
    expect(names.filter((x) => x === 'call.ended')).toHaveLength(1);
    // The customer's INVITE after the time: a new call, not this session.
    const late = await post('/api/v1/voice/route', follow(invite));
    expect(late.sessionId).not.toBe(sessionId);
    await post('/api/v1/voice/events', { callId: 'late', sessionId: late.sessionId!, event: 'ended', status: 487 });
  });

  it('the old leg still up: past the timer the REFER is forgotten and the call stays with its agent', async () => {
    // agent1 is in after-call work now (the first case closed their call): another agent of the group takes this one.
    await s.services.auth.createUser({
      username: 'agent7',
      displayName: 'Agent 7',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    sockets.push(await openAgentSocket(s, await s.login('agent7')));
    const agent7 = s.services.auth.listStaff().find((u) => u.username === 'agent7')!.id;
    await until(() => s.services.pool.get(agent7) !== undefined);
    const { invite, sessionId } = await answered('agent7');
    await eventually(async () => ((await history(sessionId)).some((e) => e.name === 'call.transfer_expired') ? true : null), 10_000);
    const kept = await s.services.store.getSession(sessionId);
    expect(kept).toMatchObject({ status: 'active', assignedAgentId: agent7 });
    // The customer's INVITE after the time is not the transfer: nothing moves to agent2. (The customer's
    // session is still active, so ingest adds the new call to it, as for any second call of theirs.)
    const late = await post('/api/v1/voice/route', follow(invite));
    expect(late).not.toMatchObject({ user: 'agent2' });
    expect((await history(sessionId)).some((e) => e.name === 'call.transferred')).toBe(false);
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: agent7 });
    // The agent's leg is the call: its BYE ends it as usual.
    expect((await post('/api/v1/voice/events', { event: 'ended', callId: invite.callId, sessionId: '', status: 0 })).status).toBe('closed');
  });
});

/**
 * An attended transfer across a server restart: the pending transfer (the customer's INVITE with Replaces
 * rings the colleague; the session moves on their answer) is in memory, and written down as the
 * `call.transferring` history line, so a server restarted while the colleague's phone rang still makes
 * the transfer on the answer (before, the answer found the session with the first agent and failed).
 */
describe('voice API across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-voice-attended-restart-'));
  const sockets: Socket[] = [];
  let s: TestServer | null = null;

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await s?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** POSTs a voice event as Kamailio does; the answer's body (status 200 expected). */
  async function event(server: TestServer, payload: object): Promise<{ sessionId: string; status: string }> {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/voice/events',
      payload,
      headers: { 'x-huiliu-voice-token': loadVoiceSecrets(dataDir).routeToken },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }
  async function online(server: TestServer, username: string): Promise<void> {
    sockets.push(await openAgentSocket(server, await server.login(username)));
    const id = server.services.auth.listStaff().find((u) => u.username === username)!.id;
    await until(() => server.services.pool.get(id) !== undefined);
  }

  /**
   * agent1 answers a call, consults agent2 and asks the attended transfer (agent2's phone rings the
   * customer's Replaces INVITE `newLeg`, answered `active` with agent1 still); the server then goes away
   * and comes back on the same data dir. Answers the server after the restart (agent1 and agent2
   * online) and the call.
   */
  async function transferRingingAcrossRestart(
    tag: string,
    newLeg: string,
  ): Promise<{ server: TestServer; sessionId: string; callId: string }> {
    while (sockets.length > 0) sockets.pop()!.close();
    await s?.close();
    const first = await startTestServer({}, { dataDir });
    s = first;
    await online(first, 'agent1');
    const callId = `restart-${tag}-${Date.now()}@trunk.example`;
    const routed = await first.app.inject({
      method: 'POST',
      url: '/api/v1/voice/route',
      payload: {
        event: 'invite',
        callId,
        from: `"Caller" <sip:+86138001${String(Date.now()).slice(-5)}@trunk.example>;tag=abc`,
        to: 'sip:support@127.0.0.1',
      },
      headers: { 'x-huiliu-voice-token': loadVoiceSecrets(dataDir).routeToken },
    });
    const answer = routed.json<VoiceRouteResponse>();
    if (answer.action !== 'agent') throw new Error(routed.body);
    await event(first, { callId, sessionId: answer.sessionId, event: 'answered', agent: 'agent1', status: 200 });
    await online(first, 'agent2');
    await event(first, { event: 'consult', callId: `consult-${newLeg}`, sessionId: '', agent: 'agent1' });
    expect(
      await event(first, { event: 'transferred', callId: newLeg, sessionId: '', agent: 'agent2', replaces: `consult-${newLeg}` }),
    ).toEqual({
      sessionId: answer.sessionId,
      status: 'active',
    });
    while (sockets.length > 0) sockets.pop()!.close();
    await first.close();
    s = null;
    const server = await startTestServer({}, { dataDir });
    s = server;
    await online(server, 'agent1');
    await online(server, 'agent2');
    return { server, sessionId: answer.sessionId, callId };
  }
  const callNames = async (server: TestServer, sessionId: string) =>
    (await server.services.store.listMessages((await server.services.store.getSession(sessionId))!.conversationId)).flatMap((m) =>
      m.kind === 'event' && m.sessionId === sessionId && m.body.name.startsWith('call.') && m.body.name !== 'call.ringing'
        ? [m.body.name]
        : [],
    );

  it('a colleague who answers the Replaces INVITE after a restart takes the session; the old leg’s BYE then leaves it with them', async () => {
    const { server, sessionId, callId } = await transferRingingAcrossRestart('answer', 'new-r@ws');
    const agent2 = server.services.auth.listStaff().find((u) => u.username === 'agent2')!;
    expect((await event(server, { event: 'answered', callId: 'new-r@ws', sessionId, agent: 'agent2', status: 200 })).status).toBe('active');
    expect(await server.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: agent2.id });
    // The first agent's BYE of the old leg (Kamailio's `calls` table names the session): the leg ends, not the call.
    expect((await event(server, { event: 'ended', callId, sessionId, status: 0 })).status).toBe('active');
    expect((await event(server, { event: 'ended', callId: 'new-r@ws', sessionId, status: 0 })).status).toBe('closed');
    expect(await callNames(server, sessionId)).toEqual([
      'call.incoming',
      'call.answered',
      'call.transferring',
      'call.transferred',
      'call.answered',
      'call.ended',
    ]);
  });

  it('an attended transfer that fails after a restart: the failure is written and the call stays with the first agent', async () => {
    // agent2 declines (486) after the restart: route[TRANSFER_FAILED].
    const { server, sessionId, callId } = await transferRingingAcrossRestart('failed', 'new-f@ws');
    const agent1 = server.services.auth.listStaff().find((u) => u.username === 'agent1')!;
    const failed = { event: 'transfer_failed', callId: 'new-f@ws', sessionId, agent: 'agent2', status: 486 };
    expect(await event(server, failed)).toEqual({ sessionId, status: 'active' });
    // Posted again (Kamailio's retry): nothing more.
    expect(await event(server, failed)).toEqual({ sessionId, status: 'active' });
    expect(await server.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: agent1.id });
    // The first agent's hang-up of the customer's call ends it, closed resolved by them.
    expect((await event(server, { event: 'ended', callId, sessionId, status: 0 })).status).toBe('closed');
    expect(await server.services.store.getSession(sessionId)).toMatchObject({ assignedAgentId: agent1.id, wrapUpCode: 'resolved' });
    expect(await callNames(server, sessionId)).toEqual([
      'call.incoming',
      'call.answered',
      'call.transferring',
      'call.transfer_failed',
      'call.ended',
    ]);
    const lines = (await server.services.store.listMessages((await server.services.store.getSession(sessionId))!.conversationId)).flatMap(
      (m) => (m.kind === 'event' && m.body.name === 'call.transfer_failed' ? [m.body.data] : []),
    );
    expect(lines).toEqual([expect.objectContaining({ from: 'agent1', to: 'agent2', sipStatus: 486 })]);
  });

  it('the old leg hung up after a restart while the colleague rings: that leg ends, the colleague’s answer takes the call', async () => {
    const { server, sessionId, callId } = await transferRingingAcrossRestart('bye-answer', 'new-ba@ws');
    const agent2 = server.services.auth.listStaff().find((u) => u.username === 'agent2')!;
    // The first agent hangs up the customer's old leg (Kamailio's `calls` table names the session): the call goes on.
    expect(await event(server, { event: 'ended', callId, sessionId, status: 0 })).toEqual({ sessionId, status: 'active' });
    expect((await event(server, { event: 'answered', callId: 'new-ba@ws', sessionId, agent: 'agent2', status: 200 })).status).toBe(
      'active',
    );
    expect(await server.services.store.getSession(sessionId)).toMatchObject({ status: 'active', assignedAgentId: agent2.id });
    expect((await event(server, { event: 'ended', callId: 'new-ba@ws', sessionId, status: 0 })).status).toBe('closed');
    expect(await callNames(server, sessionId)).toEqual([
      'call.incoming',
      'call.answered',
      'call.transferring',
      'call.transferred',
      'call.answered',
      'call.ended',
    ]);
  });

  it('the old leg hung up after a restart, then the colleague declines: both legs are gone, the call ends', async () => {
    const { server, sessionId, callId } = await transferRingingAcrossRestart('bye-fail', 'new-bf@ws');
    const agent1 = server.services.auth.listStaff().find((u) => u.username === 'agent1')!;
    expect(await event(server, { event: 'ended', callId, sessionId, status: 0 })).toEqual({ sessionId, status: 'active' });
    expect((await event(server, { event: 'transfer_failed', callId: 'new-bf@ws', sessionId, agent: 'agent2', status: 603 })).status).toBe(
      'closed',
    );
    expect(await server.services.store.getSession(sessionId)).toMatchObject({ assignedAgentId: agent1.id, wrapUpCode: 'resolved' });
    expect(await callNames(server, sessionId)).toEqual([
      'call.incoming',
      'call.answered',
      'call.transferring',
      'call.transfer_failed',
      'call.ended',
    ]);
  });
});

/**
 * The liveness check (docs/voice.md "Liveness") asks rtpengine about every answered call an agent is on,
 * not only their latest: agent1 blind-transfers call A to agent2, takes call B while A's new leg rings, and
 * A's new leg fails — A is back with agent1 (the undo), who now holds two calls. Before review5's fix the
 * server kept one call per agent, the undo's A replaced B, and B's media could vanish with nobody noticing:
 * the session stayed open and agent1 busy. rtpengine is a stand-in on loopback (the edge file names it).
 */
describe('voice API: liveness of every call an agent holds', () => {
  let s: TestServer;
  let token: string;
  const sockets: Socket[] = [];
  const known = new Set<string>();
  let rtp: Awaited<ReturnType<typeof fakeRtpengine>>;

  beforeAll(async () => {
    // No timer: each check is run by the test (sweepLiveness).
    s = await startTestServer({ HUILIU_CONFIG: writeConfigFile({ voice: { livenessSeconds: 0 } }) });
    token = loadVoiceSecrets(s.dataDir).routeToken;
    rtp = await fakeRtpengine(known);
    mkdirSync(dirname(voiceEdgePath(s.dataDir)), { recursive: true });
    writeFileSync(voiceEdgePath(s.dataDir), JSON.stringify({ domain: '127.0.0.1', uris: [], rtpengine: rtp.address }));
    for (const username of ['agent1', 'agent2']) {
      sockets.push(await openAgentSocket(s, await s.login(username)));
      await until(() => s.services.pool.get(s.services.auth.listStaff().find((u) => u.username === username)!.id) !== undefined);
    }
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    rtp?.socket.close();
    await s.cleanup();
  });

  const post = async (url: string, payload: object) => {
    const res = await s.app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': token } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<VoiceRouteResponse & { status: string }>();
  };
  const agentId = (username: string) => s.services.auth.listStaff().find((u) => u.username === username)!.id;

  it('checks a call the agent took while a blind transfer rang, after the failed transfer gave the first call back', async () => {
    const a = {
      event: 'invite',
      callId: `live-a-${Date.now()}@trunk.example`,
      from: '"A" <sip:+8613900070001@trunk.example>;tag=a',
      to: 'sip:support@127.0.0.1',
    };
    const first = await post('/api/v1/voice/route', a);
    expect(first).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionA = first.sessionId!;
    await post('/api/v1/voice/events', { callId: a.callId, sessionId: sessionA, event: 'answered', agent: 'agent1', status: 200 });
    known.add(a.callId);
    // agent1 sends A to agent2 (REFER); the customer's new INVITE rings agent2.
    await post('/api/v1/voice/events', { event: 'refer', callId: a.callId, sessionId: '', referTo: '<sip:agent2@127.0.0.1>' });
    const follow = {
      event: 'invite',
      callId: `live-a2-${Date.now()}@trunk.example`,
      from: a.from,
      to: 'sip:agent2@127.0.0.1',
      referredBy: '<sip:agent1@127.0.0.1>',
    };
    expect(await post('/api/v1/voice/route', follow)).toMatchObject({ action: 'agent', user: 'agent2', sessionId: sessionA });
    // Meanwhile agent1, free again, answers call B.
    const b = {
      event: 'invite',
      callId: `live-b-${Date.now()}@trunk.example`,
      from: '"B" <sip:+8613900070002@trunk.example>;tag=b',
      to: 'sip:support@127.0.0.1',
    };
    const second = await post('/api/v1/voice/route', b);
    expect(second).toMatchObject({ action: 'agent', user: 'agent1' });
    const sessionB = second.sessionId!;
    await post('/api/v1/voice/events', { callId: b.callId, sessionId: sessionB, event: 'answered', agent: 'agent1', status: 200 });
    known.add(b.callId);
    // A's new leg fails (the customer's phone cancels it): A is back with agent1, on its old leg.
    expect(
      await post('/api/v1/voice/events', { event: 'ended', callId: follow.callId, sessionId: sessionA, agent: 'agent2', status: 487 }),
    ).toMatchObject({
      sessionId: sessionA,
      status: 'active',
    });
    for (const id of [sessionA, sessionB])
      expect(await s.services.store.getSession(id)).toMatchObject({ status: 'active', assignedAgentId: agentId('agent1') });

    // Both calls are up in rtpengine: nothing ends.
    expect(await s.services.voice.sweepLiveness!()).toBe(0);
    // B's media vanishes (rtpengine forgot it) and its hang-up never comes: B is ended, A goes on.
    known.delete(b.callId);
    expect(await s.services.voice.sweepLiveness!()).toBe(1);
    const closedB = await s.services.store.getSession(sessionB);
    expect(closedB).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' });
    const ended = (await s.services.store.listMessages(closedB!.conversationId)).flatMap((m) =>
      m.kind === 'event' && m.sessionId === sessionB && m.body.name === 'call.ended' ? [m.body.data] : [],
    );
    expect(ended).toEqual([expect.objectContaining({ lost: 'no-media' })]);
    expect(await s.services.store.getSession(sessionA)).toMatchObject({ status: 'active', assignedAgentId: agentId('agent1') });
    // A too, once its media goes.
    known.delete(a.callId);
    expect(await s.services.voice.sweepLiveness!()).toBe(1);
    expect(await s.services.store.getSession(sessionA)).toMatchObject({ status: 'closed' });
  });
});
