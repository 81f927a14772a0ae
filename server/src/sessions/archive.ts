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
   * Archives a closed session and its conversation's records up to the newest (`firstSeq` is the seq of
   * `records[0]`, consecutive). Idempotent: records and sessions already archived are kept as they are,
   * so a retry or another node archiving the same session changes nothing.
   * @throws Error when the database refuses or cannot be reached (the caller retries)
   */
  put(session: SessionRecord, firstSeq: number, records: readonly ArchivedRecord[]): Promise<void>;
  /** The highest seq archived of the conversation (0: none). */
  archivedSeq(conversationId: string): Promise<number>;
  /** Archived records of a conversation after `afterSeq` (default 0), oldest first, at most `limit` (default 100, at most 1,000). */
  records(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<ArchivedRecord[]>;
  /** The archived sessions of these customers, newest first (at most 1,000). */
  sessions(customerIds: readonly string[]): Promise<ArchivedSession[]>;
  close(): Promise<void>;
}
