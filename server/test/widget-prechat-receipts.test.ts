import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDelivery } from '../../common/socket/agent-events';
import { createMemoryBroker } from '../src/bus/bus.memory';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer } from '../src/main';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { openWidget, type WidgetClient } from './support/widget-client';
import { laneEnv } from './support/lane';

const id = (p: string) => `${p}-${Math.random().toString(36).slice(2, 12)}`;

async function hello(s: Pick<TestServer, 'url' | 'tls'>, visitorToken?: string) {
  const w = await openWidget(s);
  w.send({ type: 'hello', ...(visitorToken ? { visitorToken } : {}) });
  const welcome = await w.next('welcome');
  return { w, welcome };
}

async function write(w: WidgetClient, text: string) {
  const clientMessageId = id('m');
  w.send({ type: 'message', clientMessageId, text });
  return w.next('ack', (a) => a.clientMessageId === clientMessageId);
}

/** Collects one socket.io event's payloads. */
function collect<T>(socket: Socket, event: string): T[] {
  const got: T[] = [];
  socket.on(event, (p: T) => void got.push(p));
  return got;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the widget pre-chat form, typing and read receipts (issue 13)', () => {
  let s: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    s = await startTestServer({}, { logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }) });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('offers the demo form, refuses bad answers, and routes the first session by topic', async () => {
    const { w, welcome } = await hello(s);
    expect(welcome.preChat).toEqual({
      name: 'optional',
      contact: 'optional',
      topics: [
        { id: 'billing', label: { en: 'Billing', zh: '账单' } },
        { id: 'technical', label: { en: 'Technical support', zh: '技术支持' } },
        { id: 'sales', label: { en: 'Sales', zh: '销售咨询' } },
      ],
    });
    expect(welcome.preChatDone).toBe(false);
    expect(JSON.stringify(welcome)).not.toContain('skillGroup');

    w.send({ type: 'pre-chat', name: 'Mei Lin', email: 'not-an-address', topic: 'sales' });
    expect(await w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    w.send({ type: 'pre-chat', name: 'Mei Lin', phone: '12', topic: 'sales' });
    expect(await w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    w.send({ type: 'pre-chat', name: 'Mei Lin', topic: 'astrology' });
    expect(await w.next('error')).toMatchObject({ code: 'UNKNOWN_TOPIC' });
    w.send({ type: 'pre-chat', name: 'Mei Lin' });
    expect(await w.next('error')).toMatchObject({ code: 'VALIDATION_FAILED' });

    // A second tab of the same visitor hides its form too.
    const tab2 = await hello(s, welcome.visitorToken);
    w.send({ type: 'pre-chat', name: 'Mei Lin', email: 'Mei.Lin@Example.com', phone: '+86 138-0013-8000', topic: 'sales' });
    await w.next('pre-chat-saved');
    await tab2.w.next('pre-chat-saved');

    const customer = await s.services.store.findCustomerByIdentity(
      'WB',
      (await import('../src/gateway/web/normalize')).visitorExternalId(welcome.visitorToken),
    );
    expect(customer?.name).toBe('Mei Lin');
    const { links } = await s.services.store.customerIdentities(customer!.id);
    expect(links.map((l) => [l.kind, l.value, l.source]).sort()).toEqual([
      ['email', 'mei.lin@example.com', 'WB:pre-chat'],
      ['phone', '+8613800138000', 'WB:pre-chat'],
    ]);

    // The sales topic maps to the demo's vip group: the first message opens its session there.
    const a = await write(w, 'Do you have a team plan?');
    expect((await s.services.store.getSession(a.sessionId))?.skillGroup).toBe('vip');

    // Back later: the form is not shown again.
    const again = await hello(s, welcome.visitorToken);
    expect(again.welcome.preChatDone).toBe(true);
    for (const c of [w, tab2.w, again.w]) c.ws.close();
  });

  it('records contact details as untrusted links: a second visitor naming the same e-mail merges nothing', async () => {
    const first = await hello(s);
    first.w.send({ type: 'pre-chat', email: 'shared@example.com', topic: 'billing' });
    await first.w.next('pre-chat-saved');
    const second = await hello(s);
    second.w.send({ type: 'pre-chat', email: 'shared@example.com', topic: 'billing' });
    await second.w.next('pre-chat-saved');
    const { visitorExternalId } = await import('../src/gateway/web/normalize');
    const one = await s.services.store.findCustomerByIdentity('WB', visitorExternalId(first.welcome.visitorToken));
    const two = await s.services.store.findCustomerByIdentity('WB', visitorExternalId(second.welcome.visitorToken));
    expect(one!.id).not.toBe(two!.id);
    expect(await s.services.store.customerGroup(two!.id)).toEqual([two!.id]);
    expect((await s.services.store.customerIdentities(one!.id)).links.map((l) => l.value)).toEqual(['shared@example.com']);
    expect((await s.services.store.customerIdentities(two!.id)).links).toEqual([]);
    // The billing topic maps to general.
    const a = await write(second.w, 'Invoice question');
    expect((await s.services.store.getSession(a.sessionId))?.skillGroup).toBe('general');
    first.w.ws.close();
    second.w.ws.close();
  });

  it('never logs the raw e-mail or phone of the form', () => {
    const all = lines.join('\n');
    // The line names which fields were given, and carries no address at all (not even a masked one).
    const saved = lines.filter((l) => l.includes('pre-chat form saved'));
    expect(saved.length).toBeGreaterThanOrEqual(3);
    for (const l of saved) expect(l).not.toContain('@');
    expect(saved.some((l) => l.includes('"email":true') && l.includes('"phone":true'))).toBe(true);
    for (const raw of ['mei.lin@example.com', 'Mei.Lin@Example.com', 'shared@example.com', '13800138000', '138-0013-8000'])
      expect(all).not.toContain(raw);
  });

  it('carries typing both ways, and refuses typing from an agent who is not assigned', async () => {
    const { w } = await hello(s);
    const a = await write(w, 'Typing test');
    const agent = await openAgentSocket(s, await s.login('agent1'));
    const lead = await openAgentSocket(s, await s.login('lead'));
    try {
      expect(await ack(lead, 'agent:typing', { sessionId: a.sessionId, typing: true })).toMatchObject({
        ok: false,
        error: { code: 'NOT_ASSIGNED' },
      });
      expect((await ack(agent, 'offer:accept', { sessionId: a.sessionId })).ok).toBe(true);
      const customerTyping = collect<{ sessionId: string; typing: boolean }>(agent, 'customer:typing');
      w.send({ type: 'typing', typing: true });
      await until(() => customerTyping.length > 0, 'customer:typing');
      expect(customerTyping[0]).toEqual({ sessionId: a.sessionId, typing: true });

      expect(await ack(agent, 'agent:typing', { sessionId: a.sessionId, typing: true })).toEqual({ ok: true, data: { forwarded: true } });
      expect(await w.next('typing')).toEqual({ type: 'typing', typing: true });
      expect(await ack(agent, 'agent:typing', { sessionId: a.sessionId, typing: false })).toMatchObject({ ok: true });
      expect(await w.next('typing')).toEqual({ type: 'typing', typing: false });

      // A burst of typing frames is cut silently: no error frame, fewer pushes than frames.
      const before = customerTyping.length;
      for (let i = 0; i < 40; i++) w.send({ type: 'typing', typing: i % 2 === 0 });
      w.send({ type: 'ping', t: 1 });
      await w.next('pong');
      await new Promise((r) => setTimeout(r, 200));
      expect(customerTyping.length - before).toBeLessThan(40);
      expect(w.frames.some((f) => f.type === 'error')).toBe(false);
    } finally {
      agent.close();
      lead.close();
      w.ws.close();
    }
  });

  it('keeps read marks both ways: never backwards, only the visitor’s own conversation, delivery read pushed', async () => {
    const { w, welcome } = await hello(s);
    const first = await write(w, 'Read receipts please');
    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      expect((await ack(agent, 'offer:accept', { sessionId: first.sessionId })).ok).toBe(true);
      const deliveries = collect<MessageDelivery>(agent, 'message:delivery');
      const r1 = await ack<{ id: string; seq: number }>(agent, 'message:send', {
        sessionId: first.sessionId,
        clientMessageId: id('r'),
        text: 'Hello!',
      });
      const r2 = await ack<{ id: string; seq: number }>(agent, 'message:send', {
        sessionId: first.sessionId,
        clientMessageId: id('r'),
        text: 'How can I help?',
      });
      if (!r1.ok || !r2.ok) throw new Error('reply failed');
      await w.next('message', (f) => f.message.text === 'How can I help?');

      // The visitor saw the first reply only.
      w.send({ type: 'read', conversationId: first.conversationId, upToSeq: r1.data.seq });
      await until(() => deliveries.some((d) => d.messageId === r1.data.id && d.state === 'read'), 'read of the first reply');
      expect((await s.services.channels.delivery(r1.data.id))?.state).toBe('read');
      expect((await s.services.channels.delivery(r2.data.id))?.state).not.toBe('read');
      // Backwards changes nothing; forwards marks the second.
      w.send({ type: 'read', conversationId: first.conversationId, upToSeq: 0 });
      w.send({ type: 'read', conversationId: first.conversationId, upToSeq: r2.data.seq });
      await until(() => deliveries.some((d) => d.messageId === r2.data.id && d.state === 'read'), 'read of the second reply');
      expect((await s.services.channels.delivery(r1.data.id))?.state).toBe('read');

      // Another visitor cannot mark this conversation.
      const other = await hello(s);
      await write(other.w, 'I am someone else');
      other.w.send({ type: 'read', conversationId: first.conversationId, upToSeq: 99 });
      expect(await other.w.next('error')).toMatchObject({ code: 'SESSION_NOT_FOUND' });
      other.w.ws.close();

      // The agent's read mark reaches the visitor's tabs and the welcome, and never moves back.
      expect(await ack(agent, 'session:read', { sessionId: first.sessionId, upToSeq: first.seq })).toEqual({
        ok: true,
        data: { upToSeq: first.seq },
      });
      expect(await w.next('read')).toEqual({ type: 'read', conversationId: first.conversationId, upToSeq: first.seq });
      expect(await ack(agent, 'session:read', { sessionId: first.sessionId, upToSeq: 0 })).toEqual({
        ok: true,
        data: { upToSeq: first.seq },
      });
      // Past the newest message it stops at the newest.
      expect(await ack(agent, 'session:read', { sessionId: first.sessionId, upToSeq: 10_000 })).toEqual({
        ok: true,
        data: { upToSeq: r2.data.seq },
      });
      const back = await hello(s, welcome.visitorToken);
      expect(back.welcome.agentReadSeq).toBe(r2.data.seq);
      back.w.ws.close();
      // An agent who may not see the session's group gets SESSION_NOT_FOUND.
      const agent2 = await openAgentSocket(s, await s.login('agent2'));
      expect(await ack(agent2, 'session:read', { sessionId: first.sessionId, upToSeq: 1 })).toMatchObject({
        ok: false,
        error: { code: 'SESSION_NOT_FOUND' },
      });
      agent2.close();
    } finally {
      agent.close();
      w.ws.close();
    }
  });
});

describe('agent typing across two nodes (issue 13)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-typing-'));
  const broker = createMemoryBroker();
  const nodes: TestServer[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const config = loadConfig({
        env: laneEnv({ HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'silent' }, dataDir),
        argv: ['--demo'],
        cwd: process.cwd(),
      });
      const server = await startServer(config, createLogger({ level: 'silent' }), { bus: broker.node() });
      nodes.push({
        ...server,
        dataDir,
        async login(username) {
          const res = await server.app.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { username, password: 'huiliu-demo' },
          });
          return (res.json() as { token: string }).token;
        },
        cleanup: () => server.close(),
      });
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reaches the visitor on the other node, and so does the agent’s read mark', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const { w } = await hello(a);
    const first = await write(w, 'Across nodes');
    const agent = await openAgentSocket(b, await b.login('agent1'));
    try {
      expect((await ack(agent, 'offer:accept', { sessionId: first.sessionId })).ok).toBe(true);
      expect((await ack(agent, 'agent:typing', { sessionId: first.sessionId, typing: true })).ok).toBe(true);
      expect(await w.next('typing')).toEqual({ type: 'typing', typing: true });
      expect((await ack(agent, 'session:read', { sessionId: first.sessionId, upToSeq: first.seq })).ok).toBe(true);
      expect(await w.next('read')).toMatchObject({ upToSeq: first.seq });
    } finally {
      agent.close();
      w.ws.close();
    }
  });
});
