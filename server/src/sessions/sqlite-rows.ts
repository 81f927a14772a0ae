import { createHmac } from 'node:crypto';
import { ENVELOPE_VERSION, type Envelope } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import type { RoutingDecision } from '../../../common/routing/types';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import type { AuthorKind, Handover } from '../../../common/ai/assist';
import { HuiliuError } from '../../../common/errors/codes';
import { isWellFormed } from '../../../common/text/text';
import type { Statement } from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { openText, openVersioned, seal, sealText } from '../crypto/aead';
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
/** A message's AAD in record format 1 (messages stored before format 2): its id only. */
export const messageAad = (messageId: string) => `msg:${messageId}`;

/**
 * The header of a stored message that its sealed payload is bound to (record format 2): every field a
 * reader takes from outside the ciphertext, except its `seq` (the Redis adapter learns it only inside
 * the append's Redis function, after sealing; order within a conversation is not authenticated).
 * The same fields in both adapters (SQLite columns, the Redis record header), so a record moves
 * between stores unchanged.
 */
export interface MessageHeader {
  id: string;
  conversationId: string;
  sessionId: string;
  customerId: string;
  channel: ChannelCode;
  direction: 'in' | 'out';
  kind: string;
  critical: boolean;
  clientMessageId: string;
  authorId: string | null;
  authorKind: string | null;
  sentAt: string;
  receivedAt: string;
}

/** The record format new messages are sealed in (`sealMessage`). */
export const MESSAGE_FORMAT = 2;

/** A message's AAD in record format 2: `msg2:` + the JSON array of its header fields (injective). */
export function messageHeaderAad(h: MessageHeader): string {
  return `msg2:${JSON.stringify([
    h.id,
    h.conversationId,
    h.sessionId,
    h.customerId,
    h.channel,
    h.direction,
    h.kind,
    h.critical ? 1 : 0,
    h.clientMessageId,
    h.authorId,
    h.authorKind,
    h.sentAt,
    h.receivedAt,
  ])}`;
}

/** The AAD a stored message's format byte calls for (1: id only, 2: the header), null for any other. */
export const messageAadOf =
  (h: MessageHeader) =>
  (version: number): string | null =>
    version === 2 ? messageHeaderAad(h) : version === 1 ? messageAad(h.id) : null;

/**
 * Seals a message payload (UTF-8 JSON) in format 2: bound to its header.
 * @throws HuiliuError VALIDATION_FAILED when a header field is not well-formed text (a lone UTF-16
 *   surrogate): SQLite would store it as other characters than those sealed, and the message — with its
 *   whole conversation's history read — would fail its integrity check on every read. The API's schemas
 *   refuse such ids already; this keeps any other caller from writing an unreadable row.
 */
export function sealMessage(key: Buffer, plain: string, header: MessageHeader): Buffer {
  const aad = messageHeaderAad(header);
  // JSON.stringify writes a lone surrogate as `\udXXX`, so only such an AAD (rare) is looked at again.
  if (aad.includes('\\ud') && Object.values(header).some((v) => typeof v === 'string' && !isWellFormed(v)))
    throw new HuiliuError('VALIDATION_FAILED', 'message header: text must be well-formed (no lone surrogates)');
  return seal(key, Buffer.from(plain, 'utf8'), aad, MESSAGE_FORMAT);
}

/**
 * Opens a stored message payload of format 1 or 2. @throws TamperError when the payload, its format
 * byte or (format 2) any header field changed
 */
export const openMessage = (key: Buffer, sealed: Buffer, header: MessageHeader): string =>
  openVersioned(key, sealed, messageAadOf(header)).toString('utf8');

/** The header of a SQLite message row (format 2's AAD fields). */
export const rowHeader = (row: Omit<MessageRow, 'payload_ct'>): MessageHeader => ({
  id: row.id,
  conversationId: row.conversation_id,
  sessionId: row.session_id,
  customerId: row.customer_id,
  channel: row.channel,
  direction: row.direction,
  kind: row.kind,
  critical: row.critical === 1,
  clientMessageId: row.client_message_id,
  authorId: row.author_id,
  authorKind: row.author_kind ?? null,
  sentAt: row.sent_at,
  receivedAt: row.received_at,
});
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

/** The keyed hashes of a customer's name and an identity's phone (blind-index labels `name`, `phone`). */
export function profileHashes(blind: (...parts: string[]) => string) {
  return {
    nameHmac: (customerId: string, name: string) => blind('name', customerId, name),
    phoneHmac: (channel: ChannelCode, identityHmac: string, phone: string) => blind('phone', channel, identityHmac, phone),
  };
}

/** The SQL of a new customer row and of a channel identity (the writer and the customers port prepare it on their own connection). */
export const CUSTOMER_ROW_SQL = {
  insertCustomer: 'INSERT INTO customers (id, name_ct, name_hmac, created_at, group_id) VALUES (?, ?, ?, ?, ?)',
  insertIdentity: `INSERT INTO customer_identities (channel, external_id_hmac, customer_id, external_id_ct, phone_ct, phone_hmac, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
} as const;

/** `CUSTOMER_ROW_SQL` prepared on one connection. */
export type CustomerRowStatements = { [K in keyof typeof CUSTOMER_ROW_SQL]: Statement };

/**
 * A new customer row, inside the caller's transaction: `name` sealed under the customer's data key `key`
 * (AAD `nameAad`) with its keyed hash (`blind`, the index key), created at `t` (ISO 8601), its own merge group.
 */
export function insertCustomerRow(
  q: CustomerRowStatements,
  blind: (...parts: string[]) => string,
  key: Buffer,
  customerId: string,
  name: string,
  t: string,
): void {
  q.insertCustomer.run(
    customerId,
    sealText(key, name, nameAad(customerId)),
    profileHashes(blind).nameHmac(customerId, name),
    t,
    customerId,
  );
}

/**
 * A channel identity (`identity.channel`, blind index `identityHmac`) of `customerId`, inside the caller's
 * transaction: the external id and the phone (when given) sealed under `key`, the phone's keyed hash, at `t`.
 */
export function insertIdentityRow(
  q: CustomerRowStatements,
  blind: (...parts: string[]) => string,
  key: Buffer,
  identity: { channel: ChannelCode; externalId: string; phone?: string | undefined },
  identityHmac: string,
  customerId: string,
  t: string,
): void {
  const { channel, externalId, phone } = identity;
  q.insertIdentity.run(
    channel,
    identityHmac,
    customerId,
    sealText(key, externalId, externalIdAad(channel, identityHmac)),
    phone ? sealText(key, phone, phoneAad(channel, identityHmac)) : null,
    phone ? profileHashes(blind).phoneHmac(channel, identityHmac, phone) : null,
    t,
  );
}

/** The SQL `applyContactDetails` runs (the writer and the customers port prepare it on their own connection). */
export const PROFILE_SQL = {
  profileState: `SELECT c.name_ct, c.name_hmac, i.phone_ct, i.phone_hmac FROM customers c
         JOIN customer_identities i ON i.customer_id = c.id WHERE i.channel = ? AND i.external_id_hmac = ?`,
  setName: 'UPDATE customers SET name_ct = ?, name_hmac = ? WHERE id = ?',
  setPhone: 'UPDATE customer_identities SET phone_ct = ?, phone_hmac = ? WHERE channel = ? AND external_id_hmac = ?',
  insertProfileChange: `INSERT INTO customer_profile_changes (id, customer_id, field, channel, previous_ct, value_ct, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
} as const;

/** `PROFILE_SQL` prepared on one connection. */
export type ProfileStatements = { [K in keyof typeof PROFILE_SQL]: Statement };

/**
 * Later contact details win (C10): a name or phone of `identity` that differs from the stored one
 * replaces it, sealed under the customer's data key `key`, and the change (previous and new value) is
 * kept sealed in customer_profile_changes at `t` (ISO 8601). Absent fields change nothing. "Unchanged"
 * is decided on keyed hashes (`blind`, the index key), so the usual case decrypts nothing; rows from
 * before migration 0002 have no hash yet and are decrypted once to compare. Runs inside the caller's
 * transaction. Answers false when the identity (channel, `identityHmac`) has no row.
 */
export function applyContactDetails(
  q: ProfileStatements,
  blind: (...parts: string[]) => string,
  key: Buffer,
  customerId: string,
  identity: { channel: ChannelCode; displayName?: string | undefined; phone?: string | undefined },
  identityHmac: string,
  t: string,
): boolean {
  const { nameHmac, phoneHmac } = profileHashes(blind);
  const row = q.profileState.get(identity.channel, identityHmac) as
    { name_ct: Buffer; name_hmac: string | null; phone_ct: Buffer | null; phone_hmac: string | null } | undefined;
  if (!row) return false;
  const record = (field: ProfileChange['field'], previous: string | null, value: string) => {
    const id = uuidv7();
    q.insertProfileChange.run(
      id,
      customerId,
      field,
      identity.channel,
      previous === null ? null : sealText(key, previous, changeAad(customerId, id, field) + ':prev'),
      sealText(key, value, changeAad(customerId, id, field)),
      t,
    );
  };
  if (identity.displayName) {
    const next = nameHmac(customerId, identity.displayName);
    const current = row.name_hmac ?? nameHmac(customerId, openText(key, row.name_ct, nameAad(customerId)));
    if (current !== next) {
      record('name', openText(key, row.name_ct, nameAad(customerId)), identity.displayName);
      q.setName.run(sealText(key, identity.displayName, nameAad(customerId)), next, customerId);
    }
  }
  if (identity.phone) {
    const next = phoneHmac(identity.channel, identityHmac, identity.phone);
    const previous = row.phone_ct ? openText(key, row.phone_ct, phoneAad(identity.channel, identityHmac)) : null;
    const current = row.phone_hmac ?? (previous === null ? null : phoneHmac(identity.channel, identityHmac, previous));
    if (current !== next) {
      record('phone', previous, identity.phone);
      q.setPhone.run(sealText(key, identity.phone, phoneAad(identity.channel, identityHmac)), next, identity.channel, identityHmac);
    }
  }
  return true;
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

/**
 * A routing decision's `candidates` (every agent looked at, and why: ≈ 300 bytes an agent, the bulk of a
 * decision) live beside the session row, in `session_routing_candidates` (migration 0011), not in its
 * `routing_json`: every session read (a call reads its session about 8 times) then reads and parses a
 * few hundred bytes instead of ≈ 8 KB with 16 agents (issue 18). The session detail view reads them
 * (`SessionStore.routingCandidates`); the routing decisions log keeps each decision whole.
 */
export const ROUTING_CANDIDATES_SQL = {
  /** Params: session id, candidates JSON. */
  put: `INSERT INTO session_routing_candidates (session_id, candidates_json) VALUES (?, ?)
        ON CONFLICT (session_id) DO UPDATE SET candidates_json = excluded.candidates_json`,
  /** Params: session id. */
  drop: 'DELETE FROM session_routing_candidates WHERE session_id = ?',
  /** A session that carries another's routing on (issue 12, `inherit`). Params: to session id, from session id. */
  copy: `INSERT OR REPLACE INTO session_routing_candidates (session_id, candidates_json)
         SELECT ?, candidates_json FROM session_routing_candidates WHERE session_id = ?`,
  /** Params: session id. */
  get: 'SELECT candidates_json FROM session_routing_candidates WHERE session_id = ?',
} as const;

/** A routing decision as it is written: the session row's `routing` (no candidates), its `candidates` (null: none), and the whole decision for the log. */
export interface RoutingColumns {
  routing: string;
  candidates: string | null;
  whole: string;
}

/** Splits `decision` for `session_routing_candidates` (see `ROUTING_CANDIDATES_SQL`), stringifying each part once. */
export function routingColumns(decision: RoutingDecision): RoutingColumns {
  const { candidates, ...rest } = decision;
  const routing = JSON.stringify(rest);
  if (candidates === undefined) return { routing, candidates: null, whole: routing };
  const list = JSON.stringify(candidates);
  // The whole decision with `candidates` last: the same JSON value as `JSON.stringify(decision)`, without a second pass.
  return {
    routing,
    candidates: list,
    whole: routing === '{}' ? `{"candidates":${list}}` : `${routing.slice(0, -1)},"candidates":${list}}`,
  };
}

/** Writes a decision's candidates beside session `sessionId` (prepared `ROUTING_CANDIDATES_SQL`), inside the caller's transaction. */
export function writeRoutingCandidates(q: { put: Statement; drop: Statement }, sessionId: string, candidates: string | null): void {
  if (candidates === null) q.drop.run(sessionId);
  else q.put.run(sessionId, candidates);
}

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
  // Built by assignment, not spreads (every history read makes one per message); keys in the same order.
  const envelope: Record<string, unknown> = {
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
  };
  if (row.author_id) envelope.authorId = row.author_id;
  if (row.author_kind) envelope.authorKind = row.author_kind;
  envelope.meta = meta;
  return envelope as unknown as Envelope;
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
    ? opened.open(row.id, row.customer_id, key, row.payload_ct, messageAadOf(rowHeader(row)))
    : openMessage(key, row.payload_ct, rowHeader(row));
  const { body, meta } = JSON.parse(plain) as { body: unknown; meta: unknown };
  return envelopeOf(row, body, meta);
}
