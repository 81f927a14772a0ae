import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kpiEvent } from './events';
import { createSqliteKpiEventLog, KPI_BATCH_MS, type KpiEventLog } from './log.sqlite';

describe('the SQLite KPI event log', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function open(batchMs?: number): { log: KpiEventLog; storedRows: () => number } {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-kpi-log-'));
    const path = join(dir, 'huiliu.db');
    const log = createSqliteKpiEventLog({ path, ...(batchMs !== undefined ? { batchMs } : {}) });
    // A second connection sees only what was committed.
    const reader = new Database(path, { readonly: true });
    cleanups.push(() => {
      reader.close();
      log.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { log, storedRows: () => (reader.prepare('SELECT count(*) AS n FROM kpi_events').get() as { n: number }).n };
  }

  it('answers has and closedBefore about facts still collected by appendSoon, without writing them early', async () => {
    const { log, storedRows } = open();
    const at = Date.parse('2026-12-01T09:00:00Z');
    log.appendSoon([
      kpiEvent({ id: 'created:S1', kind: 'contact.created', at, sessionId: 'S1', conversationId: 'C1' }),
      kpiEvent({ id: 'closed:S1', kind: 'contact.closed', at: at + 1000, sessionId: 'S1', conversationId: 'C1' }),
    ]);
    expect(log.has('S1', 'contact.closed')).toBe(true);
    expect(log.has('S1', 'contact.answered')).toBe(false);
    expect(log.closedBefore('C1', 'S2')).toBe(true);
    expect(log.closedBefore('C1', 'S1')).toBe(false);
    expect(log.closedBefore('C2', 'S2')).toBe(false);
    // The questions did not commit the batch: it is written once, KPI_BATCH_MS later.
    expect(storedRows()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(storedRows()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, KPI_BATCH_MS + 20));
    expect(storedRows()).toBe(2);
    expect(log.has('S1', 'contact.closed')).toBe(true);
    expect(log.closedBefore('C1', 'S2')).toBe(true);
  });

  it('writes collected facts at once when asked to be durable or read, and at the end of the turn with batchMs 0', async () => {
    const at = Date.parse('2026-12-01T09:00:00Z');
    const windowed = open();
    windowed.log.appendSoon([kpiEvent({ id: 'created:S3', kind: 'contact.created', at, sessionId: 'S3', conversationId: 'C3' })]);
    await windowed.log.durable();
    expect(windowed.storedRows()).toBe(1);
    windowed.log.appendSoon([kpiEvent({ id: 'closed:S3', kind: 'contact.closed', at: at + 500, sessionId: 'S3', conversationId: 'C3' })]);
    expect(windowed.log.read(at, at + 1000).map((e) => e.id)).toEqual(['created:S3', 'closed:S3']);
    expect(windowed.storedRows()).toBe(2);

    const perTurn = open(0);
    perTurn.log.appendSoon([kpiEvent({ id: 'created:S4', kind: 'contact.created', at, sessionId: 'S4', conversationId: 'C4' })]);
    expect(perTurn.storedRows()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(perTurn.storedRows()).toBe(1);
  });
});
