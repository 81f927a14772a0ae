import { describe, expect, it } from 'vitest';
import type { SessionFilter, SessionRecord } from './store';
import { sweepUnarchived } from './archiver';

/**
 * The sweep's paging (docs/store.md "The sweep at start") against a source that applies the filter's
 * time window and limit as the SQLite store does (its `createdSince`/`createdBefore` are checked by
 * the store contract): every closed session of the window is looked at, however many there are.
 */
function sourceOf(sessions: SessionRecord[]) {
  const calls: SessionFilter[] = [];
  return {
    calls,
    async listSessions(filter: SessionFilter) {
      calls.push(filter);
      return sessions
        .filter(
          (s) =>
            filter.status!.includes(s.status) &&
            filter.skillGroups!.includes(s.skillGroup) &&
            s.createdAt >= filter.createdSince! &&
            s.createdAt < filter.createdBefore!,
        )
        .slice(0, filter.limit);
    },
  };
}

const NOW = Date.parse('2026-12-01T12:00:00.000Z');

function closedAt(i: number, at: number, skillGroup = 'general'): SessionRecord {
  return { id: `s-${skillGroup}-${i}`, status: 'closed', skillGroup, createdAt: new Date(at).toISOString() } as SessionRecord;
}

describe('sweepUnarchived: paging', () => {
  it('looks at every closed session of the lookback window when there are many more than a page', async () => {
    // 1,000 closed sessions over the last 6 days, 10 in one burst second; 150 in another group.
    const sessions = [
      ...Array.from({ length: 990 }, (_, i) => closedAt(i, NOW - 6 * 86_400_000 + i * 500_000)),
      ...Array.from({ length: 10 }, (_, i) => closedAt(990 + i, NOW - 3_600_000 + i)),
      ...Array.from({ length: 150 }, (_, i) => closedAt(i, NOW - i * 60_000, 'vip')),
      // Outside the window (8 days old): not looked at.
      closedAt(9999, NOW - 8 * 86_400_000),
    ];
    const source = sourceOf(sessions);
    const queuedIds: string[] = [];
    const archivedAlready = new Set(['s-general-0', 's-vip-3']);
    const swept = await sweepUnarchived({
      sessions: source,
      archive: { archived: async (ids) => new Set(ids.filter((id) => archivedAlready.has(id))) },
      archiver: { closed: (s) => queuedIds.push(s.id) },
      skillGroups: ['general', 'vip'],
      pageSize: 50,
      now: () => NOW,
    });
    expect(swept).toEqual({ queued: 1000 + 150 - 2, truncated: false });
    expect(new Set(queuedIds).size).toBe(queuedIds.length);
    expect(queuedIds).not.toContain('s-general-9999');
    expect(queuedIds).not.toContain('s-general-0');
    // Each read was one page at most; windows were split rather than cut.
    expect(source.calls.every((f) => f.limit === 50)).toBe(true);
  });

  it('reports truncated only when one second holds more than a page', async () => {
    const sessions = Array.from({ length: 7 }, (_, i) => closedAt(i, NOW - 10_000));
    const queuedIds: string[] = [];
    const swept = await sweepUnarchived({
      sessions: sourceOf(sessions),
      archive: { archived: async () => new Set() },
      archiver: { closed: (s) => queuedIds.push(s.id) },
      skillGroups: ['general'],
      pageSize: 5,
      now: () => NOW,
    });
    expect(swept).toEqual({ queued: 5, truncated: true });
  });
});
