import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpsRequest } from './support/https';
import { REPO, freePort } from './support/server-process';

const get = (url: string, ca: string) => httpsRequest(url, { ca });

describe('README first command (npm start → server/scripts/quickstart.mjs)', () => {
  it('builds, starts the server with demo data, prints the URL and logins, and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-qs-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['server/scripts/quickstart.mjs'], {
      cwd: REPO,
      env: { ...process.env, HUILIU_NO_OPEN: '1', HUILIU_DATA_DIR: dataDir, HUILIU_PORT: String(port), HUILIU_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await expect.poll(() => out, { timeout: 90_000, interval: 200 }).toContain('[huiliu] ready');
      expect(out).toContain(`is running on https://127.0.0.1:${port}`);
      expect(out).toMatch(/demo logins\s+admin, lead, agent1, agent2, auditor, privacy — password "huiliu-demo"/);
      const ca = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
      expect(await get(`https://127.0.0.1:${port}/healthz`, ca)).toMatchObject({ status: 200 });
      const app = await get(`https://127.0.0.1:${port}/app/`, ca);
      expect(app.status).toBe(200);
      expect(app.body).toContain('<div id="root">');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
    await expect(get(`https://127.0.0.1:${port}/healthz`, '')).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);
});
