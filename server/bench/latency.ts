/**
 * Inbound message → on the agent's screen (DESIGN §9: p99 ≤ 50 ms at 1,000 msg/s, single node,
 * embedded). Messages enter through the app channel route (Fastify `inject`, so the load generator
 * does not spend the two cores on TLS handshakes) and are timed until the agent's real socket.io
 * client (TLS WebSocket) receives the queue update carrying them. The baseline, in the same run, is a
 * bare Fastify route that pushes the same payload to a socket.io client directly: no store, no bus,
 * no router.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import type { SessionSummary } from '../../common/api/sessions';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer } from '../src/main';
import { ensureTlsMaterial } from '../src/tls/certificates';

export interface LatencyResult {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** Sends `count` messages paced at `rate`/s; `deliver(i)` must cause marker `m<i>;` to arrive. */
async function drive(
  count: number,
  rate: number,
  socket: Socket,
  event: string,
  pick: (payload: unknown) => string | undefined,
  deliver: (i: number) => Promise<unknown>,
): Promise<LatencyResult> {
  const sentAt = new Map<number, bigint>();
  const latencies: number[] = [];
  socket.on(event, (payload: unknown) => {
    const m = /m(\d+);/.exec(pick(payload) ?? '');
    if (!m) return;
    const i = Number(m[1]);
    const t0 = sentAt.get(i);
    if (t0 === undefined) return;
    sentAt.delete(i);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
  const start = process.hrtime.bigint();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    // Pace against the clock, not per message, so slow handling shows up as latency, not as a lower rate.
    const due = start + BigInt(Math.round((i * 1e9) / rate));
    while (process.hrtime.bigint() < due) await new Promise((r) => setImmediate(r));
    sentAt.set(i, process.hrtime.bigint());
    inflight.push(deliver(i));
  }
  await Promise.all(inflight);
  const deadline = Date.now() + 5000;
  while (sentAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  latencies.sort((a, b) => a - b);
  return {
    sent: count,
    received: latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
  };
}

function clientFor(url: string, ca: string, auth: Record<string, string>): Promise<Socket> {
  const socket = connect(url, { auth, transports: ['websocket'], ca, reconnection: false } as never);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export async function baselineLatency(count: number, rate: number): Promise<LatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-bench-bare-'));
  const tls = await ensureTlsMaterial(join(dir, 'tls'), ['127.0.0.1']);
  let https: HttpsServer | undefined;
  const app = Fastify({
    serverFactory: (handler) => (https = createServer({ cert: tls.certPem + tls.caPem, key: tls.keyPem, minVersion: 'TLSv1.3' }, handler)),
  });
  const io = new Server(https!, { serveClient: false });
  const nsp = io.of('/agent');
  app.post('/push', async (request) => {
    nsp.emit('queue:upsert', { lastMessagePreview: (request.body as { text: string }).text });
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = https!.address() as { port: number };
  const socket = await clientFor(`https://127.0.0.1:${port}/agent`, tls.caPem, {});
  try {
    return await drive(
      count,
      rate,
      socket,
      'queue:upsert',
      (p) => (p as { lastMessagePreview?: string }).lastMessagePreview,
      (i) => app.inject({ method: 'POST', url: '/push', payload: { text: `m${i}; where is my order?` } }),
    );
  } finally {
    socket.close();
    io.engine.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function huiliuLatency(count: number, rate: number, customers: number): Promise<LatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-bench-e2e-'));
  // The load generator is one app sending for many customers far faster than a real one: lift the
  // abuse limits (a deployment sets its own in the same `limits:` section) so the path, not a refusal,
  // is measured.
  const limitsFile = join(dir, 'bench-limits.json');
  const budget = { points: 1_000_000, seconds: 60 };
  writeFileSync(limitsFile, JSON.stringify({ limits: { appKey: { messages: budget, reads: budget }, visitor: { messages: budget } } }));
  const config = loadConfig({
    env: { HUILIU_DATA_DIR: dir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'silent', HUILIU_CONFIG: limitsFile },
    argv: ['--demo'],
    cwd: process.cwd(),
  });
  const server = await startServer(config, createLogger({ level: 'silent' }));
  const login = await server.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'agent1', password: 'huiliu-demo' },
  });
  const { token } = login.json() as { token: string };
  const socket = await clientFor(`${server.url}/agent`, server.tls.caPem, { token });
  try {
    return await drive(
      count,
      rate,
      socket,
      'queue:upsert',
      (p) => (p as SessionSummary).lastMessagePreview,
      (i) =>
        server.app.inject({
          method: 'POST',
          url: '/api/v1/channels/app/messages',
          headers: { 'x-huiliu-key': 'demo-app-key' },
          payload: { customer: { externalId: `bench-${i % customers}` }, text: `m${i}; where is my order?`, clientMessageId: `bench-${i}` },
        }),
    );
  } finally {
    socket.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
