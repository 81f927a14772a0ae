import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import type { SessionDetail } from '../../common/api/sessions';
import type { TransferView } from '../../common/api/transfers';
import type { EventOf } from '../../common/events/events';
import type { OfferView, TransferOffer, TransferTargets } from '../../common/socket/agent-events';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { openWidget } from './support/widget-client';

/** What one agent socket was pushed, by event. */
function recorder(socket: Socket) {
  const got = { offers: [] as OfferView[], transferOffers: [] as TransferOffer[], updates: [] as TransferView[] };
  socket.on('offer:new', (o: OfferView) => void got.offers.push(o));
  socket.on('transfer:offered', (o: TransferOffer) => void got.transferOffers.push(o));
  socket.on('transfer:updated', (t: TransferView) => void got.updates.push(t));
  return got;
}

/**
 * Issue 11, transfers over the agent socket on the real server (demo users: agent1 in `general`,
 * agent2 in `vip`, an expert): the acked events, the pushes to both sides, the decision log, the
 * audit event, and what the customer sees (a polite notice, never the agents' record).
 */
describe('transfers over the agent socket', () => {
  let s: TestServer;
  let agent1: Socket;
  let agent2: Socket;
  let one: ReturnType<typeof recorder>;
  let two: ReturnType<typeof recorder>;
  const audit: EventOf<'transfer.changed'>[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    await s.services.bus.subscribeAll('transfer.changed', (e) => void audit.push(e));
    agent1 = await openAgentSocket(s, await s.login('agent1'));
    agent2 = await openAgentSocket(s, await s.login('agent2'));
    one = recorder(agent1);
    two = recorder(agent2);
  });
  afterAll(async () => {
    agent1?.disconnect();
    agent2?.disconnect();
    await s.cleanup();
  });

  /** A web visitor's first message, offered to and accepted by agent1. */
  async function contactHeldByAgent1(text: string) {
    const widget = await openWidget(s);
    widget.send({ type: 'hello' });
    const { visitorToken } = await widget.next('welcome');
    widget.send({ type: 'message', clientMessageId: `transfer-${Date.now()}`, text });
    await until(() => one.offers.some((o) => o.summary.lastMessagePreview === text), 5000);
    const sessionId = one.offers.find((o) => o.summary.lastMessagePreview === text)!.sessionId;
    const accepted = await ack<SessionDetail>(agent1, 'offer:accept', { sessionId });
    expect(accepted).toMatchObject({ ok: true, data: { assignedAgentId: expect.any(String) } });
    return { sessionId, widget, visitorToken, conversationId: accepted.ok ? accepted.data.conversationId : '' };
  }

  it('warm-transfers a chat from agent1 to agent2 (vip): offered with the note and AI summary, accepted, both told', async () => {
    const { sessionId, widget, visitorToken, conversationId } = await contactHeldByAgent1(
      'I was charged twice for order 2024112900123, please refund one of them.',
    );
    const targets = await ack<TransferTargets>(agent1, 'transfer:targets', { sessionId });
    expect(targets.ok && targets.data.agents.map((a) => [a.name, a.sharesGroup, a.expert])).toEqual([['Agent Two', false, true]]);
    const agent2Id = targets.ok ? targets.data.agents[0]!.id : '';

    const sent = await ack<TransferView>(agent1, 'session:transfer', {
      sessionId,
      to: { kind: 'agent', agentId: agent2Id },
      mode: 'warm',
      note: 'Double charge; customer is polite',
    });
    expect(sent).toMatchObject({ ok: true, data: { status: 'pending', skillGroup: 'vip', offeredTo: { name: 'Agent Two' } } });
    const transferId = sent.ok ? sent.data.id : '';

    await until(() => two.transferOffers.some((o) => o.transfer.id === transferId));
    const offer = two.transferOffers.find((o) => o.transfer.id === transferId)!;
    expect(offer.transfer).toMatchObject({ from: { name: 'Agent One' }, note: 'Double charge; customer is polite', mode: 'warm' });
    expect(offer.transfer.summary?.lines.join(' ')).toContain('2024112900123');
    expect(offer.session).toMatchObject({ id: sessionId, status: 'active' });
    expect(Date.parse(offer.transfer.expiresAt!)).toBeGreaterThan(Date.now());
    await until(() => one.updates.some((t) => t.id === transferId && t.status === 'pending'));

    // Agent2 cannot open another group's contact yet, and nobody but them can accept it.
    expect(await ack(agent2, 'session:open', { sessionId })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    expect(await ack(agent1, 'transfer:accept', { transferId })).toMatchObject({ ok: false, error: { code: 'TRANSFER_NOT_FOUND' } });

    const accepted = await ack<SessionDetail>(agent2, 'transfer:accept', { transferId });
    expect(accepted).toMatchObject({
      ok: true,
      data: { id: sessionId, status: 'active', skillGroup: 'vip', transfer: { id: transferId, status: 'accepted' } },
    });
    // The whole conversation is there, with the agents' record of the transfer.
    const detail = accepted.ok ? accepted.data : null;
    expect(detail!.messages.some((m) => m.kind === 'text' && m.body.text.includes('charged twice'))).toBe(true);
    expect(detail!.messages.some((m) => m.kind === 'event' && m.body.name === 'staff.transfer')).toBe(true);
    expect(detail!.routing).toMatchObject({ trigger: 'transferred', transfer: { from: expect.any(String), to: agent2Id, mode: 'warm' } });
    // Issue 15: the decision's phrases as codes for the desk to word (the English stays beside them).
    expect(detail!.routing).toMatchObject({
      assignment: 'warm transfer to the agent named by the sender',
      assignmentDetails: [{ code: 'warm-transfer-named' }],
    });
    expect(detail!.routing!.reasons.at(-1)).toMatchObject({
      factor: 'transfer',
      code: 'transfer-agent-moved',
      params: { mode: 'warm', from: 'Agent One', target: 'Agent Two', fromGroup: 'general' },
    });
    // (An agent's copy names only themselves among the candidates.)
    expect(detail!.routing!.candidates?.find((c) => c.chosen)?.details).toEqual([{ code: 'named-by-transfer' }]);
    await until(() => one.updates.some((t) => t.id === transferId && t.status === 'accepted'));
    expect(await ack(agent1, 'message:send', { sessionId, clientMessageId: 'agent1-late-0001', text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND' },
    });

    // The customer's widget gets a polite notice, live and on resume, and never the staff record.
    const notice = await widget.next('message', (f) => f.message.author === 'system');
    expect(notice.message.text).toContain('colleague');
    widget.ws.close();
    const resumed = await openWidget(s);
    resumed.send({ type: 'hello', visitorToken, conversationId, lastSeq: 0 });
    await resumed.next('replayed');
    const replayed = resumed.frames.filter((f) => f.type === 'message').map((f) => (f.type === 'message' ? f.message.text : ''));
    expect(replayed.some((t) => t.includes('colleague'))).toBe(true);
    expect(replayed.some((t) => t.includes('staff.transfer'))).toBe(false);
    resumed.ws.close();

    // Audited: the transfer's facts, by whom, never its note.
    const events = audit.filter((e) => e.payload.transferId === transferId);
    expect(events.map((e) => e.payload.status)).toEqual(['pending', 'accepted']);
    expect(JSON.stringify(events)).not.toContain('Double charge');
  });

  it('cold-transfers an app customer to a skill group: the contact leaves agent1 at once; the app never reads the staff record', async () => {
    const customer = { externalId: `cold-${Date.now()}` };
    const text = 'Please move me to the VIP team.';
    const posted = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer, text, clientMessageId: `${customer.externalId}-1` },
    });
    expect(posted.statusCode).toBe(202);
    const { sessionId } = posted.json() as { sessionId: string };
    await until(() => one.offers.some((o) => o.sessionId === sessionId), 5000);
    expect(await ack(agent1, 'offer:accept', { sessionId })).toMatchObject({ ok: true });

    const sent = await ack<TransferView>(agent1, 'session:transfer', {
      sessionId,
      to: { kind: 'skill-group', skillGroup: 'vip' },
      mode: 'cold',
    });
    expect(sent).toMatchObject({ ok: true, data: { status: 'routed', skillGroup: 'vip' } });
    // Routed in vip: agent2 is offered it like any contact.
    await until(() => two.offers.some((o) => o.sessionId === sessionId), 5000);
    const log = await s.services.store.decisions(sessionId);
    expect(log.at(-1)!.decision).toMatchObject({
      trigger: 'transferred',
      skillGroup: 'vip',
      transfer: { to: 'skill-group:vip', mode: 'cold' },
    });

    const read = await s.app.inject({
      url: `/api/v1/channels/app/messages?externalId=${customer.externalId}`,
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    const body = read.json() as AppMessagesResponse;
    expect(body.messages.map((m) => m.author)).toEqual(['customer', 'system']);
    expect(body.messages[1]!.text).toContain('colleague');
    const stored = await s.services.store.listMessages(body.conversationId!);
    expect(stored.map((m) => m.kind)).toEqual(['text', 'event', 'text']);
  });

  it('answers errors with stable codes and the field named', async () => {
    const { sessionId } = await contactHeldByAgent1('Just a question about opening hours.');
    const cases: [unknown, string][] = [
      [{ sessionId, to: { kind: 'agent', agentId: 'nobody' }, mode: 'warm' }, 'TRANSFER_TARGET_NOT_FOUND'],
      [{ sessionId, to: { kind: 'skill-group', skillGroup: 'nope' }, mode: 'cold' }, 'TRANSFER_TARGET_NOT_FOUND'],
      [{ sessionId, to: { kind: 'planet' }, mode: 'cold' }, 'VALIDATION_FAILED'],
      [{ sessionId, to: { kind: 'expert' }, mode: 'lukewarm' }, 'VALIDATION_FAILED'],
      [{ sessionId, to: { kind: 'expert' }, mode: 'cold', note: 'x'.repeat(501) }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code] of cases)
      expect(await ack(agent1, 'session:transfer', payload)).toMatchObject({ ok: false, error: { code } });
    const tooLong = await ack(agent1, 'session:transfer', { sessionId, to: { kind: 'expert' }, mode: 'cold', note: 'x'.repeat(501) });
    expect(tooLong).toMatchObject({ ok: false, error: { details: [{ path: 'note' }] } });
    // Agent2 neither holds nor sees it.
    expect(await ack(agent2, 'session:transfer', { sessionId, to: { kind: 'expert' }, mode: 'cold' })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND' },
    });
    expect(await ack(agent2, 'transfer:cancel', { transferId: '01900000-0000-7000-8000-000000000000' })).toMatchObject({
      ok: false,
      error: { code: 'TRANSFER_NOT_FOUND' },
    });
  });

  it('offers a pending warm transfer again to an agent who reconnects', async () => {
    const { sessionId } = await contactHeldByAgent1('Could a specialist look at my contract?');
    const sent = await ack<TransferView>(agent1, 'session:transfer', {
      sessionId,
      to: { kind: 'expert', skillGroup: 'vip' },
      mode: 'warm',
    });
    expect(sent).toMatchObject({ ok: true, data: { status: 'pending', offeredTo: { name: 'Agent Two' } } });
    const transferId = sent.ok ? sent.data.id : '';
    agent2.disconnect();
    agent2 = await openAgentSocket(s, await s.login('agent2'));
    two = recorder(agent2);
    await until(() => two.transferOffers.some((o) => o.transfer.id === transferId));
    expect(await ack(agent1, 'transfer:cancel', { transferId })).toMatchObject({ ok: true, data: { status: 'cancelled' } });
    await until(() => two.updates.some((t) => t.id === transferId && t.status === 'cancelled'));
  });
});
