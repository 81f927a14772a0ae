import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView, SessionSummary } from '../../common/api/sessions';
import { ack, openAgentSocket } from './support/agent-client';
import type { TestServer } from './support/harness';
import { httpsRequest } from './support/https';
import { startServerProcess, type ServerProcess } from './support/server-process';
import { until } from './support/until';
import { openWidget, type WidgetClient } from './support/widget-client';

/** The text of a message view ('' for other kinds). */
const textOf = (m: MessageView) => (m.kind === 'text' ? m.body.text : '');

/** What the widget and agent clients need of a server: its URL and the data dir's CA. */
type Endpoint = Pick<TestServer, 'url' | 'tls'>;

/**
 * Two real server processes (the compiled build, `--demo`) on ONE data directory (SQLite in WAL
 * mode, opened by both) and one Redis (`HUILIU_BUS=redis`, 127.0.0.1:6379, a prefix of this run):
 * agents on different processes, visitors on either, and every customer message reaches the one agent
 * who has the chat, once; the queue pushes reach the agents on both processes.
 *
 * Routing note (docs/bus.md, "Two server processes"): the agent pool is per process, so a new contact
 * is offered by the process holding the router's lease to an agent connected there, and an agent on
 * the other process takes from the queue when they become available (sign-in, a chat ends). The test
 * follows that order: agent1 on the first process fills up to capacity (3), then the lead signs in on
 * the second and is offered what waits.
 */
describe('two server processes sharing Redis and a data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-two-'));
  const prefix = `huiliu-test-${randomUUID()}`;
  const env = { HUILIU_BUS: 'redis', HUILIU_REDIS_NODES: '127.0.0.1:6379', HUILIU_REDIS_PREFIX: prefix, HUILIU_LOG_LEVEL: 'warn' };
  const servers: ServerProcess[] = [];
  const endpoints: Endpoint[] = [];
  const sockets: Socket[] = [];
  const widgets: WidgetClient[] = [];

  beforeAll(async () => {
    // One after the other: the first creates the database, the keys and the demo users.
    for (let i = 0; i < 2; i++) {
      const s = await startServerProcess({ compiled: true, dataDir, env });
      servers.push(s);
      endpoints.push({ url: s.url, tls: { caPem: readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8') } as TestServer['tls'] });
    }
  }, 120_000);
  afterAll(async () => {
    for (const w of widgets) w.ws.close();
    for (const s of sockets) s.disconnect();
    const codes = await Promise.all(servers.map((s) => s.stop()));
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const keys = await redis.keys(`{${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  /** Signs `username` in on `e` and opens their agent socket; offers are accepted as they come. */
  async function agent(e: Endpoint, username: string) {
    const login = await httpsRequest(`${e.url}/api/v1/auth/login`, {
      method: 'POST',
      ca: e.tls.caPem,
      json: { username, password: 'huiliu-demo' },
    });
    expect(login.status).toBe(200);
    const socket = await openAgentSocket(e as TestServer, (JSON.parse(login.body) as { token: string }).token);
    sockets.push(socket);
    const seen = { messages: [] as MessageView[], upserts: [] as SessionSummary[], accepted: [] as string[] };
    socket.on('message:new', (m: MessageView) => void seen.messages.push(m));
    socket.on('queue:upsert', (s: SessionSummary) => void seen.upserts.push(s));
    socket.on('offer:new', ({ sessionId }: { sessionId: string }) => {
      void ack(socket, 'offer:accept', { sessionId }).then((r) => r.ok && seen.accepted.push(sessionId));
    });
    return seen;
  }

  /** A new visitor on `e` sends its first message; resolves with the session id. */
  async function visitor(e: Endpoint, n: number) {
    const w = await openWidget(e);
    widgets.push(w);
    w.send({ type: 'hello' });
    await w.next('welcome');
    w.send({ type: 'message', clientMessageId: `two-${n}-first-000`, text: `visitor ${n} first` });
    const { sessionId } = await w.next('ack');
    return { w, sessionId, n };
  }

  it('delivers every visitor message to the one assigned agent, once, and pushes the queue to agents on both processes', async () => {
    const [p1, p2] = endpoints as [Endpoint, Endpoint];
    const agent1 = await agent(p1, 'agent1');
    // Three contacts, from visitors on both processes: the router offers them to agent1 (on p1).
    const first = [await visitor(p1, 0), await visitor(p2, 1), await visitor(p1, 2)];
    await until(() => agent1.accepted.length === 3, 20_000);
    expect(new Set(agent1.accepted)).toEqual(new Set(first.map((v) => v.sessionId)));
    // agent1 is full: three more wait in the queue; agent1 (on p1) sees the ones started on p2 too.
    const waiting = [await visitor(p2, 3), await visitor(p1, 4), await visitor(p2, 5)];
    await until(() => waiting.every((v) => agent1.upserts.some((s) => s.id === v.sessionId && s.status === 'queued')), 20_000);
    // The lead signs in on p2 and is offered what waits, including contacts started on p1.
    const lead = await agent(p2, 'lead');
    await until(() => lead.accepted.length === 3, 20_000);
    expect(new Set(lead.accepted)).toEqual(new Set(waiting.map((v) => v.sessionId)));
    // The lead's queue rows (pushed by p2) include the contact a visitor started on p1.
    await until(() => lead.upserts.some((s) => s.id === waiting[1]!.sessionId));

    // Now every visitor sends M messages through their own process, interleaved.
    const M = 8;
    const all = [...first, ...waiting];
    const owner = new Map([...first.map((v) => [v.sessionId, 'agent1'] as const), ...waiting.map((v) => [v.sessionId, 'lead'] as const)]);
    const texts: string[] = [];
    for (let j = 0; j < M; j++) {
      for (const v of all) {
        const text = `visitor ${v.n} message ${j}`;
        texts.push(text);
        v.w.send({ type: 'message', clientMessageId: `two-${v.n}-msg-${String(j).padStart(3, '0')}`, text });
      }
    }
    for (const v of all)
      for (let j = 0; j < M; j++) await v.w.next('ack', (a) => a.clientMessageId === `two-${v.n}-msg-${String(j).padStart(3, '0')}`);
    const got = () => [...agent1.messages, ...lead.messages].filter((m) => texts.includes(textOf(m)));
    await until(() => got().length >= texts.length, 20_000).catch((error: unknown) => {
      const missing = texts.filter((t) => !got().some((m) => textOf(m) === t));
      throw new Error(`${String(error)}; ${missing.length} missing, e.g. ${missing.slice(0, 5).join(' | ')}`);
    });
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would come now
    // Exactly once each, and only to the agent who has the chat.
    const received = got().map(textOf);
    expect(received.length).toBe(texts.length);
    expect(new Set(received)).toEqual(new Set(texts));
    for (const m of agent1.messages.filter((x) => texts.includes(textOf(x)))) expect(owner.get(m.sessionId)).toBe('agent1');
    for (const m of lead.messages.filter((x) => texts.includes(textOf(x)))) expect(owner.get(m.sessionId)).toBe('lead');
    // In each chat, in the order the visitor sent them.
    for (const v of all) {
      const mine = got()
        .filter((m) => m.sessionId === v.sessionId)
        .map(textOf);
      expect(mine).toEqual(Array.from({ length: M }, (_, j) => `visitor ${v.n} message ${j}`));
    }
  });
});
