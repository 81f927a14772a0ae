import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';

/** Runs `npm run server` the way an operator does and returns its exit code and output. */
function runServer(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run server: configuration is checked once, at start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    [{ HUILIU_PORT: 'eighty' }, [], /configuration error: HUILIU_PORT: /],
    [{ HUILIU_KEYS: 'pkcs11' }, [], /configuration error: HUILIU_PKCS11_LIB: required/],
    [{}, ['--dmeo'], /configuration error: unknown argument --dmeo/],
  ])('stops with exit code 78 on %j %j, naming the problem', async (env, args, message) => {
    const { code, out } = await runServer({ HUILIU_DATA_DIR: dataDir, ...env }, args);
    expect(code).toBe(78);
    expect(out).toMatch(message);
  });
});

describe('HUILIU_STORE=redis with unreachable nodes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-start-store-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops with exit code 69 and the stable code STORE_UNREACHABLE, naming the nodes', async () => {
    // Nothing listens on these ports (a refused connection, not a hang).
    const nodes = '127.0.0.1:1,127.0.0.1:2';
    const { code, out } = await runServer({ HUILIU_DATA_DIR: dataDir, HUILIU_STORE: 'redis', HUILIU_REDIS_NODES: nodes }, []);
    expect(code).toBe(69);
    expect(out).toMatch(/huiliu: STORE_UNREACHABLE: HUILIU_STORE=redis: the Redis Cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2 is not usable/);
  }, 60_000);
});

describe('HUILIU_BUS=redis', () => {
  const prefix = `huiliu-test-${randomUUID()}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  afterAll(async () => {
    const keys = await redis.keys(`{${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('starts on the Redis Streams bus with the SQLite store, and leaves no lease behind when it stops', async () => {
    const server = await startServerProcess({
      args: [],
      env: { HUILIU_BUS: 'redis', HUILIU_REDIS_NODES: '127.0.0.1:6379', HUILIU_REDIS_PREFIX: prefix },
    });
    try {
      const groups = (await redis.xinfo('GROUPS', `{${prefix}:bus:message.in}`)) as unknown[][];
      expect(groups.map((g) => g[g.indexOf('name') + 1])).toContain('router');
      expect(await redis.keys(`{${prefix}:bus:message.in}:lease:router`)).toHaveLength(1);
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(server.dataDir, { recursive: true, force: true });
    }
    expect(await redis.keys(`{${prefix}:*:lease:*`)).toEqual([]);
  });
});

describe('without --demo', () => {
  let server: ServerProcess;
  afterAll(async () => {
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('has no demo users, no demo app key, and prints no demo logins', async () => {
    server = await startServerProcess({ args: [] });
    expect(server.output()).not.toContain('demo logins');
    const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    const post = async (path: string, json: unknown, headers: Record<string, string> = {}) =>
      (await httpsRequest(`${server.url}${path}`, { method: 'POST', ca, headers, json })).status;
    expect(await post('/api/v1/auth/login', { username: 'agent1', password: 'huiliu-demo' })).toBe(401);
    expect(
      await post(
        '/api/v1/channels/app/messages',
        { customer: { externalId: 'x' }, text: 'hi', clientMessageId: 'c' },
        { 'x-huiliu-key': 'demo-app-key' },
      ),
    ).toBe(401);
  });
});
