#!/usr/bin/env node
// @ts-check
/**
 * `npm run build:server`: bundles the companion server into plain JavaScript under server/dist/server,
 * so production starts `node server/dist/server/main.js` with no TypeScript loader (`tsx` is for
 * `npm run dev:server` only). Layout, read by server/src/runtime/paths.ts:
 *   main.js                        server/src/main.ts and everything it imports (ESM, one file)
 *   workers/<a>.<b>.worker.js      every server/src/<a>/<b>.worker.ts, a worker thread's entry
 *   migrations/<capability>/*.sql  every server/src/<capability>/migrations folder, copied as files
 * Packages stay in node_modules (`packages: 'external'`): native ones (better-sqlite3,
 * @node-rs/argon2) cannot be bundled, and the rest need not be.
 *
 *   node server/scripts/build-server.mjs              build
 *   node server/scripts/build-server.mjs --if-stale   build only when a source is newer than main.js
 */
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'server', 'src');
export const OUT = join(ROOT, 'server', 'dist', 'server');
export const MAIN = join(OUT, 'main.js');
/** Browser code with its own Vite build (npm run build:widget); never part of the server bundle. */
const WIDGET = join(SRC, 'gateway', 'web', 'widget');
const WORKER = /\.worker\.ts$/;

/** Every file under `dir` (absolute paths), skipping the widget, node_modules and build output. */
function files(/** @type {string} */ dir) {
  /** @type {string[]} */
  const found = [];
  const visit = (/** @type {string} */ d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (path !== WIDGET && entry.name !== 'node_modules' && entry.name !== 'dist') visit(path);
      } else found.push(path);
    }
  };
  if (existsSync(dir)) visit(dir);
  return found;
}

/** `server/src/sessions/writer.worker.ts` → `workers/sessions.writer.worker` (see runtime/worker-entry.ts). */
const workerOut = (/** @type {string} */ path) => `workers/${relative(SRC, path).slice(0, -'.ts'.length).split(sep).join('.')}`;

/** The worker entry points: `*.worker.ts` under server/src, tests excluded. */
export function workerSources() {
  return files(SRC).filter((f) => WORKER.test(f) && !f.includes(`${sep}__fixtures__${sep}`));
}

/** True when main.js is missing or older than a server source, common/ or package.json (mtime). */
export function serverBuildStale() {
  if (!existsSync(MAIN)) return true;
  const built = statSync(MAIN).mtimeMs;
  const sources = [...files(SRC), ...files(join(ROOT, 'common')), join(ROOT, 'package.json')];
  return sources.some((f) => statSync(f).mtimeMs > built);
}

/** Builds server/dist/server from scratch (server/dist/widget is left alone). */
export async function buildServer() {
  const { build } = await import('esbuild');
  rmSync(OUT, { recursive: true, force: true });
  const workers = workerSources();
  await build({
    absWorkingDir: ROOT,
    entryPoints: [{ in: join(SRC, 'main.ts'), out: 'main' }, ...workers.map((w) => ({ in: w, out: workerOut(w) }))],
    outdir: OUT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const dir of files(SRC)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => join(f, '..'))
    .filter((d, i, all) => all.indexOf(d) === i && d.endsWith(`${sep}migrations`))) {
    cpSync(dir, join(OUT, 'migrations', relative(SRC, join(dir, '..'))), { recursive: true });
  }
  return { main: MAIN, workers: workers.map(workerOut) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && !serverBuildStale()) process.exit(0);
  const t0 = performance.now();
  const { workers } = await buildServer();
  const extra = workers.length ? ` and ${workers.length} worker(s): ${workers.join(', ')}` : '';
  process.stdout.write(`[huiliu] server built into server/dist/server in ${Math.round(performance.now() - t0)} ms (main.js${extra})\n`);
}
