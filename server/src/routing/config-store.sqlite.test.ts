import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import type { RoutingConfigStore } from './config-store';
import { createSqliteRoutingConfigStore } from './config-store.sqlite';

describe('versioned routing config store (sqlite)', () => {
  let dir: string;
  let path: string;
  const open: RoutingConfigStore[] = [];
  const store = (seed: RoutingConfig = DEFAULT_ROUTING_CONFIG) => {
    const s = createSqliteRoutingConfigStore({ path, seed });
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-routing-config-'));
    path = join(dir, 'huiliu.db');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds version 1 from the file config and answers it as current', async () => {
    const s = store({ ...DEFAULT_ROUTING_CONFIG, version: 7, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 4 } });
    expect(await s.current()).toEqual({ ...DEFAULT_ROUTING_CONFIG, version: 1, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 4 } });
    expect(await s.list()).toMatchObject([{ version: 1, publishedBy: 'config-file' }]);
  });

  it('publishes a new version numbered by the store and keeps every earlier one readable', async () => {
    const s = store();
    const v2 = await s.publish({ ...DEFAULT_ROUTING_CONFIG, version: 99, thresholds: { expert: 70, assisted: 40 } }, 'admin-1');
    expect(v2).toMatchObject({ version: 2, publishedBy: 'admin-1', config: { version: 2, thresholds: { expert: 70, assisted: 40 } } });
    expect((await s.current()).version).toBe(2);
    expect((await s.get(1))?.config.thresholds).toEqual(DEFAULT_ROUTING_CONFIG.thresholds);
    expect(await s.get(3)).toBeNull();
    expect((await s.list()).map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses an invalid config with VALIDATION_FAILED naming the field, and uses no version for it', async () => {
    const s = store();
    const bad = { ...DEFAULT_ROUTING_CONFIG, weights: { value: 0.9, difficulty: 0.4 } };
    await expect(s.publish(bad, 'admin-1')).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'weights' }] });
    await expect(s.publish(DEFAULT_ROUTING_CONFIG, ' ')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await s.publish(DEFAULT_ROUTING_CONFIG, 'admin-1')).version).toBe(2);
  });

  it('never rewrites or deletes a version, even through a raw connection', async () => {
    store();
    const raw = new Database(path);
    try {
      expect(() => raw.prepare("UPDATE routing_config_versions SET published_by = 'x'").run()).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM routing_config_versions').run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
  });

  it('adds a version on restart only when the config file changed, keeping versions published since', async () => {
    const first = store();
    await first.publish({ ...DEFAULT_ROUTING_CONFIG, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 5 } }, 'admin-1');
    await first.close();
    open.splice(0);
    const again = store(); // same file: the admin's version 2 stays current
    expect((await again.current()).capacity.chat).toBe(5);
    await again.close();
    open.splice(0);
    const edited = store({ ...DEFAULT_ROUTING_CONFIG, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 2 } });
    expect(await edited.current()).toMatchObject({ version: 3, capacity: { chat: 2 } });
    expect((await edited.list()).map((v) => v.publishedBy)).toEqual(['config-file', 'admin-1', 'config-file']);
  });

  it('shows a version published by another process at the next read', async () => {
    const a = store();
    const b = store();
    expect((await b.current()).version).toBe(1);
    await a.publish({ ...DEFAULT_ROUTING_CONFIG, offerTimeoutMs: 30_000 }, 'admin-1');
    expect(await b.current()).toMatchObject({ version: 2, offerTimeoutMs: 30_000 });
    expect((await b.publish(DEFAULT_ROUTING_CONFIG, 'admin-2')).version).toBe(3);
  });
});
