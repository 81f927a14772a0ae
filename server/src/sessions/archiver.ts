import type { ArchivedRecord, SessionArchive } from './archive';
import type { SessionRecord, SessionStore } from './store';

/** What the archiver reads from (and trims in) the hot store: its sealed records (conversations.redis.ts). */
export interface SealedSource {
  /** Sealed records still in the hot store after `afterSeq` — seqs `afterSeq`+1 … `afterSeq`+`limit` at most, records removed by retention left out. */
  sealedRecords(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<ArchivedRecord[]>;
  /** The conversation's newest seq (0: none). */
  lastSeq(conversationId: string): Promise<number>;
  /**
   * Trims what the archive durably holds (up to `throughSeq`) from the hot store, unless a session of
   * the conversation is open (conversations.redis.ts `trimArchived`). Absent: nothing is trimmed.
   */
  trimArchived?(conversationId: string, throughSeq: number, check?: ArchivedRecord): Promise<string>;
}

export interface Archiver {
  /** Queues a closed session for the archive (a session not closed is ignored; one already queued is not queued twice). */
  closed(session: SessionRecord): void;
  /** Resolves when nothing is queued or being archived (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * Sessions archived / given up since start, and conversations trimmed from the hot store after
   * archiving / left in it because a session was open (metrics, tests).
   */
  readonly counts: { archived: number; failed: number; trimmed: number; keptOpen: number };
}

/**
 * Copies each closed session's conversation — every sealed record after what the archive already
 * has — into the session archive (issue 14, docs/store.md "Archive"), one session at a time, off the
 * request path, then trims what the archive now holds from the hot store when no session of the
 * conversation is open (`SealedSource.trimArchived`; history reads fall back to the archive). A failed
 * copy is retried after `retryMs` (default 1 s, 5 s, 30 s), then reported through `onError` and counted
 * as failed (nothing is lost from the hot store: the next close in the same conversation, or the sweep
 * at the next start, copies it). A failed trim is reported through `onError` and not retried: the
 * records stay in the hot store until the conversation's next archive.
 */
export function createArchiver(deps: {
  source: SealedSource;
  archive: SessionArchive;
  onError?: (error: unknown, sessionId: string) => void;
  retryMs?: readonly number[];
}): Archiver {
  const retryMs = deps.retryMs ?? [1000, 5000, 30_000];
  const queued = new Map<string, SessionRecord>();
  const counts = { archived: 0, failed: 0, trimmed: 0, keptOpen: 0 };
  let running: Promise<void> | null = null;
  const waiters: (() => void)[] = [];

  /** Copies the conversation past the archive's high-water mark; answers how far the archive now reaches and its last record. */
  async function archiveOne(session: SessionRecord): Promise<{ through: number; last: ArchivedRecord | undefined }> {
    const from = await deps.archive.archivedSeq(session.conversationId);
    // Everything up to the newest seq now (later appends are the next close's); seqs retention emptied
    // are absent from the pages, so the walk goes by seq window, not by the records found.
    let through = await deps.source.lastSeq(session.conversationId);
    const records: ArchivedRecord[] = [];
    for (let after = from; after < through; after += 1000) {
      records.push(...(await deps.source.sealedRecords(session.conversationId, { afterSeq: after, limit: 1000 })));
    }
    through = Math.max(through, from, records.length ? records[records.length - 1]!.seq : 0);
    await deps.archive.put(session, from + 1, records, through);
    return { through, last: records[records.length - 1] };
  }

  async function drain(): Promise<void> {
    while (queued.size > 0) {
      const [id, session] = queued.entries().next().value as [string, SessionRecord];
      for (let attempt = 0; ; attempt++) {
        try {
          const { through, last } = await archiveOne(session);
          counts.archived++;
          if (deps.source.trimArchived && through > 0) {
            // Durably in PostgreSQL (committed): the hot store may let go of it.
            const outcome = await deps.source.trimArchived(session.conversationId, through, last).catch((error: unknown) => {
              deps.onError?.(error, id);
              return 'failed';
            });
            if (outcome === 'trimmed') counts.trimmed++;
            else if (outcome === 'open') counts.keptOpen++;
          }
          break;
        } catch (error) {
          if (attempt >= retryMs.length) {
            counts.failed++;
            deps.onError?.(error, id);
            break;
          }
          await new Promise((r) => setTimeout(r, retryMs[attempt]).unref());
        }
      }
      queued.delete(id);
    }
    running = null;
    for (const w of waiters.splice(0)) w();
  }

  return {
    counts,
    closed(session) {
      if (session.status !== 'closed' || queued.has(session.id)) return;
      queued.set(session.id, session);
      running ??= drain();
    },
    idle() {
      return running ? new Promise<void>((r) => waiters.push(r)) : Promise.resolve();
    },
  };
}

/**
 * The sweep at start (issue 14): sessions closed while no archiver ran (the server was down between a
 * close and its copy, PostgreSQL was unreachable until the retries gave up) are found in the source of
 * truth — closed sessions opened in the last `lookbackMs` (default 7 days) — checked against the archive
 * in batches of 500, and the missing ones queued on `archiver`.
 *
 * Paging: each skill group's window is read `pageSize` (default 5,000) sessions at a time; a window
 * that fills a page is split in two halves by creation time (`createdSince` / `createdBefore`) until
 * each fits, so every closed session of the window is looked at whatever the volume. Answers how many
 * were queued and `truncated`: true only when more than `pageSize` sessions of one group were opened
 * within one second (a window is not split below 1 s), which it then logs as not fully swept.
 * @throws Error when the source or the archive cannot be read
 */
export async function sweepUnarchived(deps: {
  sessions: Pick<SessionStore, 'listSessions'>;
  archive: Pick<SessionArchive, 'archived'>;
  archiver: Pick<Archiver, 'closed'>;
  skillGroups: readonly string[];
  lookbackMs?: number;
  pageSize?: number;
  now?: () => number;
}): Promise<{ queued: number; truncated: boolean }> {
  const now = (deps.now ?? Date.now)();
  const pageSize = Math.max(1, deps.pageSize ?? 5000);
  let queued = 0;
  let truncated = false;
  const sweep = async (group: string, from: number, to: number): Promise<void> => {
    const closed = await deps.sessions.listSessions({
      status: ['closed'],
      skillGroups: [group],
      createdSince: new Date(from).toISOString(),
      createdBefore: new Date(to).toISOString(),
      limit: pageSize,
    });
    if (closed.length >= pageSize) {
      if (to - from > 1000) {
        const mid = from + Math.floor((to - from) / 2);
        await sweep(group, from, mid);
        await sweep(group, mid, to);
        return;
      }
      truncated = true;
    }
    for (let i = 0; i < closed.length; i += 500) {
      const batch = closed.slice(i, i + 500);
      const have = await deps.archive.archived(batch.map((s) => s.id));
      for (const s of batch) {
        if (have.has(s.id)) continue;
        deps.archiver.closed(s);
        queued++;
      }
    }
  };
  // The window ends a second after now: a session opened in this very millisecond is in it.
  for (const group of deps.skillGroups) await sweep(group, now - (deps.lookbackMs ?? 7 * 86_400_000), now + 1000);
  return { queued, truncated };
}

/** What conversation retention removed outside SQLite in redis mode (issue 17). */
export interface ArchiveRetentionReport {
  /** Archived sessions whose content was removed. */
  sessions: number;
  /** Sealed records deleted from the PostgreSQL archive. */
  archivedMessages: number;
  /** Sealed records removed from the Redis Cluster (not trimmed yet when they expired). */
  hotMessages: number;
}

/**
 * Retention in redis mode (issue 17, docs/store.md): the archived sessions of `skillGroup` closed before
 * `before` lose their content in both stores — first in Redis (`pruneSession`: records still there
 * become tombstones, the sealed context is deleted), then in PostgreSQL (records deleted, the session
 * row kept and marked pruned) — in batches of 500 sessions. Redis first: the archiver never copies a
 * removed record back.
 * @throws Error from either store (the next run continues: pruned sessions are not selected again)
 */
export async function pruneExpiredArchive(
  deps: { archive: Pick<SessionArchive, 'expiredSessions' | 'prune'>; hot: { pruneSession(sessionId: string): Promise<number> } },
  skillGroup: string,
  before: string,
): Promise<ArchiveRetentionReport> {
  const report: ArchiveRetentionReport = { sessions: 0, archivedMessages: 0, hotMessages: 0 };
  for (;;) {
    const expired = await deps.archive.expiredSessions(skillGroup, before, 500);
    if (expired.length === 0) return report;
    for (const s of expired) report.hotMessages += await deps.hot.pruneSession(s.sessionId);
    report.archivedMessages += await deps.archive.prune(expired.map((s) => s.sessionId));
    report.sessions += expired.length;
    if (expired.length < 500) return report;
  }
}
