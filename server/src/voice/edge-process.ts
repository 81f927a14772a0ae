import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { REPO_ROOT } from '../runtime/paths';
import { loadVoiceSecrets, VOICE_BASIC_USER } from './secrets';
import { voiceEdgePath, type VoiceEdge } from './edge';

/**
 * Starts and stops the voice edge (issue 18): Kamailio (registrar, SIP-over-WebSocket proxy, asks the
 * server where each call goes) and rtpengine (userspace media relay, WebRTC ↔ plain RTP) on loopback,
 * as this user's processes in a run dir under HUILIU_DATA_DIR — never as system services. Used by
 * `npm run voice -- up|down` (server/scripts/voice.mjs) and by the voice tests and bench.
 */

/** The shipped config (deploy/kamailio/kamailio.cfg), rendered with a header of #!define lines. */
export const KAMAILIO_CFG = join(REPO_ROOT, 'deploy', 'kamailio', 'kamailio.cfg');
export const KAMAILIO_BIN = '/usr/sbin/kamailio';
export const RTPENGINE_BIN = '/usr/bin/rtpengine';
export const SIPP_BIN = '/usr/bin/sipp';
export const ESPEAK_BIN = '/usr/bin/espeak-ng';

/** The Debian packages that hold what the edge needs (CI installs them; a missing one is named). */
export const VOICE_PACKAGES: Record<string, string> = {
  [KAMAILIO_BIN]: 'kamailio',
  '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so': 'kamailio-websocket-modules',
  '/usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so': 'kamailio-utils-modules',
  '/usr/lib/x86_64-linux-gnu/kamailio/modules/jansson.so': 'kamailio-extra-modules',
  '/usr/lib/x86_64-linux-gnu/kamailio/modules/auth_ephemeral.so': 'kamailio-autheph-modules',
  [RTPENGINE_BIN]: 'rtpengine-daemon',
  [SIPP_BIN]: 'sip-tester',
  [ESPEAK_BIN]: 'espeak-ng',
};

/**
 * @throws Error naming every missing binary or module and its Debian package (a clear failure, never a skip).
 */
export function assertVoiceBinaries(needed: readonly string[] = Object.keys(VOICE_PACKAGES)): void {
  const missing = needed.filter((path) => !existsSync(path));
  if (missing.length > 0)
    throw new Error(
      `voice edge: missing ${missing.join(', ')} — install the Debian packages: apt-get install ${[...new Set(missing.map((m) => VOICE_PACKAGES[m] ?? m))].join(' ')}`,
    );
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both with one number). */
export async function freeSipPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createTcpServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free UDP+TCP port on loopback after 50 tries');
}

export interface EdgeSettings {
  /** HUILIU_DATA_DIR: the secrets (voice/secrets.json), the server's CA (tls/ca.pem), the run dir (voice/run). */
  dataDir: string;
  /** The running server (`HUILIU_URL`). */
  serverUrl: string;
  host?: string;
  sipPort?: number;
  wsPort?: number;
  ngPort?: number;
  /** rtpengine's media ports (first, last). */
  mediaPorts?: [number, number];
  /** Kamailio SIP workers (default 8) and shared memory (MB, default 256). */
  children?: number;
  sharedMemoryMb?: number;
  ringMs?: number;
  queuePollSeconds?: number;
  /** Benchmark baseline: Kamailio sends every INVITE to this agent's AOR without asking the server. */
  staticRouteUser?: string;
  /** Another run dir (tests and the bench run two edges on one data dir). */
  runDir?: string;
  /** Start rtpengine too (default true). */
  rtpengine?: boolean;
}

export interface RunningEdge {
  /** `sip:host:port` — where trunks, PBXs and SIP phones send calls and registrations. */
  sipUri: string;
  /** `ws://host:port` — where JsSIP connects (wss with WITH_TLS in production, docs/voice.md). */
  wsUri: string;
  host: string;
  sipPort: number;
  wsPort: number;
  ngPort: number;
  runDir: string;
  /** The rendered config Kamailio runs. */
  configPath: string;
  /** The queue announcements made at start (espeak-ng), by language. */
  prompts: Record<'en' | 'zh', string>;
  /** Stops both daemons (foreground children or pid files) and waits for them to exit. */
  stop(): Promise<void>;
}

const quote = (s: string) => `"${s.replace(/["\\\n\r]/g, '')}"`;

/**
 * Kamailio's named connection to the voice API (`modparam("http_client", "httpcon", …)`):
 * `huiliu=>https://kamailio:<token>@host:port[/base]/api/v1/voice`, the token as the HTTP Basic password
 * (plugin.ts `VOICE_BASIC_USER`). The route token is base64url, so it needs no escaping in a URL.
 */
export function voiceHttpcon(serverUrl: string, routeToken: string): string {
  const u = new URL(serverUrl);
  if (!/^[A-Za-z0-9_-]+$/.test(routeToken)) throw new Error('the voice route token must be base64url (voice secrets file)');
  return `huiliu=>${u.protocol}//${VOICE_BASIC_USER}:${routeToken}@${u.host}${u.pathname.replace(/\/+$/, '')}/api/v1/voice`;
}

/** The shipped Kamailio config with its `#!define` header for these settings (mode 0600: it holds secrets). */
export function renderKamailioConfig(s: {
  host: string;
  sipPort: number;
  wsPort: number;
  ngPort: number;
  serverUrl: string;
  caFile: string;
  routeToken: string;
  authSecret: string;
  runDir: string;
  children: number;
  ringMs: number;
  queuePollSeconds: number;
  staticRouteUser?: string;
}): string {
  const defines = [
    `#!define LISTEN_IP ${quote(s.host)}`,
    `#!define SIP_PORT ${s.sipPort}`,
    `#!define WS_PORT ${s.wsPort}`,
    `#!define SIP_DOMAIN ${quote(s.host)}`,
    `#!define HUILIU_URL ${quote(s.serverUrl.replace(/\/+$/, ''))}`,
    `#!define HUILIU_CA ${quote(s.caFile)}`,
    `#!define ROUTE_TOKEN ${quote(s.routeToken)}`,
    `#!define HUILIU_HTTPCON ${quote(voiceHttpcon(s.serverUrl, s.routeToken))}`,
    `#!define AUTH_SECRET ${quote(s.authSecret)}`,
    `#!define RTPENGINE_SOCK ${quote(`udp:${s.host}:${s.ngPort}`)}`,
    `#!define RPC_FIFO ${quote(join(s.runDir, 'kamailio_rpc.fifo'))}`,
    `#!define CTL_SOCK ${quote(`unix:${join(s.runDir, 'kamailio_ctl')}`)}`,
    `#!define CHILDREN ${s.children}`,
    `#!define RING_MS ${s.ringMs}`,
    `#!define QUEUE_POLL_S ${s.queuePollSeconds}`,
    ...(s.staticRouteUser ? ['#!define STATIC_ROUTE', `#!define STATIC_USER ${quote(s.staticRouteUser)}`] : []),
  ];
  const shipped = readFileSync(KAMAILIO_CFG, 'utf8');
  // The header goes after the `#!KAMAILIO` marker line so the defaults' #!ifndef see it.
  const [first, ...rest] = shipped.split('\n');
  return [first, '# Rendered by server/src/voice/edge-process.ts — do not edit; re-run `npm run voice -- up`.', ...defines, ...rest].join(
    '\n',
  );
}

/** Checks a config with `kamailio -c`; resolves with its output, rejects with it when the check fails. */
export function checkKamailioConfig(path: string): string {
  const r = spawnSync(KAMAILIO_BIN, ['-c', '-f', path], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`kamailio -c ${path} failed:\n${out}`);
  return out;
}

/** The queue announcements (issue 18): spoken once at start with espeak-ng, 8 kHz mono WAV like telephony. */
export function makeQueuePrompts(dir: string): Record<'en' | 'zh', string> {
  const prompts = {
    en: { voice: 'en', text: 'Thank you for calling. All our agents are busy. Please stay on the line; you will be connected in turn.' },
    zh: { voice: 'cmn', text: '感谢您的来电。坐席正忙，请不要挂机，我们将按顺序为您接通。' },
  } as const;
  const out = {} as Record<'en' | 'zh', string>;
  for (const [lang, p] of Object.entries(prompts) as ['en' | 'zh', { voice: string; text: string }][]) {
    const path = join(dir, `queue-${lang}.wav`);
    const r = spawnSync(ESPEAK_BIN, ['-v', p.voice, '-s', '150', '-w', path, p.text], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(path)) throw new Error(`espeak-ng (${lang}) failed: ${r.stderr}`);
    out[lang] = path;
  }
  return out;
}

async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string, log?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} did not come up within ${ms} ms${log ? `:\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends one SIP OPTIONS over UDP and resolves with the status line of the answer, or null after `ms`. */
export function sipOptions(host: string, port: number, ms = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
    const timer = setTimeout(() => finish(null), ms);
    const finish = (line: string | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(line);
    };
    socket.on('message', (msg) => finish(msg.toString('latin1').split('\r\n')[0] ?? ''));
    socket.on('error', () => finish(null));
    socket.bind(0, host, () => {
      const { port: local } = socket.address();
      const req = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${host}:${local};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@${host}>;tag=${branch.slice(7, 15)}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: ${branch}@${host}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(req, port, host);
    });
  });
}

/** Sends the ng protocol `ping` to rtpengine and resolves true on `pong`. */
function rtpenginePing(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(false);
    }, ms);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString().includes('pong'));
    });
    socket.on('error', () => resolve(false));
    socket.send('huiliu d7:command4:pinge', port, host);
  });
}

function kill(child: ChildProcess | number, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    if (typeof child === 'number') process.kill(child, signal);
    else child.kill(signal);
  } catch {
    // Gone already.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts rtpengine and Kamailio for `settings` and waits until both answer (ng `ping`, SIP OPTIONS).
 * `detached`: daemons with pid files in the run dir, outliving this process (`npm run voice -- up`);
 * otherwise children of this process in the foreground (tests, bench), stopped by `stop()`.
 * Writes `voice/edge.json` in the data dir (where agents register: `GET /api/v1/voice/credentials`).
 * @throws Error naming a missing binary and its package, a config `kamailio -c` refuses, or a daemon that did not come up (with its log)
 */
export async function startVoiceEdge(settings: EdgeSettings, options: { detached?: boolean } = {}): Promise<RunningEdge> {
  assertVoiceBinaries([KAMAILIO_BIN, ESPEAK_BIN, ...(settings.rtpengine === false ? [] : [RTPENGINE_BIN])]);
  const host = settings.host ?? '127.0.0.1';
  const runDir = settings.runDir ?? join(settings.dataDir, 'voice', 'run');
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const secrets = loadVoiceSecrets(settings.dataDir);
  const caFile = join(settings.dataDir, 'tls', 'ca.pem');
  if (!existsSync(caFile)) throw new Error(`${caFile} not found: start the server once (npm run server) so it makes its CA`);
  const sipPort = settings.sipPort ?? (await freeSipPort(host));
  const wsPort = settings.wsPort ?? (await freeSipPort(host));
  const ngPort = settings.ngPort ?? (await freeSipPort(host));
  const mediaBase = 20_000 + Math.floor(Math.random() * 400) * 100;
  const [mediaMin, mediaMax] = settings.mediaPorts ?? [mediaBase, mediaBase + 99];
  const prompts = makeQueuePrompts(runDir);
  const configPath = join(runDir, 'kamailio.cfg');
  writeFileSync(
    configPath,
    renderKamailioConfig({
      host,
      sipPort,
      wsPort,
      ngPort,
      serverUrl: settings.serverUrl,
      caFile,
      routeToken: secrets.routeToken,
      authSecret: secrets.authSecret,
      runDir,
      children: settings.children ?? 8,
      ringMs: settings.ringMs ?? 15_000,
      queuePollSeconds: settings.queuePollSeconds ?? 2,
      ...(settings.staticRouteUser ? { staticRouteUser: settings.staticRouteUser } : {}),
    }),
    { mode: 0o600 },
  );
  checkKamailioConfig(configPath);

  const kamailioLog = join(runDir, 'kamailio.log');
  const rtpengineLog = join(runDir, 'rtpengine.log');
  const kamailioPid = join(runDir, 'kamailio.pid');
  const rtpenginePid = join(runDir, 'rtpengine.pid');
  const children: ChildProcess[] = [];
  const readLog = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').slice(-4000) : '(no log)');
  const spawnDaemon = (bin: string, args: string[], logPath: string) => {
    // The log is a file, not a pipe: a detached daemon outlives this process and must not write into a closed pipe.
    const log = openSync(logPath, 'w', 0o600);
    // cwd: the run dir, so nothing a daemon writes to its working directory lands where it was started.
    const child = spawn(bin, args, { stdio: ['ignore', log, log], detached: options.detached ?? false, cwd: runDir });
    closeSync(log);
    if (options.detached) child.unref();
    else children.push(child);
    return child;
  };

  const useRtpengine = settings.rtpengine !== false;
  const recordings = join(runDir, 'recordings');
  if (useRtpengine) {
    // Our own config file: rtpengine otherwise reads /etc/rtpengine/rtpengine.conf (its fixed ports).
    const cliPort = await freeSipPort(host);
    const rtpConfig = join(runDir, 'rtpengine.conf');
    mkdirSync(recordings, { recursive: true, mode: 0o700 });
    writeFileSync(
      rtpConfig,
      [
        '[rtpengine]',
        'table = -1',
        `interface = ${host}`,
        `listen-ng = ${host}:${ngPort}`,
        `listen-cli = ${host}:${cliPort}`,
        `port-min = ${mediaMin}`,
        `port-max = ${mediaMax}`,
        'timeout = 60',
        'log-level = 5',
        // The media tap (docs/voice.md "Live transcripts"): calls Kamailio offers with record-call=yes
        // are written here as pcap while they run; the server reads the caller's leg and deletes it.
        `recording-dir = ${recordings}`,
        'recording-method = pcap',
        'recording-format = raw',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const args = [`--config-file=${rtpConfig}`, '--config-section=rtpengine', '--foreground', '--log-stderr', `--pidfile=${rtpenginePid}`];
    // rtpengine 10.5.3.5 (Debian 12) with pcap recording crashes on SIGTERM at shutdown (after its calls
    // are gone): no core file of a process that holds call audio. `exec` keeps the pid (the pid file, stop()).
    spawnDaemon('/bin/sh', ['-c', 'ulimit -c 0 && exec "$0" "$@"', RTPENGINE_BIN, ...args], rtpengineLog);
    await waitFor(
      () => rtpenginePing(host, ngPort),
      5000,
      'rtpengine',
      () => readLog(rtpengineLog),
    );
  }
  // -DD: stay in the foreground (a child we own, or a detached session leader with a pid file); -E: log to stderr.
  spawnDaemon(
    KAMAILIO_BIN,
    ['-DD', '-E', '-f', configPath, '-P', kamailioPid, '-m', String(settings.sharedMemoryMb ?? 256), '-M', '16'],
    kamailioLog,
  );
  await waitFor(
    async () => (await sipOptions(host, sipPort, 300)) !== null,
    10_000,
    'kamailio',
    () => readLog(kamailioLog),
  );

  const edge: VoiceEdge = {
    domain: host,
    uris: [`sip:${host}:${sipPort}`, `ws://${host}:${wsPort}`],
    ...(useRtpengine ? { recordings } : {}),
  };
  if (!settings.staticRouteUser) writeFileSync(voiceEdgePath(settings.dataDir), JSON.stringify(edge, null, 2) + '\n');
  return {
    sipUri: `sip:${host}:${sipPort}`,
    wsUri: `ws://${host}:${wsPort}`,
    host,
    sipPort,
    wsPort,
    ngPort,
    runDir,
    configPath,
    prompts,
    async stop() {
      if (children.length > 0) {
        await Promise.all(
          children.map(
            (c) =>
              new Promise<void>((resolve) => {
                if (c.exitCode !== null || c.signalCode !== null) return resolve();
                const hard = setTimeout(() => kill(c, 'SIGKILL'), 5000);
                c.once('exit', () => {
                  clearTimeout(hard);
                  resolve();
                });
                kill(c);
              }),
          ),
        );
      } else await stopVoiceEdge(runDir);
      if (!settings.staticRouteUser) rmSync(voiceEdgePath(settings.dataDir), { force: true });
    },
  };
}

/**
 * Stops the daemons a detached `up` left in `runDir` (by their pid files only: never by name) and waits
 * up to 5 s for each to exit. Resolves with what it stopped.
 */
export async function stopVoiceEdge(runDir: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const name of ['kamailio', 'rtpengine']) {
    const pidFile = join(runDir, `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1 && alive(pid)) {
      kill(pid);
      const end = Date.now() + 5000;
      while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) kill(pid, 'SIGKILL');
      stopped.push(`${name} (pid ${pid})`);
    }
    rmSync(pidFile, { force: true });
  }
  return stopped;
}
