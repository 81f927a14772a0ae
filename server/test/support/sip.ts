import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTlsMaterial, spkiPin } from '../../src/tls/certificates';
import type { VoiceCredentials } from '../../../common/api/voice';
import {
  edgeTlsFiles,
  freeSipPort,
  SIPP_BIN,
  startVoiceEdge,
  type EdgeSettings,
  type EdgeTlsFiles,
  type RunningEdge,
} from '../../src/voice/edge-process';
import type { Socket } from 'socket.io-client';
import { openAgentSocket } from './agent-client';
import { expect } from 'vitest';
import type { SessionRecord } from '../../src/sessions/store';
import { startTestServer, type TestServer } from './harness';
import { eventually, until } from './until';

/**
 * A base port N for sipp's `-mp`: sipp binds audio RTP on N and N+1 and video RTP on N+2 and N+3, so all four
 * must be free on UDP 127.0.0.1 (a free N alone failed CI: "Unable to bind video RTP socket … errno = 98").
 * N is even and drawn from 10000–19996: below both the kernel's ephemeral ports (32768–60999, where every
 * `listen(0)` of a parallel test lands) and rtpengine's default media range (20000–59999).
 * @throws Error after 100 draws without four free ports
 */
export async function freeMediaPort(host = '127.0.0.1'): Promise<number> {
  const bindable = (port: number) =>
    new Promise<ReturnType<typeof createSocket> | null>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(null));
      socket.bind(port, host, () => resolve(socket));
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 10_000 + 2 * Math.floor(Math.random() * 4_999);
    const held = [];
    for (let port = base; port < base + 4; port++) {
      const socket = await bindable(port);
      if (!socket) break;
      held.push(socket);
    }
    await Promise.all(held.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    if (held.length === 4) return base;
  }
  throw new Error('no four free UDP ports in a row on loopback (10000–19999) after 100 draws');
}

/** The sipp scenarios of the voice tests and bench (server/test/voice/*.xml). */
export const SCENARIOS = fileURLToPath(new URL('../voice/', import.meta.url));

/**
 * sipp's arguments for one REGISTER of `user` through the edge at `127.0.0.1:sipPort`
 * (`server/test/voice/register.xml`, digest with `username`/`password`), its contact at `contactPort`;
 * sipp binds `localPort` (0: any free port).
 */
export function sippRegisterArgs(
  sipPort: number,
  a: { user: string; contactPort: number | string; username: string; password: string; localPort?: number | string },
): string[] {
  return [
    `127.0.0.1:${sipPort}`,
    ...['-sf', join(SCENARIOS, 'register.xml'), '-m', '1', '-p', String(a.localPort ?? 0)],
    ...['-key', 'user', a.user, '-key', 'contact_port', String(a.contactPort)],
    ...['-au', a.username, '-ap', a.password],
  ];
}

export interface SippRun {
  code: number | null;
  out: string;
}

/**
 * Runs sipp to completion (or `timeoutMs`, then kills it) and resolves with its exit code (0: every
 * call succeeded) and the tail of its output. Always `-nostdin`, loopback, and a global `-timeout`.
 */
export function runSipp(args: string[], timeoutMs = 60_000): Promise<SippRun> & { kill(signal?: NodeJS.Signals): void } {
  const errorFile = join(mkdtempSync(join(tmpdir(), 'huiliu-sipp-')), 'errors.log');
  const child = spawn(
    SIPP_BIN,
    [
      '-nostdin',
      '-i',
      '127.0.0.1',
      '-timeout',
      `${Math.ceil(timeoutMs / 1000)}s`,
      '-timeout_error',
      '-trace_err',
      '-error_file',
      errorFile,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const hard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
  const done = new Promise<SippRun>((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(hard);
      // sipp's own account of unexpected messages, first: the screen dump alone does not show them.
      const errors = existsSync(errorFile) ? readFileSync(errorFile, 'utf8').slice(0, 8000) : '';
      rmSync(dirname(errorFile), { recursive: true, force: true });
      resolve({ code, out: errors ? `${errors}\n${out}` : out });
    });
  }) as Promise<SippRun> & { kill(signal?: NodeJS.Signals): void };
  // SIGKILL: the process vanishes without a word (no BYE), as a phone that lost power or network.
  done.kill = (signal = 'SIGTERM') => child.kill(signal);
  return done;
}

/**
 * An agent's phone: a sipp UAS (`scenario`, default `phone.xml`; `calls` calls, default 1, within `timeoutMs`;
 * `args`: more sipp arguments, e.g. `-key target agent2`) on a free port, registered as `user` at the edge on `sipPort` with the agent's SIP credentials. Resolves once
 * the REGISTER succeeded, with the running phone.
 * @throws Error with sipp's output when the registration fails
 */
export async function registeredSippPhone(
  sipPort: number,
  user: string,
  creds: { username: string; password: string },
  options: { calls?: number; timeoutMs?: number; scenario?: string; args?: string[] } = {},
): Promise<{ phone: ReturnType<typeof runSipp>; port: number }> {
  const port = await freeSipPort();
  const phone = runSipp(
    [
      '-sf',
      join(SCENARIOS, options.scenario ?? 'phone.xml'),
      '-p',
      String(port),
      '-m',
      String(options.calls ?? 1),
      ...(options.args ?? []),
    ],
    options.timeoutMs ?? 40_000,
  );
  const registered = await runSipp(
    sippRegisterArgs(sipPort, { user, contactPort: port, username: creds.username, password: creds.password }),
    15_000,
  );
  if (registered.code !== 0) {
    phone.kill('SIGKILL');
    await phone;
    throw new Error(`registering ${user}'s phone failed (sipp exit ${registered.code}):\n${registered.out}`);
  }
  return { phone, port };
}

/** A trunk caller's SDP offer: plain RTP/AVP, PCMU, on 127.0.0.1 (for INVITEs a test writes by hand). */
export const PLAIN_RTP_SDP = [
  'v=0',
  'o=caller 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

/** One UDP request/response exchange on loopback: sends `message`, resolves with every datagram received within `ms`. */
export function udpExchange(port: number, message: Buffer | string, ms = 300, host = '127.0.0.1'): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const got: string[] = [];
    socket.on('message', (m) => got.push(m.toString('latin1')));
    socket.on('error', () => undefined);
    socket.bind(0, host, () => {
      socket.send(typeof message === 'string' ? Buffer.from(message, 'latin1') : message, port, host);
      setTimeout(() => {
        socket.close();
        resolve(got);
      }, ms);
    });
  });
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * HTTP/SIP Digest `response` (RFC 2617 §3.2.2, RFC 3261 §22.4), MD5: with `qop` `auth` or `auth-int`
 * (`body` hashed into HA2), or without qop (RFC 2069 compatibility). Test code: Kamailio's auth module
 * is what checks digests in production; this is the client side the tests present to it.
 */
export function digestResponse(v: {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  qop?: string | null;
  nc?: string | null;
  cnonce?: string | null;
  body?: string | null;
}): string {
  const ha1 = md5(`${v.username}:${v.realm}:${v.password}`);
  const ha2 = v.qop === 'auth-int' ? md5(`${v.method}:${v.uri}:${md5(v.body ?? '')}`) : md5(`${v.method}:${v.uri}`);
  return v.qop ? md5(`${ha1}:${v.nonce}:${v.nc}:${v.cnonce}:${v.qop}:${ha2}`) : md5(`${ha1}:${v.nonce}:${ha2}`);
}

/** The parameters of a `WWW-Authenticate: Digest …` header (quoted or token values). */
export function challengeOf(response: string): Record<string, string> {
  const line = response.split('\r\n').find((l) => /^WWW-Authenticate:/i.test(l));
  if (!line) throw new Error(`no WWW-Authenticate in:\n${response}`);
  const params: Record<string, string> = {};
  for (const m of line.replace(/^WWW-Authenticate:\s*Digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g)) params[m[1]!] = m[3] ?? m[2]!;
  return params;
}

/** What a voice test hands the edge for WSS and what its clients trust (`edgeCertificate`). */
export interface EdgeCertificate {
  /** `startVoiceEdge`'s `tls`: undefined = the server's own certificate (the edge's default). */
  tls: EdgeTlsFiles | undefined;
  /** The CA PEM a client verifies the edge's certificate with. */
  caPem: string;
  /** The edge leaf's SPKI pin (Chromium's `--ignore-certificate-errors-spki-list` form). */
  spkiPin: string;
  /** Why the edge cannot take the server's own certificate (its key is sealed), or null when it can. */
  serverKeySealed: string | null;
}

/**
 * The certificate a voice test's edge serves WSS with, next to the server whose data dir is `dataDir`
 * (served at `serverUrl`). By default the edge takes the server's own (plain key file,
 * `<dataDir>/tls`), and so does this: `tls` undefined. A server whose TLS key is sealed by a PKCS#11
 * KEK (the scale-out lane, `HUILIU_KEYS=pkcs11`) has no plain key to hand Kamailio; docs/voice.md
 * tells the operator to give the edge a certificate (`--tls-cert/--tls-key`), and this does what the
 * operator does: a local CA and a leaf for localhost/127.0.0.1 in `<dataDir>/edge-tls` (plain keys,
 * mode 0600), passed as `tls`. The clients then trust that CA (and Chromium pins that leaf) as well.
 */
export async function edgeCertificate(dataDir: string, serverUrl: string): Promise<EdgeCertificate> {
  const own = edgeTlsFiles({ dataDir, serverUrl });
  if (!('off' in own)) {
    const caPem = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    return { tls: undefined, caPem, spkiPin: spkiPin(readFileSync(own.certFile, 'utf8')), serverKeySealed: null };
  }
  if (!/sealed by the PKCS#11 KEK/.test(own.off)) throw new Error(`the voice edge cannot serve WSS: ${own.off}`);
  const dir = join(dataDir, 'edge-tls');
  const m = await ensureTlsMaterial(dir, []);
  const tls = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem'), caFile: join(dir, 'ca.pem') };
  return { tls, caPem: m.caPem, spkiPin: m.spkiSha256, serverKeySealed: own.off };
}

/**
 * The voice tests' edge beside `server`: Kamailio + rtpengine on free loopback ports wired to it, ringing
 * an agent 5 s, parked callers polling every 1 s, WSS with the server's certificate (or one of the
 * edge's own when the server's key is sealed, `edgeTlsSetting`). `settings` and `options` as
 * `startVoiceEdge`'s, over those defaults.
 */
export async function startTestEdge(
  server: Pick<TestServer, 'dataDir' | 'url'>,
  settings: Partial<EdgeSettings> = {},
  options: Parameters<typeof startVoiceEdge>[1] = {},
): Promise<RunningEdge> {
  return startVoiceEdge(
    {
      dataDir: server.dataDir,
      serverUrl: server.url,
      ringMs: 5000,
      queuePollSeconds: 1,
      ...(await edgeTlsSetting(server.dataDir, server.url)),
      ...settings,
    },
    options,
  );
}

/**
 * A server and its test edge started by a test and stopped at its end — or by `afterAll(rig.stop)` when
 * the test failed first: `start(settings, options)` as `startTestEdge`'s (it stops a pair a failed test
 * left running first); the test's agent sockets go on `sockets` and its own clean-ups (temp dirs) on
 * `cleanups`, both run by `stop()`.
 */
export function serverEdgeRig(): {
  sockets: Socket[];
  cleanups: (() => void)[];
  start(settings?: Partial<EdgeSettings>, options?: Parameters<typeof startVoiceEdge>[1]): Promise<{ s: TestServer; edge: RunningEdge }>;
  stop(): Promise<void>;
} {
  let s: TestServer | undefined;
  let edge: RunningEdge | undefined;
  const sockets: Socket[] = [];
  const cleanups: (() => void)[] = [];
  const rig = {
    sockets,
    cleanups,
    async start(settings: Partial<EdgeSettings> = {}, options: Parameters<typeof startVoiceEdge>[1] = {}) {
      // A test that failed before its stop() left its pair running: stopped first, or its Kamailio and
      // rtpengine outlive the run (the next start overwrote them, and afterAll stopped only the last).
      if (s || edge) await rig.stop();
      const server = await startTestServer();
      s = server;
      edge = await startTestEdge(server, settings, options);
      return { s: server, edge };
    },
    async stop() {
      while (sockets.length > 0) sockets.pop()!.close();
      await edge?.stop();
      await s?.cleanup();
      edge = undefined;
      s = undefined;
      while (cleanups.length > 0) cleanups.pop()!();
    },
  };
  return rig;
}

/**
 * `startVoiceEdge`'s `tls` setting for a test edge next to the server at `serverUrl` (`edgeCertificate`):
 * `{}` (the server's own certificate) or `{tls}` (one of the edge's own when the server's key is
 * sealed). The edge serves WebSockets over WSS only by default, so it needs a certificate either way.
 */
export async function edgeTlsSetting(dataDir: string, serverUrl: string): Promise<{ tls?: EdgeTlsFiles }> {
  const cert = await edgeCertificate(dataDir, serverUrl);
  return cert.tls ? { tls: cert.tls } : {};
}

/** `npm run voice -- up`'s arguments for `edgeTlsSetting`: `--tls-cert/--tls-key` when the edge needs a certificate of its own, else none. */
export async function edgeTlsArgs(dataDir: string, serverUrl: string): Promise<string[]> {
  const { tls } = await edgeTlsSetting(dataDir, serverUrl);
  return tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [];
}

/** `user`'s ephemeral SIP credentials from the test server (`GET /api/v1/voice/credentials`). */
export async function voiceCredentials(s: TestServer, user: string): Promise<VoiceCredentials> {
  const res = await s.app.inject({
    method: 'GET',
    url: '/api/v1/voice/credentials',
    headers: { authorization: `Bearer ${await s.login(user)}` },
  });
  if (res.statusCode !== 200) throw new Error(`voice credentials for ${user}: ${res.statusCode} ${res.body}`);
  return res.json<VoiceCredentials>();
}

/**
 * A sipp phone for `user` running `scenario` (server/test/voice/*.xml, `-m 1`), registered at the edge
 * on `sipPort` with the user's credentials. Resolves once the REGISTER succeeded.
 * @returns the running phone (`runSipp`) and its SIP port
 * @throws Error with sipp's output when the REGISTER fails
 */
export async function registeredPhone(
  s: TestServer,
  sipPort: number,
  user: string,
  scenario = 'phone.xml',
  timeoutMs = 90_000,
): Promise<{ running: ReturnType<typeof runSipp>; port: number }> {
  const { phone, port } = await registeredSippPhone(sipPort, user, await voiceCredentials(s, user), { scenario, timeoutMs });
  return { running: phone, port };
}

/**
 * The voice events the server refused from this edge's Kamailio: its `server answered <code>` warnings
 * (route[NOTIFY]) with a 4xx other than 404 (no such call, a legitimate answer). A refused post is always
 * a fault of the edge's config or the server's schema (e.g. a session id Kamailio made up), so a test
 * that drives calls expects none. Reads `<runDir>/kamailio.log`; [] when there is none.
 */
export function refusedPosts(edge: { runDir: string }): string[] {
  const path = join(edge.runDir, 'kamailio.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => /voice event \w+: server answered 4(?!04)\d\d/.test(l));
}

/**
 * Kamailio's `calls` htable as `kamcmd htable.dump calls` prints it (Call-ID → the SP session the server
 * named), read over the edge's own control socket (`<runDir>/kamailio_ctl`).
 * @throws Error with kamcmd's stderr when the dump fails
 */
export function callsTableDump(edge: { runDir: string }): string {
  const dump = spawnSync('/usr/sbin/kamcmd', ['-s', `unix:${join(edge.runDir, 'kamailio_ctl')}`, 'htable.dump', 'calls'], {
    encoding: 'utf8',
  });
  if (dump.status !== 0) throw new Error(`kamcmd htable.dump calls: ${dump.status} ${dump.stderr}`);
  return dump.stdout;
}

/**
 * Signs `username` in on an agent socket, waits until the server's agent pool has them online, and
 * fetches their SIP credentials (`GET /api/v1/voice/credentials`), as the workstation does before its
 * softphone registers. The caller closes `socket`.
 */
export async function onlineVoiceAgent(s: TestServer, username = 'agent1'): Promise<{ socket: Socket; creds: VoiceCredentials }> {
  const socket = await openAgentSocket(s, await s.login(username));
  const agentId = s.services.auth.listStaff().find((u) => u.username === username)!.id;
  await until(() => s.services.pool.get(agentId) !== undefined);
  const res = await s.app.inject({
    method: 'GET',
    url: '/api/v1/voice/credentials',
    headers: { authorization: `Bearer ${await s.login(username)}` },
  });
  if (res.statusCode !== 200) throw new Error(`voice credentials of ${username}: ${res.statusCode} ${res.body}`);
  return { socket, creds: res.json<VoiceCredentials>() };
}

/**
 * One sipp call from `tel:+86138001` to `support` through the edge (`caller.xml`, 300 ms of talk) to
 * `username`'s sipp phone registered with `creds`: both scenarios end 0 (the Kamailio log's tail in the
 * message otherwise), the caller's SP session closes `resolved`, and its history holds `call.incoming`,
 * `call.answered` and `call.ended`. Answers that session.
 */
export async function expectRoutedCallResolved(
  s: TestServer,
  edge: { sipPort: number; runDir: string },
  creds: { username: string; password: string },
  username = 'agent1',
): Promise<SessionRecord> {
  const { phone } = await registeredSippPhone(edge.sipPort, username, creds);
  const caller = await runSipp(
    [
      `127.0.0.1:${edge.sipPort}`,
      ...['-sf', join(SCENARIOS, 'caller.xml'), '-s', 'support', '-m', '1', '-d', '300', '-p', '0'],
      ...['-recv_timeout', '20000'],
    ],
    30_000,
  );
  expect(caller.code, `${caller.out}\n${readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-5000)}`).toBe(0);
  expect((await phone).code).toBe(0);
  const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'));
  const session = await eventually(async () => {
    const found = await s.services.store.latestSession(customer.id, 'SP');
    return found?.status === 'closed' ? found : null;
  });
  expect(session.wrapUpCode).toBe('resolved');
  const names = (await s.services.store.listMessages(session.conversationId)).flatMap((m) => (m.kind === 'event' ? [m.body.name] : []));
  expect(names).toEqual(expect.arrayContaining(['call.incoming', 'call.answered', 'call.ended']));
  return session;
}
