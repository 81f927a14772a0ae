import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLoad, HeldContact, HeldContactChange, SessionViewers, TakeoverView } from '../../common/api/collision';
import type { MessageView, SessionDetail } from '../../common/api/sessions';
import type { AuditPage } from '../src/audit/audit';
import type { OfferView } from '../../common/socket/agent-events';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { openWidget } from './support/widget-client';

/** What one agent socket was pushed, by event. */
function recorder(socket: Socket) {
  const got = {
    offers: [] as OfferView[],
    viewers: [] as SessionViewers[],
    requested: [] as TakeoverView[],
    updated: [] as TakeoverView[],
    loads: [] as AgentLoad[],
    messages: [] as MessageView[],
    held: [] as HeldContactChange[],
  };
  socket.on('takeover:held', (h: HeldContactChange) => void got.held.push(h));
  socket.on('message:new', (m: MessageView) => void got.messages.push(m));
  socket.on('offer:new', (o: OfferView) => void got.offers.push(o));
  socket.on('session:viewers', (v: SessionViewers) => void got.viewers.push(v));
  socket.on('takeover:requested', (t: TakeoverView) => void got.requested.push(t));
  socket.on('takeover:updated', (t: TakeoverView) => void got.updated.push(t));
  socket.on('agent:load', (l: AgentLoad) => void got.loads.push(l));
  return got;
}

const names = (v: SessionViewers | undefined) => v?.viewers.map((x) => `${x.name}${x.assigned ? '*' : ''}:${x.via}`) ?? [];

/**
 * Issue 15, collision control on the real server (demo users; agent1 and the extra agent3 in
 * `general`, agent2 in `vip`, the lead in both): live viewers, take-over requests answered, refused
 * or left to expire, and the rule that only the assigned agent replies.
 */
describe('collision control over the agent socket', () => {
  let s: TestServer;
  let agent1: Socket;
  let agent2: Socket;
  let agent3: Socket;
  let lead: Socket;
  let one: ReturnType<typeof recorder>;
  let two: ReturnType<typeof recorder>;
  let three: ReturnType<typeof recorder>;
  let leadGot: ReturnType<typeof recorder>;

  beforeAll(async () => {
    s = await startTestServer();
    await s.services.auth.createUser({
      username: 'agent3',
      displayName: 'Agent Three',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    agent1 = await openAgentSocket(s, await s.login('agent1'));
    agent2 = await openAgentSocket(s, await s.login('agent2'));
    agent3 = await openAgentSocket(s, await s.login('agent3'));
    lead = await openAgentSocket(s, await s.login('lead'));
    one = recorder(agent1);
    two = recorder(agent2);
    three = recorder(agent3);
    leadGot = recorder(lead);
  });
  afterAll(async () => {
    for (const socket of [agent1, agent2, agent3, lead]) socket?.disconnect();
    await s.cleanup();
  });

  /** A web visitor's first message, accepted by agent1 (agent3 and the lead are busy meanwhile so the offer goes to agent1). */
  async function contactHeldByAgent1(text: string) {
    expect(await ack(agent3, 'presence:set', { presence: 'busy' })).toMatchObject({ ok: true });
    expect(await ack(lead, 'presence:set', { presence: 'busy' })).toMatchObject({ ok: true });
    const widget = await openWidget(s);
    widget.send({ type: 'hello' });
    await widget.next('welcome');
    widget.send({ type: 'message', clientMessageId: `collision-${Date.now()}`, text });
    await until(() => one.offers.some((o) => o.summary.lastMessagePreview === text), 5000);
    const sessionId = one.offers.find((o) => o.summary.lastMessagePreview === text)!.sessionId;
    expect(await ack<SessionDetail>(agent1, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(agent3, 'presence:set', { presence: 'available' })).toMatchObject({ ok: true });
    return { sessionId, widget };
  }

  /** Closes the contact (its holder wraps it up) and the visitor's widget: agent1's capacity is free again. */
  async function done(sessionId: string, widget: { ws: { close(): void } }, holder: Socket = agent1) {
    expect(await ack(holder, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
    widget.ws.close();
  }

  it('lists who views a conversation live, to each viewer, and drops a viewer who leaves or disconnects', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Where is my parcel 7781?');
    const first = await ack<SessionViewers>(agent1, 'session:view', { sessionId });
    expect(names(first.ok ? first.data : undefined)).toEqual(['Agent One*:workstation']);

    const second = await ack<SessionViewers>(agent3, 'session:view', { sessionId });
    expect(names(second.ok ? second.data : undefined)).toEqual(['Agent One*:workstation', 'Agent Three:workstation']);
    await until(() => names(one.viewers.filter((v) => v.sessionId === sessionId).at(-1)).length === 2);

    // A lead's supervision view counts as viewing.
    expect(await ack(lead, 'supervise:open', { sessionId })).toMatchObject({ ok: true });
    await until(() => names(three.viewers.at(-1)).includes('Team Lead:supervising'));
    expect(names(leadGot.viewers.at(-1))).toEqual(['Agent One*:workstation', 'Agent Three:workstation', 'Team Lead:supervising']);
    expect(await ack(lead, 'supervise:leave', { sessionId })).toMatchObject({ ok: true });
    await until(() => names(one.viewers.at(-1)).length === 2);

    // Leaving, then a disconnect, each tell the others.
    expect(await ack(agent3, 'session:unview', { sessionId })).toMatchObject({ ok: true, data: { left: true } });
    await until(() => names(one.viewers.at(-1)).length === 1);
    const again = await openAgentSocket(s, await s.login('agent3'));
    expect(await ack(again, 'session:view', { sessionId })).toMatchObject({ ok: true });
    await until(() => names(one.viewers.at(-1)).includes('Agent Three:workstation'));
    again.disconnect();
    await until(() => names(one.viewers.at(-1)).join() === 'Agent One*:workstation');
    await done(sessionId, widget);
  });

  it('keeps viewing inside the skill groups: another group is SESSION_NOT_FOUND, and a take-over there FORBIDDEN or not found', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Viewing scope check');
    expect(await ack(agent2, 'session:view', { sessionId })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    expect(await ack(agent2, 'takeover:request', { sessionId })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    // A lead may view (supervise) but only asks to take over in a group they handle: general is theirs.
    expect(await ack(agent3, 'takeover:request', { sessionId })).toMatchObject({ ok: false, error: { code: 'NOT_VIEWING' } });
    expect(await ack(agent1, 'session:view', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(agent1, 'takeover:request', { sessionId })).toMatchObject({ ok: false, error: { code: 'TAKEOVER_OWN' } });
    expect(await ack(agent3, 'takeover:request', { sessionId: 'not a session id' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    await done(sessionId, widget);
  });

  it('lists a held contact to a colleague of its group, who opens it read-only, reads it live and asks to take it over; another group is refused', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Held contact, find me in the team list');
    const listed = async (socket: Socket, payload: Record<string, unknown> = {}) => {
      const res = await ack<HeldContact[]>(socket, 'takeover:list', payload);
      expect(res.ok, JSON.stringify(res)).toBe(true);
      return res.ok ? res.data : [];
    };
    // agent3 (general) sees it with its holder's name; agent1 does not list their own; the lead (general) does.
    const row = (await listed(agent3)).find((h) => h.summary.id === sessionId);
    expect(row).toMatchObject({
      holder: { id: expect.any(String), name: 'Agent One' },
      summary: { status: 'active', skillGroup: 'general' },
    });
    expect(row!.summary.lastMessagePreview).toBe('Held contact, find me in the team list');
    expect((await listed(agent3, { skillGroup: 'general' })).some((h) => h.summary.id === sessionId)).toBe(true);
    expect((await listed(agent1)).some((h) => h.summary.id === sessionId)).toBe(false);
    expect((await listed(lead)).some((h) => h.summary.id === sessionId)).toBe(true);
    // agent2 (vip): not listed, a group they do not handle is FORBIDDEN (known or not), and the contact is not found.
    expect((await listed(agent2)).some((h) => h.summary.id === sessionId)).toBe(false);
    expect(await ack(agent2, 'takeover:list', { skillGroup: 'general' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await ack(agent2, 'takeover:list', { skillGroup: 'no-such-group' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await ack(agent2, 'takeover:list', { skillGroup: 42 })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await ack(agent2, 'session:open', { sessionId })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    expect(await ack(agent2, 'session:history', { sessionId, beforeSeq: 100 })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND' },
    });
    // An admin (supervises, handles nothing: no session.takeover) may not list at all.
    const admin = await openAgentSocket(s, await s.login('admin'));
    expect(await ack(admin, 'takeover:list', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    admin.disconnect();

    // agent3 opens it: the messages are readable, the read mark and replies stay the holder's.
    const opened = await ack<SessionDetail>(agent3, 'session:open', { sessionId });
    expect(opened.ok && opened.data.messages.map((m) => m.body)).toEqual(
      expect.arrayContaining([expect.objectContaining({ text: 'Held contact, find me in the team list' })]),
    );
    expect(await ack(agent3, 'session:view', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(agent3, 'session:read', { sessionId, upToSeq: 1 })).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNED' } });
    // Live: the customer's next message and the holder's reply reach the read-only viewer.
    widget.send({ type: 'message', clientMessageId: `collision-live-${Date.now()}`, text: 'Are you still there?' });
    await until(() => three.messages.some((m) => m.sessionId === sessionId && m.direction === 'in'), 5000);
    expect(await ack(agent1, 'message:send', { sessionId, clientMessageId: 'agent1-live-00001', text: 'Yes, checking.' })).toMatchObject({
      ok: true,
    });
    await until(() => three.messages.some((m) => m.sessionId === sessionId && m.direction === 'out'), 5000);
    // The holder is not sent their own conversation twice.
    const twice = one.messages.filter((m) => m.sessionId === sessionId && m.direction === 'in');
    expect(new Set(twice.map((m) => m.id)).size).toBe(twice.length);
    // agent2 got none of it.
    expect(two.messages.some((m) => m.sessionId === sessionId)).toBe(false);

    // And asks: the holder is prompted.
    const asked = await ack<TakeoverView>(agent3, 'takeover:request', { sessionId });
    expect(asked).toMatchObject({ ok: true, data: { status: 'pending', holder: { name: 'Agent One' } } });
    const id = asked.ok ? asked.data.id : '';
    await until(() => one.requested.some((t) => t.id === id));
    expect(await ack(agent1, 'takeover:answer', { takeoverId: id, accept: false })).toMatchObject({
      ok: true,
      data: { status: 'declined' },
    });
    await ack(agent3, 'session:unview', { sessionId });
    await done(sessionId, widget);
  });

  it('pushes the Team tab live: a held contact, its new messages, its move to another group and its close reach the colleagues of its group only', async () => {
    const heldOf = (got: ReturnType<typeof recorder>, sessionId: string) => got.held.filter((h) => h.sessionId === sessionId);
    const last = (got: ReturnType<typeof recorder>, sessionId: string) => heldOf(got, sessionId).at(-1);
    const { sessionId, widget } = await contactHeldByAgent1('Team tab, follow me live');
    // Held by agent1: agent3 and the lead (general) get the row with its holder; agent1 (holder) and agent2 (vip) do not.
    await until(() => last(three, sessionId)?.held !== undefined && last(three, sessionId)?.held !== null, 5000);
    expect(last(three, sessionId)!.held).toMatchObject({
      holder: { name: 'Agent One' },
      summary: { id: sessionId, status: 'active', skillGroup: 'general', lastMessagePreview: 'Team tab, follow me live' },
    });
    await until(() => last(leadGot, sessionId)?.held?.holder.name === 'Agent One');
    expect(heldOf(one, sessionId).every((h) => h.held === null)).toBe(true);
    expect(heldOf(two, sessionId)).toEqual([]);

    // The customer writes again: the row's preview follows.
    widget.send({ type: 'message', clientMessageId: `team-live-${Date.now()}`, text: 'Any news on it?' });
    await until(() => last(three, sessionId)?.held?.summary.lastMessagePreview === 'Any news on it?', 5000);
    // The holder replies: so does the row.
    expect(await ack(agent1, 'message:send', { sessionId, clientMessageId: 'agent1-team-00001', text: 'Looking now.' })).toMatchObject({
      ok: true,
    });
    await until(() => last(three, sessionId)?.held?.summary.lastMessagePreview === 'Looking now.', 5000);

    // Moved to vip: general's agent3 drops it at once and never sees it held there; agent2 (now its holder) gets no row.
    expect(
      await ack(agent1, 'session:transfer', { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' }),
    ).toMatchObject({
      ok: true,
    });
    await until(() => last(three, sessionId)?.held === null, 5000);
    await until(() => two.offers.some((o) => o.sessionId === sessionId), 5000);
    expect(await ack(agent2, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
    // The lead handles vip too: the row comes back for them, held by Agent Two.
    await until(() => last(leadGot, sessionId)?.held?.holder.name === 'Agent Two', 5000);
    expect(heldOf(two, sessionId).every((h) => h.held === null)).toBe(true);
    expect(heldOf(three, sessionId).filter((h) => h.held?.holder.name === 'Agent Two')).toEqual([]);

    // Closed: the lead drops it.
    await done(sessionId, widget, agent2);
    await until(() => last(leadGot, sessionId)?.held === null, 5000);
    // What the list answers agrees with the pushes.
    const listed = await ack<HeldContact[]>(lead, 'takeover:list', {});
    expect(listed.ok && listed.data.some((h) => h.summary.id === sessionId)).toBe(false);
  });

  it('refuses a reply from anyone but the assigned agent with NOT_ASSIGNED', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Only my agent answers me');
    expect(await ack(agent3, 'message:send', { sessionId, clientMessageId: 'agent3-reply-0001', text: 'I can help!' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNED' },
    });
    expect(await ack(lead, 'message:send', { sessionId, clientMessageId: 'lead-reply-00001', text: 'Lead here' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNED' },
    });
    await done(sessionId, widget);
  });

  it('moves the customer’s "Read" mark only for the assigned agent: a colleague or a lead viewing it gets NOT_ASSIGNED', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Who read my message?');
    await ack(agent3, 'session:view', { sessionId });
    expect(await ack(agent3, 'session:read', { sessionId, upToSeq: 1 })).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNED' } });
    expect(await ack(lead, 'supervise:open', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(lead, 'session:read', { sessionId, upToSeq: 1 })).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNED' } });
    expect(await ack(lead, 'supervise:leave', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(agent1, 'session:read', { sessionId, upToSeq: 1 })).toMatchObject({ ok: true, data: { upToSeq: 1 } });
    await ack(agent3, 'session:unview', { sessionId });
    await done(sessionId, widget);
  });

  it('drops a viewer whose groups no longer cover the contact after a cold transfer: they get an empty list, the new group never sees them', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Send me to VIP please');
    expect(await ack(agent1, 'session:view', { sessionId })).toMatchObject({ ok: true });
    expect(
      await ack(agent1, 'session:transfer', { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' }),
    ).toMatchObject({
      ok: true,
    });
    await until(() => two.offers.some((o) => o.sessionId === sessionId), 5000);
    expect(await ack(agent2, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
    // agent1 can no longer open it, and is told it has no viewers for them any more.
    expect(await ack(agent1, 'session:open', { sessionId })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    await until(() => one.viewers.filter((v) => v.sessionId === sessionId).at(-1)?.viewers.length === 0);
    expect(one.viewers.filter((v) => v.sessionId === sessionId).at(-1)).toEqual({ sessionId, assignedAgentId: null, viewers: [] });
    const seen = await ack<SessionViewers>(agent2, 'session:view', { sessionId });
    expect(names(seen.ok ? seen.data : undefined)).toEqual(['Agent Two*:workstation']);
    await until(() => two.viewers.some((v) => v.sessionId === sessionId));
    expect(two.viewers.filter((v) => v.sessionId === sessionId).flatMap((v) => names(v))).not.toContain('Agent One:workstation');
    expect(one.viewers.filter((v) => v.sessionId === sessionId).flatMap((v) => names(v))).not.toContain('Agent Two*:workstation');
    await done(sessionId, widget, agent2);
  });

  it('cancels a take-over request when the requester stops viewing or disconnects: the prompt is withdrawn and a late accept is TAKEOVER_NOT_PENDING', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Requester walks away');
    await ack(agent1, 'session:view', { sessionId });
    await ack(agent3, 'session:view', { sessionId });
    const asked = await ack<TakeoverView>(agent3, 'takeover:request', { sessionId });
    const id = asked.ok ? asked.data.id : '';
    await until(() => one.requested.some((t) => t.id === id));
    expect(await ack(agent3, 'session:unview', { sessionId })).toMatchObject({ ok: true });
    await until(() => one.updated.some((t) => t.id === id && t.status === 'cancelled'));
    await until(() => three.updated.some((t) => t.id === id && t.status === 'cancelled'));
    expect(await ack(agent1, 'takeover:answer', { takeoverId: id, accept: true })).toMatchObject({
      ok: false,
      error: { code: 'TAKEOVER_NOT_PENDING' },
    });

    // The requester's socket ends (sign-out, a closed window).
    const leaving = await openAgentSocket(s, await s.login('agent3'));
    await ack(leaving, 'session:view', { sessionId });
    const again = await ack<TakeoverView>(leaving, 'takeover:request', { sessionId });
    const againId = again.ok ? again.data.id : '';
    await until(() => one.requested.some((t) => t.id === againId));
    leaving.disconnect();
    await until(() => one.updated.some((t) => t.id === againId && t.status === 'cancelled'));
    expect(await ack(agent1, 'takeover:answer', { takeoverId: againId, accept: true })).toMatchObject({
      ok: false,
      error: { code: 'TAKEOVER_NOT_PENDING' },
    });
    // Still agent1's: only they reply.
    expect(await ack(agent3, 'message:send', { sessionId, clientMessageId: 'agent3-gone-00001', text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNED' },
    });
    await done(sessionId, widget);
  });

  it('moves the contact to the requester when the holder accepts: transfer made, audited, and the requester can reply', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Please take over, the first agent is slow');
    await ack(agent1, 'session:view', { sessionId });
    await ack(agent3, 'session:view', { sessionId });
    const asked = await ack<TakeoverView>(agent3, 'takeover:request', { sessionId });
    expect(asked).toMatchObject({
      ok: true,
      data: { status: 'pending', requester: { name: 'Agent Three' }, holder: { name: 'Agent One' } },
    });
    const id = asked.ok ? asked.data.id : '';
    expect(await ack(agent3, 'takeover:request', { sessionId })).toMatchObject({ ok: false, error: { code: 'TAKEOVER_PENDING' } });
    await until(() => one.requested.some((t) => t.id === id));
    // Only the holder answers.
    expect(await ack(agent3, 'takeover:answer', { takeoverId: id, accept: true })).toMatchObject({
      ok: false,
      error: { code: 'TAKEOVER_NOT_FOUND' },
    });
    const answered = await ack<TakeoverView>(agent1, 'takeover:answer', { takeoverId: id, accept: true });
    expect(answered).toMatchObject({ ok: true, data: { status: 'accepted', transferId: expect.any(String) } });
    await until(() => three.updated.some((t) => t.id === id && t.status === 'accepted'));
    await until(
      () =>
        three.viewers
          .filter((v) => v.sessionId === sessionId)
          .at(-1)
          ?.viewers.find((v) => v.name === 'Agent Three')?.assigned === true,
    );

    expect(await ack(agent1, 'message:send', { sessionId, clientMessageId: 'agent1-after-0001', text: 'still me?' })).toMatchObject({
      ok: false,
    });
    expect(
      await ack(agent3, 'message:send', { sessionId, clientMessageId: 'agent3-after-0001', text: 'Agent Three here, I will help.' }),
    ).toMatchObject({
      ok: true,
    });
    const got = await widget.next('message', (f) => f.message.text === 'Agent Three here, I will help.');
    expect(got.message.author).toBe('agent');
    expect(await ack(agent1, 'takeover:answer', { takeoverId: id, accept: true })).toMatchObject({
      ok: false,
      error: { code: 'TAKEOVER_NOT_PENDING' },
    });

    // Audited: the request (socket event) and the holder's decision.
    const auditor = await s.login('auditor');
    const entries = async () => {
      await s.services.audit.flush();
      const res = await s.app.inject({
        url: `/api/v1/audit?${new URLSearchParams({ from: '2000-01-01T00:00:00.000Z', limit: '500' })}`,
        headers: { authorization: `Bearer ${auditor}` },
      });
      return (res.json() as AuditPage).entries.filter((e) => e.target?.id === sessionId);
    };
    await until(async () => (await entries()).some((e) => e.action === 'session.takeover' && e.outcome === 'ok'));
    expect((await entries()).some((e) => e.action === 'session.takeover.request' && e.outcome === 'ok')).toBe(true);
    await done(sessionId, widget, agent3);
  });

  it('tells the requester when the holder declines', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Decline the take-over');
    await ack(agent3, 'session:view', { sessionId });
    const asked = await ack<TakeoverView>(agent3, 'takeover:request', { sessionId });
    const id = asked.ok ? asked.data.id : '';
    await until(() => one.requested.some((t) => t.id === id));
    expect(await ack(agent1, 'takeover:answer', { takeoverId: id, accept: false })).toMatchObject({
      ok: true,
      data: { status: 'declined' },
    });
    await until(() => three.updated.some((t) => t.id === id && t.status === 'declined'));
    expect(await ack(agent3, 'message:send', { sessionId, clientMessageId: 'agent3-declined-01', text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNED' },
    });
    await done(sessionId, widget);
  });

  it('asks the holder again when they reconnect while a take-over is pending (a reload does not lose the prompt)', async () => {
    const { sessionId, widget } = await contactHeldByAgent1('Reload while asked');
    await ack(agent3, 'session:view', { sessionId });
    const asked = await ack<TakeoverView>(agent3, 'takeover:request', { sessionId });
    const id = asked.ok ? asked.data.id : '';
    await until(() => one.requested.some((t) => t.id === id));
    // The holder opens a second window (or reloads): the new socket is told of the pending request.
    const again = await openAgentSocket(s, await s.login('agent1'));
    const got = recorder(again);
    try {
      await until(() => got.requested.some((t) => t.id === id && t.status === 'pending'), 5000);
      expect(got.updated).toEqual([]);
      expect(await ack(again, 'takeover:answer', { takeoverId: id, accept: false })).toMatchObject({
        ok: true,
        data: { status: 'declined' },
      });
    } finally {
      again.disconnect();
    }
    await done(sessionId, widget);
  });

  it('pushes the agent their presence and load against chat capacity', async () => {
    await until(() => one.loads.length > 0);
    const before = one.loads.at(-1)!;
    expect(before.capacity).toBeGreaterThan(0);
    expect(await ack(agent1, 'presence:set', { presence: 'away' })).toMatchObject({ ok: true });
    await until(() => one.loads.at(-1)?.presence === 'away');
    expect(await ack(agent1, 'presence:set', { presence: 'available' })).toMatchObject({ ok: true });
    await until(() => one.loads.at(-1)?.presence === 'available');
    const { sessionId, widget } = await contactHeldByAgent1('Load goes up');
    await until(() => (one.loads.at(-1)?.activeChats ?? 0) > 0);
    expect(await ack(agent1, 'session:close', { sessionId, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
    const held = one.loads.at(-1)!.activeChats;
    await until(() => one.loads.at(-1)!.activeChats < held || one.loads.at(-1)!.activeChats === 0);
    widget.ws.close();
  });
});
