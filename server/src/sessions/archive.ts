import type { SessionRecord } from './store';

/** One archived message: its place in the conversation and the sealed record exactly as the hot store kept it. */
export interface ArchivedRecord {
  seq: number;
  sessionId: string;
  /** The record as the conversations store sealed it (AES-256-GCM with the customer's data key; never opened here). */
  record: Buffer;
}

/** One archived session: what it was, without any customer content. */
export interface ArchivedSession {
  sessionId: string;
  conversationId: string;
  customerId: string;
  channel: string;
  skillGroup: string;
  wrapUpCode: string | null;
  createdAt: string;
  closedAt: string | null;
  /** The conversation's seq range archived with this session (`lastSeq` 0: none yet). */
  lastSeq: number;
  archivedAt: string;
}

/**
 * The long-term store of closed sessions (issue 14, docs/store.md "Archive"): with `HUILIU_STORE=redis`
 * the hot store is the Redis Cluster, and each closed session's conversation is copied here — its
 * sealed records byte for byte, so an archive holds no plaintext, needs no key of its own, and a
 * customer's crypto-erasure (their data key destroyed) makes their archived content unreadable too.
 * Embedded (SQLite) needs none: the data file is the long-term store. Adapter: `archive.pg.ts`.
 */
export interface SessionArchive {
  /**
   * Archives a closed session and its conversation's records up to the newest: `records` ascending from
   * `firstSeq` (seqs retention emptied may be missing), `throughSeq` (default: the last record's seq) the
   * conversation's seq this copy reaches — the session's `lastSeq`. Idempotent: records and sessions
   * already archived are kept as they are, so a retry or another node archiving the same session changes
   * nothing.
   * @throws Error when the records are not ascending from `firstSeq`; when the database refuses or
   *   cannot be reached (the caller retries)
   */
  put(session: SessionRecord, firstSeq: number, records: readonly ArchivedRecord[], throughSeq?: number): Promise<void>;
  /**
   * The highest seq the archive reached in the conversation (0: none): its newest record, or a session's
   * `lastSeq` when retention removed the newest records since.
   */
  archivedSeq(conversationId: string): Promise<number>;
  /** Which of these sessions are archived (the startup sweep). */
  archived(sessionIds: readonly string[]): Promise<Set<string>>;
  /**
   * Retention (issue 17): archived sessions of `skillGroup` closed before `before` (ISO 8601) whose
   * records are not removed yet, oldest first, at most `limit` (default 500, at most 1,000).
   */
  expiredSessions(skillGroup: string, before: string, limit?: number): Promise<Pick<ArchivedSession, 'sessionId' | 'conversationId'>[]>;
  /**
   * Retention: deletes these sessions' archived records and marks the sessions pruned (their rows stay,
   * without content, for statistics) — one transaction. Answers how many records were deleted.
   */
  prune(sessionIds: readonly string[]): Promise<number>;
  /** Archived records of a conversation after `afterSeq` (default 0), oldest first, at most `limit` (default 100, at most 1,000). */
  records(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<ArchivedRecord[]>;
  /** The archived sessions of these customers, newest first (at most 1,000). */
  sessions(customerIds: readonly string[]): Promise<ArchivedSession[]>;
  close(): Promise<void>;
}
