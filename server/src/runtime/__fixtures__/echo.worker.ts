/** A plain worker thread for worker-entry's test: answers each message with what paths.ts says here. */
import { parentPort } from 'node:worker_threads';
import { migrationsDir, REPO_ROOT, RUNNING_COMPILED } from '../paths';

parentPort?.on('message', (text: string) => {
  parentPort?.postMessage({ echo: text, repoRoot: REPO_ROOT, compiled: RUNNING_COMPILED, sessionsMigrations: migrationsDir('sessions') });
});
