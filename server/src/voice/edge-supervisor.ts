import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import type { Logger } from '../logging/logger';

/**
 * The voice edge's supervisor (docs/voice.md "Supervisor"): keeps Kamailio and rtpengine running in a
 * foreground edge (tests, bench, a server that owns its edge). Kamailio 5.6.3 with OpenSSL 3 can die
 * under load (docs/voice.md "the crash under load"); a contact centre cannot lose its voice edge, so a
 * daemon that exits while the edge is not being stopped is started again with the same command line.
 */

/** The daemons of the edge the supervisor watches. */
export type EdgeDaemon = 'kamailio' | 'rtpengine';

/**
 * What the supervisor reports (`EdgeSupervisorOptions.onEvent`, and the log): a daemon's unexpected exit
 * (`exited`, with its exit code or signal), a restart scheduled after `delayMs` (`restarting`), the
 * daemon answering again (`restarted`: SIP OPTIONS / ng ping), and the restart budget spent (`gave-up`:
 * the daemon stays down). No call data: names, counts, codes and times only.
 */
export interface EdgeSupervisorEvent {
  daemon: EdgeDaemon;
  kind: 'exited' | 'restarting' | 'restarted' | 'gave-up';
  /** Restarts of this daemon so far (after this one, for `restarting`/`restarted`). */
  restarts: number;
  code?: number | null;
  signal?: string | null;
  delayMs?: number;
}

/**
 * The supervisor of a foreground edge (`startVoiceEdge` without `detached`): a daemon that exits while
 * the edge is not being stopped is restarted with the same command line, config and ports — after
 * `baseDelayMs` × 2^(n−1) (capped at `maxDelayMs`) for its n-th restart within `windowMs`, at most
 * `maxRestarts` times in that window; beyond that it stays down (`gave-up`, logged as an error).
 */
export interface EdgeSupervisorOptions {
  /** Default true. */
  enabled?: boolean;
  /** Restarts allowed per daemon within `windowMs` (default 5). */
  maxRestarts?: number;
  /** The window the restarts are counted in, ms (default 600,000: 10 min). */
  windowMs?: number;
  /** First restart delay, ms (default 250); doubled each restart within the window. */
  baseDelayMs?: number;
  /** Longest restart delay, ms (default 10,000). */
  maxDelayMs?: number;
  /** Where the supervisor logs (pino); default: one JSON line per event on stderr. */
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called for each event (tests; a metrics hook). */
  onEvent?: (event: EdgeSupervisorEvent) => void;
}

/** How to start one daemon, and how to tell it is serving again. */
export interface DaemonSpec {
  name: EdgeDaemon;
  bin: string;
  args: readonly string[];
  /** Its log file: truncated at the first start, appended to on restarts (the crash's lines stay). */
  logPath: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Start it as the leader of its own process group, and on its unexpected exit kill what is left of the
   * group before the restart. Kamailio's SIP workers outlive a SIGKILLed main process (seen here) and
   * keep its ports bound; a restart would then fail to listen.
   */
  ownGroup?: boolean;
  /** Resolves true once the daemon answers (SIP OPTIONS, ng ping); polled after a restart. */
  ready: () => Promise<boolean>;
  /** How long a restarted daemon may take to answer, ms (default 10,000). */
  readyMs?: number;
}

const DEFAULTS = { maxRestarts: 5, windowMs: 600_000, baseDelayMs: 250, maxDelayMs: 10_000 };

/** One JSON line on stderr per event when no logger is given (the edge CLI, the bench). */
const stderrLogger: Pick<Logger, 'info' | 'warn' | 'error'> = (() => {
  const line =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      process.stderr.write(
        `${JSON.stringify({ level, time: new Date().toISOString(), component: 'voice.edge', ...(obj as object), msg })}\n`,
      );
    };
  return { info: line('info'), warn: line('warn'), error: line('error') } as unknown as Pick<Logger, 'info' | 'warn' | 'error'>;
})();

/**
 * util-linux's `setpriv` (Debian: `util-linux`, an essential package): runs a daemon with a parent-death
 * signal (`prctl(PR_SET_PDEATHSIG)`, kept across its `exec`), so the kernel sends it SIGTERM when the
 * supervising process dies however it dies — SIGKILL included, which runs no exit handler. Kamailio's
 * main process then stops its workers. Without it a killed test process or `voice up` left its edge
 * running with the ports bound (seen: orphaned Kamailio/rtpengine after killed test runs).
 */
const SETPRIV = '/usr/bin/setpriv';
let pdeathsig: boolean | undefined;
function withParentDeathSignal(bin: string, args: readonly string[]): [string, string[]] {
  // `--pdeathsig` since util-linux 2.33 (Debian 12 has 2.38): asked once, an older one runs the daemon as it is.
  pdeathsig ??= existsSync(SETPRIV) && spawnSync(SETPRIV, ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig') === true;
  return pdeathsig ? [SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args]] : [bin, [...args]];
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // No process left in the group.
  }
}

/**
 * Starts daemons and restarts them after unexpected exits (bounded, with backoff; see
 * `EdgeSupervisorOptions`). `stop()` ends them for good: SIGTERM, SIGKILL after 5 s, and the process
 * group of an `ownGroup` daemon after its leader exits.
 */
export class DaemonSupervisor {
  private readonly opts: Required<Omit<EdgeSupervisorOptions, 'onEvent' | 'logger' | 'enabled'>> & {
    enabled: boolean;
    logger: Pick<Logger, 'info' | 'warn' | 'error'>;
    onEvent?: (event: EdgeSupervisorEvent) => void;
  };
  private readonly daemons = new Map<
    EdgeDaemon,
    { spec: DaemonSpec; child: ChildProcess; recent: number[]; total: number; timer: NodeJS.Timeout | null; up: Promise<void> | null }
  >();
  private stopping = false;
  private readonly onProcessExit = () => {
    // This process is ending without stop(): take the daemons' groups along (the ownGroup ones are not in ours).
    for (const d of this.daemons.values()) if (d.spec.ownGroup && d.child.pid) signalGroup(d.child.pid, 'SIGKILL');
  };

  constructor(options: EdgeSupervisorOptions = {}) {
    this.opts = {
      maxRestarts: options.maxRestarts ?? DEFAULTS.maxRestarts,
      windowMs: options.windowMs ?? DEFAULTS.windowMs,
      baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs,
      enabled: options.enabled ?? true,
      logger: options.logger ?? stderrLogger,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    };
    process.once('exit', this.onProcessExit);
  }

  /** Starts `spec` (its log truncated) and watches it. @returns the child process */
  start(spec: DaemonSpec): ChildProcess {
    const child = this.spawnOnce(spec, false);
    this.daemons.set(spec.name, { spec, child, recent: [], total: 0, timer: null, up: null });
    return child;
  }

  /** The current process of a daemon (a new one after each restart). */
  child(name: EdgeDaemon): ChildProcess | undefined {
    return this.daemons.get(name)?.child;
  }

  /** Restarts so far, per daemon. */
  restarts(): Record<EdgeDaemon, number> {
    return { kamailio: this.daemons.get('kamailio')?.total ?? 0, rtpengine: this.daemons.get('rtpengine')?.total ?? 0 };
  }

  /** Resolves once a restart in progress has the daemon answering again (at once when none is). */
  async settled(name: EdgeDaemon): Promise<void> {
    await this.daemons.get(name)?.up;
  }

  private emit(event: EdgeSupervisorEvent): void {
    const log = this.opts.logger;
    const fields = {
      daemon: event.daemon,
      event: event.kind,
      restarts: event.restarts,
      code: event.code,
      signal: event.signal,
      delayMs: event.delayMs,
    };
    if (event.kind === 'gave-up') log.error(fields, `voice edge: ${event.daemon} keeps exiting; restart budget spent, it stays down`);
    else if (event.kind === 'exited') log.warn(fields, `voice edge: ${event.daemon} exited unexpectedly`);
    else log.info(fields, `voice edge: ${event.daemon} ${event.kind}`);
    try {
      this.opts.onEvent?.(event);
    } catch {
      // A listener's error must not stop the supervision.
    }
  }

  private spawnOnce(spec: DaemonSpec, append: boolean): ChildProcess {
    // The log is a file, not a pipe: the daemon must not write into a closed pipe if this process goes first.
    const log = openSync(spec.logPath, append ? 'a' : 'w', 0o600);
    if (append) writeSync(log, `\n--- ${new Date().toISOString()} restarted by the voice edge supervisor ---\n`);
    const options: SpawnOptions = { stdio: ['ignore', log, log], detached: spec.ownGroup ?? false, cwd: spec.cwd };
    if (spec.env) options.env = spec.env;
    // setpriv execs the daemon: the child's pid is the daemon's.
    const child = spawn(...withParentDeathSignal(spec.bin, spec.args), options);
    closeSync(log);
    let seen = false;
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      if (seen) return;
      seen = true;
      this.exited(spec.name, child, code, signal);
    };
    child.once('exit', exited);
    child.once('error', () => exited(null, null));
    return child;
  }

  private exited(name: EdgeDaemon, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const d = this.daemons.get(name);
    if (!d || d.child !== child) return;
    // Whatever the group left behind (Kamailio's workers after its main process died) goes too.
    if (d.spec.ownGroup && child.pid) signalGroup(child.pid, 'SIGKILL');
    if (this.stopping) return;
    this.emit({ daemon: name, kind: 'exited', restarts: d.total, code, signal });
    if (!this.opts.enabled) return;
    const now = Date.now();
    d.recent = d.recent.filter((t) => now - t < this.opts.windowMs);
    if (d.recent.length >= this.opts.maxRestarts) {
      this.emit({ daemon: name, kind: 'gave-up', restarts: d.total });
      return;
    }
    const delayMs = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** d.recent.length);
    d.recent.push(now);
    d.total += 1;
    this.emit({ daemon: name, kind: 'restarting', restarts: d.total, delayMs });
    let resolveUp!: () => void;
    d.up = new Promise<void>((r) => (resolveUp = r));
    d.timer = setTimeout(() => {
      d.timer = null;
      if (this.stopping) return resolveUp();
      d.child = this.spawnOnce(d.spec, true);
      const restarted = d.child;
      const end = Date.now() + (d.spec.readyMs ?? 10_000);
      const poll = async (): Promise<void> => {
        while (!this.stopping && d.child === restarted && restarted.exitCode === null && restarted.signalCode === null) {
          if (await d.spec.ready().catch(() => false)) {
            this.emit({ daemon: name, kind: 'restarted', restarts: d.total });
            return;
          }
          if (Date.now() > end) {
            this.opts.logger.warn(
              { daemon: name, event: 'not-ready', restarts: d.total },
              `voice edge: restarted ${name} does not answer yet`,
            );
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      void poll().finally(resolveUp);
    }, delayMs);
  }

  /** Stops every daemon for good (no restart): SIGTERM, SIGKILL after 5 s; waits for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    process.removeListener('exit', this.onProcessExit);
    await Promise.all(
      [...this.daemons.values()].map(async (d) => {
        if (d.timer) clearTimeout(d.timer);
        const c = d.child;
        if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
          await new Promise<void>((resolve) => {
            const hard = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(hard);
              resolve();
            });
            c.kill('SIGTERM');
          });
        }
        if (d.spec.ownGroup && c.pid) signalGroup(c.pid, 'SIGKILL');
      }),
    );
  }
}
