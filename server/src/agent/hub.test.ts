import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagePageView, SessionDetail, SessionSummary } from '../../../common/api/sessions';
import { textOf } from '../../../common/message/envelope';
import { ack, openAgentSocket } from '../../test/support/agent-client';
import { QUEUE_WAITING_MAX } from './hub';
import { startTestServer, type TestServer } from '../../test/support/harness';

type Any = Socket;
const open = openAgentSocket;

async function postApp(s: TestServer, externalId: string, skillGroup = 'general') {
  const res = await s.app.inject({
    method: 'POST',
    url: '/api/v1/channels/app/messages',
    headers: { 'x-huiliu-key': 'demo-app-key' },
    payload: {
      customer: { externalId, name: externalId },
      text: `help ${externalId}`,
      clientMessageId: `c-${externalId}`,
      hints: { skillGroup },
    },
  });
  return (res.json() as { sessionId: string }).sessionId;
}

describe('socket.io /agent namespace', () => {
  let s: TestServer;
  const sockets: Any[] = [];
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  it('refuses a connection without a valid token, with a coded error', async () => {
    const err = (await open(s, 'bogus').catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(err.data?.code).toBe('UNAUTHENTICATED');
    const auditor = (await open(s, await s.login('auditor')).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(auditor.data?.code).toBe('FORBIDDEN');
  });

  it('greets an agent with their queue and offers new contacts of their group', async () => {
    const socket = await open(s, await s.login('agent1'));
    sockets.push(socket);
    const offer = new Promise<{ sessionId: string }>((resolve) => socket.on('offer:new', resolve));
    const sessionId = await postApp(s, 'sock-1');
    expect((await offer).sessionId).toBe(sessionId);
    const queue = await ack<SessionSummary[]>(socket, 'queue:list', {});
    expect(queue.ok && queue.data.map((q) => q.id)).toContain(sessionId);
  });

  it('acks every event with {ok,data} or {ok:false,error}', async () => {
    const socket = await open(s, await s.login('agent1'));
    sockets.push(socket);
    const bad = await ack(socket, 'message:send', { sessionId: 'x', text: '' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const sessionId = await postApp(s, 'sock-2');
    const notMine = await ack(socket, 'message:send', { sessionId, clientMessageId: 'abcdefgh-1', text: 'hi' });
    expect(notMine).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNED' } });
    const accepted = await ack<{ id: string; status: string }>(socket, 'offer:accept', { sessionId });
    expect(accepted).toMatchObject({ ok: true, data: { id: sessionId, status: 'active' } });
    const sent = await ack<{ seq: number }>(socket, 'message:send', { sessionId, clientMessageId: 'abcdefgh-2', text: 'on it' });
    const again = await ack<{ seq: number }>(socket, 'message:send', { sessionId, clientMessageId: 'abcdefgh-2', text: 'on it' });
    expect(sent).toMatchObject({ ok: true, data: { seq: 2 } });
    expect(again).toEqual(sent); // idempotent retry: same message, no second copy
    const closed = await ack(socket, 'session:close', { sessionId, wrapUpCode: 'resolved' });
    expect(closed).toMatchObject({ ok: true, data: { status: 'closed' } });
    const late = await ack(socket, 'message:send', { sessionId, clientMessageId: 'abcdefgh-3', text: 'late' });
    expect(late).toMatchObject({ ok: false, error: { code: 'SESSION_CLOSED' } });
  });

  it('keeps one contact with one agent: a second accept gets OFFER_TAKEN', async () => {
    const a = await open(s, await s.login('agent1'));
    const lead = await open(s, await s.login('lead'));
    sockets.push(a, lead);
    const sessionId = await postApp(s, 'sock-3');
    const first = await ack(a, 'offer:accept', { sessionId });
    const second = await ack(lead, 'offer:accept', { sessionId });
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, error: { code: 'OFFER_TAKEN' } });
  });

  it('enforces skill groups on socket events, not only in the UI', async () => {
    const agent1 = await open(s, await s.login('agent1'));
    sockets.push(agent1);
    const vipSession = await postApp(s, 'sock-vip', 'vip');
    expect(await ack(agent1, 'session:open', { sessionId: vipSession })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    expect(await ack(agent1, 'offer:accept', { sessionId: vipSession })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    const queue = await ack<SessionSummary[]>(agent1, 'queue:list', {});
    expect(queue.ok && queue.data.map((q) => q.id)).not.toContain(vipSession);
  });

  it('closes the socket at logout, before its next event', async () => {
    const token = await s.login('agent1');
    const socket = await open(s, token);
    sockets.push(socket);
    expect((await ack(socket, 'queue:list', {})).ok).toBe(true);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await s.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}` } });
    expect(await closed).toBe('io server disconnect');
  });

  it('shows the newest messages of a long conversation and pages back to the first one (C8)', async () => {
    const store = s.services.store;
    const at = new Date().toISOString();
    const message = (i: number) => ({
      identity: { channel: 'AP' as const, externalId: 'demo:long-talker' },
      content: { kind: 'text' as const, body: { text: `message ${i}` } },
      critical: true,
      clientMessageId: `long-${i}`,
      sentAt: at,
      receivedAt: at,
      meta: {},
    });
    const first = await store.appendInbound(message(1), { skillGroup: 'general' });
    for (let i = 2; i <= 1051; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 1052 - i) }, (_, k) => store.appendInbound(message(i + k), { skillGroup: 'general' })),
      );
    }
    const sessionId = first.session.id;
    const token = await s.login('agent1');
    const socket = await open(s, token);
    sockets.push(socket);
    const newestSeqs = (d: SessionDetail) => [d.messages[0]!.seq, d.messages.at(-1)!.seq, d.hasOlderMessages];

    const opened = await ack<SessionDetail>(socket, 'session:open', { sessionId });
    expect(opened.ok && newestSeqs(opened.data)).toEqual([952, 1051, true]);
    const accepted = await ack<SessionDetail>(socket, 'offer:accept', { sessionId });
    expect(accepted.ok && newestSeqs(accepted.data)).toEqual([952, 1051, true]);
    const rest = await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } });
    expect(newestSeqs(rest.json() as SessionDetail)).toEqual([952, 1051, true]);

    // Page back over the socket, then over REST, until the very first message.
    const older = await ack<MessagePageView>(socket, 'session:history', { sessionId, beforeSeq: 952 });
    expect(older.ok && [older.data.messages[0]!.seq, older.data.messages.at(-1)!.seq, older.data.hasOlder]).toEqual([752, 951, true]);
    let beforeSeq = 752;
    const seen: number[] = [];
    for (;;) {
      const res = await s.app.inject({
        url: `/api/v1/sessions/${sessionId}/messages?beforeSeq=${beforeSeq}&limit=200`,
        headers: { authorization: `Bearer ${token}` },
      });
      const page = res.json() as MessagePageView;
      seen.unshift(...page.messages.map((m) => m.seq));
      if (!page.hasOlder) {
        expect(textOf(page.messages[0]!)).toBe('message 1');
        break;
      }
      beforeSeq = page.messages[0]!.seq;
    }
    expect(seen).toEqual(Array.from({ length: 751 }, (_, i) => i + 1));
    const bad = await s.app.inject({
      url: `/api/v1/sessions/${sessionId}/messages?limit=5000`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it("keeps an agent's own open chat in the queue list however many contacts are waiting", async () => {
    const store = s.services.store;
    const at = new Date().toISOString();
    const draftOf = (externalId: string, clientMessageId: string) => ({
      identity: { channel: 'AP' as const, externalId },
      content: { kind: 'text' as const, body: { text: 'waiting' } },
      critical: true,
      clientMessageId,
      sentAt: at,
      receivedAt: at,
      meta: {},
    });
    const token = await s.login('agent1');
    const socket = await open(s, token);
    sockets.push(socket);
    for (let i = 0; i < QUEUE_WAITING_MAX + 20; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          store.appendInbound(draftOf(`demo:flood-${i + k}`, `flood-${i + k}`), { skillGroup: 'general' }),
        ),
      );
    }
    // The newest contact, taken by the agent: the longest-waiting page does not reach it.
    const mine = await store.appendInbound(draftOf('demo:mine-under-flood', 'mine-1'), { skillGroup: 'general' });
    expect((await ack(socket, 'offer:accept', { sessionId: mine.session.id })).ok).toBe(true);
    const list = await ack<SessionSummary[]>(socket, 'queue:list', {});
    expect(list.ok && list.data.some((q) => q.id === mine.session.id)).toBe(true);
    expect(list.ok && list.data.filter((q) => q.status !== 'active').length).toBeLessThanOrEqual(QUEUE_WAITING_MAX);
    const again = await open(s, token);
    sockets.push(again);
    const hello = await new Promise<{ queue: SessionSummary[]; waitingTotal?: number }>((resolve) => again.once('hello', resolve));
    expect(hello.queue.some((q) => q.id === mine.session.id)).toBe(true);
    // The list is cut, and the greeting says by how much, so the workstation can say so.
    expect(hello.waitingTotal).toBeGreaterThan(QUEUE_WAITING_MAX);
  });
});

describe('socket.io /agent: offers taken away and chats handed back', () => {
  let s: TestServer;
  const sockets: Any[] = [];
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  /** Opens a socket and waits for its greeting, so the agent is in the routing pool. */
  const greeted = async (username: string) => {
    const socket = await open(s, await s.login(username));
    sockets.push(socket);
    await new Promise((resolve) => socket.once('hello', resolve));
    return socket;
  };

  it('tells an agent their offer is revoked when a colleague takes the contact, and offers a released chat to the colleague', async () => {
    const agent1 = await greeted('agent1');
    const lead = await greeted('lead');
    const offers = (socket: Any) => new Promise<{ sessionId: string }>((resolve) => socket.once('offer:new', resolve));
    const firstOffer = Promise.race([
      offers(agent1).then((o) => ({ o, to: agent1, other: lead })),
      offers(lead).then((o) => ({ o, to: lead, other: agent1 })),
    ]);
    const sessionId = await postApp(s, 'revoke-1');
    const { o, to, other } = await firstOffer;
    expect(o.sessionId).toBe(sessionId);

    const revoked = new Promise<{ sessionId: string; reason: string }>((resolve) => to.once('offer:revoked', resolve));
    expect(await ack(other, 'offer:accept', { sessionId })).toMatchObject({ ok: true, data: { status: 'active' } });
    expect(await revoked).toEqual({ sessionId, reason: 'taken' });

    // Handed back: the chat goes to the colleague first, not back to who released it.
    const reoffered = offers(to);
    expect(await ack(other, 'session:release', { sessionId })).toMatchObject({ ok: true, data: { id: sessionId, status: 'offered' } });
    expect((await reoffered).sessionId).toBe(sessionId);
    expect(await ack(other, 'session:release', { sessionId })).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNED' } });
  });

  it("tells the agent how far their reply got on the customer's channel", async () => {
    const socket = await open(s, await s.login('agent1'));
    sockets.push(socket);
    const sessionId = await postApp(s, 'delivery-1');
    expect((await ack(socket, 'offer:accept', { sessionId })).ok).toBe(true);
    const delivered = new Promise<{ messageId: string; state: string }>((resolve) => socket.on('message:delivery', resolve));
    const sent = await ack<{ id: string }>(socket, 'message:send', { sessionId, clientMessageId: 'delivery-reply-1', text: 'on it' });
    expect(sent.ok).toBe(true);
    // The app channel is polled: its adapter reports the reply as sent.
    expect(await delivered).toMatchObject({ messageId: sent.ok ? sent.data.id : '', state: 'sent' });
  });
});
