import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** How to start one of the server's worker threads. */
export interface WorkerEntry {
  /** Absolute path of the worker's script (`.ts` when running from sources, `.js` when compiled). */
  filename: string;
  /** True when the script is TypeScript and must be loaded through tsx. */
  typescript: boolean;
}

const RUNNING_TYPESCRIPT = import.meta.url.endsWith('.ts');

/**
 * The entry of a worker thread by its source path under `server/src/` without extension (e.g.
 * `sessions/writer.worker`). Running from TypeScript sources (tsx, vitest) it is the `.ts` file;
 * the compiled server (issue 8) maps it to its built file.
 */
export function workerEntry(source: string): WorkerEntry {
  if (RUNNING_TYPESCRIPT) {
    return { filename: fileURLToPath(new URL(`../${source}.ts`, import.meta.url)), typescript: true };
  }
  return { filename: fileURLToPath(new URL(`./workers/${source.replaceAll('/', '.')}.js`, import.meta.url)), typescript: false };
}

/**
 * Starts a worker thread from its source path (see `workerEntry`). From TypeScript sources the thread
 * first registers tsx's ESM hooks (Node 20 ignores `--import` in a worker's execArgv), then imports
 * the `.ts` entry; compiled, it runs the built file directly.
 */
export function startWorker(source: string, options: WorkerOptions = {}): Worker {
  const entry = workerEntry(source);
  if (!entry.typescript) return new Worker(entry.filename, options);
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx')), 'esm/api/index.mjs')).href;
  const script = pathToFileURL(entry.filename).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); })`;
  return new Worker(code, { ...options, eval: true });
}
