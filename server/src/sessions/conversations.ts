import type { ChannelCode } from '../../../common/message/session-id';
import type { Content, Direction, Envelope } from '../../../common/message/envelope';
import type { AuthorKind } from '../../../common/ai/assist';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import type { ClaimResult, MessagePage, SessionRecord } from './store';

/**
 * The conversations aggregate of the session store (issue 14): a conversation's messages with their
 * gap-free `seq`, its sessions' state, and the queue indexes (by skill group and status). Customers,
 * routing logs, transfers and merges stay on the wide `SessionStore` (store.ts) for now.
 *
 * Adapters beside it: `conversations.sqlite.ts` (embedded, the sessions schema) and
 * `conversations.redis.ts` (Redis Cluster, docs/store.md); `conversations.contract.ts` runs against both.
 * Every message payload (body + meta) and the session context are sealed with the customer's
 * AES-256-GCM data key (DESIGN §8) before they reach the backend. A method that resolves has made its
 * write durable (SQLite: committed with fsync; Redis: on the master and at least one replica, `WAIT`),
 * so callers may ack the sender after it.
 */
export interface ConversationStore {
  readonly kind: 'sqlite' | 'redis';
  /**
   * Opens a session (`queued`, waiting from now) in `conversationId`, which is created for the customer
   * when it does not exist yet. Idempotent on the session id: opening it again answers the stored
   * session with `created: false`.
   * @throws HuiliuError VALIDATION_FAILED for a malformed session id
   */
  openSession(input: OpenSessionInput): Promise<{ session: SessionRecord; created: boolean }>;
  /**
   * Appends one message to the session's conversation with the next gap-free `seq`. Idempotent on
   * (conversation, direction, clientMessageId): the same id again answers the stored message with
   * `duplicate: true`; the same id with other content is IDEMPOTENCY_CONFLICT.
   * @throws HuiliuError SESSION_NOT_FOUND, SESSION_CLOSED, IDEMPOTENCY_CONFLICT, NOT_READY (the write
   *   could not be made durable in time: retry with the same clientMessageId)
   */
  append(input: NewMessage): Promise<{ envelope: Envelope; duplicate: boolean }>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** The OLDEST `limit` (default 100, at most 1,000) messages after `afterSeq` (default 0), in seq order. */
  listMessages(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<Envelope[]>;
  /** The NEWEST `limit` (default 100, at most 1,000) messages before `beforeSeq`, in seq order. */
  recentMessages(conversationId: string, options?: { beforeSeq?: number; limit?: number }): Promise<MessagePage>;
  /** The conversation's newest message, or null. */
  lastMessage(conversationId: string): Promise<Envelope | null>;
  /** The conversation's newest `seq` (0: no message yet). */
  lastSeq(conversationId: string): Promise<number>;
  /**
   * Sessions of one skill group in one status (`queued`, `offered`, `active`), longest-waiting first
   * (`waitingSince`, then id), at most `limit` (default 100, at most 1,000).
   */
  queue(skillGroup: string, status: QueueStatus, options?: { limit?: number }): Promise<SessionRecord[]>;
  /** How many sessions `queue` has in that skill group and status. */
  queueSize(skillGroup: string, status: QueueStatus): Promise<number>;
  /**
   * Gives a `queued`/`offered` session to an agent (`active`), atomically: OFFER_TAKEN when another
   * agent has it, SESSION_CLOSED when closed; claiming one the agent already has answers `changed: false`.
   */
  claim(sessionId: string, agentId: string): Promise<ClaimResult>;
  /**
   * Closes the session with a wrap-up code. SESSION_NOT_FOUND, SESSION_CLOSED (already closed),
   * NOT_ASSIGNED (not assigned to `agentId`).
   */
  close(sessionId: string, agentId: string, wrapUpCode: WrapUpCode): Promise<SessionRecord>;
  /**
   * Makes the port's copy of a session follow the state its source of truth decided (`HUILIU_STORE=redis`:
   * the wide SQLite store holds offers, capacity, transfers and the AI tier, store.ported.ts): status,
   * skill group, assignee, pending offer, waiting start, wrap-up code and close time. Ids, customer and
   * channel never change; messages are untouched. The queue indexes follow (a skill group change leaves
   * the old group's indexes; `bot` and `closed` are in none). Applying the same state again changes
   * nothing visible. Returns the stored session.
   * @throws HuiliuError SESSION_NOT_FOUND (the port never opened it), NOT_READY (retry)
   */
  follow(state: FollowedState): Promise<SessionRecord>;
  /**
   * Stores the session's context — the customer's profile, the current issue's status, AI-recommended
   * scripts (the source article's session data) — sealed with the customer's data key; replaces the
   * previous one. SESSION_NOT_FOUND for an unknown id.
   */
  putContext(sessionId: string, context: SessionContext): Promise<void>;
  /** The session's context (decrypted), or null when none was stored. */
  getContext(sessionId: string): Promise<SessionContext | null>;
  /** Resolves when the backend answers (readiness); rejects when it cannot. */
  ping(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The session state `follow` copies (SessionRecord fields; the rest of the record is the port's own). */
export type FollowedState = Pick<
  SessionRecord,
  'id' | 'status' | 'skillGroup' | 'assignedAgentId' | 'offeredAgentId' | 'offerExpiresAt' | 'waitingSince' | 'wrapUpCode' | 'closedAt'
>;

/** The statuses the queue indexes cover (closed sessions are not indexed). */
export type QueueStatus = Exclude<SessionStatus, 'closed' | 'bot'>;
export const QUEUE_STATUSES: readonly QueueStatus[] = ['queued', 'offered', 'active'];

export interface OpenSessionInput {
  /** A session ID (DESIGN §3): 2-letter channel + 13 epoch-ms digits + 5 random digits. */
  sessionId: string;
  /** UUID; a new conversation when the store has none with this id. */
  conversationId: string;
  customerId: string;
  channel: ChannelCode;
  skillGroup: string;
}

export interface NewMessage {
  sessionId: string;
  direction: Direction;
  content: Content;
  clientMessageId: string;
  critical: boolean;
  /** Who wrote it; default `customer` for `in`, else `agent` with an `authorId`, else `system`. */
  authorKind?: AuthorKind;
  authorId?: string | null;
  /** The sender's clock (metadata only); default: the store's clock. */
  sentAt?: string;
  /**
   * When the gateway received it (ISO 8601, `InboundDraft.receivedAt`), stored as given — as the SQLite
   * session writer stores a draft's; default: the store's clock. A channel that replaces a sender's
   * far-future time by the receive time (WeChat) gives both the same value, and the record then says so.
   */
  receivedAt?: string;
  /** Channel raw ids and scalar facts, sealed with the body. */
  meta?: Envelope['meta'];
  /**
   * What a retry is compared on instead of the content (`InboundDraft.idempotencyContent`): the
   * request, when what is stored depends on more than it (an image fetched by URL). Same id and same
   * request → the stored message; another request → IDEMPOTENCY_CONFLICT. Default: the content.
   */
  idempotencyContent?: string;
}

/** What the source article keeps with a session besides its messages (all of it sealed). */
export interface SessionContext {
  profile?: { name?: string; phone?: string; [field: string]: unknown };
  /** The customer's current issue, e.g. `{ status: 'refund-requested', orderId: '…' }`. */
  issue?: Record<string, unknown>;
  /** Scripts the AI recommended to the agent for this session. */
  aiScripts?: string[];
}

/** The author a message gets when the input names none (the wide store's rule). */
export function defaultAuthorKind(input: Pick<NewMessage, 'direction' | 'authorKind' | 'authorId'>): AuthorKind {
  if (input.authorKind) return input.authorKind;
  if (input.direction === 'in') return 'customer';
  return input.authorId ? 'agent' : 'system';
}

/** Clamps a page size to 1..max, `fallback` when absent. */
export function pageSize(limit: number | undefined, fallback: number, max: number): number {
  return Math.max(1, Math.min(Math.floor(limit ?? fallback), max));
}

/** AAD of a session's sealed context: binds it to the session (DESIGN §8). */
export const contextAad = (sessionId: string) => `session:${sessionId}:context`;
