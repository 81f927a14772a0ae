import type { ArchivedRecord, SessionArchive } from './archive';
import type { SessionRecord } from './store';

/** What the archiver reads from the hot store: its sealed records (conversations.redis.ts). */
export interface SealedSource {
  sealedRecords(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<ArchivedRecord[]>;
}

export interface Archiver {
  /** Queues a closed session for the archive (a session not closed is ignored; one already queued is not queued twice). */
  closed(session: SessionRecord): void;
  /** Resolves when nothing is queued or being archived (tests, shutdown). */
  idle(): Promise<void>;
  /** Sessions archived / given up since start (metrics, tests). */
  readonly counts: { archived: number; failed: number };
}

/**
 * Copies each closed session's conversation — every sealed record after what the archive already
 * has — into the session archive (issue 14, docs/store.md "Archive"), one session at a time, off the
 * request path. A failed copy is retried after `retryMs` (default 1 s, 5 s, 30 s), then reported
 * through `onError` and counted as failed (nothing is lost from the hot store: the next close in the
 * same conversation copies it too).
 */
export function createArchiver(deps: {
  source: SealedSource;
  archive: SessionArchive;
  onError?: (error: unknown, sessionId: string) => void;
  retryMs?: readonly number[];
}): Archiver {
  const retryMs = deps.retryMs ?? [1000, 5000, 30_000];
  const queued = new Map<string, SessionRecord>();
  const counts = { archived: 0, failed: 0 };
  let running: Promise<void> | null = null;
  const waiters: (() => void)[] = [];

  async function archiveOne(session: SessionRecord): Promise<void> {
    const from = await deps.archive.archivedSeq(session.conversationId);
    const records: ArchivedRecord[] = [];
    for (let after = from; ;) {
      const page = await deps.source.sealedRecords(session.conversationId, { afterSeq: after, limit: 1000 });
      records.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.seq;
    }
    await deps.archive.put(session, from + 1, records);
  }

  async function drain(): Promise<void> {
    while (queued.size > 0) {
      const [id, session] = queued.entries().next().value as [string, SessionRecord];
      for (let attempt = 0; ; attempt++) {
        try {
          await archiveOne(session);
          counts.archived++;
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
