import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { BUILD_DIR, REPO_ROOT, RUNNING_COMPILED } from './paths';

/** How to start one of the server's worker threads: the script and the Node flags it needs. */
export interface WorkerEntry {
  /** Absolute path of the worker's script (`new Worker(filename)`, or Piscina's `filename`). */
  filename: string;
  /** `execArgv` for `new Worker()` / Piscina: in development tsx's hooks and the worker's module, else nothing. */
  execArgv: string[];
}

/**
 * The entry of a worker thread by its source path under `server/src/` without extension (e.g.
 * `sessions/writer.worker`).
 * - Compiled (`npm run build:server`): `server/dist/server/workers/sessions.writer.worker.js`; every
 *   `server/src/**\/*.worker.ts` is an entry point of the build.
 * - From TypeScript sources (tsx, vitest): Node 20 applies tsx's ES-module hooks to the main thread
 *   only, so the worker's `.ts` is loaded through tsx's CommonJS hooks as a `--require` preload and
 *   `runtime/ts-worker.cjs` is the script that hands its exports on. Worker modules therefore avoid
 *   top-level `await` (CommonJS has none).
 * Works for `new Worker(filename, { execArgv })` and for Piscina (`{ filename, execArgv }`) alike.
 */
export function workerEntry(source: string): WorkerEntry {
  if (RUNNING_COMPILED) return { filename: builtWorkerFile(source), execArgv: [] };
  // Resolved here, not by the worker from its cwd: a server started from another folder finds it too.
  const tsxCommonJs = createRequire(join(REPO_ROOT, 'package.json')).resolve('tsx/cjs');
  return {
    filename: join(REPO_ROOT, 'server', 'src', 'runtime', 'ts-worker.cjs'),
    execArgv: ['--require', tsxCommonJs, '--require', join(REPO_ROOT, 'server', 'src', `${source}.ts`)],
  };
}

/** Where `npm run build:server` puts the worker built from `server/src/<source>.ts`: `server/dist/server/workers/<a>.<b>.js`. */
export function builtWorkerFile(source: string): string {
  return join(BUILD_DIR, 'workers', `${source.replaceAll('/', '.')}.js`);
}

/** Starts a worker thread from its source path (see `workerEntry`), compiled or from TypeScript alike. */
export function startWorker(source: string, options: WorkerOptions = {}): Worker {
  const entry = workerEntry(source);
  return new Worker(entry.filename, { ...options, execArgv: [...entry.execArgv, ...(options.execArgv ?? [])] });
}
