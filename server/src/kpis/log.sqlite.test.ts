import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kpiEvent } from './events';
import { createSqliteKpiEventLog, type KpiEventLog } from './log.sqlite';

describe('the SQLite KPI event log', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function open(): { log: KpiEventLog; storedRows: () => number } {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-kpi-log-'));
    const path = join(dir, 'huiliu.db');
    const log = createSqliteKpiEventLog({ path });
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
    // The questions did not commit the turn's batch: it is written once, at the end of the turn.
    expect(storedRows()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(storedRows()).toBe(2);
    expect(log.has('S1', 'contact.closed')).toBe(true);
    expect(log.closedBefore('C1', 'S2')).toBe(true);
  });
});
