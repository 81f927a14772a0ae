import { createHmac } from 'node:crypto';
import { ENVELOPE_VERSION, type Envelope } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import type { RoutingDecision } from '../../../common/routing/types';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import type { AuthorKind, Handover } from '../../../common/ai/assist';
import { HuiliuError } from '../../../common/errors/codes';
import { openText } from '../crypto/aead';
import { joinKey } from '../crypto/composite-key';
import type { DataKeyRing } from './data-keys';
import type { OpenedPayloadCache } from './opened-cache';
import type { CustomerMerge, ProfileChange, RoutingLogEntry, SessionRecord } from './store';

/** The SQLite rows and the sealing labels shared by the store's reader (main thread) and its writer (worker). */

export interface SessionRow {
  id: string;
  conversation_id: string;
  customer_id: string;
  channel: ChannelCode;
  status: SessionStatus;
  skill_group: string;
  assigned_agent_id: string | null;
  offered_agent_id: string | null;
  offer_expires_at: string | null;
  routing_json: string | null;
  wrap_up_code: WrapUpCode | null;
  created_at: string;
  updated_at: string;
  waiting_since: string;
  closed_at: string | null;
  last_message_at: string;
  handover_json: string | null;
  handover_summary_ct: Buffer | null;
  moved_to: string | null;
  moved_from: string | null;
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  session_id: string;
  customer_id: string;
  seq: number;
  channel: ChannelCode;
  direction: 'in' | 'out';
  kind: Envelope['kind'];
  payload_ct: Buffer;
  content_hmac: string;
  client_message_id: string;
  critical: number;
  author_id: string | null;
  /** Null on rows stored before migration 0005 (`authorOf` derives it). */
  author_kind?: AuthorKind | null;
  sent_at: string;
  received_at: string;
}

export interface DecisionRow {
  seq: number;
  session_id: string;
  at: string;
  config_version: number;
  decision_json: string;
}

/**
 * The conversations aggregate's SQL, shared by the wide store's writer (`writer.ts`), its reader
 * (`store.sqlite.ts`) and the conversations port's SQLite adapter (`conversations.sqlite.ts`), so the
 * three write and read messages, seqs and sessions the same way (issue 14).
 */
export const CONVERSATION_SQL = {
  session: 'SELECT * FROM sessions WHERE id = ?',
  /** The message a (customer, direction, clientMessageId) retry finds: the schema's unique index. */
  messageByClientId: 'SELECT * FROM messages WHERE customer_id = ? AND direction = ? AND client_message_id = ?',
  /** The next gap-free seq of a conversation (params: updated_at, conversation id). */
  nextSeq: 'UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq',
  /** Named parameters: the columns of `MessageRow`. */
  insertMessage: `INSERT INTO messages (id, conversation_id, session_id, customer_id, seq, channel, direction, kind, payload_ct,
         content_hmac, client_message_id, critical, author_id, author_kind, sent_at, received_at)
       VALUES (@id, @conversation_id, @session_id, @customer_id, @seq, @channel, @direction, @kind, @payload_ct,
         @content_hmac, @client_message_id, @critical, @author_id, @author_kind, @sent_at, @received_at)`,
  /** Params: last_message_at, updated_at, session id. */
  touchSession: 'UPDATE sessions SET last_message_at = ?, updated_at = ? WHERE id = ?',
  /** Params: id, conversation id, customer id, channel, skill group, created, updated, waiting since, last message (all ISO). */
  insertSession: `INSERT OR IGNORE INTO sessions (id, conversation_id, customer_id, channel, status, skill_group, created_at, updated_at, waiting_since, last_message_at)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
  openSessionsInConversation: `SELECT count(*) AS n FROM sessions WHERE conversation_id = ? AND status != 'closed'`,
  /** Params: updated_at, conversation id. */
  closeConversation: `UPDATE conversations SET status = 'closed', updated_at = ? WHERE id = ?`,
  /** The OLDEST page after a seq (params: conversation id, after seq, limit). */
  messagesAfter: 'SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  /** The NEWEST page before a seq, newest first (params: conversation id, before seq, limit). */
  messagesBefore: 'SELECT * FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  lastMessage: 'SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1',
} as const;

/** The data key of the blind indexes (keyed hashes that make sealed columns searchable). */
export const INDEX_KEY_OWNER = 'index';
export const customerKeyOwner = (customerId: string) => `customer:${customerId}`;

// Additional authenticated data: binds each ciphertext to its row and column.
export const messageAad = (messageId: string) => `msg:${messageId}`;
export const nameAad = (customerId: string) => `cust:${customerId}:name`;
export const externalIdAad = (channel: ChannelCode, identityHmac: string) => `ident:${channel}:${identityHmac}:ext`;
export const phoneAad = (channel: ChannelCode, identityHmac: string) => `ident:${channel}:${identityHmac}:phone`;
export const changeAad = (customerId: string, id: string, field: ProfileChange['field']) => `cust:${customerId}:change:${id}:${field}`;
export const wrapUpNoteAad = (sessionId: string) => `session:${sessionId}:note`;
export const handoverSummaryAad = (sessionId: string) => `session:${sessionId}:handover-summary`;
export const factsAad = (customerId: string) => `cust:${customerId}:facts`;
export const linkAad = (kind: string, valueHmac: string) => `link:${kind}:${valueHmac}`;
export const ratingCommentAad = (sessionId: string) => `session:${sessionId}:csat-comment`;

/** Blind index: a keyed hash of label + fixed parts + one free-text part, joined injectively (issue 6 B7). */
export function blindIndex(indexKey: Buffer): (...parts: string[]) => string {
  return (...parts) => createHmac('sha256', indexKey).update(joinKey('\u0000', parts)).digest('hex');
}

export interface MergeRow {
  id: string;
  survivor_id: string;
  merged_id: string;
  by: string;
  reason: string;
  at: string;
  undone_at: string | null;
  undone_by: string | null;
}

export const toMerge = (r: MergeRow): CustomerMerge => ({
  id: r.id,
  survivorId: r.survivor_id,
  mergedId: r.merged_id,
  by: r.by,
  reason: r.reason,
  at: r.at,
  undoneAt: r.undone_at,
  undoneBy: r.undone_by,
});

/** Sessions whose parsed routing decision `toSession` keeps (the most recently read first to stay). */
const PARSED_ROUTING_MAX = 2_000;
/** Parsed `routing_json` by session id, with the exact text it was parsed from. */
const parsedRouting = new Map<string, { json: string; routing: RoutingDecision }>();

/**
 * A session's routing decision from its `routing_json`. The decision (reasons, every candidate agent)
 * is the bulk of a session row, and a call reads its session a dozen times while the decision stays the
 * same (issue 18: parsing it was the biggest part of `getSession`): the object parsed last from the very
 * same text is handed out again. Records are values — nobody mutates a `SessionRecord`'s `routing`
 * (the router copies before it changes a decision) — so sharing it is safe.
 */
function routingOf(sessionId: string, json: string | null): RoutingDecision | null {
  if (!json) return null;
  const kept = parsedRouting.get(sessionId);
  if (kept && kept.json === json) {
    // Least recently used goes first: a hit moves to the back.
    parsedRouting.delete(sessionId);
    parsedRouting.set(sessionId, kept);
    return kept.routing;
  }
  const routing = JSON.parse(json) as RoutingDecision;
  parsedRouting.delete(sessionId);
  if (parsedRouting.size >= PARSED_ROUTING_MAX) parsedRouting.delete(parsedRouting.keys().next().value!);
  parsedRouting.set(sessionId, { json, routing });
  return routing;
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    customerId: row.customer_id,
    channel: row.channel,
    status: row.status,
    skillGroup: row.skill_group,
    assignedAgentId: row.assigned_agent_id,
    offeredAgentId: row.offered_agent_id,
    offerExpiresAt: row.offer_expires_at,
    routing: routingOf(row.id, row.routing_json),
    wrapUpCode: row.wrap_up_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    waitingSince: row.waiting_since,
    closedAt: row.closed_at,
    lastMessageAt: row.last_message_at,
    handover: row.handover_json ? (JSON.parse(row.handover_json) as Handover) : null,
    movedTo: row.moved_to ?? null,
    movedFrom: row.moved_from ?? null,
  };
}

export function toLogEntry(row: DecisionRow): RoutingLogEntry {
  return {
    seq: row.seq,
    sessionId: row.session_id,
    at: row.at,
    configVersion: row.config_version,
    decision: JSON.parse(row.decision_json) as RoutingDecision,
  };
}

export function envelopeOf(row: MessageRow, body: unknown, meta: unknown): Envelope {
  // Not re-validated with zod: what we sealed was validated on the way in, and GCM proves it
  // is unchanged since.
  return {
    v: ENVELOPE_VERSION,
    id: row.id,
    sessionId: row.session_id,
    conversationId: row.conversation_id,
    customerId: row.customer_id,
    channel: row.channel,
    direction: row.direction,
    seq: row.seq,
    kind: row.kind,
    body,
    critical: row.critical === 1,
    clientMessageId: row.client_message_id,
    sentAt: row.sent_at,
    receivedAt: row.received_at,
    ...(row.author_id ? { authorId: row.author_id } : {}),
    ...(row.author_kind ? { authorKind: row.author_kind } : {}),
    meta,
  } as Envelope;
}

/**
 * The customer's data key, loaded into the ring's cache.
 * @throws HuiliuError CUSTOMER_ERASED (410) when the customer has none: their key was destroyed (issue 17)
 */
export async function loadCustomerKey(ring: DataKeyRing, customerId: string): Promise<Buffer> {
  const key = await ring.get(customerKeyOwner(customerId));
  if (!key) throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
  return key;
}

/**
 * Opens a stored message (its customer's key must be cached: `loadCustomerKey` first), through
 * `opened` when given (recent payloads already opened with the same key and bytes are not opened
 * again). Throws `TamperError` when the ciphertext or its row binding changed.
 */
export function decryptMessage(ring: DataKeyRing, row: MessageRow, opened?: OpenedPayloadCache): Envelope {
  const key = ring.cached(customerKeyOwner(row.customer_id));
  const plain = opened
    ? opened.open(row.id, row.customer_id, key, row.payload_ct, messageAad)
    : openText(key, row.payload_ct, messageAad(row.id));
  const { body, meta } = JSON.parse(plain) as { body: unknown; meta: unknown };
  return envelopeOf(row, body, meta);
}
