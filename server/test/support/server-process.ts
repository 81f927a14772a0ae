import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withAiTier } from './config-file';
import { laneEnv, scaleoutLane } from './lane';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** The compiled server's entry (`npm run build:server`). */
export const COMPILED_MAIN = join(REPO, 'server', 'dist', 'server', 'main.js');

/** Builds server/dist/server when it is missing or older than a source (`build-server.mjs --if-stale`). */
export function ensureServerBuild(): void {
  const r = spawnSync(process.execPath, ['server/scripts/build-server.mjs', '--if-stale'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:server failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

/** How to start the server: from TypeScript through tsx (development), or the compiled build. */
export function serverCommand(compiled = false): string[] {
  return compiled ? [COMPILED_MAIN] : ['--import', 'tsx', 'server/src/main.ts'];
}

/**
 * Starts the real companion server as an operator would (`npm run dev:server -- --demo`, or with
 * `compiled: true` the build `npm run server` runs, built first when stale), on a free port and a
 * fresh data dir, and waits for its banner. In the scale-out lane (`HUILIU_TEST_LANE=scaleout`) it runs
 * on the lane's Redis Cluster and SoftHSM2 token unless `options.env` pins the mode (`laneEnv`).
 */
export async function startServerProcess(
  options: {
    env?: Record<string, string>;
    args?: string[];
    dataDir?: string;
    port?: number;
    compiled?: boolean;
    aiTier?: boolean;
    /** How long to wait for the banner, ms (default 30,000; 60,000 in the scale-out lane). */
    startTimeoutMs?: number;
  } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'huiliu-e2e-'));
  const port = options.port ?? (await freePort());
  if (options.compiled) ensureServerBuild();
  const child: ChildProcess = spawn(process.execPath, [...serverCommand(options.compiled), ...(options.args ?? ['--demo'])], {
    cwd: REPO,
    env: {
      ...process.env,
      HUILIU_DATA_DIR: dataDir,
      HUILIU_PORT: String(port),
      HUILIU_LOG_LEVEL: 'info',
      ...laneEnv(withAiTier(options.env ?? {}, options.aiTier ?? false), dataDir),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    // The scale-out lane's start also connects the Redis Cluster and opens (or creates) the KEK on the
    // shared token, next to the other test processes' servers: it gets twice the wait.
    const waitMs = options.startTimeoutMs ?? (scaleoutLane() ? 60_000 : 30_000);
    const timer = setTimeout(() => reject(new Error(`server did not start in ${waitMs / 1000} s:\n${out}`)), waitMs);
    const check = () => {
      const m = /is running on (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });

  return {
    url,
    port,
    dataDir,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
