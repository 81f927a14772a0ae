import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { createSqliteAuditLog } from './audit.sqlite';
import { AuditRecorder, scheduleAuditRetention } from './recorder';

describe('the audit recorder and its retention job', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-rec-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys });
    const log = await createSqliteAuditLog({ path: join(dir, 'huiliu.db'), keys });
    const recorder = new AuditRecorder(log, createLogger({ level: 'silent' }), async () => [{ id: 'id-7', username: 'agent7' }]);
    cleanups.push(async () => {
      await recorder.close();
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return recorder;
  }

  it('masks PII in details, names staff actors by username, and drops a redelivered event', async () => {
    const recorder = await setUp();
    recorder.record({
      actor: { kind: 'staff', id: 'id-7' },
      action: 'customer.view',
      outcome: 'ok',
      // Every detail string and the target id (a client-chosen path segment) are masked.
      target: { kind: 'session', id: '13912345678' },
      detail: { note: 'call 13800138000', mail: 'li.lei@example.com' },
    });
    recorder.recordOnce('event-1', { actor: { kind: 'system', id: 'router' }, action: 'routing.decision', outcome: 'ok' });
    recorder.recordOnce('event-1', { actor: { kind: 'system', id: 'router' }, action: 'routing.decision', outcome: 'ok' });
    await recorder.flush();
    const page = await recorder.log.search({ from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', limit: 10 });
    expect(page.entries.map((e) => e.action).sort()).toEqual(['customer.view', 'routing.decision']);
    const view = page.entries.find((e) => e.action === 'customer.view')!;
    expect(view.actor).toEqual({ kind: 'staff', id: 'id-7', name: 'agent7' });
    expect(JSON.stringify(view.detail)).not.toMatch(/13800138000|li\.lei@example\.com/);
    expect(view.detail).toMatchObject({ mail: expect.stringMatching(/^\*+@example\.com$/) });
    expect(view.target).toEqual({ kind: 'session', id: '*******5678' });
  });

  it('removes entries past the retention (never inside 183 days) and records what it did', async () => {
    const recorder = await setUp();
    const day = 86_400_000;
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    recorder.record({ at: new Date(t0).toISOString(), actor: { kind: 'system', id: 'x' }, action: 'old', outcome: 'ok' });
    recorder.record({ at: new Date(t0 + 100 * day).toISOString(), actor: { kind: 'system', id: 'x' }, action: 'newer', outcome: 'ok' });
    await recorder.flush();
    // 250 days later with a 183-day retention: the first goes, the second (150 days old) stays.
    const job = scheduleAuditRetention(recorder, 183, createLogger({ level: 'silent' }), () => t0 + 250 * day);
    await job.stop();
    await recorder.flush();
    const page = await recorder.log.search({ from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', limit: 10 });
    expect(page.entries.map((e) => e.action).sort()).toEqual(['audit.retention', 'newer']);
    expect(page.entries.find((e) => e.action === 'audit.retention')!.detail).toMatchObject({ removed: 1, retentionDays: 183 });
    expect(await recorder.log.verify()).toMatchObject({ ok: true });
  });
});
