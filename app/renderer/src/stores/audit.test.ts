import { describe, expect, it } from 'vitest';
import type { AuditEntryView, AuditSearchQuery } from '../../../../common/api/audit';
import { HuiliuError } from '../../../../common/errors/codes';
import type { AuditApi } from '../api/audit';
import { AUDIT_PAGE_SIZE, createAuditStore, isoOfLocal, localInput } from './audit';

const entry = (seq: number): AuditEntryView => ({
  seq,
  at: new Date(Date.UTC(2026, 10, 30, 9, 0, seq)).toISOString(),
  actor: { kind: 'staff', id: 'id-1', name: 'agent1' },
  action: 'session.view',
  target: { kind: 'session', id: 'WB1' },
  outcome: 'ok',
  detail: {},
  ip: null,
  prevHash: '0',
  hash: '1',
  mac: '2',
});

/** A fake server holding `total` entries newest first, paging by a cursor that is the next index. */
function fakeApi(total: number, calls: AuditSearchQuery[]): AuditApi {
  const all = Array.from({ length: total }, (_, i) => entry(total - i));
  return {
    async search(_token, q) {
      calls.push(q);
      const start = q.cursor ? Number(q.cursor) : 0;
      const end = start + (q.limit ?? 50);
      return { entries: all.slice(start, end), ...(end < total ? { next: String(end) } : {}) };
    },
  };
}

describe('the audit view store', () => {
  it('reads the local picker text as the local time and sends ISO 8601', () => {
    const d = new Date(2026, 10, 30, 21, 5);
    expect(localInput(d)).toBe('2026-11-30T21:05');
    expect(isoOfLocal('2026-11-30T21:05')).toBe(d.toISOString());
    expect(isoOfLocal('')).toBeNull();
    expect(isoOfLocal('not a date')).toBeNull();
  });

  it('searches one user, then pages through the cursor of the same query even after the form changed', async () => {
    const calls: AuditSearchQuery[] = [];
    const store = createAuditStore(fakeApi(120, calls), () => 'tok');
    store.getState().setForm({ userId: ' agent1 ', from: '2026-11-30T08:00', to: '2026-11-30T10:00' });
    await store.getState().search();
    expect(store.getState().entries).toHaveLength(AUDIT_PAGE_SIZE);
    expect(calls[0]).toEqual({
      userId: 'agent1',
      from: isoOfLocal('2026-11-30T08:00'),
      to: isoOfLocal('2026-11-30T10:00'),
      limit: AUDIT_PAGE_SIZE,
    });
    store.getState().setForm({ userId: 'someone-else' });
    await store.getState().more();
    await store.getState().more();
    expect(calls.map((c) => [c.userId, c.cursor])).toEqual([
      ['agent1', undefined],
      ['agent1', '50'],
      ['agent1', '100'],
    ]);
    expect(store.getState().entries.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => 120 - i));
    expect(store.getState().next).toBeNull();
  });

  it("refuses a range whose start is not before its end without asking the server, and keeps the server's code", async () => {
    const calls: AuditSearchQuery[] = [];
    const store = createAuditStore(fakeApi(3, calls), () => 'tok');
    store.getState().setForm({ from: '2026-11-30T10:00', to: '2026-11-30T10:00' });
    await store.getState().search();
    expect(store.getState().error).toBe('range');
    expect(calls).toHaveLength(0);
    const refusing = createAuditStore(
      {
        search: () => Promise.reject(new HuiliuError('FORBIDDEN', 'no')),
      },
      () => 'tok',
    );
    await refusing.getState().search();
    expect(refusing.getState().error).toBe('FORBIDDEN');
  });
});
