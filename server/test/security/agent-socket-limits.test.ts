import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Socket } from 'socket.io-client';
import { ack, openAgentSocket } from '../support/agent-client';
import { writeConfigFile } from '../support/config-file';
import { startTestServer, type TestServer } from '../support/harness';
import { metricValue } from '../support/metrics';
import { eventually, until } from '../support/until';

/**
 * The staff socket (`/agent`) gets the same kinds of limits as the widget (issue 6 A2, A3): open
 * sockets per IP, an event budget per socket, and a send-buffer high-water mark for slow readers.
 */
const counter = metricValue;

describe('limits on the agent socket', () => {
  let s: TestServer;
  let token: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    const config = writeConfigFile({
      limits: { agent: { connections: 3, eventBurst: 40, eventsPerSecond: 1, sendBufferBytes: 16 * 1024 } },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
    token = await s.login('agent1');
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s.cleanup();
  });

  it('refuses a fourth socket from one address and takes one again when a socket closes', async () => {
    const open = [await openAgentSocket(s, token), await openAgentSocket(s, token), await openAgentSocket(s, token)];
    sockets.push(...open);
    await expect(openAgentSocket(s, token)).rejects.toThrow();
    expect(await counter(s, 'huiliu_rate_limited_total', 'limit="agent_ip_connections"')).toBeGreaterThanOrEqual(1);
    open[0]!.close();
    const again = await eventually(async () => openAgentSocket(s, token).catch(() => null));
    sockets.push(again);
    expect(again.connected).toBe(true);
    for (const x of [...open, again]) x.close();
  });

  it('gives a slot back when a handshake is refused before it becomes a connection', async () => {
    // Upgrades that the WebSocket layer refuses (a bad Sec-WebSocket-Key) raise no socket.io event.
    for (let i = 0; i < 10; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${s.url}/socket.io/?EIO=4&transport=websocket`, {
          ca: s.tls.caPem,
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'notvalid' },
        });
        req.once('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('upgrade', () => resolve(101));
        req.once('error', reject);
        req.end();
      });
      expect(status).toBe(400);
    }
    const open: Socket[] = [];
    for (let i = 0; i < 3; i++) open.push(await eventually(async () => openAgentSocket(s, token).catch(() => null)));
    sockets.push(...open);
    expect(open.every((x) => x.connected)).toBe(true);
    for (const x of open) x.close();
  });

  it('answers events beyond the per-socket budget with RATE_LIMITED and keeps the socket', async () => {
    const socket = await eventually(async () => openAgentSocket(s, token).catch(() => null));
    sockets.push(socket);
    const answers = await Promise.all(Array.from({ length: 60 }, () => ack(socket, 'queue:list', {})));
    const limited = answers.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(15);
    // Each refusal names the wait until the socket's bucket (1 event/s here) holds a token again.
    const waits = answers.flatMap((a) =>
      !a.ok && a.error.code === 'RATE_LIMITED' ? [(a.error.details as { retryAfterMs: number }).retryAfterMs] : [],
    );
    expect(waits.every((ms) => Number.isInteger(ms) && ms > 0 && ms <= 1000)).toBe(true);
    expect(answers.filter((a) => a.ok).length).toBeLessThanOrEqual(45);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('disconnects a signed-in client that stops reading while asking for large answers', async () => {
    // One conversation with about 800 KB of text: each session:open answer carries its newest page.
    const at = new Date().toISOString();
    let sessionId = '';
    for (let i = 0; i < 100; i++) {
      const r = await s.services.store.appendInbound(
        {
          identity: { channel: 'AP', externalId: 'demo:big-talker' },
          content: { kind: 'text', body: { text: `${i} ${'x'.repeat(7900)}` } },
          critical: true,
          clientMessageId: `big-${i}`,
          sentAt: at,
          receivedAt: at,
          meta: {},
        },
        { skillGroup: 'general' },
      );
      sessionId = r.session.id;
    }
    // A raw socket.io client (engine.io v4 frames) whose TCP socket is paused after it signs in.
    const ws = new WebSocket(`${s.url.replace('https', 'wss')}/socket.io/?EIO=4&transport=websocket`, { ca: s.tls.caPem });
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(`40/agent,${JSON.stringify({ token })}`);
    await until(async () => frames.some((f) => f.startsWith('40/agent,{"sid"')));
    (ws as unknown as { _socket: Duplex })._socket.pause();
    for (let i = 0; i < 40; i++) ws.send(`42/agent,${i}["session:open",{"sessionId":"${sessionId}"}]`);
    await until(async () => (await counter(s, 'huiliu_agent_disconnected_total', 'reason="slow_consumer"')) >= 1, 15_000);
    ws.terminate();
  });
});
