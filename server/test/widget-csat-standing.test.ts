import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetServerFrame } from '../../common/web/widget-protocol';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { openWidget, type WidgetClient } from './support/widget-client';

type Status = Extract<WidgetServerFrame, { type: 'status' }>;

/** A visitor who said hello and wrote once: their socket, token and session. */
async function visitor(s: TestServer, text: string): Promise<{ w: WidgetClient; token: string; sessionId: string }> {
  const w = await openWidget(s);
  w.send({ type: 'hello' });
  const { visitorToken } = await w.next('welcome');
  const clientMessageId = `m-${Math.random().toString(36).slice(2, 12)}`;
  w.send({ type: 'message', clientMessageId, text });
  const { sessionId } = await w.next('ack', (a) => a.clientMessageId === clientMessageId);
  return { w, token: visitorToken, sessionId };
}

describe('the widget rating after a chat (CSAT, issue 11)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it("offers a rating once the visitor's chat closes, takes it once, and refuses another visitor's", async () => {
    const a = await visitor(s, 'Where is my parcel?');
    a.w.send({ type: 'csat', sessionId: a.sessionId, score: 5 });
    expect(await a.w.next('error')).toMatchObject({ code: 'SESSION_NOT_CLOSED' });

    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      expect((await ack(agent, 'offer:accept', { sessionId: a.sessionId })).ok).toBe(true);
      expect((await ack(agent, 'session:close', { sessionId: a.sessionId, wrapUpCode: 'resolved' })).ok).toBe(true);
    } finally {
      agent.close();
    }
    expect(await a.w.next('status', (f) => f.status === 'closed')).toEqual({
      type: 'status',
      status: 'closed',
      sessionId: a.sessionId,
      rateable: true,
    } satisfies Status);

    a.w.send({ type: 'csat', sessionId: a.sessionId, score: 0 });
    expect(await a.w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    // Someone else — a visitor who wrote, and one who never did — cannot rate it.
    const b = await visitor(s, 'Hello?');
    b.w.send({ type: 'csat', sessionId: a.sessionId, score: 1 });
    expect(await b.w.next('error')).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    const c = await openWidget(s);
    c.send({ type: 'hello' });
    await c.next('welcome');
    c.send({ type: 'csat', sessionId: a.sessionId, score: 1 });
    expect(await c.next('error')).toMatchObject({ code: 'SESSION_NOT_FOUND' });

    // A second tab of the visitor hears of the rating too.
    const tab2 = await openWidget(s);
    tab2.send({ type: 'hello', visitorToken: a.token });
    await tab2.next('status', (f) => f.status === 'closed' && f.rateable === true);
    a.w.send({ type: 'csat', sessionId: a.sessionId, score: 4, comment: 'Quick and kind, thanks' });
    expect(await a.w.next('csat-recorded')).toEqual({ type: 'csat-recorded', sessionId: a.sessionId, score: 4 });
    expect(await tab2.next('csat-recorded')).toMatchObject({ sessionId: a.sessionId });
    expect(await s.services.store.sessionRating(a.sessionId)).toMatchObject({ score: 4, comment: 'Quick and kind, thanks' });

    a.w.send({ type: 'csat', sessionId: a.sessionId, score: 1 });
    expect(await a.w.next('error')).toMatchObject({ code: 'CSAT_ALREADY_GIVEN' });
    // Back later: the conversation shows closed, and no longer asks for a rating.
    const again = await openWidget(s);
    again.send({ type: 'hello', visitorToken: a.token });
    expect(await again.next('status', (f) => f.status === 'closed')).toMatchObject({ sessionId: a.sessionId, rateable: false });
    for (const w of [a.w, b.w, c, tab2, again]) w.ws.close();
  });
});

describe('live queue standing on the widget (issue 11)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it("pushes the new position when the queue moves: the first visitor is taken, the second's goes from 2 to 1", async () => {
    const first = await visitor(s, 'Where is my parcel?');
    const second = await visitor(s, 'Can I change my delivery address?');
    expect((await second.w.next('status', (f) => f.status === 'waiting')).standing).toEqual({
      position: 2,
      estimatedWaitSeconds: null,
      noAgentOnline: true,
    });
    const times: number[] = [];
    second.w.ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as WidgetServerFrame;
      if (f.type === 'status' && f.standing) times.push(Date.now());
    });

    // An agent comes online: both are offered to them; the second hears an answer is near.
    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      expect((await second.w.next('status', (f) => f.standing?.noAgentOnline === false)).standing).toEqual({
        position: 2,
        estimatedWaitSeconds: 0,
        noAgentOnline: false,
      });
      expect((await ack(agent, 'offer:accept', { sessionId: first.sessionId })).ok).toBe(true);
      expect((await second.w.next('status', (f) => f.standing?.position === 1)).standing).toMatchObject({ position: 1 });
      // At most one update per 2 s: the move came after the throttle window of the previous one.
      expect(times.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1900);
      // The first visitor is with the agent: the queue moving again (a third visitor) tells them nothing.
      await first.w.next('status', (f) => f.status === 'agent-joined');
      first.w.frames.length = 0;
      const third = await visitor(s, 'Do you ship abroad?');
      await third.w.next('status', (f) => f.status === 'waiting');
      await new Promise((r) => setTimeout(r, 2500));
      expect(first.w.frames.filter((f) => f.type === 'status')).toEqual([]);
      third.w.ws.close();
    } finally {
      agent.close();
      first.w.ws.close();
      second.w.ws.close();
    }
  });

  it('tells a visitor who comes back while waiting where they stand', async () => {
    const v = await visitor(s, 'Is there anyone?');
    v.w.ws.close();
    const back = await openWidget(s);
    back.send({ type: 'hello', visitorToken: v.token });
    expect((await back.next('status', (f) => f.status === 'waiting')).standing).toMatchObject({ position: expect.any(Number) as unknown });
    back.ws.close();
  });
});
