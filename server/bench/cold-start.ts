/**
 * Cold start to ready (issue 8): from spawning the process to the first `GET /readyz` answering 200,
 * median of `rounds`, for
 *   bareMs   — a bare Fastify HTTPS server with one route (bare-fastify.mjs), the baseline
 *   huiliuMs — the compiled server, `node server/dist/server/main.js` (what `npm start` / `npm run server` run)
 *   tsxMs    — the same server from TypeScript, `node --import tsx server/src/main.ts` (`npm run dev:server`)
 * Each Huiliu start reopens one data dir initialized beforehand (TLS material, keys, migrated
 * database: a restart, not a first start); one untimed start of each kind warms the file cache and
 * tsx's transform cache first. Rounds rotate the order. Loopback only; every process is stopped.
 *
 *   npx tsx server/bench/cold-start.ts [rounds]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/server-process';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Medians in milliseconds, process spawn → `/readyz` 200. */
export interface ColdStart {
  bareMs: number;
  huiliuMs: number;
  tsxMs: number;
}

/** True when `/readyz` answers 200 now; false while nothing listens or it is not ready. */
function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Loopback and a throwaway certificate: the probe checks readiness, not the chain.
    const req = request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Spawns `node args`, polls `/readyz` every 5 ms, and returns the milliseconds to the first 200; stops the process. */
async function timeToReady(args: string[], env: Record<string, string>, port: number): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    while (!(await ready(port))) {
      if (gone) throw new Error(`node ${args.join(' ')} exited before it was ready`);
      if (performance.now() - t0 > 60_000) throw new Error(`node ${args.join(' ')} was not ready in 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return performance.now() - t0;
  } finally {
    if (!gone) child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Measures the three cold starts (see the file header), `rounds` times each (default 5), and
 * returns their medians in ms. Builds the server first when its build is stale. Throws if a
 * server exits or is not ready within 60 s.
 */
export async function coldStart(rounds = 5): Promise<ColdStart> {
  const build = spawnSync(process.execPath, ['server/scripts/build-server.mjs', '--if-stale'], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build:server failed: ${build.stderr}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-cold-'));
  try {
    const port = await freePort();
    const huiliuEnv = { HUILIU_DATA_DIR: dataDir, HUILIU_PORT: String(port) };
    const kinds = {
      bareMs: () => timeToReady(['server/bench/bare-fastify.mjs'], { PORT: String(port), TLS_DIR: join(dataDir, 'tls') }, port),
      huiliuMs: () => timeToReady(['server/dist/server/main.js'], huiliuEnv, port),
      tsxMs: () => timeToReady(['--import', 'tsx', 'server/src/main.ts'], huiliuEnv, port),
    };
    const order = Object.keys(kinds) as (keyof ColdStart)[];
    // The data dir's first start (certificates, keys, migrations), then one warm-up of each kind.
    await kinds.huiliuMs();
    for (const kind of order) await kinds[kind]();
    const samples: Record<keyof ColdStart, number[]> = { bareMs: [], huiliuMs: [], tsxMs: [] };
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < order.length; i++) {
        const kind = order[(round + i) % order.length]!;
        samples[kind].push(await kinds[kind]());
      }
    }
    return { bareMs: median(samples.bareMs), huiliuMs: median(samples.huiliuMs), tsxMs: median(samples.tsxMs) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rounds = Number(process.argv[2] ?? 5);
  const r = await coldStart(rounds);
  const line = (label: string, ms: number) =>
    `  ${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / r.bareMs).toFixed(2).padStart(5)}× bare\n`;
  process.stdout.write(`Cold start to ready (spawn → /readyz 200), median of ${rounds}\n`);
  process.stdout.write(line('bare Fastify HTTPS (baseline)', r.bareMs));
  process.stdout.write(line('Huiliu compiled (node server/dist/server/main.js)', r.huiliuMs));
  process.stdout.write(line('Huiliu from TypeScript (node --import tsx)', r.tsxMs));
}
