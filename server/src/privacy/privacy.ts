import type { SessionRecord } from '../sessions/store';
import type { PrivacyRequestKind, PrivacyRequestStatus, RetentionRuleView } from '../../../common/api/privacy';
import type { WrappedKey } from '../keys/provider';

/**
 * The privacy store port (issue 17, docs/privacy.md): data-subject requests (export and erasure, one
 * table with a `kind`), the sealed export bundles, retention rules per skill group, and the two
 * destructive operations on the session data (crypto-shredding a customer, removing expired
 * conversations' content). Adapter: SQLite in the server's database file (`privacy.sqlite.ts`).
 */
export interface PrivacyRequestRecord {
  id: string;
  kind: PrivacyRequestKind;
  status: PrivacyRequestStatus;
  customerId: string;
  sessionId: string | null;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  dueAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
  completedAt: string | null;
  /** Export: a sealed bundle is stored (approved and neither downloaded nor expired). */
  hasBundle: boolean;
}

export interface SealedBundle {
  ct: Buffer;
  key: WrappedKey;
}

/** What a crypto-shred removed (counts, for the audit entry). */
export interface ShredReport {
  customerIds: string[];
  keysDestroyed: number;
  identitiesRemoved: number;
  linksRemoved: number;
  searchTermsRemoved: number;
  /**
   * Export requests of these customers that can no longer be served: approved bundles dropped (they
   * hold the erased content under a key of their own) → `expired`, pending ones → `failed`.
   */
  exportsWithdrawn: number;
  /**
   * The contacts of these customers that were still open (waiting, offered, with the AI or with an
   * agent), closed in the same transaction with no disposition, as stored after the close, each with
   * the agent its offer was withdrawn from. The caller publishes `session.changed` (`closed`) for each so
   * queues, boards, SLA clocks and the agents' workstations let go of them like any closed contact.
   */
  sessionsClosed: { session: SessionRecord; before: Pick<SessionRecord, 'status' | 'offeredAgentId'> }[];
}

/** What one retention pass removed in one skill group. */
export interface RetentionReport {
  skillGroup: string;
  before: string;
  sessions: number;
  messages: number;
  attachments: number;
  /** Redis mode: archived sessions whose content was removed (PostgreSQL archive and Redis Cluster). */
  archivedSessions?: number;
  /** Redis mode: sealed records deleted from the PostgreSQL archive. */
  archivedMessages?: number;
  /** Redis mode: sealed records removed from the Redis Cluster. */
  hotMessages?: number;
}

export interface PrivacyStore {
  insert(record: Omit<PrivacyRequestRecord, 'hasBundle'>): Promise<void>;
  get(id: string): Promise<PrivacyRequestRecord | null>;
  /** Newest first, at most 500. */
  list(kind: PrivacyRequestKind, status?: PrivacyRequestStatus): Promise<PrivacyRequestRecord[]>;
  /**
   * `pending` → `status` (approved | rejected) by `by`, only if still pending (compare-and-set).
   * Answers false when it was not pending any more.
   */
  decide(id: string, status: 'approved' | 'rejected', by: string, at: string, expiresAt: string | null): Promise<boolean>;
  /**
   * Stores the sealed export bundle of a request that is still `approved`. False (nothing stored) when it
   * is not any more: its customer was erased while the bundle was built (the shred withdrew the export:
   * `expired`), or another process's build of it was downloaded or expired meanwhile.
   */
  saveBundle(id: string, bundle: SealedBundle): Promise<boolean>;
  /**
   * Takes the bundle once: in one transaction reads it, removes it and marks the request `downloaded`,
   * if it is approved, holds a bundle and `expiresAt` > `now`. Null otherwise (nothing changes).
   */
  takeBundle(id: string, now: string): Promise<SealedBundle | null>;
  /** Removes the bundles of approved exports whose `expiresAt` ≤ `now` and marks them `expired`; answers their ids. */
  expireBundles(now: string): Promise<string[]>;
  /**
   * Claims an interrupted approval for resuming (`PrivacyService.resumeInterrupted`), compare-and-set:
   * true when the request is still `approved` and unclaimed, or its claim is older than `staleBefore`
   * (ISO 8601; the claiming process stopped) — it is then claimed at `at`. False: another process holds
   * a fresh claim, or the request is no longer approved. A claim later than `aheadAfter` (ISO 8601) was
   * stamped by a clock that has since gone back (its process cannot be renewing it): taken too.
   */
  claimResume(id: string, at: string, staleBefore: string, aheadAfter: string): Promise<boolean>;
  /**
   * Renews this process's claim on an approved request while it carries it out (the claim's time := `at`,
   * ISO 8601), so that work running past the resume delay is not taken as interrupted by another
   * process's privacy job. Nothing changes once the request is no longer `approved`.
   */
  holdResume(id: string, at: string): Promise<void>;
  /**
   * An approved request reached its end: `executed` (erasure done) or `failed`; a `failed` erasure the
   * erasure-log catch-up completed → `executed`. Only from `approved` or `failed` (compare-and-set): a
   * request another process completed, or an export withdrawn or downloaded meanwhile, keeps its status.
   * Answers whether it changed.
   */
  complete(id: string, status: 'executed' | 'failed', at: string): Promise<boolean>;
  /** The customer and the other members of their merge group (one person across channels, issue 12). */
  customerGroup(customerId: string): Promise<string[]>;
  /** Erased customers among these (their data key is gone). */
  erased(customerIds: readonly string[]): Promise<Set<string>>;
  /**
   * Crypto-shreds the customers (one transaction): destroys their data keys, removes their identity and
   * link lookups (blind indexes), their name's blind index, their attachments' search terms and their
   * AI past-reply memory, then tells every thread's key rings (`DataKeyRing.announceShred`).
   * Sessions, messages and the audit log keep their rows (ids, times): the skeleton, unreadable.
   */
  shred(customerIds: readonly string[]): Promise<ShredReport>;
  retentionRules(): Promise<RetentionRuleView[]>;
  setRetentionRule(skillGroup: string, days: number | null, by: string, at: string): Promise<void>;
  /**
   * Retention: removes the content of closed sessions in `skillGroup` whose last message is before
   * `before` — messages, attachments (bytes and search terms), wrap-up notes, hand-over summaries,
   * CSAT comments, AI drafts — keeping the session rows (ids, times, scores) for statistics.
   */
  pruneConversations(skillGroup: string, before: string): Promise<RetentionReport>;
  close(): Promise<void>;
}
