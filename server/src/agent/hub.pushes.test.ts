import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import type { MessageView, SessionSummary } from '../../../common/api/sessions';
import { AGENT_NAMESPACE } from '../../../common/socket/agent-events';
import type { IdentityStore } from '../auth/identity';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { newEvent, sessionChanged, sessionFacts } from '../bus/events';
import { loadConfig } from '../config/config';
import type { ConversationService } from '../conversations/service';
import { Ingest } from '../gateway/ingest';
import { Limits } from '../http/limits';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { createMetrics } from '../metrics/metrics';
import { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { until } from '../../test/support/until';
import { createAgentHub, type AgentHub } from './hub';

const ann: UserView = { id: 'ann', username: 'ann', displayName: 'Ann', roles: ['agent'], skillGroups: ['general'], expert: false };

/** The store as the hub sees it, counting every call the hub makes (ingest uses the store itself). */
function counted(store: SessionStore): { store: SessionStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/** Ann's token, and nobody else's. */
const identity = {
  verifyToken: (token: string | undefined) =>
    token === 'ann-token' ? { user: ann, tokenHash: 'h', expiresAt: Date.now() + 3_600_000 } : null,
  verify: (token: string | undefined) => (token === 'ann-token' ? ann : null),
  onRevoked: () => () => undefined,
} as unknown as IdentityStore;

describe('agent hub pushes (issue 8: what the events carry, nothing when nobody listens)', () => {
  let dir: string;
  let keys: KeyProvider;
  let raw: SessionStore;
  let calls: string[];
  let bus: Bus;
  let ingest: Ingest;
  let http: HttpServer;
  let hub: AgentHub;
  let url: string;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-hub-pushes-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    raw = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    const view = counted(raw);
    calls = view.calls;
    bus = createMemoryBus();
    ingest = new Ingest(raw, bus);
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as { port: number }).port}${AGENT_NAMESPACE}`;
    const config = loadConfig({ env: { HUILIU_DATA_DIR: dir }, argv: [], cwd: process.cwd() });
    const metrics = createMetrics();
    const router = {
      agentAvailable: async () => {},
      agentGone: async () => {},
      agentDisconnected: () => {},
      agentSignedOut: async () => {},
    };
    hub = await createAgentHub({
      httpServer: http as unknown as HttpsServer,
      auth: identity,
      store: view.store,
      bus,
      pool: new AgentPool(),
      router: router as unknown as Router,
      conversations: {} as ConversationService,
      logger: createLogger({ level: 'silent' }),
      limits: new Limits(config.limits, [], metrics),
      metrics,
      // Deterministic: "!!" is anger. Reading an emotion never touches the store (the calls stay as they were).
      emotionOf: (text) => (text.includes('!!') ? { label: 'anger', intensity: 0.9 } : { label: 'neutral', intensity: 0 }),
    });
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await hub.close();
    await bus.close();
    await new Promise((resolve) => http.close(resolve));
    await raw.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Ann connected and greeted; the calls of the greeting are forgotten. */
  async function annOnline(): Promise<{ socket: Socket; upserts: SessionSummary[] }> {
    const socket = connect(url, { auth: { token: 'ann-token' }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    const upserts: SessionSummary[] = [];
    socket.on('queue:upsert', (row: SessionSummary) => void upserts.push(row));
    await new Promise((resolve) => socket.once('hello', resolve));
    calls.length = 0;
    return { socket, upserts };
  }

  const say = (externalId: string, text: string, name?: string) =>
    ingest.accept(draft({ identity: { channel: 'WB', externalId, ...(name ? { displayName: name } : {}) }, text }), 'general');

  it('reads nothing and pushes nothing for any number of messages while no agent is connected', async () => {
    for (let i = 0; i < 60; i++) await say(`visitor-${i % 6}`, `message ${i}`, i % 2 ? `Visitor ${i % 6}` : undefined);
    await bus.close(); // waits for every queued delivery to the hub
    expect(calls).toEqual([]);
  });

  it('shows a renamed customer under the new name on the very next message, reading no customer for it', async () => {
    const { upserts } = await annOnline();
    await say('visitor-li', 'hello', 'Li');
    await until(() => upserts.length === 1);
    await say('visitor-li', 'my name changed', 'Wang');
    await until(() => upserts.length === 2);
    await say('visitor-li', 'still there?');
    await until(() => upserts.length === 3);
    expect(upserts.map((u) => [u.customerName, u.lastMessagePreview])).toEqual([
      ['Li', 'hello'],
      ['Wang', 'my name changed'],
      ['Wang', 'still there?'],
    ]);
    // The session and the name came with the events.
    expect(calls).toEqual([]);
  });

  it('reads a customer whose messages carry no name once, then serves the name from its cache', async () => {
    const { upserts } = await annOnline();
    for (let i = 0; i < 3; i++) await say('visitor-anon', `message ${i}`);
    await until(() => upserts.length === 3);
    expect(upserts.map((u) => u.customerName)).toEqual(['Web visitor', 'Web visitor', 'Web visitor']);
    expect(calls).toEqual(['getCustomer']);
  });

  it('shows the session as stored when a message event is older than a change already pushed', async () => {
    const first = await say('visitor-late', 'first');
    const { upserts } = await annOnline();
    // Ann takes the chat; the change is pushed before the message event that preceded it arrives.
    const before = await raw.getSession(first.session.id);
    const { session: taken } = await raw.claim(first.session.id, 'ann');
    const t = Date.now();
    await bus.publish(sessionChanged(taken, 'accepted', 'ann', undefined, before!));
    await until(() => upserts.some((u) => u.status === 'active'));
    calls.length = 0;
    const late = await raw.appendInbound(draft({ identity: { channel: 'WB', externalId: 'visitor-late' }, text: 'late' }), {
      skillGroup: 'general',
    });
    await bus.publish(
      newEvent(
        'message.in',
        {
          actor: 'customer',
          sessionId: late.session.id,
          conversationId: late.envelope.conversationId,
          // What the session looked like before Ann took it, stamped before the change.
          payload: {
            envelope: late.envelope,
            newSession: false,
            session: {
              ...sessionFacts(late.session),
              status: 'queued',
              assignedAgentId: null,
              updatedAt: new Date(t - 1000).toISOString(),
            },
          },
        },
        () => t - 1000,
      ),
    );
    await until(() => upserts.some((u) => u.lastMessagePreview === 'late'));
    expect(upserts.find((u) => u.lastMessagePreview === 'late')).toMatchObject({ status: 'active', assignedAgentId: 'ann' });
    expect(calls).toContain('getSession');
  });

  it('keeps a session taken by a colleague off the queue when an older change of it is published after the take (scale-out lane)', async () => {
    const first = await say('visitor-race', 'first words');
    const { socket, upserts } = await annOnline();
    const removed: string[] = [];
    socket.on('queue:remove', (x: { sessionId: string }) => void removed.push(x.sessionId));
    const queued = (await raw.getSession(first.session.id))!;
    // A router offered it to Ann (stored first) but publishes only after Bob took it: its event is stamped
    // after the take, its facts are older — as a router awaiting the cluster copy of its decision does.
    const offered = { ...queued, status: 'offered' as const, offeredAgentId: 'ann', updatedAt: new Date(Date.now() - 500).toISOString() };
    const { session: taken } = await raw.claim(first.session.id, 'bob');
    await bus.publish(sessionChanged(taken, 'accepted', 'bob', undefined, queued));
    await until(() => removed.includes(first.session.id));
    upserts.length = 0;
    await bus.publish(sessionChanged(offered, 'routed', 'system', 'new', queued));
    await bus.close(); // every delivery to the hub handled
    expect(upserts.filter((u) => u.id === first.session.id)).toEqual([]);
    expect(calls).toContain('getSession');
  });

  it("carries the customer's emotion on the pushed message and queue row, and keeps it on the row after a reply", async () => {
    const { socket, upserts } = await annOnline();
    const messages: MessageView[] = [];
    socket.on('message:new', (m: MessageView) => void messages.push(m));
    const first = await say('visitor-cross', 'third time I ask!!', 'Cross');
    await until(() => upserts.length === 1);
    expect(upserts[0]!.emotion).toEqual({ label: 'anger', intensity: 0.9 });
    // Built from the event alone: no read for the emotion.
    expect(calls).toEqual([]);

    // Ann takes the chat: the customer's next message reaches her with its emotion.
    const before = await raw.getSession(first.session.id);
    const { session: taken } = await raw.claim(first.session.id, 'ann');
    await bus.publish(sessionChanged(taken, 'accepted', 'ann', undefined, before!));
    await until(() => upserts.some((u) => u.status === 'active'));
    await say('visitor-cross', 'still waiting!!', 'Cross');
    await until(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ direction: 'in', emotion: { label: 'anger', intensity: 0.9 } });

    // Her reply reaches her without an emotion; a later row (read from the store) shows the customer's newest one.
    const reply = await raw.appendOutbound({
      sessionId: taken.id,
      authorId: 'ann',
      clientMessageId: 'ann-reply-1',
      content: { kind: 'text', body: { text: 'Found it, sorry.' } },
      critical: true,
    });
    const facts = sessionFacts(taken);
    await bus.publish(
      newEvent('message.out', {
        actor: 'ann',
        sessionId: taken.id,
        conversationId: taken.conversationId,
        payload: { envelope: reply.envelope, session: facts },
      }),
    );
    await until(() => messages.length === 2);
    expect(messages[1]!.direction).toBe('out');
    expect(messages[1]).not.toHaveProperty('emotion');
    upserts.length = 0;
    await bus.publish(sessionChanged(taken, 'accepted', 'ann'));
    await until(() => upserts.length === 1);
    expect(upserts[0]).toMatchObject({ lastMessagePreview: 'Found it, sorry.', emotion: { label: 'anger', intensity: 0.9 } });
  });

  it('pushes a session change from the facts its event carries, reading only the newest message (issue 18)', async () => {
    const first = await say('visitor-facts', 'hello');
    const { socket, upserts } = await annOnline();
    const before = await raw.getSession(first.session.id);
    const { session: taken } = await raw.claim(first.session.id, 'ann');
    calls.length = 0;
    await bus.publish(sessionChanged(taken, 'accepted', 'ann', undefined, before!));
    await until(() => upserts.some((u) => u.status === 'active'));
    expect(upserts.at(-1)).toMatchObject({ id: taken.id, status: 'active', assignedAgentId: 'ann', lastMessagePreview: 'hello' });
    expect(calls).not.toContain('getSession');
    // A close is only a removal: nothing read at all.
    const removed: string[] = [];
    socket.on('queue:remove', ({ sessionId }: { sessionId: string }) => void removed.push(sessionId));
    const closed = await raw.close(taken.id, 'ann', 'resolved');
    calls.length = 0;
    await bus.publish(sessionChanged(closed, 'closed', 'ann'));
    await until(() => removed.includes(taken.id));
    expect(calls).toEqual([]);
  });
});

/**
 * Issue 18 (docs/benchmarks.md "fourth pass"): what a contact's way through the queue pushes to agents
 * and leads — each socket hears of a row only when what it shows changes.
 */
describe('agent hub pushes: a contact from queued to closed (issue 18, fan-out)', () => {
  const user = (id: string, roles: UserView['roles']): UserView => ({
    id,
    username: id,
    displayName: id.toUpperCase(),
    roles,
    skillGroups: ['general'],
    expert: false,
  });
  const users = { ann: user('ann', ['agent']), bob: user('bob', ['agent']), lee: user('lee', ['lead']) };
  type Name = keyof typeof users;
  const staff = {
    verifyToken: (token: string | undefined) => {
      const u = users[token as Name];
      return u ? { user: u, tokenHash: `h-${u.id}`, expiresAt: Date.now() + 3_600_000 } : null;
    },
    verify: (token: string | undefined) => users[token as Name] ?? null,
    userById: (id: string) => users[id as Name] ?? null,
    onRevoked: () => () => undefined,
  } as unknown as IdentityStore;

  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let ingest: Ingest;
  let http: HttpServer;
  let hub: AgentHub;
  let url: string;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-hub-fanout-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    ingest = new Ingest(store, bus);
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as { port: number }).port}${AGENT_NAMESPACE}`;
    const config = loadConfig({ env: { HUILIU_DATA_DIR: dir }, argv: [], cwd: process.cwd() });
    const metrics = createMetrics();
    const router = {
      agentAvailable: async () => {},
      agentGone: async () => {},
      agentDisconnected: () => {},
      agentSignedOut: async () => {},
    };
    hub = await createAgentHub({
      httpServer: http as unknown as HttpsServer,
      auth: staff,
      store,
      bus,
      pool: new AgentPool(),
      router: router as unknown as Router,
      conversations: {} as ConversationService,
      // Collision control (the Team tab's `takeover:held`) is on with transfers; none is made here.
      transfers: { offersFor: async () => [] } as never,
      logger: createLogger({ level: 'silent' }),
      limits: new Limits(config.limits, [], metrics),
      metrics,
    });
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await hub.close();
    await bus.close();
    await new Promise((resolve) => http.close(resolve));
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everyone greeted; what each socket is pushed about sessions, as `event status/holder` strings. */
  async function online(): Promise<Record<Name, string[]>> {
    const got = { ann: [] as string[], bob: [] as string[], lee: [] as string[] };
    for (const name of Object.keys(users) as Name[]) {
      const socket = connect(url, { auth: { token: name }, transports: ['websocket'], reconnection: false });
      sockets.push(socket);
      socket.on('queue:upsert', (row: SessionSummary) =>
        got[name].push(`upsert ${row.status}${row.offeredAgentId ? `>${row.offeredAgentId}` : ''}`),
      );
      socket.on('queue:remove', () => got[name].push('remove'));
      socket.on('takeover:held', (h: { held: { holder: { id: string } } | null }) =>
        got[name].push(`held ${h.held ? h.held.holder.id : 'none'}`),
      );
      await new Promise((resolve) => socket.once('hello', resolve));
    }
    return got;
  }

  /** Lets the memory bus deliver what was published (each subscription in order). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
  const decision = { tier: 'assisted', configVersion: 1 } as never;

  async function offer(sessionId: string, to: string) {
    const before = (await store.getSession(sessionId))!;
    const { session } = await store.saveRouting(sessionId, decision, {
      agentId: to,
      expiresAt: new Date(Date.now() + 20_000).toISOString(),
    });
    await bus.publish(sessionChanged(session, 'routed', 'system', 'new', before));
  }
  async function accept(sessionId: string, by: string) {
    const before = (await store.getSession(sessionId))!;
    const { session } = await store.claim(sessionId, by);
    await bus.publish(sessionChanged(session, 'accepted', by, undefined, before));
  }
  async function close(sessionId: string, by: string) {
    const closed = await store.close(sessionId, by, 'resolved');
    await bus.publish(sessionChanged(closed, 'closed', by));
  }

  it("shows a call's way queued → offered → held → closed: colleagues get its waiting row and its removal once, the Team tab its held row and its end", async () => {
    const got = await online();
    const call = await ingest.accept(draft({ identity: { channel: 'WB', externalId: 'caller-1' }, text: 'hello' }), 'general');
    await settle();
    await offer(call.session.id, 'ann');
    await settle();
    await accept(call.session.id, 'ann');
    await settle();
    await close(call.session.id, 'ann');
    await settle();
    // Ann: the waiting row, her offer, her chat, its end; her own contact is never on her Team tab.
    expect(got.ann.filter((e) => !e.startsWith('held'))).toEqual(['upsert queued', 'upsert offered>ann', 'upsert active', 'remove']);
    expect(got.ann.filter((e) => e.startsWith('held'))).toEqual([]);
    // Bob: the waiting row (an offer to Ann changes nothing he shows), its removal once Ann took it, and
    // the held row on his Team tab until it closed.
    expect(got.bob.filter((e) => e.startsWith('upsert') || e === 'remove')).toEqual(['upsert queued', 'remove']);
    expect(got.bob.filter((e) => e.startsWith('held'))).toEqual(['held ann', 'held none']);
    // The lead sees every state of the group's contacts.
    expect(got.lee.filter((e) => e.startsWith('upsert') || e === 'remove')).toEqual([
      'upsert queued',
      'upsert offered>ann',
      'upsert active',
      'remove',
    ]);
    expect(got.lee.filter((e) => e.startsWith('held'))).toEqual(['held ann', 'held none']);
  });

  it('tells an agent whose offer moved on, and everyone when the contact is waiting again or moves between agents', async () => {
    const got = await online();
    const q = (events: string[]) => events.filter((e) => !e.startsWith('held'));
    const h = (events: string[]) => events.filter((e) => e.startsWith('held'));
    const chat = await ingest.accept(draft({ identity: { channel: 'WB', externalId: 'visitor-9' }, text: 'hi' }), 'general');
    await settle();
    await offer(chat.session.id, 'ann');
    await settle();
    // The offer moves to Bob: Ann's row no longer says it is offered to her.
    await offer(chat.session.id, 'bob');
    await settle();
    expect(q(got.ann).at(-1)).toBe('upsert offered>bob');
    expect(q(got.bob).at(-1)).toBe('upsert offered>bob');
    // Bob takes it: Ann drops it from her queue and sees it held by Bob.
    await accept(chat.session.id, 'bob');
    await settle();
    expect(q(got.ann).at(-1)).toBe('remove');
    expect(h(got.ann).at(-1)).toBe('held bob');
    // Back to the queue (released): Ann sees it waiting again, and no longer held.
    const released = await store.release(chat.session.id, 'bob');
    await bus.publish(sessionChanged(released!, 'released', 'bob'));
    await settle();
    expect(q(got.ann).at(-1)).toBe('upsert queued');
    expect(h(got.ann).at(-1)).toBe('held none');
    // Ann takes it: Bob drops it from his queue, and his Team tab shows Ann holding it.
    await accept(chat.session.id, 'ann');
    await settle();
    expect(q(got.bob).at(-1)).toBe('remove');
    expect(h(got.bob)).toEqual(['held ann']);
    await close(chat.session.id, 'ann');
    await settle();
    expect(h(got.bob).at(-1)).toBe('held none');
    expect(q(got.ann).at(-1)).toBe('remove');
    expect(h(got.lee).at(-1)).toBe('held none');
    expect(h(got.ann)).toEqual(['held bob', 'held none']);
  });
});
