import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { healthPlugin } from './plugin';

describe('health plugin on a small app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-health-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is ready while the store answers its ping, and not ready once the store is gone', async () => {
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    let started = false;
    const app = Fastify();
    await app.register(healthPlugin, { store, version: '9.9.9', ready: () => started });
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
        ready: false,
        checks: { store: true, started: false },
      });
      started = true;
      const up = await app.inject({ method: 'GET', url: '/readyz' });
      expect([up.statusCode, up.json()]).toEqual([200, { ready: true, checks: { store: true, started: true } }]);
      await store.shutdown();
      const down = await app.inject({ method: 'GET', url: '/readyz' });
      expect([down.statusCode, down.json()]).toEqual([503, { ready: false, checks: { store: false, started: true } }]);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok', version: '9.9.9' });
    } finally {
      await app.close();
      await keys.close();
    }
  });
});
