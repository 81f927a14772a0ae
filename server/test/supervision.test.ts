import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import type { MessageView, SessionDetail, SessionSummary } from '../../common/api/sessions';
import { NOTE_EVENT_NAME, type SupervisedAgent } from '../../common/api/supervision';
import { isStaffOnly, type Envelope } from '../../common/message/envelope';
import type { OfferView } from '../../common/socket/agent-events';
import type { AuditEntry, AuditPage } from '../src/audit/audit';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';

/** What one staff socket was pushed. */
function recorder(socket: Socket) {
  const got = {
    offers: [] as OfferView[],
    messages: [] as MessageView[],
    notes: [] as MessageView[],
    presence: [] as { presence: string; by?: { id: string; name: string } }[],
  };
  socket.on('offer:new', (o: OfferView) => void got.offers.push(o));
  socket.on('message:new', (m: MessageView) => void got.messages.push(m));
  socket.on('note:new', (m: MessageView) => void got.notes.push(m));
  socket.on('presence:changed', (p: { presence: string; by?: { id: string; name: string } }) => void got.presence.push(p));
  return got;
}

const noteText = (m: MessageView) => (m.kind === 'event' ? String((m.body.data as { text?: unknown } | undefined)?.text) : '');

/**
 * Issues 15 and 16 on the real server (demo: `lead` leads `general` and `vip`, `agent1` is in
 * `general`, `agent2` in `vip`; `leadgen` is made here, a lead of `general` only): internal notes,
 * whisper, barge, reassign and presence over the agent socket, their scope, their audit entries, and
 * that no channel adapter is ever handed a note.
 */
describe('internal notes and supervision', () => {
  let s: TestServer;
  let agent1: Socket;
  let agent2: Socket;
  let lead: Socket;
  let leadGen: Socket;
  let one: ReturnType<typeof recorder>;
  let two: ReturnType<typeof recorder>;
  let boss: ReturnType<typeof recorder>;
  /** Every envelope any channel adapter was asked to send. */
  const sent: Envelope[] = [];
  let agent1Id = '';
  let agent2Id = '';
  /** A general contact agent1 holds (agent1 is at its chat capacity after the tests before the scope one). */
  let heldGeneral = '';

  beforeAll(async () => {
    s = await startTestServer();
    for (const adapter of s.services.adapters.all()) {
      const send = adapter.send.bind(adapter);
      adapter.send = (envelope, session) => {
        sent.push(envelope);
        return send(envelope, session);
      };
    }
    await s.services.auth.createUser({
      username: 'leadgen',
      displayName: 'General Lead',
      roles: ['lead'],
      skillGroups: ['general'],
      password: 'huiliu-demo',
    });
    // Leads take contacts too; away, they are offered none here (the agents are).
    lead = await openAgentSocket(s, await s.login('lead'));
    leadGen = await openAgentSocket(s, await s.login('leadgen'));
    boss = recorder(lead);
    for (const l of [lead, leadGen]) expect(await ack(l, 'presence:set', { presence: 'away' })).toMatchObject({ ok: true });
    agent1 = await openAgentSocket(s, await s.login('agent1'));
    agent2 = await openAgentSocket(s, await s.login('agent2'));
    one = recorder(agent1);
    two = recorder(agent2);
    agent1Id = s.services.auth.listStaff().find((u) => u.username === 'agent1')!.id;
    agent2Id = s.services.auth.listStaff().find((u) => u.username === 'agent2')!.id;
  });
  afterAll(async () => {
    for (const socket of [agent1, agent2, lead, leadGen]) socket?.disconnect();
    await s.cleanup();
  });

  /** An app customer's message in `skillGroup`, accepted by `agent`. */
  async function appContact(skillGroup: 'general' | 'vip', agent: Socket, got: ReturnType<typeof recorder>) {
    const customer = { externalId: `sup-${skillGroup}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` };
    const posted = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer, text: 'Where is my parcel?', clientMessageId: `${customer.externalId}-1`, hints: { skillGroup } },
    });
    expect(posted.statusCode).toBe(202);
    const { sessionId } = posted.json() as { sessionId: string };
    await until(() => got.offers.some((o) => o.sessionId === sessionId), 5000);
    expect(await ack(agent, 'offer:accept', { sessionId })).toMatchObject({ ok: true });
    const read = async () =>
      (
        await s.app.inject({
          url: `/api/v1/channels/app/messages?externalId=${customer.externalId}`,
          headers: { 'x-huiliu-key': 'demo-app-key' },
        })
      ).json() as AppMessagesResponse;
    return { sessionId, customer, read };
  }

  async function auditEntries(action: string): Promise<AuditEntry[]> {
    await s.services.audit.flush();
    const res = await s.app.inject({
      url: `/api/v1/audit?${new URLSearchParams({ from: new Date(Date.now() - 3_600_000).toISOString(), limit: '500' })}`,
      headers: { authorization: `Bearer ${await s.login('auditor')}` },
    });
    return (res.json() as AuditPage).entries.filter((e) => e.action === action);
  }

  it("keeps an agent's internal note in the timeline for staff and away from the customer and every channel", async () => {
    const { sessionId, read } = await appContact('general', agent1, one);
    const noted = await ack<MessageView>(agent1, 'note:add', {
      sessionId,
      clientMessageId: 'note-0001',
      text: 'VIP next month, be gentle',
    });
    expect(noted).toMatchObject({ ok: true, data: { kind: 'event', body: { name: NOTE_EVENT_NAME } } });
    // The same key again: the same note, stored once.
    const again = await ack<MessageView>(agent1, 'note:add', {
      sessionId,
      clientMessageId: 'note-0001',
      text: 'VIP next month, be gentle',
    });
    expect(again.ok && noted.ok && again.data.id === noted.data.id).toBe(true);
    await until(() => one.notes.some((m) => noteText(m) === 'VIP next month, be gentle'));

    const opened = await ack<SessionDetail>(agent1, 'session:open', { sessionId });
    expect(opened.ok && opened.data.messages.filter((m) => noteText(m) === 'VIP next month, be gentle')).toHaveLength(1);
    // The customer's app reads the conversation without it; nothing was handed to a channel.
    const body = await read();
    expect(body.messages.map((m) => m.text)).not.toContain('VIP next month, be gentle');
    expect(JSON.stringify(body)).not.toContain('gentle');
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.filter((e) => isStaffOnly(e) || JSON.stringify(e.body).includes('gentle'))).toEqual([]);
    // Stored sealed like every message: the database file holds no note text in clear.
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    expect(readFileSync(join(s.dataDir, 'huiliu.db')).includes(Buffer.from('be gentle'))).toBe(false);
    expect((await auditEntries('session.note')).some((e) => e.target?.id === sessionId && e.outcome === 'ok')).toBe(true);
  });

  it('lets the lead watch read-only and live, whisper to the agent alone, and barge in to the customer', async () => {
    const { sessionId, read } = await appContact('general', agent1, one);
    const watched = await ack<SessionDetail>(lead, 'supervise:open', { sessionId });
    expect(watched).toMatchObject({ ok: true, data: { id: sessionId, assignedAgentId: agent1Id } });
    // Live: the agent's next reply reaches the watching lead.
    expect(
      await ack(agent1, 'message:send', { sessionId, clientMessageId: 'reply-sup-0001', text: 'Checking your parcel now.' }),
    ).toMatchObject({
      ok: true,
    });
    await until(() =>
      boss.messages.some((m) => m.sessionId === sessionId && m.kind === 'text' && m.body.text === 'Checking your parcel now.'),
    );

    const whispered = await ack<MessageView>(lead, 'supervise:whisper', {
      sessionId,
      clientMessageId: 'whisper-0001',
      text: 'Offer the coupon',
    });
    expect(whispered).toMatchObject({
      ok: true,
      data: { body: { name: NOTE_EVENT_NAME, data: { whisper: true, author: { name: 'Team Lead' } } } },
    });
    await until(() => one.notes.some((m) => noteText(m) === 'Offer the coupon'));
    // Not pushed to another agent, not in what the customer reads, not sent on any channel.
    expect(two.notes.some((m) => noteText(m) === 'Offer the coupon')).toBe(false);
    expect(JSON.stringify(await read())).not.toContain('coupon');

    const barged = await ack<MessageView>(lead, 'supervise:barge', {
      sessionId,
      clientMessageId: 'barge-0001',
      text: 'Hello, I am the team lead.',
    });
    expect(barged).toMatchObject({ ok: true, data: { author: 'agent', direction: 'out' } });
    // The agent sees the lead's message in their chat; the customer gets it on their channel.
    await until(() => one.messages.some((m) => m.kind === 'text' && m.body.text === 'Hello, I am the team lead.'));
    const leadId = s.services.auth.listStaff().find((u) => u.username === 'lead')!.id;
    expect(barged.ok && barged.data.authorId).toBe(leadId);
    await until(async () => (await read()).messages.some((m) => m.text === 'Hello, I am the team lead.'));
    await until(() => sent.some((e) => e.kind === 'text' && e.body.text === 'Hello, I am the team lead.'));
    expect(sent.filter((e) => isStaffOnly(e) || JSON.stringify(e.body).includes('coupon'))).toEqual([]);

    // After leaving, the lead gets no more of it live.
    expect(await ack(lead, 'supervise:leave', { sessionId })).toMatchObject({ ok: true });
    const before = boss.messages.length;
    await ack(agent1, 'message:send', { sessionId, clientMessageId: 'reply-sup-0002', text: 'Found it.' });
    await until(() => one.messages.some((m) => m.kind === 'text' && m.body.text === 'Found it.'));
    await new Promise((r) => setTimeout(r, 100));
    expect(boss.messages.slice(before).some((m) => m.sessionId === sessionId)).toBe(false);

    // Whispers are for the agent and supervisors: another agent of the group opening it does not see it
    // (agent1 holds it; a second `general` agent is simulated by the history of a non-target viewer).
    const agentView = await ack<SessionDetail>(agent1, 'session:open', { sessionId });
    expect(agentView.ok && agentView.data.messages.some((m) => noteText(m) === 'Offer the coupon')).toBe(true);

    expect((await auditEntries('session.view')).some((e) => e.target?.id === sessionId && e.detail?.['event'] === 'supervise:open')).toBe(
      true,
    );
    expect((await auditEntries('session.whisper')).some((e) => e.target?.id === sessionId && e.actor.name === 'lead')).toBe(true);
    expect((await auditEntries('session.barge')).some((e) => e.target?.id === sessionId && e.outcome === 'ok')).toBe(true);
    // The audit keeps who and what act, never the words.
    expect(JSON.stringify(await auditEntries('session.whisper'))).not.toContain('coupon');
  });

  it('hides a whisper from staff it was not meant for', async () => {
    const { sessionId } = await appContact('general', agent1, one);
    await ack(lead, 'supervise:whisper', { sessionId, clientMessageId: 'whisper-hide-01', text: 'Only for agent one' });
    // agent1 hands the contact back: another viewer (an admin's plain open) is not the whisper's agent.
    const admin = await openAgentSocket(s, await s.login('admin'));
    try {
      const adminView = await ack<SessionDetail>(admin, 'session:open', { sessionId });
      // Admins supervise: they see it.
      expect(adminView.ok && adminView.data.messages.some((m) => noteText(m) === 'Only for agent one')).toBe(true);
    } finally {
      admin.disconnect();
    }
    const released = await ack<SessionSummary>(agent1, 'session:release', { sessionId });
    expect(released).toMatchObject({ ok: true });
    // agent2 is not in general: cannot open it at all; the privacy of the whisper is the view filter's.
    const seenBy2 = await ack<SessionDetail>(agent2, 'session:open', { sessionId });
    expect(seenBy2).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    const history = await s.services.store.listMessages((await s.services.store.getSession(sessionId))!.conversationId);
    const whisper = history.find(
      (m) => m.kind === 'event' && (m.body.data as { text?: string } | undefined)?.text === 'Only for agent one',
    )!;
    const { noteVisibleTo } = await import('../../common/api/supervision');
    expect(noteVisibleTo(whisper, { id: agent1Id, roles: ['agent'] })).toBe(true);
    expect(noteVisibleTo(whisper, { id: 'another-agent', roles: ['agent'] })).toBe(false);
    expect(noteVisibleTo(whisper, { id: 'a-lead', roles: ['lead'] })).toBe(true);
  });

  it('reassigns a contact to another agent of the group and back to the queue, reusing transfers', async () => {
    const { sessionId } = await appContact('vip', agent2, two);
    // The lead moves agent2's vip contact back to the vip queue: it leaves agent2 at once.
    const back = await ack<SessionSummary>(lead, 'supervise:reassign', { sessionId, to: { kind: 'queue' } });
    expect(back).toMatchObject({ ok: true });
    const now = await s.services.store.getSession(sessionId);
    expect(now?.assignedAgentId).not.toBe(agent2Id);
    // It is offered again in vip (agent2 is its only available agent), and the decision names the lead.
    await until(() => two.offers.filter((o) => o.sessionId === sessionId).length >= 2, 5000);
    const log = await s.services.store.decisions(sessionId);
    expect(
      log.some((d) => d.decision.trigger === 'transferred' && d.decision.reasons.some((r) => r.note?.includes('reassigned by Team Lead'))),
    ).toBe(true);
    expect((await auditEntries('session.reassign')).some((e) => e.target?.id === sessionId && e.detail?.['to'] === 'queue')).toBe(true);
    // The transcript's transfer record credits the lead (`by`), not only the agent it left.
    const transcript = await s.services.store.listMessages(now!.conversationId);
    const records = transcript.flatMap((m) => (m.kind === 'event' && m.body.name === 'staff.transfer' ? [m.body.data] : []));
    expect(records.at(-1)).toMatchObject({
      mode: 'cold',
      from: { id: agent2Id },
      by: { name: 'Team Lead' },
    });
    // agent2 takes it again (their pending offer would hold the next vip contact back).
    expect(await ack(agent2, 'offer:accept', { sessionId })).toMatchObject({ ok: true });

    // A general contact held by agent1 to agent2 (not in general): refused with the transfer code.
    const held = await appContact('general', agent1, one);
    heldGeneral = held.sessionId;
    const wrong = await ack(lead, 'supervise:reassign', { sessionId: held.sessionId, to: { kind: 'agent', agentId: agent2Id } });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'TRANSFER_TARGET_NOT_IN_GROUP' } });
    const self = await ack(lead, 'supervise:reassign', { sessionId: held.sessionId, to: { kind: 'agent', agentId: agent1Id } });
    expect(self).toMatchObject({ ok: false, error: { code: 'TRANSFER_TO_SELF' } });
    // An agent of the group who is not signed in cannot be handed a contact (the customer would be told "connecting you").
    const absent = await s.services.auth.createUser({
      username: 'agent-absent',
      displayName: 'Absent Agent',
      roles: ['agent'],
      skillGroups: ['general'],
      password: 'huiliu-demo',
    });
    const offline = await ack(lead, 'supervise:reassign', { sessionId: held.sessionId, to: { kind: 'agent', agentId: absent.id } });
    expect(offline).toMatchObject({ ok: false, error: { code: 'TRANSFER_TARGET_UNAVAILABLE', details: { reason: 'offline' } } });
    expect((await s.services.store.getSession(held.sessionId))?.assignedAgentId).toBe(agent1Id);
  });

  it("changes an agent's presence, and the agent's workstation is told who did it", async () => {
    const agents = await ack<SupervisedAgent[]>(leadGen, 'supervise:agents', {});
    // A lead of general sees general's agents only.
    expect(agents.ok && agents.data.map((a) => a.name)).toEqual(['Agent One']);
    const set = await ack<SupervisedAgent>(leadGen, 'supervise:presence', { agentId: agent1Id, presence: 'away' });
    expect(set).toMatchObject({ ok: true, data: { id: agent1Id, presence: 'away' } });
    await until(() => one.presence.some((p) => p.presence === 'away' && p.by?.name === 'General Lead'));
    expect(s.services.auth && (await ack(leadGen, 'supervise:presence', { agentId: agent1Id, presence: 'available' }))).toMatchObject({
      ok: true,
    });
    // Not their group's agent: the same answer as an agent not signed in.
    expect(await ack(leadGen, 'supervise:presence', { agentId: agent2Id, presence: 'away' })).toMatchObject({
      ok: false,
      error: { code: 'AGENT_NOT_FOUND' },
    });
    expect((await auditEntries('agent.presence')).some((e) => e.target?.id === agent1Id && e.detail?.['presence'] === 'away')).toBe(true);
  });

  it('keeps supervision in scope: a lead of general cannot touch vip, agents cannot supervise at all (FORBIDDEN, audited)', async () => {
    const vip = await appContact('vip', agent2, two);
    for (const [event, payload] of [
      ['supervise:open', { sessionId: vip.sessionId }],
      ['supervise:whisper', { sessionId: vip.sessionId, clientMessageId: 'whisper-vip-01', text: 'hi' }],
      ['supervise:barge', { sessionId: vip.sessionId, clientMessageId: 'barge-vip-0001', text: 'hi' }],
      ['supervise:reassign', { sessionId: vip.sessionId, to: { kind: 'queue' } }],
    ] as const) {
      const res = await ack(leadGen, event, payload);
      // Not in the lead's groups: the session is not there for them (nothing leaks).
      expect(res, event).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    }
    const general = { sessionId: heldGeneral };
    for (const event of [
      'supervise:open',
      'supervise:whisper',
      'supervise:barge',
      'supervise:reassign',
      'supervise:presence',
      'supervise:agents',
    ]) {
      const res = await ack(agent1, event, {
        sessionId: general.sessionId,
        clientMessageId: 'agent-try-0001',
        text: 'x',
        to: { kind: 'queue' },
      });
      expect(res, event).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    // An agent of another group cannot add a note to a general contact.
    expect(await ack(agent2, 'note:add', { sessionId: general.sessionId, clientMessageId: 'note-vip-0001', text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND' },
    });
    const refused = (await auditEntries('session.barge')).filter((e) => e.outcome === 'denied');
    expect(refused.some((e) => e.actor.name === 'agent1')).toBe(true);
    // Nothing of it reached vip's customer.
    expect((await vip.read()).messages.map((m) => m.author)).toEqual(['customer']);
  });
});
