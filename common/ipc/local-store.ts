import { z } from 'zod';
import { MessageViewSchema, type MessageView } from '../api/sessions';
import { ERROR_CODES, ErrorCodeSchema, type ErrorCode, type Result } from '../errors/codes';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { idTokenSchema } from '../text/text';
import { AcceptOfferSchema, CloseSessionSchema, SendMessageSchema } from '../socket/agent-events';

/**
 * The desktop's local store as the renderer sees it through the bridge (DESIGN §7, issue 15): the last
 * `LOCAL_HISTORY_SIZE` interactions per conversation, per-conversation drafts and the outbox of
 * critical messages not yet acked. It lives in Electron main (SQLite, encrypted); the page never sees
 * the file or the key. Every input below is checked again in main with these schemas.
 */
export const LOCAL_HISTORY_SIZE = 10;

const ConversationIdSchema = idTokenSchema(1, 64);
const CustomerIdSchema = idTokenSchema(1, 64);

/** Binds the store to the signed-in user: another user's local data is erased first. */
export const LocalOpenSchema = z.object({ userId: idTokenSchema(1, 64) });
export type LocalOpen = z.infer<typeof LocalOpenSchema>;

export const ConversationRefSchema = z.object({ conversationId: ConversationIdSchema });
export type ConversationRef = z.infer<typeof ConversationRefSchema>;

/** The newest interactions of a conversation, as the agent socket sent them (at most 50 per call; 10 are kept). */
export const HistorySaveSchema = z.object({
  conversationId: ConversationIdSchema,
  customerId: CustomerIdSchema,
  messages: z.array(MessageViewSchema).max(50),
});
export type HistorySave = z.infer<typeof HistorySaveSchema>;

/**
 * A draft; empty text removes it. Not trimmed: the agent's spaces are theirs. `note`: it was typed as
 * an internal note (issue 15 review: a note restored after a reload must come back as a note, never
 * as a reply the next Enter sends to the customer). Absent: a reply.
 */
export const DraftSaveSchema = z.object({
  conversationId: ConversationIdSchema,
  customerId: CustomerIdSchema,
  text: z.string().max(MAX_TEXT_LENGTH),
  note: z.boolean().optional(),
});
export type DraftSave = z.infer<typeof DraftSaveSchema>;
export interface LocalDraft {
  text: string;
  /** Typed as an internal note (false: a reply). */
  note: boolean;
  /** Epoch ms of the last save. */
  updatedAt: number;
}

/**
 * The critical messages that wait in the outbox (DESIGN §7) and the agent-socket event each is sent
 * with. A reply's idempotency key is its own `clientMessageId`; wrap-ups and accepts get one minted by
 * the client, used as the outbox's key so one action is queued once.
 */
export const OUTBOX_EVENTS = {
  reply: 'message:send',
  'wrap-up': 'session:close',
  accept: 'offer:accept',
} as const;
export type OutboxKind = keyof typeof OUTBOX_EVENTS;

const OutboxBase = {
  clientMessageId: idTokenSchema(8, 128),
  conversationId: ConversationIdSchema,
  customerId: CustomerIdSchema,
};
export const OutboxEnqueueSchema = z
  .discriminatedUnion('kind', [
    z.object({ ...OutboxBase, kind: z.literal('reply'), payload: SendMessageSchema }),
    z.object({ ...OutboxBase, kind: z.literal('wrap-up'), payload: CloseSessionSchema }),
    z.object({ ...OutboxBase, kind: z.literal('accept'), payload: AcceptOfferSchema }),
  ])
  .refine((e) => e.kind !== 'reply' || e.payload.clientMessageId === e.clientMessageId, {
    message: "a reply's outbox key is its clientMessageId",
    path: ['clientMessageId'],
  });
export type OutboxEnqueue = z.infer<typeof OutboxEnqueueSchema>;

/** A queued message: `id` orders the outbox (oldest first); `attempts` counts retryable failures. */
export type OutboxEntry = OutboxEnqueue & { id: number; enqueuedAt: number; attempts: number };

/**
 * What happened when an entry was sent: `sent` (acked) and `refused` (the server said no for good)
 * take it out of the outbox; `failed` (no answer, or a code worth retrying) keeps it for the next drain.
 */
export const OutboxSettleSchema = z.object({
  id: z.number().int().min(1),
  outcome: z.enum(['sent', 'refused', 'failed']),
  code: ErrorCodeSchema.optional(),
});
export type OutboxSettle = z.infer<typeof OutboxSettleSchema>;

/** The customers whose data the server erased (`customer:erased`, issue 17): their local data goes too. */
export const EraseCustomersSchema = z.object({ customerIds: z.array(CustomerIdSchema).min(1).max(1000) });
export type EraseCustomers = z.infer<typeof EraseCustomersSchema>;
export interface ErasureReport {
  conversations: number;
  /** Unsent outbox entries of those customers, dropped (never sent after an erasure). */
  outboxDropped: number;
}

/** The local store's half of the DesktopBridge (Electron only; a browser has none). */
export interface LocalStoreBridge {
  open(request: LocalOpen): Promise<Result<{ erasedPrevious: boolean }>>;
  history(request: ConversationRef): Promise<Result<MessageView[]>>;
  saveHistory(request: HistorySave): Promise<Result<{ kept: number }>>;
  draft(request: ConversationRef): Promise<Result<LocalDraft | null>>;
  saveDraft(request: DraftSave): Promise<Result<{ saved: boolean }>>;
  enqueue(request: OutboxEnqueue): Promise<Result<{ id: number; duplicate: boolean }>>;
  pending(): Promise<Result<OutboxEntry[]>>;
  settle(request: OutboxSettle): Promise<Result<{ removed: boolean }>>;
  eraseCustomers(request: EraseCustomers): Promise<Result<ErasureReport>>;
  /** Sign-out: everything local is erased (and its key destroyed). */
  eraseAll(): Promise<Result<{ erased: true }>>;
}

/**
 * Whether a refusal is worth sending again later with the same idempotency key: the server could not
 * take it now (5xx, 429 rate limited, 408) or the token lapsed (sign in, then drain). Any other code
 * (validation, closed session, not assigned, erased customer) will never succeed.
 */
export function isRetryableCode(code: ErrorCode): boolean {
  const status = ERROR_CODES[code].status;
  return status >= 500 || status === 429 || status === 408 || code === 'UNAUTHENTICATED';
}

/** Where drainOutbox reads and settles entries: the bridge in the renderer, the store itself in tests. */
export interface OutboxPort {
  pending(): Promise<OutboxEntry[]>;
  settle(settle: OutboxSettle): Promise<void>;
}

export interface DrainReport {
  sent: number[];
  /** Refused for good and dropped: the UI tells the agent (the code says why). */
  refused: { entry: OutboxEntry; code: ErrorCode }[];
  /** The retryable failure the drain stopped at; later entries were not tried (order is kept). */
  stoppedAt: { entry: OutboxEntry; code: ErrorCode | 'NO_ANSWER' } | null;
  remaining: number;
}

/**
 * Sends the outbox oldest first, each with its own idempotency key, one at a time (DESIGN §7): an
 * acked entry is removed; a permanently refused one is dropped and reported; at the first retryable
 * failure (a refusal `isRetryableCode` accepts, or `send` throwing: timeout, disconnect) it stops, so
 * nothing is sent ahead of an older message. Run it again on the next reconnect.
 */
export async function drainOutbox(port: OutboxPort, send: (entry: OutboxEntry) => Promise<Result<unknown>>): Promise<DrainReport> {
  const entries = await port.pending();
  const report: DrainReport = { sent: [], refused: [], stoppedAt: null, remaining: 0 };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    let answer: Result<unknown> | null;
    try {
      answer = await send(entry);
    } catch {
      answer = null;
    }
    if (answer?.ok) {
      await port.settle({ id: entry.id, outcome: 'sent' });
      report.sent.push(entry.id);
    } else if (answer && !isRetryableCode(answer.error.code)) {
      await port.settle({ id: entry.id, outcome: 'refused', code: answer.error.code });
      report.refused.push({ entry, code: answer.error.code });
    } else {
      const code = answer ? answer.error.code : 'NO_ANSWER';
      await port.settle({ id: entry.id, outcome: 'failed', ...(answer ? { code: answer.error.code } : {}) });
      report.stoppedAt = { entry, code };
      report.remaining = entries.length - i;
      break;
    }
  }
  return report;
}
