import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionViewers } from '../../common/api/collision';
import type { SessionSummary } from '../../common/api/sessions';
import { createMemoryBroker } from '../src/bus/bus.memory';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer } from '../src/main';
import { ack, openAgentSocket } from './support/agent-client';
import { until } from './support/until';
import type { TestServer } from './support/harness';
import { openWidget } from './support/widget-client';
import { laneEnv } from './support/lane';

/**
 * Two server nodes in one process on one data directory and one bus backend (what two servers on
 * one Redis are): pushes to sockets are fan-out, so a socket gets every event whichever node it is
 * connected to; with consumer groups each event reached only one node's sockets.
 */
describe('two nodes on one bus', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-nodes-'));
  const broker = createMemoryBroker();
  const nodes: TestServer[] = [];
  const sockets: Socket[] = [];

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
          if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.body}`);
          return (res.json() as { token: string }).token;
        },
        cleanup: () => server.close(),
      });
    }
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const n of nodes) await n.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('pushes a visitor message to its tabs and to the agents on both nodes', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const agent = await openAgentSocket(b, await b.login('agent1'));
    sockets.push(agent);
    const upserts: SessionSummary[] = [];
    agent.on('queue:upsert', (s: SessionSummary) => void upserts.push(s));

    const onA = await openWidget(a);
    onA.send({ type: 'hello' });
    const { visitorToken } = await onA.next('welcome');
    onA.send({ type: 'message', clientMessageId: 'two-nodes-0001', text: 'first' });
    const { sessionId } = await onA.next('ack');
    const onB = await openWidget(b);
    onB.send({ type: 'hello', visitorToken });
    await onB.next('welcome');

    for (const [n, text] of ['second', 'third'].entries()) {
      onA.send({ type: 'message', clientMessageId: `two-nodes-000${n + 2}`, text });
    }
    // The sending tab gets acks; the visitor's tab on the other node gets the messages.
    for (const n of [2, 3]) expect((await onA.next('ack', (f) => f.clientMessageId === `two-nodes-000${n}`)).sessionId).toBe(sessionId);
    for (const text of ['second', 'third']) expect((await onB.next('message', (f) => f.message.text === text)).message.text).toBe(text);
    const end = Date.now() + 5000;
    while (!upserts.some((s) => s.id === sessionId) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(upserts.map((s) => s.id)).toContain(sessionId);
    onA.ws.close();
    onB.ws.close();
  });

  it('shows the viewers of a conversation to each other across the two nodes (session.viewing)', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const widget = await openWidget(a);
    widget.send({ type: 'hello' });
    await widget.next('welcome');
    widget.send({ type: 'message', clientMessageId: 'two-nodes-view-1', text: 'who is looking?' });
    const { sessionId } = await widget.next('ack');
    const onA = await openAgentSocket(a, await a.login('agent1'));
    const onB = await openAgentSocket(b, await b.login('lead'));
    sockets.push(onA, onB);
    const seen: Record<string, SessionViewers[]> = { a: [], b: [] };
    onA.on('session:viewers', (v: SessionViewers) => void seen.a!.push(v));
    onB.on('session:viewers', (v: SessionViewers) => void seen.b!.push(v));
    const names = (list: SessionViewers[]) =>
      (list.filter((v) => v.sessionId === sessionId).at(-1)?.viewers ?? []).map((v) => `${v.name}:${v.via}`).join(',');

    expect(await ack(onA, 'session:view', { sessionId })).toMatchObject({ ok: true });
    expect(await ack(onB, 'session:view', { sessionId })).toMatchObject({ ok: true });
    // Agent One on node A and the lead on node B (a lead's workstation view of a waiting contact).
    const both = 'Agent One:workstation,Team Lead:workstation';
    await until(() => names(seen.a!) === both && names(seen.b!) === both);
    // The lead leaves on node B: Agent One on node A sees it.
    onB.disconnect();
    await until(() => names(seen.a!) === 'Agent One:workstation');
    widget.ws.close();
  });
});
