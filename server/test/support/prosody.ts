import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server-process';

/** Where Debian's `prosody` package puts the server and its control tool. */
const PROSODY = '/usr/bin/prosody';
const PROSODYCTL = '/usr/bin/prosodyctl';

/** The user host of every test Prosody: customers are `<name>@localhost`. */
export const PROSODY_USER_HOST = 'localhost';

export interface ProsodyComponent {
  /** The component's domain (XEP-0114), e.g. `support.localhost`. */
  domain: string;
  /** The component secret (`component_secret`). */
  secret: string;
}

export interface ProsodyServer {
  /** Client-to-server port (customers, `@xmpp/client`), on 127.0.0.1. */
  c2sPort: number;
  /** External-component port (XEP-0114), on 127.0.0.1. */
  componentPort: number;
  /** `xmpp://127.0.0.1:<c2sPort>`. */
  c2sService: string;
  /** `xmpp://127.0.0.1:<componentPort>`. */
  componentService: string;
  /** The temp dir holding the config, data and log (removed by `stop`). */
  dir: string;
  /** Registers `<user>@localhost` with `password` (offline: `prosodyctl register` writes the account file). */
  register(user: string, password: string): void;
  /** Kills the process (SIGKILL: no goodbye to connected components), keeping config and data. */
  kill(): Promise<void>;
  /** Starts it again on the same ports, config and data after `kill`. */
  restart(): Promise<void>;
  /** The last lines of Prosody's log, for a failing test's message. */
  logTail(lines?: number): string;
  /** Stops the process and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts a real Prosody (Debian package `prosody`) for one test file: its own config in a fresh temp
 * dir, loopback only, free ports, no TLS, no s2s, no HTTP, PLAIN auth allowed over the unencrypted
 * loopback stream (xmpp.js 0.13's SCRAM-SHA-1 and Prosody 0.12 disagree, so SCRAM is switched off),
 * no offline storage (a message to an offline customer bounces with `service-unavailable`, which the
 * delivery tests rely on), and the given external components. Run as the `prosody` user when the
 * test runs as root (Prosody refuses root), else as the current user.
 *
 * Never skips: without Prosody installed it throws, naming the package to install.
 * @throws Error when `/usr/bin/prosody` is missing or Prosody does not listen within 10 s
 */
export async function startProsody(options: { components: ProsodyComponent[] }): Promise<ProsodyServer> {
  if (!existsSync(PROSODY) || !existsSync(PROSODYCTL)) {
    throw new Error(`Prosody is not installed (${PROSODY}): install the Debian package "prosody" (.ci/run does) to run the XMPP tests`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-prosody-'));
  const c2sPort = await freePort();
  const componentPort = await freePort();
  const configPath = join(dir, 'prosody.cfg.lua');
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal for these ASCII values
  const config = [
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    `certificates = ${lua(join(dir, 'certs'))}`,
    `log = { { levels = { min = "info" }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    'interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${c2sPort} }`,
    's2s_ports = { }',
    `component_ports = { ${componentPort} }`,
    'component_interfaces = { "127.0.0.1" }',
    'http_ports = { }',
    'https_ports = { }',
    'c2s_direct_tls_ports = { }',
    'legacy_ssl_ports = { }',
    'modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "message"; "iq"; "c2s"; "component" }',
    'modules_disabled = { "s2s"; "tls"; "offline"; "http"; "register" }',
    'c2s_require_encryption = false',
    's2s_require_encryption = false',
    'allow_unencrypted_plain_auth = true',
    'authentication = "internal_plain"',
    'disable_sasl_mechanisms = { "SCRAM-SHA-1"; "SCRAM-SHA-256"; "DIGEST-MD5" }',
    'storage = "internal"',
    `VirtualHost ${lua(PROSODY_USER_HOST)}`,
    ...options.components.flatMap((c) => [`Component ${lua(c.domain)}`, `  component_secret = ${lua(c.secret)}`]),
    '',
  ].join('\n');
  writeFileSync(configPath, config);
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'certs'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'prosody'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'prosody'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('the Debian prosody package should have created the "prosody" user; it is missing');
    for (const p of [dir, join(dir, 'data'), join(dir, 'certs'), configPath]) chownSync(p, Number(id.stdout), Number(gid.stdout));
  }
  // As root, every Prosody command runs as the prosody user (runuser), so its files stay its own.
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'prosody', '--', bin, ...args]] : [bin, args];

  let child: ChildProcess | null = null;
  let output = '';
  const launch = async () => {
    const [bin, args] = command(PROSODY, ['--config', configPath, '-F']);
    output = '';
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child = proc;
    const deadline = Date.now() + 10_000;
    for (const port of [c2sPort, componentPort]) {
      while (!(await listening(port))) {
        if (proc.exitCode !== null) throw new Error(`prosody exited (${proc.exitCode}):\n${output}\n${tail(40)}`);
        if (Date.now() > deadline) throw new Error(`prosody did not listen on ${port} within 10 s:\n${output}\n${tail(40)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const tail = (lines = 40) => {
    const log = join(dir, 'prosody.log');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  };
  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    // runuser forwards the signal to prosody; the pid file names prosody itself, which is the one to kill.
    const pid = Number(readFileSafe(join(dir, 'prosody.pid')));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    proc.kill('SIGKILL');
    await exited;
    // Until its listening sockets are gone, a restart on the same ports would fail.
    const deadline = Date.now() + 5000;
    while ((await listening(c2sPort)) || (await listening(componentPort))) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await launch();
  return {
    c2sPort,
    componentPort,
    c2sService: `xmpp://127.0.0.1:${c2sPort}`,
    componentService: `xmpp://127.0.0.1:${componentPort}`,
    dir,
    register(user, password) {
      const [bin, args] = command(PROSODYCTL, ['--config', configPath, 'register', user, PROSODY_USER_HOST, password]);
      const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`prosodyctl register ${user} failed (${r.status}): ${r.stdout}${r.stderr}`);
    },
    kill,
    restart: launch,
    logTail: tail,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
