/**
 * Per-stage server time of a call without Kamailio (issue 18, docs/benchmarks.md "SIP call setup"):
 * `node --import tsx server/bench/voice-stages.ts` (optionally `--cpu-prof`) starts the server in this
 * process like `server/bench/sip.ts`, signs AGENTS agents in, then runs N calls C at a time through
 * `POST /api/v1/voice/route` and `/voice/events` (ringing, answered, ended) by `app.inject`, after a
 * warm-up of N calls, and prints calls/s, the process's CPU ms per call (all threads) and each stage's
 * median and p90 (ms), and the main thread's busy ms per call (event-loop utilisation). Environment:
 * N [100], C [8], AGENTS [8], PROFILE (a file: a V8 CPU profile of the main thread during the measured
 * calls only, without start-up and warm-up), COUNT=1 (also prints how often each session store method,
 * bus publish (by type), KPI and audit append ran per call: counts do not depend on the machine's load,
 * times do). A profiling aid, not a gated line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE } from '../../common/socket/agent-events';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer } from '../src/main';
import { loadVoiceSecrets } from '../src/voice/secrets';

const N = Number(process.env.N ?? 100);
const C = Number(process.env.C ?? 8);
const AGENTS = Number(process.env.AGENTS ?? 8);

const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-stages-'));
const cfg = join(dataDir, 'c.json');
writeFileSync(cfg, JSON.stringify({ ai: { autoAnswer: { enabled: false } } }));
const config = loadConfig({
  env: { HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'warn', HUILIU_CONFIG: cfg },
  argv: ['--demo'],
  cwd: process.cwd(),
});
const s = await startServer(config, createLogger({ level: 'warn' }));
const login = async (username: string) =>
  (await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'huiliu-demo' } })).json<{
    token: string;
  }>().token;
const admin = await login('admin');
const current = (await s.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: { authorization: `Bearer ${admin}` } })).json<{
  config: Record<string, unknown>;
}>().config;
const { version: _v, ...draft } = current;
await s.app.inject({
  method: 'PUT',
  url: '/api/v1/routing/config',
  headers: { authorization: `Bearer ${admin}` },
  payload: { config: { ...draft, afterCallWorkSeconds: { chat: 0, voice: 0 } }, comment: 'x' },
});
const sockets: Socket[] = [];
for (let i = 1; i <= AGENTS; i++) {
  const username = `benchagent${i}`;
  await s.services.auth.createUser({
    username,
    displayName: `B ${i}`,
    password: 'huiliu-demo',
    roles: ['agent'],
    skillGroups: ['general'],
  });
  const token = await login(username);
  const socket = connect(`${s.url}${AGENT_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    ca: s.tls.caPem,
    reconnection: false,
  } as never);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  sockets.push(socket);
}
await new Promise((r) => setTimeout(r, 500));
const token = loadVoiceSecrets(dataDir).routeToken;
const post = async (url: string, payload: object) => {
  const res = await s.app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': token } });
  if (res.statusCode !== 200) throw new Error(`${url} ${res.statusCode} ${res.body}`);
  return res.json<Record<string, unknown>>();
};
const stages: Record<string, number[]> = { route: [], ringing: [], answered: [], ended: [], total: [] };
let n = 0;
let queued = 0;
async function one(): Promise<void> {
  const i = ++n;
  const callId = `c${i}-${Date.now()}`;
  const t0 = performance.now();
  let a = await post('/api/v1/voice/route', {
    event: 'invite',
    callId,
    from: `sip:+86138${String(i).padStart(8, '0')}@t`,
    to: 'sip:support@127.0.0.1',
  });
  const t1 = performance.now();
  stages.route!.push(t1 - t0);
  while (a.action === 'queue') {
    queued++;
    await new Promise((r) => setTimeout(r, 50));
    a = await post('/api/v1/voice/route', { event: 'retry', callId, sessionId: a.sessionId });
  }
  const base = { callId, sessionId: a.sessionId as string, agent: a.user as string };
  let t = performance.now();
  for (const [event, status] of [
    ['ringing', 180],
    ['answered', 200],
    ['ended', 0],
  ] as const) {
    await post('/api/v1/voice/events', { ...base, event, status });
    const u = performance.now();
    stages[event]!.push(u - t);
    t = u;
  }
  stages.total!.push(performance.now() - t0);
}
const warm = N;
const runAll = async () => {
  const workers = Array.from({ length: C }, async () => {
    while (n < warm) await one();
  });
  await Promise.all(workers);
};
await runAll();
for (const k of Object.keys(stages)) stages[k] = [];
n = 0;
queued = 0;
const counts = new Map<string, number>();
if (process.env.COUNT) {
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const wrap = (target: Record<string, unknown>, prefix: string, name: string, key?: (args: unknown[]) => string) => {
    const fn = target[name];
    if (typeof fn !== 'function') return;
    target[name] = function (this: unknown, ...args: unknown[]) {
      count(`${prefix}.${name}${key ? `:${key(args)}` : ''}`);
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
  };
  const store = s.services.store as unknown as Record<string, unknown>;
  for (const name of Object.keys(store)) wrap(store, 'store', name);
  wrap(s.services.bus as unknown as Record<string, unknown>, 'bus', 'publish', (a) => String((a[0] as { type: string }).type));
  const kpiLog = s.services.kpis.log as unknown as Record<string, unknown>;
  for (const name of ['append', 'appendSoon', 'has', 'closedBefore']) wrap(kpiLog, 'kpis', name);
  wrap(s.services.audit as unknown as Record<string, unknown>, 'audit', 'record');
  wrap(s.services.audit.log as unknown as Record<string, unknown>, 'audit.log', 'append');
  // What the agents' sockets received (each push is encoded by the server and decoded here).
  for (const so of sockets) so.onAny((event: string) => count(`socket.${event}`));
}
const inspector = process.env.PROFILE ? new Session() : null;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
const w0 = performance.now();
await runAll();
const wall = (performance.now() - w0) / 1000;
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
if (inspector) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
  inspector.disconnect();
}
const med = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)] ?? NaN;
};
const p90 = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length * 0.9)] ?? NaN;
};
process.stdout.write(
  `N=${N} C=${C} agents=${AGENTS}: ${(N / wall).toFixed(1)} calls/s, cpu ${((cpu.user + cpu.system) / 1000 / N).toFixed(1)} ms/call (main thread busy ${(elu.active / N).toFixed(1)} ms/call), queued polls ${queued}\n`,
);
for (const [k, v] of Object.entries(stages))
  process.stdout.write(`  ${k.padEnd(9)} median ${med(v).toFixed(1)} ms  p90 ${p90(v).toFixed(1)} ms\n`);
for (const [k, v] of [...counts].sort((x, y) => x[0].localeCompare(y[0])))
  process.stdout.write(`  ${k.padEnd(40)} ${(v / N).toFixed(2)} per call\n`);
for (const so of sockets) so.close();
await s.close();
rmSync(dataDir, { recursive: true, force: true });
