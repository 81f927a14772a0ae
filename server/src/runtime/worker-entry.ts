import { fileURLToPath } from 'node:url';

/** How to start one of the server's worker threads: the script and the Node flags it needs. */
export interface WorkerEntry {
  /** Absolute path of the worker's script. */
  filename: string;
  /** `execArgv` for `new Worker()`: in development the TypeScript loader (tsx), else nothing. */
  execArgv: string[];
}

const RUNNING_TYPESCRIPT = import.meta.url.endsWith('.ts');

/**
 * The entry of a worker thread by its source path under `server/src/` without extension (e.g.
 * `sessions/writer.worker`). Running from TypeScript sources (tsx, vitest) it is the `.ts` file,
 * loaded through tsx; the compiled server (issue 8) maps it to its built file.
 */
export function workerEntry(source: string): WorkerEntry {
  if (RUNNING_TYPESCRIPT) {
    return { filename: fileURLToPath(new URL(`../${source}.ts`, import.meta.url)), execArgv: ['--import', 'tsx'] };
  }
  return { filename: fileURLToPath(new URL(`./workers/${source.replaceAll('/', '.')}.js`, import.meta.url)), execArgv: [] };
}
