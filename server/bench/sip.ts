import { sippRegisterArgs } from '../test/support/sip';
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE } from '../../common/socket/agent-events';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer, type RunningServer } from '../src/main';
import { ephemeralSipCredentials } from '../src/voice/credentials';
import { assertVoiceBinaries, defaultMediaPorts, freeSipPort, SIPP_BIN, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';

/**
 * `npm run bench -- sip` (issue 18, DESIGN §9 "SIP"): sipp callers through Kamailio to one sipp UAS
 * answering as every agent's phone, with
 * - **ours**: each INVITE asks the server (`POST /api/v1/voice/route`: an SP session stored, scored,
 *   offered to an agent with voice capacity), ringing/answer/hang-up reported (`/api/v1/voice/events`:
 *   accept, close, KPI facts), and
 * - **baseline**: the same Kamailio config with `STATIC_ROUTE` (every INVITE to agent1's AOR, no server),
 * in the same run, same rtpengine, same scenario, same concurrency. Calls per second = completed calls /
 * wall time of the sipp run; failed calls are sipp's count (anything but a clean INVITE…BYE).
 * Environment: BENCH_SIP_HTTPS (1: the voice API over HTTPS through the edge's forwarder, not the loopback hop; direct: Kamailio posts over HTTPS itself), BENCH_SIP_CALLS [600] per run, BENCH_SIP_RATE [300] offered calls/s, BENCH_SIP_AGENTS [24]
 * (also the callers' concurrency limit: an agent holds one call), BENCH_SIP_TALK_MS [0], BENCH_SIP_PROFILE (a file: a V8 CPU
 * profile of the main thread during the timed routed run only).
 */
export interface SipRun {
  calls: number;
  /** CPU time of the bench process (the server and its worker threads; not Kamailio, rtpengine or sipp) per completed call, ms. */
  serverCpuMsPerCall?: number;
  ok: number;
  failed: number;
  seconds: number;
  cps: number;
}

export interface SipResult {
  ours: SipRun;
  baseline: SipRun;
  agents: number;
}

const SCENARIOS = fileURLToPath(new URL('../test/voice/', import.meta.url));

function sipp(
  args: string[],
  timeoutMs: number,
  started?: (child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; out: string; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(SIPP_BIN, ['-nostdin', '-i', '127.0.0.1', '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => void (out = (out + c.toString('utf8')).slice(-30_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  started?.(child);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, out, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

/** Successful and failed calls from sipp's final statistics screen (cumulative column). */
function counts(out: string): { ok: number; failed: number } {
  const num = (label: string) => {
    const all = [...out.matchAll(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'g'))];
    return all.length ? Number(all[all.length - 1]![1]) : NaN;
  };
  return { ok: num('Successful call'), failed: num('Failed call') };
}

/** Registers each `[user, credential username, password]` at `edge` with its contact at the phone UAS (sipp, one run each). */
async function register(edge: RunningEdge, agents: [string, string, string][], contactPort: number): Promise<void> {
  // sipp's [authentication username=… password=…] does not take base64 passwords (they end in "="): -au/-ap per agent.
  for (const [user, username, password] of agents) {
    const r = await sipp(
      [...sippRegisterArgs(edge.sipPort, { user, contactPort, username, password, localPort: await freeSipPort() }), '-timeout_error'],
      15_000,
    );
    if (r.code !== 0) throw new Error(`registering ${user} failed:\n${r.out.slice(-3000)}`);
  }
}

async function calls(edge: RunningEdge, n: number, rate: number, limit: number, talkMs: number): Promise<SipRun> {
  const port = await freeSipPort();
  const r = await sipp(
    [
      `127.0.0.1:${edge.sipPort}`,
      '-sf',
      join(SCENARIOS, 'caller.xml'),
      '-s',
      'support',
      '-m',
      String(n),
      '-r',
      String(rate),
      '-l',
      String(limit),
      '-d',
      String(talkMs),
      '-p',
      String(port),
      '-recv_timeout',
      '10000',
    ],
    120_000,
  );
  const { ok, failed } = counts(r.out);
  if (ok < n && process.env.BENCH_SIP_DEBUG) process.stderr.write(r.out.slice(-6000));
  if (!Number.isFinite(ok)) throw new Error(`sipp gave no statistics (exit ${r.code}):\n${r.out.slice(-3000)}`);
  return { calls: n, ok, failed: n - ok > failed ? n - ok : failed, seconds: r.seconds, cps: ok / r.seconds };
}

function agentSocket(server: RunningServer, token: string): Promise<Socket> {
  const socket = connect(`${server.url}${AGENT_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    ca: server.tls.caPem,
    reconnection: false,
  } as never);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Runs both paths once (after a warm-up of the routed path) and returns their numbers. */
export async function sipBench(log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<SipResult> {
  assertVoiceBinaries();
  const n = Number(env.BENCH_SIP_CALLS ?? 600);
  const rate = Number(env.BENCH_SIP_RATE ?? 300);
  const agents = Number(env.BENCH_SIP_AGENTS ?? 24);
  const talkMs = Number(env.BENCH_SIP_TALK_MS ?? 0);
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-bench-sip-'));
  const sockets: Socket[] = [];
  const edges: RunningEdge[] = [];
  let server: RunningServer | null = null;
  let phone: ReturnType<typeof sipp> | null = null;
  const phoneProcess: { child?: ReturnType<typeof spawn> } = {};
  try {
    const config = loadConfig({
      env: { HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'warn', HUILIU_CONFIG: writeAiOff(dataDir) },
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    server = await startServer(config, createLogger({ level: 'warn' }));
    const s = server;
    const login = async (username: string) => {
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'huiliu-demo' } });
      return res.json<{ token: string }>().token;
    };
    // No after-call work: the line measures call setup, not the wrap-up policy.
    const admin = await login('admin');
    const current = (
      await s.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: { authorization: `Bearer ${admin}` } })
    ).json<{
      config: Record<string, unknown>;
    }>().config;
    const { version: _v, ...draft } = current;
    const put = await s.app.inject({
      method: 'PUT',
      url: '/api/v1/routing/config',
      headers: { authorization: `Bearer ${admin}` },
      payload: { config: { ...draft, afterCallWorkSeconds: { chat: 0, voice: 0 } }, comment: 'sip bench' },
    });
    if (put.statusCode !== 201) throw new Error(`routing config: ${put.body}`);
    const secret = loadVoiceSecrets(dataDir).authSecret;
    const names: string[] = [];
    for (let i = 1; i <= agents; i++) {
      const username = `benchagent${i}`;
      await s.services.auth.createUser({
        username,
        displayName: `Bench ${i}`,
        password: 'huiliu-demo',
        roles: ['agent'],
        skillGroups: ['general'],
      });
      names.push(username);
      sockets.push(await agentSocket(s, await login(username)));
    }
    // BENCH_SIP_HTTPS=1: the voice API over HTTPS, as an edge on another host reaches it (through the edge's
    // HTTPS forwarder); =direct: Kamailio posts over HTTPS itself (the path that crashed Kamailio 5.6.3).
    // The two edges' rtpengines get disjoint media ranges: two random 2,000-port ranges overlap one run in
    // ten, and then both share ports held in `delete-delay` — a baseline run once failed 121 of 200 calls.
    const oursPorts = defaultMediaPorts();
    let basePorts = defaultMediaPorts();
    while (basePorts[0] <= oursPorts[1] && oursPorts[0] <= basePorts[1]) basePorts = defaultMediaPorts();
    const ours = await startVoiceEdge({
      dataDir,
      serverUrl: s.url,
      runDir: join(dataDir, 'voice', 'ours'),
      children: 8,
      mediaPorts: oursPorts,
      ...(env.BENCH_SIP_HTTPS ? { apiUrl: false as const, httpsForwarder: env.BENCH_SIP_HTTPS !== 'direct' } : {}),
    });
    edges.push(ours);
    const baseline = await startVoiceEdge({
      dataDir,
      serverUrl: s.url,
      runDir: join(dataDir, 'voice', 'baseline'),
      children: 8,
      mediaPorts: basePorts,
      staticRouteUser: names[0]!,
    });
    edges.push(baseline);
    const phonePort = await freeSipPort();
    phone = sipp(['-sf', join(SCENARIOS, 'phone.xml'), '-p', String(phonePort)], 600_000, (c) => (phoneProcess.child = c));
    const line = (u: string): [string, string, string] => {
      const c = ephemeralSipCredentials(secret, u, Date.now());
      return [u, c.username, c.password];
    };
    await register(ours, names.map(line), phonePort);
    await register(baseline, [line(names[0]!)], phonePort);
    log(
      `    ${agents} agents online and registered; ${n} calls per run at ${rate} calls/s offered, ≤ ${agents} at once, talk ${talkMs} ms`,
    );
    await calls(ours, Math.min(100, n), rate, agents, talkMs); // warm-up (JIT, connections), not counted
    const base = await calls(baseline, n, rate, agents, talkMs);
    log(
      `    Kamailio alone (static route)   ${base.cps.toFixed(0).padStart(5)} calls/s  ${base.ok}/${base.calls} ok, ${base.failed} failed, ${base.seconds.toFixed(1)} s`,
    );
    const inspector = env.BENCH_SIP_PROFILE ? new Session() : null;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const routed = await calls(ours, n, rate, agents, talkMs);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    if (inspector) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(env.BENCH_SIP_PROFILE!, JSON.stringify(profile));
      inspector.disconnect();
    }
    routed.serverCpuMsPerCall = (cpu.user + cpu.system) / 1000 / Math.max(1, routed.ok);
    log(
      `    Kamailio + /api/v1/voice/route  ${routed.cps.toFixed(0).padStart(5)} calls/s  ${routed.ok}/${routed.calls} ok, ${routed.failed} failed, ${routed.seconds.toFixed(1)} s; server CPU ${routed.serverCpuMsPerCall.toFixed(1)} ms per call (main thread busy ${(elu.active / Math.max(1, routed.ok)).toFixed(1)} ms per call, ${(elu.utilization * 100).toFixed(0)} %)`,
    );
    const restarts = ours.restarts();
    log(
      `    Kamailio posts to ${ours.forwardsTo ? 'the edge forwarder (plain http), which posts over https' : ours.apiUrl.startsWith('http:') ? 'the loopback hop (plain http)' : 'the server over https'}; edge restarts during the run: kamailio ${restarts.kamailio}, rtpengine ${restarts.rtpengine}`,
    );
    return { ours: routed, baseline: base, agents };
  } finally {
    for (const socket of sockets) socket.close();
    for (const edge of edges) await edge.stop().catch(() => undefined);
    // The phone UAS answers until told to stop (by its own process handle).
    phoneProcess.child?.kill('SIGTERM');
    await phone?.catch(() => undefined);
    await server?.close();
    if (env.BENCH_KEEP) log(`    kept ${dataDir} (BENCH_KEEP): the edges' logs are in voice/ours and voice/baseline`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A config file with the AI tier off: every call goes to a person (DESIGN §5 `ai` tier answers text). */
function writeAiOff(dir: string): string {
  const path = join(dir, 'bench-config.json');
  writeFileSync(path, JSON.stringify({ ai: { autoAnswer: { enabled: false } } }));
  return path;
}
