import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { migrationsDir, REPO_ROOT, RUNNING_COMPILED } from './paths';
import { builtWorkerFile, workerEntry } from './worker-entry';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('paths from TypeScript sources', () => {
  it('finds the repository and the capability migrations', () => {
    expect(RUNNING_COMPILED).toBe(false);
    expect(join(REPO_ROOT, '/')).toBe(REPO);
    expect(existsSync(join(REPO_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(migrationsDir('sessions'), '0001_sessions.sql'))).toBe(true);
  });

  it('names the built worker of a source the way the build writes it', () => {
    expect(builtWorkerFile('sessions/writer.worker')).toBe(join(REPO, 'server', 'dist', 'server', 'workers', 'sessions.writer.worker.js'));
  });
});

describe('workerEntry from TypeScript sources', () => {
  it('starts a plain worker thread written in TypeScript (new Worker(filename, { execArgv }))', async () => {
    const entry = workerEntry('runtime/__fixtures__/echo.worker');
    const worker = new Worker(entry.filename, { execArgv: entry.execArgv });
    try {
      const answer = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage('ping');
      });
      expect(answer).toEqual({ echo: 'ping', repoRoot: REPO_ROOT, compiled: false, sessionsMigrations: migrationsDir('sessions') });
    } finally {
      await worker.terminate();
    }
  });
});
