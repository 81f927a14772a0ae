import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    [
      { HUILIU_STORE: 'redis', HUILIU_REDIS_NODES: '127.0.0.1:7000' },
      [],
      /configuration error: HUILIU_STORE\/HUILIU_BUS: the redis scale-out adapters are not in this version/,
    ],
    [{}, ['--dmeo'], /configuration error: unknown argument --dmeo/],
  ])('stops with exit code 78 on %j %j, naming the problem', async (env, args, message) => {
    const { code, out } = await runServer({ HUILIU_DATA_DIR: dataDir, ...env }, args);
    expect(code).toBe(78);
    expect(out).toMatch(message);
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
