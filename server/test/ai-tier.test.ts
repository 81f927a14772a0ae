import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { AppHandoverResponse, AppMessagesResponse } from '../../common/api/app-channel';
import type { SessionDetail, SessionSummary } from '../../common/api/sessions';
import type { BusEvent } from '../../common/events/events';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { eventually, until } from './support/until';
import { openWidget } from './support/widget-client';

/**
 * The AI tier in the running server (issue 10): a low-priority contact is answered by the AI from the
 * demo KB, marked as AI; the hand-over rules move it to people at once, tell the customer where they
 * stand, and nothing ever returns it to the AI.
 */
describe('the AI tier answers and hands over', () => {
  let s: TestServer;
  let sockets: Socket[] = [];
  const events: BusEvent[] = [];
  beforeEach(async () => {
    s = await startTestServer({}, { aiTier: true });
    events.length = 0;
    for (const type of ['ai.acted', 'session.changed'] as const)
      await s.services.bus.subscribeAll(type, (e) => void events.push(e as BusEvent));
  });
  afterEach(async () => {
    for (const socket of sockets) socket.disconnect();
    sockets = [];
    await s.cleanup();
  });

  const key = { 'x-huiliu-key': 'demo-app-key' };
  let n = 0;
  const say = async (externalId: string, text: string) => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId }, text, clientMessageId: `m-${++n}` },
    });
    expect(r.statusCode).toBe(202);
    return r.json<{ sessionId: string }>();
  };
  const read = async (externalId: string) =>
    (
      await s.app.inject({ method: 'GET', url: `/api/v1/channels/app/messages?externalId=${externalId}`, headers: key })
    ).json<AppMessagesResponse>();
  /** Waits until the conversation has `count` messages and returns them. */
  const messagesOf = (externalId: string, count: number) =>
    eventually(async () => {
      const r = await read(externalId);
      return r.messages.length >= count ? r : null;
    });
  const agent = async (username = 'agent1') => {
    const socket = await openAgentSocket(s, await s.login(username));
    sockets.push(socket);
    return socket;
  };

  it('answers a KB question as the AI, marked ai to the customer and in the audit events', async () => {
    const { sessionId } = await say('c-answer', 'Where is my order? I ordered three days ago');
    const r = await messagesOf('c-answer', 2);
    expect(r.status).toBe('bot');
    expect(r.messages[1]).toMatchObject({ direction: 'out', author: 'ai' });
    expect(r.messages[1]!.text).toContain('My Orders');
    await until(() => events.some((e) => e.type === 'ai.acted' && e.payload.action === 'answered' && e.sessionId === sessionId));
    const answered = events.find((e) => e.type === 'ai.acted' && e.payload.action === 'answered');
    expect(answered).toMatchObject({ actor: 'ai', payload: { intent: 'order_status' } });
    // Facts only in the audit event: never the answer's or the customer's text.
    expect(JSON.stringify(answered)).not.toContain('My Orders');
    // The routing explanation says the AI tier has it.
    const detail = await eventually(async () => {
      const res = await s.app.inject({
        method: 'GET',
        url: `/api/v1/sessions/${sessionId}`,
        headers: { authorization: `Bearer ${await s.login('lead')}` },
      });
      return res.statusCode === 200 ? res.json<SessionDetail>() : null;
    });
    expect(detail.routing?.tier).toBe('ai');
    expect(detail.routing?.reasons.some((x) => x.factor === 'ai')).toBe(true);
    expect(detail.messages.map((m) => m.author)).toEqual(['customer', 'ai']);
  });

  it.each([
    ['en', 'I want to talk to a real person'],
    ['zh', '转人工'],
  ])('hands over at once when the customer asks for a person (%s), with the position in the queue', async (_lang, text) => {
    await agent();
    const id = `c-ask-${_lang}`;
    const { sessionId } = await say(id, text);
    const r = await messagesOf(id, 2);
    expect(r.messages[1]).toMatchObject({ author: 'system' });
    expect(r.messages[1]!.text).toMatch(_lang === 'zh' ? /转接人工/ : /Passing you to a person/);
    // agent1 is online in general: the contact is offered to them at once.
    const session = await eventually(async () => {
      const x = await s.services.store.getSession(sessionId);
      return x?.status === 'offered' ? x : null;
    });
    expect(session.handover).toMatchObject({ reason: 'customer-asked', by: 'ai', noAgentOnline: false });
    expect(session.routing?.trigger).toBe('handed-over');
    expect(events.some((e) => e.type === 'ai.acted' && e.payload.action === 'handed-over' && e.payload.reason === 'customer-asked')).toBe(
      true,
    );
  });

  it('with no agent online, says so and keeps what the customer writes next for the agents, first in their queue', async () => {
    const { sessionId } = await say('c-offline', 'I need a human agent now');
    const r = await messagesOf('c-offline', 2);
    expect(r.messages[1]!.text).toMatch(/No agent is online/);
    await say('c-offline', 'My parcel 2024112900123 arrived broken, please call me back');
    const later = await messagesOf('c-offline', 3);
    // The AI does not answer any more: the message waits for a person.
    await new Promise((x) => setTimeout(x, 300));
    expect((await read('c-offline')).messages).toHaveLength(3);
    expect(later.status).toBe('queued');
    // A contact that came later, with a higher priority, still lists after the left message.
    const socket = await agent('lead');
    const queue = await ack<SessionSummary[]>(socket, 'queue:list', {});
    expect(queue.ok && queue.data[0]?.id).toBe(sessionId);
    expect(queue.ok && queue.data[0]?.handover).toMatchObject({ noAgentOnline: true });
  });

  it('hands over an angry customer', async () => {
    const { sessionId } = await say('c-angry', 'This is absolutely unacceptable, I am furious with your useless service!!');
    await messagesOf('c-angry', 2);
    const session = await s.services.store.getSession(sessionId);
    expect(session?.status).toBe('queued');
    expect(session?.handover?.reason).toBe('negative-emotion');
  });

  it('hands over after the same question goes unresolved, and never answers after a hand-over', async () => {
    await say('c-loop', 'Where is my order?');
    await messagesOf('c-loop', 2);
    await say('c-loop', 'where is my order');
    const second = await messagesOf('c-loop', 4);
    expect(second.messages[3]).toMatchObject({ author: 'ai' });
    expect(second.messages[3]!.text).toMatch(/a person will take over/);
    await say('c-loop', 'my order, where is it');
    const third = await messagesOf('c-loop', 6);
    expect(third.messages[5]).toMatchObject({ author: 'system' });
    const sessionId = third.sessionId!;
    expect((await s.services.store.getSession(sessionId))?.handover?.reason).toBe('unresolved-turns');
    // A KB question after the hand-over gets no AI answer: no loop back to the AI.
    await say('c-loop', 'How long does delivery take?');
    await new Promise((x) => setTimeout(x, 400));
    const after = await read('c-loop');
    expect(after.messages).toHaveLength(7);
    expect(after.messages.slice(6).every((m) => m.author === 'customer')).toBe(true);
  });

  it("the app's hand-over call moves the customer to people and answers their standing; asking again changes nothing", async () => {
    await agent();
    await say('c-button', 'hello');
    await messagesOf('c-button', 2);
    const call = () =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/handover',
        headers: key,
        payload: { customer: { externalId: 'c-button' } },
      });
    const first = await call();
    expect(first.statusCode).toBe(200);
    expect(first.json<AppHandoverResponse>()).toMatchObject({ status: 'offered', standing: { position: 1, noAgentOnline: false } });
    const again = await call();
    expect(again.json<AppHandoverResponse>().status).toBe('offered');
    expect(events.filter((e) => e.type === 'session.changed' && e.payload.reason === 'handed-over')).toHaveLength(1);
    // A customer with no conversation has nothing to hand over.
    const none = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/handover',
      headers: key,
      payload: { customer: { externalId: 'nobody' } },
    });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
  });

  it('widget: AI answers are marked ai, the status says so, and the talk-to-a-person button hands over with the queue standing', async () => {
    await agent();
    const w = await openWidget(s);
    w.send({ type: 'hello' });
    await w.next('welcome');
    w.send({ type: 'message', clientMessageId: 'widget-ai-1', text: 'How do I get an invoice?' });
    await w.next('ack');
    const answer = await w.next('message', (f) => f.message.direction === 'out');
    expect(answer.message.author).toBe('ai');
    await w.next('status', (f) => f.status === 'bot');
    w.send({ type: 'handover' });
    const waiting = await w.next('status', (f) => f.status === 'waiting' && Boolean(f.standing));
    expect(waiting.standing).toMatchObject({ position: 1, noAgentOnline: false });
    const notice = await w.next('message', (f) => f.message.author === 'system');
    expect(notice.message.text).toMatch(/Passing you to a person/);
    w.ws.close();
  });

  it('hands a picture without words to a person instead of answering "[image]"', async () => {
    // A 1×1 PNG: the app channel takes it; OCR may read nothing in it.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId: 'c-image' }, image: { mime: 'image/png', base64: png }, clientMessageId: 'img-1' },
    });
    expect(r.statusCode).toBe(202);
    const after = await messagesOf('c-image', 2);
    expect(after.messages[1]).toMatchObject({ author: 'system' });
    const session = await s.services.store.getSession(after.sessionId!);
    expect(session?.handover).toMatchObject({ reason: 'low-confidence', intent: null });
  });

  it("fills a KB answer's placeholders with the customer's name and order number, and never sends {{…}}", async () => {
    await s.services.kb.create(
      {
        intent: 'gift_wrap',
        lang: 'en',
        questions: ['do you offer gift wrapping', 'can you gift wrap my order', 'is gift wrap available', 'gift wrapping please'],
        answer: 'Hi {{name}}, gift wrapping is free: tick it at checkout for order {{order}}.',
      },
      'admin',
    );
    // The intent model retrains in a pool thread: wait until it knows the new intent.
    const token = await s.login('admin');
    await until(async () => {
      const a = await s.app.inject({
        method: 'POST',
        url: '/api/v1/ai/analyze',
        headers: { authorization: `Bearer ${token}` },
        payload: { text: 'Can you gift wrap my order?' },
      });
      return a.json<{ intent: { label: string } }>().intent.label === 'gift_wrap';
    }, 20_000);
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: {
        customer: { externalId: 'c-wrap', name: 'Zhao Lei' },
        text: 'Can you gift wrap my order 2024112900123?',
        clientMessageId: 'wrap-1',
      },
    });
    expect(r.statusCode).toBe(202);
    const answered = await messagesOf('c-wrap', 2);
    expect(answered.messages[1]).toMatchObject({ author: 'ai' });
    expect(answered.messages[1]!.text).toBe('Hi Zhao Lei, gift wrapping is free: tick it at checkout for order 2024112900123.');
    expect(answered.messages[1]!.text).not.toContain('{{');
  });

  it('shows contacts with the AI to the agents of the group, and any of them can take one over', async () => {
    const socket = await agent();
    const { sessionId } = await say('c-watch', 'What payment methods do you accept?');
    await messagesOf('c-watch', 2);
    const queue = await ack<SessionSummary[]>(socket, 'queue:list', {});
    expect(queue.ok && queue.data.find((q) => q.id === sessionId)?.status).toBe('bot');
    const open = await ack<SessionDetail>(socket, 'session:open', { sessionId });
    expect(open.ok && open.data.messages.map((m) => m.author)).toEqual(['customer', 'ai']);
    // agent2 is in vip only: not theirs to see or take.
    const other = await agent('agent2');
    const refused = await ack<SessionDetail>(other, 'offer:accept', { sessionId });
    expect(refused).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    const taken = await ack<SessionDetail>(socket, 'offer:accept', { sessionId });
    expect(taken.ok && taken.data).toMatchObject({
      status: 'active',
      assignedAgentId: expect.any(String),
      handover: { reason: 'agent-took-over' },
    });
    // The AI is silent from now on: the customer's next message waits for the agent.
    await say('c-watch', 'thanks, and how long does delivery take?');
    await new Promise((x) => setTimeout(x, 300));
    expect((await read('c-watch')).messages).toHaveLength(3);
  });
});
