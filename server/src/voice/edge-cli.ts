import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { voiceEdgePath } from './edge';
import { alive, startVoiceEdge, stopVoiceEdge, type EdgeDaemon, type EdgeSettings, type RunningEdge } from './edge-process';

/**
 * `npm run voice -- up [--sip-port N] [--ws-port N] [--wss-port N] [--no-tls | --tls-cert FILE --tls-key FILE] [--ws] [--media-ports FIRST-LAST]`
 * · `npm run voice -- down` · `npm run voice -- status`.
 * Environment: HUILIU_DATA_DIR (./var), HUILIU_URL (https://127.0.0.1:8443). `up` prints the SIP address
 * as `sip:host:port` on its own line (scripts read it), then the WebSocket addresses for JsSIP: wss (TLS 1.3
 * only, with the server's certificate when the server serves https; `--tls-cert/--tls-key` a real one),
 * and plain ws only with `--ws` (opt-in: loopback tools, http pages). `--no-ws` is the default and still
 * accepted; `--ws` and `--no-ws` together are refused.
 *
 * `up` leaves a supervisor process running (detached, `<run dir>/supervisor.pid`, log `supervisor.log`)
 * that owns Kamailio and rtpengine and restarts either after an unexpected exit (edge-supervisor.ts,
 * the same backoff and budget as a server's foreground edge); `down` stops the supervisor (which stops
 * both), then any daemon a pid file still names; `status` adds the supervisor's pid and restart counts.
 */
/** One line on stdout (the CLI's answer; `up`'s first line is the SIP address). */
const say = (line: string) => process.stdout.write(`${line}\n`);

/** HUILIU_DATA_DIR as an absolute path (default ./var). */
function dataDirOf(): string {
  const dataDirEnv = process.env['HUILIU_DATA_DIR'] ?? './var';
  return isAbsolute(dataDirEnv) ? dataDirEnv : resolve(process.cwd(), dataDirEnv);
}

/**
 * `up`'s flags as edge settings (the supervisor process parses the same argv).
 * @throws Error for a flag without its port or file, and for contradicting flags
 */
function upSettings(argv: string[], dataDir: string): EdgeSettings {
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} needs a port number`);
    return n;
  };
  const sipPort = flag('--sip-port');
  const wsPort = flag('--ws-port');
  const wssPort = flag('--wss-port');
  const file = (name: string) => {
    const i = argv.indexOf(name);
    const value = i < 0 ? undefined : argv[i + 1];
    if (i >= 0 && (!value || value.startsWith('--'))) throw new Error(`${name} needs a file`);
    return value ? resolve(process.cwd(), value) : undefined;
  };
  const certFile = file('--tls-cert');
  const keyFile = file('--tls-key');
  if (Boolean(certFile) !== Boolean(keyFile)) throw new Error('--tls-cert and --tls-key go together');
  if (wsPort && !argv.includes('--ws')) throw new Error('--ws-port needs --ws (plain ws is opt-in; WSS only is the default)');
  if (argv.includes('--ws') && argv.includes('--no-ws'))
    throw new Error('--ws and --no-ws contradict each other (WSS only is the default)');
  const mediaIndex = argv.indexOf('--media-ports');
  let mediaPorts: [number, number] | undefined;
  if (mediaIndex >= 0) {
    const m = /^(\d+)-(\d+)$/.exec(argv[mediaIndex + 1] ?? '');
    if (!m) throw new Error('--media-ports needs FIRST-LAST (rtpengine RTP ports, e.g. 30000-31999)');
    mediaPorts = [Number(m[1]), Number(m[2])];
  }
  const tls = argv.includes('--no-tls') ? false : certFile && keyFile ? { certFile, keyFile } : undefined;
  return {
    dataDir,
    serverUrl: process.env['HUILIU_URL'] ?? 'https://127.0.0.1:8443',
    ...(sipPort ? { sipPort } : {}),
    ...(wsPort ? { wsPort } : {}),
    ...(wssPort ? { wssPort } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(argv.includes('--ws') ? { ws: true } : {}),
    ...(mediaPorts ? { mediaPorts } : {}),
  };
}

/** What the supervisor process tells `up` once the edge answers (IPC), or why it could not start it. */
type SupervisorHello =
  | { ok: true; sipUri: string; wssUri: string | null; wsUri: string | null; tlsOffReason: string | null; runDir: string }
  | { ok: false; error: string };

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'status';
  const dataDir = dataDirOf();
  const runDir = join(dataDir, 'voice', 'run');
  if (command === SUPERVISE) return supervise(argv.slice(1), dataDir);
  if (command === 'up') {
    upSettings(argv, dataDir); // flags checked here, before anything is stopped or started
    await stopEdge(runDir);
    const hello = await startSupervisor(argv.slice(1), runDir);
    if (!hello.ok) throw new Error(hello.error);
    say(hello.sipUri);
    if (hello.wssUri) say(`${hello.wssUri}  (JsSIP, TLS 1.3 only; credentials: GET /api/v1/voice/credentials)`);
    else say(`no wss: ${hello.tlsOffReason ?? 'off'}`);
    say(
      hello.wsUri
        ? `${hello.wsUri}  (plain ws, --ws: JsSIP from http pages and loopback tests)`
        : 'no ws: WSS only (the default; --ws adds plain ws)',
    );
    const status = readSupervisorStatus(runDir);
    say(`supervisor pid ${status?.pid ?? '?'} (restarts Kamailio and rtpengine; log ${join(hello.runDir, 'supervisor.log')})`);
    say(`run dir ${hello.runDir} (config, logs, pid files, queue prompts)`);
    return 0;
  }
  if (command === 'down') {
    const stopped = await stopEdge(runDir);
    const edgeFile = voiceEdgePath(dataDir);
    if (existsSync(edgeFile)) rmSync(edgeFile);
    say(stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'voice edge was not running');
    return 0;
  }
  if (command === 'status') {
    const edgeFile = voiceEdgePath(dataDir);
    say(existsSync(edgeFile) ? readFileSync(edgeFile, 'utf8').trim() : 'voice edge is not running');
    const status = readSupervisorStatus(runDir);
    if (status && supervisorAlive(runDir))
      say(
        `supervisor pid ${status.pid}, up since ${status.startedAt}; restarts: kamailio ${status.restarts.kamailio}, rtpengine ${status.restarts.rtpengine}` +
          (status.gaveUp.length > 0 ? `; gave up on ${status.gaveUp.join(', ')} (down: run up again)` : ''),
      );
    else if (existsSync(edgeFile)) say('no supervisor running: nothing restarts Kamailio or rtpengine (run up again)');
    return 0;
  }
  process.stderr.write(
    'usage: npm run voice -- up [--sip-port N] [--ws-port N] [--wss-port N] [--no-tls | --tls-cert FILE --tls-key FILE] [--ws] [--media-ports FIRST-LAST]' +
      ' | down | status\n',
  );
  return 2;
}

/** The hidden command `up` starts its supervisor with (a detached `node edge-cli.ts __supervise <up's flags>`). */
const SUPERVISE = '__supervise';

/**
 * Stops a running edge of `runDir`: its supervisor first (SIGTERM: it stops both daemons and exits;
 * SIGKILL after 15 s), then whatever daemon its pid file still names (a supervisor that died, an edge
 * of an older `up`). By pid files only, never by name. @returns what it stopped
 */
async function stopEdge(runDir: string): Promise<string[]> {
  const stopped: string[] = [];
  const pid = supervisorAlive(runDir);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    const end = Date.now() + 15_000;
    while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    stopped.push(`supervisor (pid ${pid})`);
  }
  rmSync(supervisorPidPath(runDir), { force: true });
  stopped.push(...(await stopVoiceEdge(runDir)));
  return stopped;
}

/**
 * Starts the supervisor detached (its own session; stdout and stderr to `<runDir>/supervisor.log`) and
 * waits for its word over IPC: the edge's addresses once both daemons answer, or the error that stopped
 * it. Then lets it go (disconnect, unref): `up` exits, the supervisor stays.
 */
async function startSupervisor(flags: string[], runDir: string): Promise<SupervisorHello> {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(runDir, 'supervisor.log'), 'w', 0o600);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), SUPERVISE, ...flags], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const hello = await new Promise<SupervisorHello>((done) => {
    const timer = setTimeout(() => done({ ok: false, error: 'the voice edge supervisor did not report within 90 s' }), 90_000);
    child.once('message', (m: SupervisorHello) => {
      clearTimeout(timer);
      done(m);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const tail = existsSync(join(runDir, 'supervisor.log')) ? readFileSync(join(runDir, 'supervisor.log'), 'utf8').slice(-3000) : '';
      done({ ok: false, error: `the voice edge supervisor exited (${code ?? signal}) before the edge was up:\n${tail}` });
    });
  });
  if (child.connected) child.disconnect();
  child.unref();
  if (!hello.ok && child.pid && alive(child.pid)) child.kill('SIGTERM');
  return hello;
}

/**
 * The supervisor process (`__supervise`): starts the edge in the foreground, so `DaemonSupervisor`
 * (edge-supervisor.ts: backoff 250 ms × 2^n up to 10 s, at most 5 restarts per daemon in 10 min)
 * restarts Kamailio or rtpengine after an unexpected exit; keeps its pid and counts in the run dir
 * (`supervisor.pid`, `supervisor.json`) for `status`; on SIGTERM/SIGINT/SIGHUP stops both daemons and exits.
 */
async function supervise(flags: string[], dataDir: string): Promise<number> {
  const hello = (m: SupervisorHello) => {
    if (process.send && process.connected) process.send(m);
  };
  const settings = upSettings(flags, dataDir);
  const runDir = join(dataDir, 'voice', 'run');
  const status: SupervisorStatus = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    restarts: { kamailio: 0, rtpengine: 0 },
    gaveUp: [],
  };
  const write = () => writeFileSync(join(runDir, 'supervisor.json'), JSON.stringify(status) + '\n', { mode: 0o600 });
  let edge: RunningEdge;
  try {
    edge = await startVoiceEdge(settings, {
      supervisor: {
        onEvent: (e) => {
          status.restarts[e.daemon] = Math.max(status.restarts[e.daemon], e.restarts);
          if (e.kind === 'gave-up' && !status.gaveUp.includes(e.daemon)) status.gaveUp.push(e.daemon);
          if (e.kind === 'restarted') status.gaveUp = status.gaveUp.filter((d) => d !== e.daemon);
          write();
        },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message}\n`);
    // Delivered before the exit, so `up` says why.
    await new Promise<void>((sent) =>
      process.send && process.connected ? process.send({ ok: false, error: message }, () => sent()) : sent(),
    );
    return 1;
  }
  writeFileSync(supervisorPidPath(runDir), `${process.pid}\n`, { mode: 0o600 });
  write();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await edge.stop();
    rmSync(supervisorPidPath(runDir), { force: true });
    rmSync(join(runDir, 'supervisor.json'), { force: true });
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop());
  hello({ ok: true, sipUri: edge.sipUri, wssUri: edge.wssUri, wsUri: edge.wsUri, tlsOffReason: edge.tlsOffReason, runDir: edge.runDir });
  if (process.connected) process.disconnect();
  // Runs until a signal: the daemons' child handles keep the event loop alive.
  return new Promise<number>(() => undefined);
}

/** `<runDir>/supervisor.json`: the supervisor's pid, start and restart counts (`status`). */
interface SupervisorStatus {
  pid: number;
  startedAt: string;
  restarts: Record<EdgeDaemon, number>;
  /** Daemons whose restart budget is spent (they stay down until the next `up`). */
  gaveUp: EdgeDaemon[];
}

const supervisorPidPath = (runDir: string) => join(runDir, 'supervisor.pid');

function readSupervisorStatus(runDir: string): SupervisorStatus | null {
  try {
    return JSON.parse(readFileSync(join(runDir, 'supervisor.json'), 'utf8')) as SupervisorStatus;
  } catch {
    return null;
  }
}

/** The pid in `supervisor.pid` when that process is alive and is this CLI's supervisor (not a reused pid), else null. */
function supervisorAlive(runDir: string): number | null {
  const file = supervisorPidPath(runDir);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(SUPERVISE) ? pid : null;
  } catch {
    return null;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
