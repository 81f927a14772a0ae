/**
 * The processes of a benchmark run, as the parent (run.ts) starts them: the server under test, the
 * bare baselines and the load generators, each its own OS process on loopback.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GeneratorMessage, IdleJob, IdleResult, Job, ParentMessage, Target } from './jobs';
import type { BaselineMode } from './baselines';
import { sleep } from './stats';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How the server under test is started, run from the repository root with `--demo` appended: by
 * default the compiled server, as it runs outside development (`npm run bench` builds it first);
 * `BENCH_SERVER="node --import tsx server/src/main.ts"` measures the sources. It must exec Node itself (not `npx …`): its pid is the process whose memory
 * the idle-connection line reads. A leading `node` means this Node binary.
 */
export const SERVER_COMMAND = process.env.BENCH_SERVER ?? 'node server/dist/server/main.js';

/** TypeScript children (generators, baselines) run under the same loader as the benchmark itself. */
const TS_CHILD = { cwd: REPO, execArgv: ['--import', 'tsx'] };

const children = new Set<ChildProcess>();
const track = (child: ChildProcess) => {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};
/** Kills whatever this run started and is still running (on exit, error or Ctrl-C). */
export function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.once('exit', killAll);
process.once('SIGINT', () => {
  killAll();
  process.exit(130);
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A server (Huiliu or a baseline) listening on loopback. */
export interface ServerUnderTest {
  target: Target;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The abuse limits lifted (config.ts `LimitsSchema`): the generator is one address sending for many
 * visitors far faster than a person, and the benchmark measures the path, not the budgets.
 */
const LIFTED = { points: 1_000_000_000, seconds: 1 };
export const BENCH_LIMITS = {
  limits: {
    widget: { messageBurst: 1_000_000_000, messagesPerSecond: 1_000_000_000, replayBurst: 1_000_000_000, replaysPerSecond: 1_000_000_000 },
    visitor: { messages: LIFTED },
    ip: { messages: LIFTED, newSessions: LIFTED, connections: 1_000_000_000, badAppKeys: LIFTED },
    appKey: { messages: LIFTED, reads: LIFTED },
  },
};

/**
 * Starts the server under test (`SERVER_COMMAND --demo`) on a fresh data dir under `runDir` holding
 * the run's TLS material (so it serves the baselines' certificate), with `BENCH_LIMITS`, a port
 * chosen by the OS and its output in `<dataDir>/out.log`, plus `extraEnv` (e.g. `HUILIU_BUS=redis`).
 * Resolves when it prints its banner.
 * @throws when it exits or has not printed the banner within 60 s (the error carries its output)
 */
export async function startHuiliu(runDir: string, tlsDir: string, extraEnv: Record<string, string> = {}): Promise<ServerUnderTest> {
  const dataDir = mkdtempSync(join(runDir, 'huiliu-'));
  mkdirSync(join(dataDir, 'tls'), { mode: 0o700 });
  for (const f of readdirSync(tlsDir)) copyFileSync(join(tlsDir, f), join(dataDir, 'tls', f));
  const configFile = join(dataDir, 'bench-limits.json');
  writeFileSync(configFile, JSON.stringify(BENCH_LIMITS));
  const outFile = join(dataDir, 'out.log');
  const out = openSync(outFile, 'w');
  const [command, ...args] = SERVER_COMMAND.split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HUILIU_')));
  const child = track(
    spawn(command === 'node' ? process.execPath : command!, [...args, '--demo'], {
      cwd: REPO,
      env: {
        ...env,
        HUILIU_DATA_DIR: dataDir,
        HUILIU_PORT: '0',
        HUILIU_HOST: '127.0.0.1',
        HUILIU_CONFIG: configFile,
        ...(process.env.BENCH_SERVER_LOG_LEVEL ? { HUILIU_LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL } : {}),
        ...extraEnv,
      },
      // To a file, not a pipe: a pipe the parent does not drain would stall the server's logging.
      stdio: ['ignore', out, out],
    }),
  );
  closeSync(out);
  const output = () => readFileSync(outFile, 'utf8');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /is running on (https:\/\/\S+)/.exec(output());
    if (m) {
      return {
        target: { origin: m[1]!, caPem: readFileSync(join(tlsDir, 'ca.pem'), 'utf8') },
        pid: child.pid!,
        stop: () => stop(child),
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`the server under test did not start (${SERVER_COMMAND}):\n${output().slice(-3000)}`);
    }
    await sleep(20);
  }
}

/** Starts one of baselines.ts's bare servers with the run's TLS material; `dbPath` for `ws-sealed`. */
export async function startBaseline(mode: BaselineMode, tlsDir: string, dbPath?: string): Promise<ServerUnderTest> {
  const child = track(
    fork(join(REPO, 'server/bench/baselines.ts'), [mode], {
      ...TS_CHILD,
      env: { ...process.env, BENCH_TLS_DIR: tlsDir, ...(dbPath ? { BENCH_DB: dbPath } : {}) },
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`baseline ${mode} exited with ${code}`)));
  });
  return {
    target: { origin: `https://127.0.0.1:${port}`, caPem: readFileSync(join(tlsDir, 'ca.pem'), 'utf8') },
    pid: child.pid!,
    stop: () => stop(child),
  };
}

/** A load-generator process (generator.ts), forked and loaded, waiting for its one job. */
export class Generator {
  private readonly child: ChildProcess;
  private readonly messages: GeneratorMessage[] = [];
  private waiter: (() => void) | null = null;
  private exitCode: number | null = null;

  private constructor() {
    this.child = track(fork(join(REPO, 'server/bench/generator.ts'), [], TS_CHILD));
    this.child.on('message', (m: GeneratorMessage) => {
      this.messages.push(m);
      this.waiter?.();
    });
    this.child.once('exit', (code) => {
      this.exitCode = code ?? -1;
      this.waiter?.();
    });
  }

  /** Forks a generator and waits until it has loaded (so a job starts at once when sent). */
  static async start(): Promise<Generator> {
    const g = new Generator();
    await g.next('ready');
    return g;
  }

  private async next<T extends GeneratorMessage['type']>(type: T): Promise<Extract<GeneratorMessage, { type: T }>> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.type === type || m.type === 'failed');
      if (i >= 0) {
        const m = this.messages.splice(i, 1)[0]!;
        if (m.type === 'failed') throw new Error(`load generator failed: ${m.error}`);
        return m as Extract<GeneratorMessage, { type: T }>;
      }
      if (this.exitCode !== null) throw new Error(`load generator exited with ${this.exitCode} before answering`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** Runs `job` and resolves with its result; the generator exits afterwards. */
  async run<R>(job: Exclude<Job, IdleJob>): Promise<R> {
    this.send({ type: 'job', job });
    const { result } = await this.next('result');
    await stop(this.child);
    return result as R;
  }

  /** Opens the idle connections; `release` closes them and ends the generator. */
  async hold(job: IdleJob): Promise<{ result: IdleResult; release: () => Promise<void> }> {
    this.send({ type: 'job', job });
    const { result } = await this.next('holding');
    return {
      result,
      release: async () => {
        this.send({ type: 'release' });
        await this.next('result');
        await stop(this.child);
      },
    };
  }
}

/** Resident memory of process `pid` in KiB (`VmRSS` of /proc/<pid>/status; Linux only). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]);
}

/** CPU time process `pid` has used so far, all its threads, user + system, in ms (/proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** This process's soft limit on open files (children inherit it); Infinity when unlimited or unknown. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}
