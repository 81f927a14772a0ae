import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { REPO_ROOT } from '../runtime/paths';
import { loadVoiceSecrets, VOICE_BASIC_USER } from './secrets';
import { voiceEdgePath, type VoiceEdge } from './edge';
import { readVoiceEdgeApiUrl } from './edge-api';
import { startEdgeForwarder } from './edge-forwarder';
import { isLoopbackHost } from '../http/loopback';
import { DaemonSupervisor, type EdgeDaemon, type EdgeSupervisorOptions } from './edge-supervisor';

export type { EdgeDaemon, EdgeSupervisorEvent, EdgeSupervisorOptions } from './edge-supervisor';

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
  /**
   * Where Kamailio posts `/api/v1/voice/route` and `/events`. Default: the server's loopback plain-HTTP
   * hop when it wrote one (`<dataDir>/voice/edge-api.json`, config `voice.edgeHttp`), else `serverUrl`
   * (HTTPS). `false`: always `serverUrl`. An `http:` URL must name a loopback address.
   */
  apiUrl?: string | false;
  /**
   * When the voice API is reached over HTTPS (no loopback hop: an edge on another host, or `apiUrl:
   * false`), a supervised edge (not `detached`) puts the HTTPS forwarder in front (default true,
   * `edge-forwarder.ts`): Kamailio posts plain HTTP to it on loopback and it posts on over TLS 1.3, so
   * libcurl inside Kamailio makes no TLS connection (Kamailio 5.6.3 + OpenSSL 3 crashed doing so under
   * load). `false`: Kamailio posts over HTTPS itself (only to reproduce that crash: the SIP bench's
   * `BENCH_SIP_HTTPS=direct`).
   */
  httpsForwarder?: boolean;
  host?: string;
  sipPort?: number;
  wsPort?: number;
  ngPort?: number;
  /**
   * rtpengine's media ports (first, last). Default: `DEFAULT_MEDIA_PORTS` (2,000) consecutive ports
   * from a random even base in 20000–59999 (`defaultMediaPorts`), so edges started side by side (tests,
   * the bench) rarely share ports. A call takes 4 (2 legs × an RTP/RTCP pair) while it is up, queued
   * with an announcement, or within `mediaDeleteDelaySeconds` of its hang-up; an INVITE rtpengine has no
   * ports for is answered 503 with Retry-After (kamailio.cfg `route[RELAY_ANCHORED]`), never forwarded without media.
   */
  mediaPorts?: [number, number];
  /**
   * rtpengine's `delete-delay` (s, default `DEFAULT_MEDIA_DELETE_DELAY_S`, 5; rtpengine's own default is
   * 30): how long a hung-up call keeps its ports for late packets and retransmitted signalling. Each
   * hang-up holds 4 ports that long, so at N calls/s the range needs 4 × N × delay ports on top of the
   * live calls; 5 s covers SIP's retransmissions of a BYE's answer on a LAN (T1 = 0.5 s: 0.5+1+2 s).
   */
  mediaDeleteDelaySeconds?: number;
  /**
   * rtpengine's `timeout` (s, default 60): a call none of whose streams carried media that long is
   * forgotten, and the server's liveness check then ends it if its hang-up never came (docs/voice.md "Liveness").
   */
  mediaTimeoutSeconds?: number;
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
  /**
   * SIP over secure WebSocket (WSS, TLS 1.3 only, DESIGN §6): `true` renders Kamailio `WITH_TLS` with the
   * server's own certificate (`<dataDir>/tls/server.pem` + `server-key.pem`); `{certFile, keyFile}` a real
   * one (PEM, the chain in `certFile`); `false` no WSS (then only with `ws: true`). Default: on when `serverUrl` is https and
   * the server's key is a plain file (off, with `tlsOffReason`, when it is sealed by a PKCS#11 KEK).
   */
  tls?: boolean | EdgeTlsFiles;
  /** The WSS port (default: a free one). */
  wssPort?: number;
  /**
   * The plain `ws://` listener, opt-in (default false; `npm run voice -- up --ws`): loopback tools and
   * pages served over http. Without it Kamailio listens for WebSockets on WSS only, `edge.json` names no
   * `ws://` URI, and a WebSocket upgrade on any other port is refused (403). `true` renders
   * `#!define WITH_WS`. An edge with neither (WSS off: `tls: false`, an http server, a sealed server key
   * and no certificate given) is refused with an Error naming both ways out.
   */
  ws?: boolean;
}

/** A certificate (PEM, leaf first, then its chain) and its private key (PEM) for Kamailio's WSS listener. */
export interface EdgeTlsFiles {
  certFile: string;
  keyFile: string;
  /** A CA certificate sent after `certFile` (the server's local CA: the workstation pins it in the chain). */
  caFile?: string;
}

export interface RunningEdge {
  /** `sip:host:port` — where trunks, PBXs and SIP phones send calls and registrations. */
  sipUri: string;
  /** `ws://host:port` — plain SIP over WebSocket (loopback, or pages served over http); null unless asked for (`ws: true`). */
  wsUri: string | null;
  /** `wss://host:port` — SIP over secure WebSocket, TLS 1.3 only (what an https workstation uses); null without TLS. */
  wssUri: string | null;
  /**
   * Where Kamailio posts the voice API: the server's loopback plain-HTTP hop (`http://127.0.0.1:PORT`), the
   * HTTPS forwarder (also `http://127.0.0.1:PORT`; then `forwardsTo` is set), or the server's HTTPS URL.
   */
  apiUrl: string;
  /** The server's HTTPS URL the forwarder posts to, or null when Kamailio posts without it. */
  forwardsTo: string | null;
  /** The forwarder's counts (posts the server answered; posts answered 503 because it did not), or null without one. */
  forwarded(): { forwarded: number; failed: number } | null;
  host: string;
  sipPort: number;
  wsPort: number | null;
  wssPort: number | null;
  /** Why WSS is off when it is (null when on). */
  tlsOffReason: string | null;
  ngPort: number;
  runDir: string;
  /** The rendered config Kamailio runs. */
  configPath: string;
  /** The queue announcements made at start (espeak-ng), by language. */
  prompts: Record<'en' | 'zh', string>;
  /**
   * How often the supervisor restarted each daemon after an unexpected exit (foreground edges, which
   * includes the supervisor process `npm run voice -- up` leaves running; a `detached` edge has none
   * and reports zeros). The count an edge metrics hook would export.
   */
  restarts(): Readonly<Record<EdgeDaemon, number>>;
  /** Stops both daemons (foreground children or pid files) and waits for them to exit. */
  stop(): Promise<void>;
}

/** The default size of rtpengine's media range: 500 calls of 4 ports (live, queued with an announcement, or within the delete delay). */
export const DEFAULT_MEDIA_PORTS = 2000;
/** The default `delete-delay` of the edge's rtpengine (s): see `EdgeSettings.mediaDeleteDelaySeconds`. */
export const DEFAULT_MEDIA_DELETE_DELAY_S = 5;

/**
 * A media range of `size` ports (even, ≥ 4) from a random even base in 20000–59999: [first, last].
 * Random so parallel edges (tests, the bench, two edges on one host) rarely overlap; an overlap is
 * not fatal (rtpengine skips a port it cannot bind), it only shrinks both ranges.
 * @throws Error when `size` is odd, below 4 or above 40,000
 */
export function defaultMediaPorts(size = DEFAULT_MEDIA_PORTS, random: () => number = Math.random): [number, number] {
  if (!Number.isInteger(size) || size < 4 || size % 2 !== 0 || size > 40_000)
    throw new Error(`media range size ${size}: an even number in 4–40000`);
  const slots = (40_000 - size) / 2;
  const base = 20_000 + 2 * Math.floor(random() * (slots + 1));
  return [base, base + size - 1];
}

const quote = (s: string) => `"${s.replace(/["\\\n\r]/g, '')}"`;

/**
 * Kamailio's named connection to the voice API (`modparam("http_client", "httpcon", …)`):
 * `huiliu=>https://kamailio:<token>@host:port[/base]/api/v1/voice`, the token as the HTTP Basic password
 * (plugin.ts `VOICE_BASIC_USER`). The route token is base64url, so it needs no escaping in a URL.
 */
export function voiceHttpcon(serverUrl: string, routeToken: string): string {
  const u = new URL(serverUrl);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname))
    throw new Error(`the voice API over plain http only on loopback (${u.host}); use https (TLS 1.3) to another host`);
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
  /** Where the named http_client connection posts (default `serverUrl`). */
  apiUrl?: string;
  caFile: string;
  routeToken: string;
  authSecret: string;
  runDir: string;
  children: number;
  ringMs: number;
  queuePollSeconds: number;
  staticRouteUser?: string;
  /** WSS (`WITH_TLS`): its port and the rendered tls.cfg (writeKamailioTlsConfig). */
  wss?: { port: number; tlsConfig: string };
  /** The plain `ws` listener too (`WITH_WS`, opt-in); without it WebSockets are WSS only. */
  withWs?: boolean;
}): string {
  const defines = [
    `#!define LISTEN_IP ${quote(s.host)}`,
    `#!define SIP_PORT ${s.sipPort}`,
    `#!define WS_PORT ${s.wsPort}`,
    `#!define SIP_DOMAIN ${quote(s.host)}`,
    `#!define HUILIU_URL ${quote(s.serverUrl.replace(/\/+$/, ''))}`,
    `#!define HUILIU_CA ${quote(s.caFile)}`,
    `#!define ROUTE_TOKEN ${quote(s.routeToken)}`,
    `#!define HUILIU_HTTPCON ${quote(voiceHttpcon(s.apiUrl ?? s.serverUrl, s.routeToken))}`,
    `#!define AUTH_SECRET ${quote(s.authSecret)}`,
    `#!define RTPENGINE_SOCK ${quote(`udp:${s.host}:${s.ngPort}`)}`,
    `#!define RPC_FIFO ${quote(join(s.runDir, 'kamailio_rpc.fifo'))}`,
    `#!define CTL_SOCK ${quote(`unix:${join(s.runDir, 'kamailio_ctl')}`)}`,
    `#!define CHILDREN ${s.children}`,
    `#!define RING_MS ${s.ringMs}`,
    `#!define QUEUE_POLL_S ${s.queuePollSeconds}`,
    ...(s.staticRouteUser ? ['#!define STATIC_ROUTE', `#!define STATIC_USER ${quote(s.staticRouteUser)}`] : []),
    ...(s.withWs ? ['#!define WITH_WS'] : []),
    ...(s.wss ? ['#!define WITH_TLS', `#!define WSS_PORT ${s.wss.port}`, `#!define TLS_CFG ${quote(s.wss.tlsConfig)}`] : []),
  ];
  const shipped = readFileSync(KAMAILIO_CFG, 'utf8');
  // The header goes after the `#!KAMAILIO` marker line so the defaults' #!ifndef see it.
  const [first, ...rest] = shipped.split('\n');
  return [first, '# Rendered by server/src/voice/edge-process.ts — do not edit; re-run `npm run voice -- up`.', ...defines, ...rest].join(
    '\n',
  );
}

/**
 * Writes Kamailio's tls.cfg (the tls module's own file, mode 0600) for the WSS listener, and the
 * OpenSSL config that makes it TLS 1.3 only (DESIGN §6). Kamailio 5.6's tls module knows no `TLSv1.3`
 * method (`Unsupported enum value 'TLSv1.3'`) and its `TLSv1.2+` sets a TLS 1.2 floor itself (1.2 was
 * accepted with it, measured); `SSLv23` (OpenSSL's `TLS_method()`) sets none, so the floor is OpenSSL's
 * own: `openssl.cnf` in `dir` with `system_default` `MinProtocol = TLSv1.3`, read through `OPENSSL_CONF`
 * (startVoiceEdge sets it) for every context Kamailio makes — the WSS listener and the http_client's
 * HTTPS to the server (TLS 1.3 only as well). TLS 1.2 and 1.1 clients get alert 70 (protocol version). No client certificate is asked (agents
 * authenticate with digest over the TLS).
 * @returns the paths written: `tlsConfig` (`<dir>/tls.cfg`) and `opensslConfig` (`<dir>/openssl.cnf`)
 * @throws Error when the certificate or key file is missing
 */
export function writeKamailioTlsConfig(dir: string, files: EdgeTlsFiles): { tlsConfig: string; opensslConfig: string } {
  for (const f of [files.certFile, files.keyFile]) if (!existsSync(f)) throw new Error(`voice edge TLS: ${f} not found`);
  const path = join(dir, 'tls.cfg');
  const clean = (p: string) => p.replace(/[\n\r]/g, '');
  let certificate = files.certFile;
  if (files.caFile) {
    // Leaf then CA, as the server sends its own chain (main.ts): a client that pins the CA finds it.
    certificate = join(dir, 'tls-chain.pem');
    const pem = (f: string) => readFileSync(f, 'utf8').replace(/\n*$/, '\n');
    writeFileSync(certificate, pem(files.certFile) + pem(files.caFile), { mode: 0o600 });
  }
  writeFileSync(
    path,
    [
      "# Rendered by server/src/voice/edge-process.ts (WSS for the agents' softphones). TLS 1.3 only: Kamailio 5.6",
      '# has no TLSv1.3 method, and its TLSv1.2+ sets a 1.2 floor itself; SSLv23 (OpenSSL TLS_method) sets none,',
      '# so the system default of OPENSSL_CONF=openssl.cnf (MinProtocol = TLSv1.3) is the floor.',
      '[server:default]',
      'method = SSLv23',
      'verify_certificate = no',
      'require_certificate = no',
      `certificate = ${clean(certificate)}`,
      `private_key = ${clean(files.keyFile)}`,
      '',
      '[client:default]',
      'method = SSLv23',
      'verify_certificate = yes',
      'require_certificate = yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const opensslConfig = join(dir, 'openssl.cnf');
  writeFileSync(
    opensslConfig,
    [
      '# Rendered by server/src/voice/edge-process.ts: Kamailio (OPENSSL_CONF) speaks TLS 1.3 only.',
      'openssl_conf = huiliu_init',
      '[huiliu_init]',
      'ssl_conf = huiliu_ssl',
      '[huiliu_ssl]',
      'system_default = huiliu_tls',
      '[huiliu_tls]',
      'MinProtocol = TLSv1.3',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { tlsConfig: path, opensslConfig };
}

/**
 * The certificate WSS uses when `settings.tls` is not given: the server's own (same host, same local CA,
 * so the workstation's CA pin and the e2e browsers' SPKI pin accept it). Off when the server is plain
 * http or its key is sealed (a PKCS#11 KEK: no plain key file to hand Kamailio; give `tls` a real one).
 */
export function edgeTlsFiles(settings: Pick<EdgeSettings, 'dataDir' | 'serverUrl' | 'tls'>): EdgeTlsFiles | { off: string } {
  if (settings.tls === false) return { off: 'WSS turned off (tls: false / --no-tls)' };
  if (typeof settings.tls === 'object') return settings.tls;
  const certFile = join(settings.dataDir, 'tls', 'server.pem');
  const keyFile = join(settings.dataDir, 'tls', 'server-key.pem');
  const explicit = settings.tls === true;
  const off = (why: string) => {
    if (explicit) throw new Error(`voice edge TLS: ${why}`);
    return { off: why };
  };
  if (!explicit && !/^https:/i.test(settings.serverUrl)) return off(`the server is not served over TLS (${settings.serverUrl})`);
  if (!existsSync(certFile)) return off(`${certFile} not found: start the server once so it makes its certificate`);
  if (!existsSync(keyFile))
    return off(`${keyFile} is not a plain file (sealed by the PKCS#11 KEK?): pass a certificate for the edge (--tls-cert/--tls-key)`);
  const caFile = join(settings.dataDir, 'tls', 'ca.pem');
  return { certFile, keyFile, ...(existsSync(caFile) ? { caFile } : {}) };
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

/** Whether a process with this pid exists (signal 0: nothing is sent). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts rtpengine and Kamailio for `settings` and waits until both answer (ng `ping`, SIP OPTIONS).
 * `detached`: unsupervised daemons with pid files in the run dir, outliving this process (no longer
 * what `npm run voice -- up` does: it runs a supervisor process with a foreground edge, edge-cli.ts);
 * otherwise children of this process in the foreground (tests, bench), stopped by `stop()`.
 * Writes `voice/edge.json` in the data dir (where agents register: `GET /api/v1/voice/credentials`).
 * @throws Error naming a missing binary and its package, a config `kamailio -c` refuses, or a daemon that did not come up (with its log)
 */
export async function startVoiceEdge(
  settings: EdgeSettings,
  options: { detached?: boolean; supervisor?: EdgeSupervisorOptions } = {},
): Promise<RunningEdge> {
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
  const tls = edgeTlsFiles(settings);
  const wssPort = 'off' in tls ? null : (settings.wssPort ?? (await freeSipPort(host)));
  const [mediaMin, mediaMax] = settings.mediaPorts ?? defaultMediaPorts();
  if (!(Number.isInteger(mediaMin) && Number.isInteger(mediaMax) && mediaMin >= 1024 && mediaMax <= 65_535 && mediaMax - mediaMin >= 3))
    throw new Error(`voice edge: media ports ${mediaMin}–${mediaMax}: at least 4 ports (one call) within 1024–65535`);
  const prompts = makeQueuePrompts(runDir);
  // The loopback hop when the server offers one (Kamailio 5.6.3 + OpenSSL 3: no TLS inside libcurl, docs/voice.md);
  // over HTTPS, the forwarder in this process posts for Kamailio (same reason), unless detached or turned off.
  const resolvedApi =
    settings.apiUrl === false ? settings.serverUrl : (settings.apiUrl ?? readVoiceEdgeApiUrl(settings.dataDir) ?? settings.serverUrl);
  const configPath = join(runDir, 'kamailio.cfg');
  const tlsFiles = wssPort !== null && !('off' in tls) ? writeKamailioTlsConfig(runDir, tls) : null;
  const ws = settings.ws === true;
  if (!ws && !tlsFiles)
    throw new Error(
      `voice edge: WSS is off (${'off' in tls ? tls.off : 'no TLS'}) and plain ws is opt-in: give the edge a certificate (--tls-cert/--tls-key) or ask for ws (--ws, loopback only)`,
    );
  const forwarder =
    !options.detached && settings.httpsForwarder !== false && new URL(resolvedApi).protocol === 'https:'
      ? await startEdgeForwarder({ target: resolvedApi, ca: readFileSync(caFile, 'utf8') })
      : null;
  const apiUrl = forwarder?.url ?? resolvedApi;
  // From here on a failure closes the forwarder (its listener would keep this process alive).
  try {
    writeFileSync(
      configPath,
      renderKamailioConfig({
        host,
        sipPort,
        wsPort,
        ngPort,
        serverUrl: settings.serverUrl,
        apiUrl,
        caFile,
        routeToken: secrets.routeToken,
        authSecret: secrets.authSecret,
        runDir,
        children: settings.children ?? 8,
        ringMs: settings.ringMs ?? 15_000,
        queuePollSeconds: settings.queuePollSeconds ?? 2,
        ...(settings.staticRouteUser ? { staticRouteUser: settings.staticRouteUser } : {}),
        ...(wssPort !== null && tlsFiles ? { wss: { port: wssPort, tlsConfig: tlsFiles.tlsConfig } } : {}),
        ...(ws ? { withWs: true } : {}),
      }),
      { mode: 0o600 },
    );
    checkKamailioConfig(configPath);

    const kamailioLog = join(runDir, 'kamailio.log');
    const rtpengineLog = join(runDir, 'rtpengine.log');
    const kamailioPid = join(runDir, 'kamailio.pid');
    const rtpenginePid = join(runDir, 'rtpengine.pid');
    const readLog = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').slice(-4000) : '(no log)');
    // Foreground: children of this process, restarted after an unexpected exit (edge-supervisor.ts).
    const supervisor = options.detached ? null : new DaemonSupervisor(options.supervisor);
    const spawnDaemon = (
      name: EdgeDaemon,
      bin: string,
      args: string[],
      logPath: string,
      ready: () => Promise<boolean>,
      env?: NodeJS.ProcessEnv,
    ) => {
      if (supervisor) {
        // Kamailio leads its own process group: its workers outlive a killed main process and keep the ports.
        supervisor.start({ name, bin, args, logPath, cwd: runDir, ready, ownGroup: name === 'kamailio', ...(env ? { env } : {}) });
        return;
      }
      // The log is a file, not a pipe: a detached daemon outlives this process and must not write into a closed pipe.
      const log = openSync(logPath, 'w', 0o600);
      // cwd: the run dir, so nothing a daemon writes to its working directory lands where it was started.
      const child = spawn(bin, args, { stdio: ['ignore', log, log], detached: true, cwd: runDir, ...(env ? { env } : {}) });
      closeSync(log);
      child.unref();
    };

    // A daemon that never came up is not restarted: stop what was started, then throw.
    const startedOrStop = async (up: Promise<void>) => {
      try {
        await up;
      } catch (e) {
        await supervisor?.stop();
        throw e;
      }
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
          `timeout = ${settings.mediaTimeoutSeconds ?? 60}`,
          `delete-delay = ${settings.mediaDeleteDelaySeconds ?? DEFAULT_MEDIA_DELETE_DELAY_S}`,
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
      const args = [
        `--config-file=${rtpConfig}`,
        '--config-section=rtpengine',
        '--foreground',
        '--log-stderr',
        `--pidfile=${rtpenginePid}`,
      ];
      // rtpengine 10.5.3.5 (Debian 12) with pcap recording crashes on SIGTERM at shutdown (after its calls
      // are gone): no core file of a process that holds call audio. `exec` keeps the pid (the pid file, stop()).
      spawnDaemon('rtpengine', '/bin/sh', ['-c', 'ulimit -c 0 && exec "$0" "$@"', RTPENGINE_BIN, ...args], rtpengineLog, () =>
        rtpenginePing(host, ngPort),
      );
      await startedOrStop(
        waitFor(
          () => rtpenginePing(host, ngPort),
          5000,
          'rtpengine',
          () => readLog(rtpengineLog),
        ),
      );
    }
    // -DD: stay in the foreground (a child we own, or a detached session leader with a pid file); -E: log to stderr.
    // -w: its working directory is the run dir (0700), not "/": a crash's core file (≈ 300 MB, call data in
    // shared memory) lands there, one file `core` overwritten by the next (docs/voice.md "Supervisor").
    spawnDaemon(
      'kamailio',
      KAMAILIO_BIN,
      ['-DD', '-E', '-f', configPath, '-P', kamailioPid, '-w', runDir, '-m', String(settings.sharedMemoryMb ?? 256), '-M', '16'],
      kamailioLog,
      async () => (await sipOptions(host, sipPort, 300)) !== null,
      tlsFiles ? { ...process.env, OPENSSL_CONF: tlsFiles.opensslConfig } : undefined,
    );
    await startedOrStop(
      waitFor(
        async () => (await sipOptions(host, sipPort, 300)) !== null,
        10_000,
        'kamailio',
        () => readLog(kamailioLog),
      ),
    );

    const edge: VoiceEdge = {
      domain: host,
      // wss first: the softphone on an https page takes it (sip-phone.ts defaultPickUri); ws stays for http pages.
      uris: [
        `sip:${host}:${sipPort}`,
        ...(wssPort !== null ? [`wss://${host}:${wssPort}`] : []),
        ...(ws ? [`ws://${host}:${wsPort}`] : []),
      ],
      ...(useRtpengine ? { recordings, rtpengine: `${host}:${ngPort}`, queuePrompts: prompts } : {}),
    };
    if (!settings.staticRouteUser) writeFileSync(voiceEdgePath(settings.dataDir), JSON.stringify(edge, null, 2) + '\n');
    return {
      sipUri: `sip:${host}:${sipPort}`,
      wsUri: ws ? `ws://${host}:${wsPort}` : null,
      wssUri: wssPort !== null ? `wss://${host}:${wssPort}` : null,
      apiUrl,
      forwardsTo: forwarder ? resolvedApi : null,
      forwarded: () => forwarder?.stats() ?? null,
      host,
      sipPort,
      wsPort: ws ? wsPort : null,
      wssPort,
      tlsOffReason: 'off' in tls ? tls.off : null,
      ngPort,
      runDir,
      configPath,
      prompts,
      restarts: () => supervisor?.restarts() ?? { kamailio: 0, rtpengine: 0 },
      async stop() {
        try {
          if (supervisor) {
            await supervisor.stop();
          } else await stopVoiceEdge(runDir);
        } finally {
          await forwarder?.close();
        }
        if (!settings.staticRouteUser) rmSync(voiceEdgePath(settings.dataDir), { force: true });
      },
    };
  } catch (error) {
    await forwarder?.close();
    throw error;
  }
}

/**
 * Stops the daemons whose pid files are in `runDir` (by their pid files only: never by name) and waits
 * up to 5 s for each to exit, then SIGKILLs what is left of Kamailio's process group (workers of a main
 * process that died). `npm run voice -- down` calls it after stopping the supervisor, for daemons a dead
 * supervisor or an older unsupervised `up` left. Resolves with what it stopped.
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
    // Kamailio leads its own process group (pgid = its pid): workers left by a main process that died
    // (SIGKILL, a crash) keep its ports. A group id is not reused while a member lives, so this reaches only them.
    if (name === 'kamailio' && Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // No process left in the group.
      }
    }
    rmSync(pidFile, { force: true });
  }
  return stopped;
}
