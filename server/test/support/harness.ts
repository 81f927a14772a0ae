import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { createLogger, type Logger } from '../../src/logging/logger';
import { startServer, type RunningServer } from '../../src/main';
import { withAiTier } from './config-file';
import { laneEnv } from './lane';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Logs in a demo user and returns the bearer token. */
  login(username: string): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * The real server, in-process, on an ephemeral port and a fresh data dir, with the demo seed.
 * `logger`: where it logs (default: nowhere), for tests that read the logs. `aiTier`: the AI tier
 * answers `ai`-tier contacts (default false: they are offered to agents; see `withAiTier`). In the
 * scale-out lane (`HUILIU_TEST_LANE=scaleout`) the server runs on the lane's Redis Cluster and SoftHSM2
 * token unless `env` pins the mode (`laneEnv`). `dataDir` (or `HUILIU_DATA_DIR` in `env`): start on this
 * data dir (a restart of an earlier server there) instead of a fresh one; `cleanup` then leaves it to the test.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { logger?: Logger; aiTier?: boolean; dataDir?: string } = {},
): Promise<TestServer> {
  // A data dir the test pins in `env` is the server's: the lane's KEK label and prefix follow it (a
  // restart on it must find the KEK that wrapped its TLS key).
  const given = env['HUILIU_DATA_DIR'] ?? options.dataDir;
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'huiliu-test-'));
  const config = loadConfig({
    env: {
      HUILIU_DATA_DIR: dataDir,
      HUILIU_PORT: '0',
      HUILIU_LOG_LEVEL: 'silent',
      ...laneEnv(withAiTier(env, options.aiTier ?? false), dataDir),
    },
    argv: ['--demo'],
    cwd: process.cwd(),
  });
  const server = await startServer(config, options.logger ?? createLogger({ level: 'silent' }));
  return {
    ...server,
    dataDir,
    async login(username) {
      const res = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'huiliu-demo' } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.body}`);
      return (res.json() as { token: string }).token;
    },
    async cleanup() {
      await server.close();
      // A data dir the test gave is the test's (the next start on it may follow).
      if (!given) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
