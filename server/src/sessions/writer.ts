import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { normalizeLinkValue, type Content, type Envelope, type IdentityLink, type InboundDraft } from '../../../common/message/envelope';
import type { AuthorKind } from '../../../common/ai/assist';
import type { WrapUpCode } from '../../../common/api/sessions';
import { placeholderName } from '../../../common/message/placeholder-names';
import { openText, openVersioned, sealText, TamperError } from '../crypto/aead';
import { type GroupCommit } from '../db/group-commit';
import type { Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { joinKey } from '../crypto/composite-key';
import { DataKeyRing } from './data-keys';
import { mintSessionId, type RandomSource } from './session-id';
import { knownFormat, PAGE_SEQS, PAGE_SQL, pageOf, sealPageBlock } from './page-blocks';
import {
  applyContactDetails,
  blindIndex,
  customerKeyOwner,
  PROFILE_SQL,
  CUSTOMER_ROW_SQL,
  insertCustomerRow,
  insertIdentityRow,
  envelopeOf,
  factsAad,
  handoverSummaryAad,
  INDEX_KEY_OWNER,
  rowHeader,
  messageAadOf,
  messageHeaderAad,
  type MessageHeader,
  sealMessage,
  ratingCommentAad,
  linkAad,
  toMerge,
  toSession,
  type MergeRow,
  wrapUpNoteAad,
  type MessageRow,
  type SessionRow,
  decryptMessage as decryptRow,
  loadCustomerKey as loadKey,
  CONVERSATION_SQL,
  ROUTING_CANDIDATES_SQL,
  routingColumns,
  writeRoutingCandidates,
} from './sqlite-rows';
import type {
  ClaimResult,
  CustomerIdentity,
  OutboundInput,
  CustomerMerge,
  AdmittedInbound,
  InboundResult,
  LinkView,
  SessionRecord,
  SessionStore,
  StoredCustomerFacts,
} from './store';
import { createTransferWriter } from './transfers.sqlite';

/** The store's write operations: what runs on the thread that owns the write connection. */
export type SessionWriter = Pick<
  SessionStore,
  | 'appendInbound'
  | 'admitInbound'
  | 'appendOutbound'
  | 'saveRouting'
  | 'claim'
  | 'close'
  | 'appendAndClaim'
  | 'appendAndClose'
  | 'abandon'
  | 'release'
  | 'startBot'
  | 'handOver'
  | 'ensureCustomers'
  | 'putCustomerFacts'
  | 'rateSession'
  | 'startTransfer'
  | 'decideTransfer'
  | 'undoTransfer'
  | 'mergeCustomers'
  | 'undoMerge'
  | 'linkIdentity'
  | 'saveContactDetails'
>;
export type SessionWriteOp = keyof SessionWriter;
export const SESSION_WRITE_OPS: readonly SessionWriteOp[] = [
  'appendInbound',
  'admitInbound',
  'appendOutbound',
  'saveRouting',
  'claim',
  'close',
  'appendAndClaim',
  'appendAndClose',
  'abandon',
  'release',
  'startBot',
  'handOver',
  'ensureCustomers',
  'putCustomerFacts',
  'rateSession',
  'startTransfer',
  'decideTransfer',
  'undoTransfer',
  'mergeCustomers',
  'undoMerge',
  'linkIdentity',
  'saveContactDetails',
];

export interface SessionWriterOptions {
  db: Db;
  ring: DataKeyRing;
  /** Group commit over `db` (shared with the ring, so a new data key and its first use batch together). */
  commit: GroupCommit;
  /** The blind index function (keyed with the index data key). */
  blind: (...parts: string[]) => string;
  /** A customer's new contact joins their open conversation if it was active this recently (ms). */
  continuityMs: number;
  now: () => number;
  random?: RandomSource;
  /** Each message row it seals, with the payload JSON it sealed (write-through for a reader's opened cache). */
  onSealed?: OnSealed;
}

/**
 * A message row the writer sealed (in a transaction that may still roll back) and the payload JSON it
 * sealed: the reading side keeps the pair in its `OpenedPayloadCache`, so the first read of a message
 * written by this process opens nothing. A rolled-back row is never read, so keeping it is harmless.
 */
export type OnSealed = (row: MessageRow, payload: string) => void;

/**
 * Opens the session writer over `db` on this thread: its data-key ring (writing new keys through
 * `commit`) and the blind index key (created on first use). The worker thread and the inline store
 * both start their writer here.
 */
export async function openSessionWriter(options: {
  db: Db;
  keys: KeyProvider;
  commit: GroupCommit;
  continuityMs: number;
  now: () => number;
  random?: RandomSource;
  onSealed?: OnSealed;
}): Promise<{ writer: SessionWriter; ring: DataKeyRing }> {
  const { db, keys, commit } = options;
  const ring = new DataKeyRing(db, keys, (fn) => commit.run(fn));
  const indexKey = await ring.getOrCreate(INDEX_KEY_OWNER);
  const writer = createSessionWriter({
    db,
    ring,
    commit,
    blind: blindIndex(indexKey),
    continuityMs: options.continuityMs,
    now: options.now,
    ...(options.random ? { random: options.random } : {}),
    ...(options.onSealed ? { onSealed: options.onSealed } : {}),
  });
  return { writer, ring };
}

/**
 * The session store's writes over one SQLite connection, each through group commit: a method resolves
 * after its transaction is on disk (synchronous=FULL inline; in the thread, NORMAL plus `WalSync`). Runs in the writer worker thread in production
 * (`writer.worker.ts`), or on the caller's thread when the store is opened `writer: 'inline'`.
 */
/** The writer's memory of payloads it sealed lately, for page blocks (UTF-16 code units, ~8 MB: payload, half the record's bytes, header). */
const RECENT_PAYLOAD_CHARS = 4 * 1024 * 1024;
/** What an entry's header and slot count for, in UTF-16 code units (rough). */
const RECENT_ENTRY_CHARS = 200;

/** A payload the writer sealed lately and the record it sealed it as (`sealed` bytes, AAD fields `header`, `seq`); `chars`: its share of the budget. */
interface RecentPayload {
  payload: string;
  sealed: Buffer;
  header: MessageHeader;
  seq: number;
  chars: number;
}

function createSessionWriter(options: SessionWriterOptions): SessionWriter {
  const { db, ring, commit, blind, continuityMs, now } = options;
  const iso = () => new Date(now()).toISOString();

  const q = {
    identity: db.prepare('SELECT customer_id FROM customer_identities WHERE channel = ? AND external_id_hmac = ?'),
    deleteIdentity: db.prepare('DELETE FROM customer_identities WHERE channel = ? AND external_id_hmac = ?'),
    insertCustomer: db.prepare(CUSTOMER_ROW_SQL.insertCustomer),
    insertIdentity: db.prepare(CUSTOMER_ROW_SQL.insertIdentity),
    messageByClientId: db.prepare(CONVERSATION_SQL.messageByClientId),
    openSessionOnChannel: db.prepare(
      `SELECT * FROM sessions WHERE customer_id = ? AND channel = ? AND status != 'closed' ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ),
    // Issue 12: continuity reads the customer's whole merge group.
    recentOpenConversation: db.prepare(
      `SELECT id FROM conversations WHERE customer_id IN (SELECT id FROM customers WHERE group_id = ?) AND status = 'open'
         AND updated_at >= ? ORDER BY updated_at DESC LIMIT 1`,
    ),
    otherOpenSessions: db.prepare(
      `SELECT * FROM sessions WHERE conversation_id = ? AND status != 'closed' AND id != ? ORDER BY last_message_at DESC, rowid DESC`,
    ),
    inherit: db.prepare(
      `UPDATE sessions SET status = @status, skill_group = @skillGroup, assigned_agent_id = @agent, routing_json = @routing,
         waiting_since = @waitingSince, handover_json = @handover, moved_from = @from WHERE id = @id RETURNING *`,
    ),
    moveClose: db.prepare(
      `UPDATE sessions SET status = 'closed', offer_expires_at = NULL, closed_at = @t, updated_at = @t,
         moved_to = @to WHERE id = @id AND status != 'closed' RETURNING *`,
    ),
    groupOf: db.prepare('SELECT group_id FROM customers WHERE id = ?'),
    link: db.prepare('SELECT customer_id, trusted FROM customer_links WHERE kind = ? AND value_hmac = ?'),
    insertLink: db.prepare(
      `INSERT INTO customer_links (kind, value_hmac, customer_id, value_ct, source, trusted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       RETURNING created_at`,
    ),
    // A trusted source vouches for a link an untrusted one recorded: it is theirs now (re-sealed with their key).
    takeLink: db.prepare(
      `UPDATE customer_links SET customer_id = ?, value_ct = ?, source = ?, trusted = 1, created_at = ? WHERE kind = ? AND value_hmac = ?
       RETURNING created_at`,
    ),
    // An undone merge between the two groups (either way round): a shared link does not merge them again.
    undoneBetween: db.prepare(
      `SELECT 1 AS x FROM customer_merges WHERE undone_at IS NOT NULL AND (
         (survivor_id IN (SELECT id FROM customers WHERE group_id = @a) AND merged_id IN (SELECT id FROM customers WHERE group_id = @b))
         OR (survivor_id IN (SELECT id FROM customers WHERE group_id = @b) AND merged_id IN (SELECT id FROM customers WHERE group_id = @a)))
       LIMIT 1`,
    ),
    setMergedInto: db.prepare('UPDATE customers SET merged_into = ? WHERE id = ?'),
    regroup: db.prepare('UPDATE customers SET group_id = ? WHERE group_id = ?'),
    insertMerge: db.prepare(
      `INSERT INTO customer_merges (id, survivor_id, merged_id, by, reason, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    merge: db.prepare('SELECT * FROM customer_merges WHERE id = ?'),
    undoMerge: db.prepare('UPDATE customer_merges SET undone_at = ?, undone_by = ? WHERE id = ? AND undone_at IS NULL RETURNING *'),
    unmerge: db.prepare('UPDATE customers SET merged_into = NULL WHERE id = ? AND merged_into = ?'),
    // After an undo: open sessions of one group inside a conversation the other group owns.
    crossSessions: db.prepare(
      `SELECT s.* FROM sessions s JOIN conversations c ON c.id = s.conversation_id
         JOIN customers sc ON sc.id = s.customer_id JOIN customers cc ON cc.id = c.customer_id
       WHERE s.status != 'closed' AND sc.group_id != cc.group_id AND sc.group_id IN (@a, @b) AND cc.group_id IN (@a, @b)`,
    ),
    detach: db.prepare(
      `UPDATE sessions SET status = 'closed', offered_agent_id = NULL, offer_expires_at = NULL, closed_at = @t, updated_at = @t
       WHERE id = @id AND status != 'closed' RETURNING *`,
    ),
    // The undone group's root and everything merged under it (the merge tree below it) take it as their group again.
    regroupSubtree: db.prepare(
      `WITH RECURSIVE sub(id) AS (SELECT @root UNION ALL SELECT c.id FROM customers c JOIN sub ON c.merged_into = sub.id)
       UPDATE customers SET group_id = @root WHERE id IN (SELECT id FROM sub)`,
    ),
    insertConversation: db.prepare(
      `INSERT INTO conversations (id, customer_id, status, last_seq, created_at, updated_at) VALUES (?, ?, 'open', 0, ?, ?)`,
    ),
    insertSession: db.prepare(CONVERSATION_SQL.insertSession),
    nextSeq: db.prepare(CONVERSATION_SQL.nextSeq),
    insertMessage: db.prepare(CONVERSATION_SQL.insertMessage),
    touchSession: db.prepare(CONVERSATION_SQL.touchSession),
    session: db.prepare(CONVERSATION_SQL.session),
    profileState: db.prepare(PROFILE_SQL.profileState),
    setName: db.prepare(PROFILE_SQL.setName),
    setPhone: db.prepare(PROFILE_SQL.setPhone),
    insertProfileChange: db.prepare(PROFILE_SQL.insertProfileChange),
    // @seen: 0 = apply whatever the pending offer; 1 = only if it is still @seenAgent (IS: null-safe).
    saveRouting: db.prepare(
      `UPDATE sessions SET routing_json = @routing, status = @status, offered_agent_id = @agent, offer_expires_at = @expires, updated_at = @t
       WHERE id = @id AND status IN ('queued', 'offered') AND (@seen = 0 OR offered_agent_id IS @seenAgent) RETURNING *`,
    ),
    // The capacity check and the offer are one statement: no other writer (process) can slip an offer
    // to the same agent between the count and the write.
    saveOfferWithin: db.prepare(
      `UPDATE sessions SET routing_json = @routing, status = 'offered', offered_agent_id = @agent, offer_expires_at = @expires,
         updated_at = @t
       WHERE id = @id AND status IN ('queued', 'offered') AND (@seen = 0 OR offered_agent_id IS @seenAgent)
         AND (SELECT CASE WHEN @voice = 1
                     THEN total(channel = 'SP') < @voiceCap AND total(channel != 'SP') <= @during
                     ELSE total(channel != 'SP') < (CASE WHEN total(channel = 'SP') > 0 THEN @during ELSE @chatCap END) END
              FROM sessions WHERE id != @id AND
               ((status = 'active' AND assigned_agent_id = @agent) OR (status = 'offered' AND offered_agent_id = @agent)))
       RETURNING *`,
    ),
    appendDecision: db.prepare(
      `INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    putCandidates: db.prepare(ROUTING_CANDIDATES_SQL.put),
    dropCandidates: db.prepare(ROUTING_CANDIDATES_SQL.drop),
    copyCandidates: db.prepare(ROUTING_CANDIDATES_SQL.copy),
    claim: db.prepare(
      `UPDATE sessions SET status = 'active', assigned_agent_id = ?, offered_agent_id = NULL, offer_expires_at = NULL, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'offered') RETURNING *`,
    ),
    close: db.prepare(
      `UPDATE sessions SET status = 'closed', wrap_up_code = ?, wrap_up_note_ct = ?, closed_at = ?, updated_at = ?
       WHERE id = ? AND status != 'closed' RETURNING *`,
    ),
    abandon: db.prepare(
      `UPDATE sessions SET status = 'closed', wrap_up_code = 'no-response', offered_agent_id = NULL, offer_expires_at = NULL, closed_at = ?, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'offered', 'bot') RETURNING *`,
    ),
    release: db.prepare(
      `UPDATE sessions SET status = 'queued', assigned_agent_id = NULL, waiting_since = ?, updated_at = ?
       WHERE id = ? AND status = 'active' AND assigned_agent_id = ? RETURNING *`,
    ),
    // Only a never-routed, never-handed-over contact goes to the AI: nothing brings one back to it.
    startBot: db.prepare(
      `UPDATE sessions SET routing_json = ?, status = 'bot', updated_at = ?
       WHERE id = ? AND status = 'queued' AND routing_json IS NULL AND handover_json IS NULL RETURNING *`,
    ),
    handOver: db.prepare(
      `UPDATE sessions SET status = @status, assigned_agent_id = @agent, handover_json = @handover, handover_summary_ct = @summary,
         waiting_since = @t, updated_at = @t
       WHERE id = @id AND status = 'bot' RETURNING *`,
    ),
    openSessionsInConversation: db.prepare(CONVERSATION_SQL.openSessionsInConversation),
    customerExists: db.prepare('SELECT 1 AS ok FROM customers WHERE id = ?'),
    facts: db.prepare('SELECT facts_ct FROM customer_facts WHERE customer_id = ?'),
    putFacts: db.prepare(
      `INSERT INTO customer_facts (customer_id, facts_ct, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (customer_id) DO UPDATE SET facts_ct = excluded.facts_ct, updated_at = excluded.updated_at`,
    ),
    // The primary key makes "once per session" one statement: a second rating inserts nothing.
    rate: db.prepare(
      `INSERT INTO session_ratings (session_id, customer_id, score, comment_ct, rated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO NOTHING`,
    ),
    closeConversation: db.prepare(CONVERSATION_SQL.closeConversation),
    lastSeq: db.prepare('SELECT last_seq FROM conversations WHERE id = ?'),
    pageRows: db.prepare(PAGE_SQL.pageRows),
    upsertPage: db.prepare(PAGE_SQL.upsert),
  };
  const candidateStatements = { put: q.putCandidates, drop: q.dropCandidates };

  const decryptMessage = (row: MessageRow) => decryptRow(ring, row);
  const loadCustomerKey = (customerId: string) => loadKey(ring, customerId);

  /**
   * Payloads this writer sealed lately (message id → plaintext, with the record it sealed: its bytes,
   * AAD and seq), so sealing a page block opens nothing in the usual case. A payload is taken only for
   * a row that is still exactly that record — its stored bytes, the AAD its header forms and its seq — so a row
   * changed on disk before its page is sealed is opened (and caught) like any other, never vouched for
   * by a block. Bounded (`RECENT_PAYLOAD_CHARS`, oldest dropped first); a row whose payload is not here
   * is opened from its stored ciphertext. An entry of a rolled-back row is never asked for (ids are
   * uuidv7, never reused).
   */
  const recentPayloads = new Map<string, RecentPayload>();
  let recentChars = 0;
  const rememberPayload = (id: string, entry: Omit<RecentPayload, 'chars'>) => {
    const chars = entry.payload.length + Math.ceil(entry.sealed.length / 2) + RECENT_ENTRY_CHARS;
    recentPayloads.set(id, { ...entry, chars });
    recentChars += chars;
    while (recentChars > RECENT_PAYLOAD_CHARS) {
      const [oldId, old] = recentPayloads.entries().next().value as [string, RecentPayload];
      recentPayloads.delete(oldId);
      recentChars -= old.chars;
    }
  };
  // Erasure covers this memory too (DESIGN §8): an erased customer's payloads go once the ring learns of it.
  ring.onShred((keyExists) => {
    const erased = new Map<string, boolean>();
    for (const [id, e] of recentPayloads) {
      let gone = erased.get(e.header.customerId);
      if (gone === undefined) erased.set(e.header.customerId, (gone = !keyExists(customerKeyOwner(e.header.customerId))));
      if (!gone) continue;
      recentPayloads.delete(id);
      recentChars -= e.chars;
    }
  });
  /** The plaintext of a stored row: from `recentPayloads` when the row is the very record sealed, else opened. @throws TamperError */
  const payloadOfRow = (key: Buffer, r: MessageRow): string => {
    const aadOf = messageAadOf(rowHeader(r));
    const kept = recentPayloads.get(r.id);
    if (kept && kept.seq === r.seq && kept.sealed.equals(r.payload_ct) && messageHeaderAad(kept.header) === aadOf(r.payload_ct[0]!))
      return kept.payload;
    return openVersioned(key, r.payload_ct, aadOf).toString('utf8');
  };

  /**
   * Seals the page blocks of `page` up to `lastSeq` (page-blocks.ts), one per customer whose rows are on
   * it, inside the caller's transaction. A customer whose data key this ring does not hold, a row of a
   * format no reader takes, or a row that fails its own integrity check: no block for that customer —
   * their rows stay readable one by one, which is all a block saves.
   */
  function sealPage(conversationId: string, page: number, lastSeq: number): void {
    const rows = q.pageRows.all(conversationId, page * PAGE_SEQS + 1, lastSeq) as MessageRow[];
    const byCustomer = new Map<string, MessageRow[]>();
    for (const row of rows) {
      const list = byCustomer.get(row.customer_id);
      if (list) list.push(row);
      else byCustomer.set(row.customer_id, [row]);
    }
    for (const [customerId, own] of byCustomer) {
      const key = ring.peek(customerKeyOwner(customerId));
      if (!key) continue;
      if (!own.every(knownFormat)) continue;
      let payloads: string[];
      try {
        payloads = own.map((r) => payloadOfRow(key, r));
      } catch (err) {
        if (err instanceof TamperError) continue;
        throw err;
      }
      const place = { conversationId, page, customerId, firstSeq: own[0]!.seq, lastSeq: own.at(-1)!.seq };
      q.upsertPage.run(conversationId, page, customerId, place.firstSeq, place.lastSeq, sealPageBlock(key, place, own, payloads));
    }
  }

  /**
   * Closes the conversation when `conversationId` has no open session left, and seals its last, partial
   * page (a complete page was sealed when its last message came): closed history is what is read cold.
   */
  function closeConversationIfDone(conversationId: string, t: string): void {
    const { n } = q.openSessionsInConversation.get(conversationId) as { n: number };
    if (n !== 0) return;
    q.closeConversation.run(t, conversationId);
    const last = (q.lastSeq.get(conversationId) as { last_seq: number } | undefined)?.last_seq ?? 0;
    if (last > 0 && last % PAGE_SEQS !== 0) sealPage(conversationId, pageOf(last), last);
  }

  /** What retries are compared on: the content, or the request a draft names for it (`InboundDraft.idempotencyContent`). */
  const contentHmac = (customerId: string, content: Content, idempotencyContent?: string) =>
    blind('content', customerId, idempotencyContent ?? JSON.stringify(content));

  function insertMessage(args: {
    session: SessionRow;
    direction: 'in' | 'out';
    content: Content;
    clientMessageId: string;
    critical: boolean;
    authorId: string | null;
    authorKind: AuthorKind;
    sentAt: string;
    receivedAt: string;
    meta: Envelope['meta'];
    idempotencyContent?: string;
  }): { envelope: Envelope; at: string } {
    const { session } = args;
    const key = ring.cached(customerKeyOwner(session.customer_id));
    const t = iso();
    const { last_seq: seq } = q.nextSeq.get(t, session.conversation_id) as { last_seq: number };
    const id = uuidv7();
    const fields: Omit<MessageRow, 'payload_ct'> = {
      id,
      conversation_id: session.conversation_id,
      session_id: session.id,
      customer_id: session.customer_id,
      seq,
      channel: session.channel,
      direction: args.direction,
      kind: args.content.kind,
      content_hmac: contentHmac(session.customer_id, args.content, args.idempotencyContent),
      client_message_id: args.clientMessageId,
      critical: args.critical ? 1 : 0,
      author_id: args.authorId,
      author_kind: args.authorKind,
      sent_at: args.sentAt,
      received_at: args.receivedAt,
    };
    // Format 2: the payload is bound to the row's header (sqlite-rows.ts `messageHeaderAad`).
    const payload = JSON.stringify({ body: args.content.body, meta: args.meta });
    const header = rowHeader(fields);
    const row: MessageRow = { ...fields, payload_ct: sealMessage(key, payload, header) };
    q.insertMessage.run(row);
    options.onSealed?.(row, payload);
    rememberPayload(id, { payload, sealed: row.payload_ct, header, seq });
    if (seq % PAGE_SEQS === 0) sealPage(session.conversation_id, pageOf(seq), seq);
    q.touchSession.run(t, t, session.id);
    return { envelope: envelopeOf(row, args.content.body, args.meta), at: t };
  }

  /**
   * One staff/AI/system message into its session, inside the caller's transaction (the customer's key
   * already in the ring's cache). Idempotent on clientMessageId. SESSION_NOT_FOUND, SESSION_CLOSED,
   * IDEMPOTENCY_CONFLICT.
   */
  function appendOutboundNow(input: OutboundInput): { envelope: Envelope; duplicate: boolean } {
    const session = q.session.get(input.sessionId) as SessionRow | undefined;
    if (!session) throw new HuiliuError('SESSION_NOT_FOUND');
    const dup = checkDuplicate(session.customer_id, 'out', input.clientMessageId, input.content);
    if (dup) return { envelope: decryptMessage(dup), duplicate: true };
    if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
    const t = iso();
    const { envelope } = insertMessage({
      session,
      direction: 'out',
      content: input.content,
      clientMessageId: input.clientMessageId,
      critical: input.critical,
      authorId: input.authorId,
      authorKind: input.authorKind ?? (input.authorId ? 'agent' : 'system'),
      sentAt: t,
      receivedAt: t,
      meta: input.meta ?? {},
    });
    return { envelope, duplicate: false };
  }

  /** `claim` inside the caller's transaction. SESSION_NOT_FOUND, SESSION_CLOSED, OFFER_TAKEN. */
  function claimNow(sessionId: string, agentId: string): ClaimResult {
    const row = q.claim.get(agentId, iso(), sessionId) as SessionRow | undefined;
    if (row) return { session: toSession(row), changed: true };
    const existing = q.session.get(sessionId) as SessionRow | undefined;
    if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
    if (existing.status === 'active' && existing.assigned_agent_id === agentId) return { session: toSession(existing), changed: false };
    if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
    throw new HuiliuError('OFFER_TAKEN');
  }

  /** The session `agentId` may close now. SESSION_NOT_FOUND, SESSION_CLOSED, NOT_ASSIGNED. */
  function closable(sessionId: string, agentId: string): SessionRow {
    const existing = q.session.get(sessionId) as SessionRow | undefined;
    if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
    if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
    if (existing.assigned_agent_id !== agentId) throw new HuiliuError('NOT_ASSIGNED');
    return existing;
  }

  /** `close` inside the caller's transaction, with the note already sealed; the conversation closes with its last open session. */
  function closeNow(sessionId: string, wrapUpCode: WrapUpCode, noteCt: Buffer | null): SessionRecord {
    const t = iso();
    const row = q.close.get(wrapUpCode, noteCt, t, t, sessionId) as SessionRow | undefined;
    if (!row) throw new HuiliuError('SESSION_CLOSED');
    closeConversationIfDone(row.conversation_id, t);
    return toSession(row);
  }

  function checkDuplicate(
    customerId: string,
    direction: 'in' | 'out',
    clientMessageId: string,
    content: Content,
    idempotencyContent?: string,
  ): MessageRow | null {
    const existing = q.messageByClientId.get(customerId, direction, clientMessageId) as MessageRow | undefined;
    if (!existing) return null;
    if (existing.content_hmac !== contentHmac(customerId, content, idempotencyContent)) {
      throw new HuiliuError('IDEMPOTENCY_CONFLICT');
    }
    return existing;
  }

  /**
   * Later contact details win (C10): a name or phone that differs from the stored one replaces it and
   * the change is kept, sealed, in customer_profile_changes. Absent fields change nothing. Runs inside
   * the message's transaction; "unchanged" is decided on keyed hashes, so the usual case decrypts nothing.
   */
  function updateProfile(customerId: string, identity: InboundDraft['identity'], hmac: string): void {
    if (!identity.displayName && !identity.phone) return;
    applyContactDetails(q, blind, ring.cached(customerKeyOwner(customerId)), customerId, identity, hmac, iso());
  }

  /**
   * The identity's customer (created on first contact, or by an import of their facts) and the
   * identity's blind index, computed once; the customer's key is left in the ring's cache.
   */
  async function resolveCustomer(
    identity: CustomerIdentity & { phone?: string | undefined },
    decided?: string,
  ): Promise<{ customerId: string; identityHmac: string; created: boolean }> {
    const hmac = blind('identity', identity.channel, identity.externalId);
    const found = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
    if (found && (decided === undefined || found.customer_id === decided)) {
      await loadCustomerKey(found.customer_id);
      return { customerId: found.customer_id, identityHmac: hmac, created: false };
    }
    if (decided !== undefined) return adoptCustomer(identity, hmac, decided);
    const customerId = uuidv7();
    const key = await ring.getOrCreate(customerKeyOwner(customerId));
    // Re-check after the await: a concurrent first message from the same identity may have won.
    const resolved = await commit.run(() => {
      const again = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
      if (again) return again.customer_id;
      const t = iso();
      const name = identity.displayName ?? placeholderName(identity.channel);
      insertCustomerRow(q, blind, key, customerId, name, t);
      insertIdentityRow(q, blind, key, identity, hmac, customerId, t);
      return customerId;
    });
    // The winner of a race may be another customer id: its key, not ours, must be in the cache.
    if (resolved !== customerId) await loadCustomerKey(resolved);
    return { customerId: resolved, identityHmac: hmac, created: resolved === customerId };
  }

  /**
   * Issue 14, `HUILIU_STORE=redis`: the customers port (Redis Cluster) decided the identity's customer
   * (`customerId`), so every node records the same id. The customer row is created here when this file
   * does not have it yet (its own data key in this file, the name as a first message would set it), and
   * the identity is recorded for it — or moved to it, when this file had it under another customer (the
   * port is the truth: an identity erased on the port and written again, or a customer this file made
   * before the port was used). Rows are the ones `resolveCustomer` and the port's SQLite adapter write.
   * @throws HuiliuError CUSTOMER_ERASED when this file erased that customer (their row stays, keyless)
   */
  async function adoptCustomer(
    identity: CustomerIdentity & { phone?: string | undefined },
    hmac: string,
    customerId: string,
  ): Promise<{ customerId: string; identityHmac: string; created: boolean }> {
    // A customer this file erased keeps its row without a key: never given a new key (their old
    // content stays unreadable, and the port's erasure follows on `customer.erased`).
    const known = q.customerExists.get(customerId) !== undefined;
    const key = known ? await ring.get(customerKeyOwner(customerId)) : await ring.getOrCreate(customerKeyOwner(customerId));
    if (!key) throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
    const created = await commit.run(() => {
      const t = iso();
      let inserted = false;
      if (!q.customerExists.get(customerId)) {
        const name = identity.displayName ?? placeholderName(identity.channel);
        insertCustomerRow(q, blind, key, customerId, name, t);
        inserted = true;
      }
      const again = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
      if (again?.customer_id === customerId) return inserted;
      if (again) q.deleteIdentity.run(identity.channel, hmac);
      insertIdentityRow(q, blind, key, identity, hmac, customerId, t);
      return inserted;
    });
    return { customerId, identityHmac: hmac, created };
  }

  /** The root of a customer's merge group; NOT_FOUND for an unknown customer. */
  function groupOf(customerId: string): string {
    const row = q.groupOf.get(customerId) as { group_id: string | null } | undefined;
    if (!row) throw new HuiliuError('NOT_FOUND', 'No such customer.');
    return row.group_id ?? customerId;
  }

  /**
   * Joins the group of `mergedId` into the group of `survivorId` (both at their roots) inside the
   * caller's transaction: one edge and one group update, nothing moved or re-sealed.
   */
  function mergeGroups(survivorId: string, mergedId: string, by: string, reason: string): CustomerMerge {
    const survivor = groupOf(survivorId);
    const merged = groupOf(mergedId);
    if (survivor === merged) throw new HuiliuError('MERGE_SAME_CUSTOMER');
    q.setMergedInto.run(survivor, merged);
    q.regroup.run(survivor, merged);
    return toMerge(q.insertMerge.get(uuidv7(), survivor, merged, by, reason, iso()) as MergeRow);
  }

  /**
   * Records the verified links a message carried (issue 12), inside its transaction. A link nobody has
   * joins the writer's customer; one another group has merges the writer's group into that group (the
   * link's first holder survives) when the link's source may merge (`IdentityLink.merge`) and no merge
   * of the two was undone before; otherwise it changes nothing. Keys: the writer's,
   * cached by resolveCustomer.
   */
  function applyLinks(customerId: string, links: readonly IdentityLink[] | undefined, source: string): CustomerMerge[] {
    const merges: CustomerMerge[] = [];
    for (const link of links ?? []) {
      const value = normalizeLinkValue(link.kind, link.value);
      if (value === null) continue;
      const hmac = blind('link', link.kind, value);
      const trusted = link.merge === true;
      const sealed = () => sealText(ring.cached(customerKeyOwner(customerId)), value, linkAad(link.kind, hmac));
      const owner = q.link.get(link.kind, hmac) as { customer_id: string; trusted: number } | undefined;
      if (!owner) {
        q.insertLink.run(link.kind, hmac, customerId, sealed(), source, trusted ? 1 : 0, iso());
        continue;
      }
      const mine = groupOf(customerId);
      const theirs = groupOf(owner.customer_id);
      // Only a trusted voucher changes anything about a link someone holds.
      if (!trusted) continue;
      if (!owner.trusted) {
        // Recorded by a source not trusted to verify (maybe first, maybe wrongly): never a merge target;
        // the trusted voucher's customer takes it (issue 12 review: no squatting a phone number).
        q.takeLink.run(customerId, sealed(), source, iso(), link.kind, hmac);
        continue;
      }
      if (mine === theirs) continue;
      if (q.undoneBetween.get({ a: mine, b: theirs })) continue;
      merges.push(mergeGroups(theirs, mine, 'system', `link:${link.kind}`));
    }
    return merges;
  }

  function readFacts(customerId: string, key: Buffer): StoredCustomerFacts {
    const row = q.facts.get(customerId) as { facts_ct: Buffer } | undefined;
    return row ? (JSON.parse(openText(key, row.facts_ct, factsAad(customerId))) as StoredCustomerFacts) : {};
  }

  /**
   * The session a customer message belongs to, inside the message's transaction: applies the draft's
   * contact details and verified links, finds the customer's open session on the channel or opens one
   * (joining their recent open conversation and taking over its sessions, DESIGN §3, issue 12).
   */
  function admit(
    customerId: string,
    identityHmac: string,
    draft: InboundDraft,
    skillGroup: string,
  ): { sessionRow: SessionRow; newSession: boolean; moved: SessionRecord | null; merges: CustomerMerge[] } {
    updateProfile(customerId, draft.identity, identityHmac);
    const channel = draft.identity.channel;
    const merges = applyLinks(customerId, draft.identity.links, channel);
    let sessionRow = q.openSessionOnChannel.get(customerId, channel) as SessionRow | undefined;
    let newSession = false;
    let moved: SessionRecord | null = null;
    if (!sessionRow) {
      const t = iso();
      const recent = q.recentOpenConversation.get(groupOf(customerId), new Date(now() - continuityMs).toISOString()) as
        { id: string } | undefined;
      const conversationId = recent?.id ?? uuidv7();
      if (!recent) q.insertConversation.run(conversationId, customerId, t, t);
      const { id } = mintSessionId(
        channel,
        (candidate) => q.insertSession.run(candidate, conversationId, customerId, channel, skillGroup, t, t, t, t).changes === 1,
        { now, ...(options.random ? { random: options.random } : {}) },
      );
      sessionRow = q.session.get(id) as SessionRow;
      newSession = true;
      // The customer went on in an open conversation from another channel (DESIGN §3): this session
      // carries it on — same status (a pending offer goes back to the queue), skill group, agent,
      // routing and place in the queue — and the sessions it takes over close, pointing at it.
      const previous = recent ? (q.otherOpenSessions.all(conversationId, id) as SessionRow[]) : [];
      const from = previous[0];
      if (from) {
        sessionRow = q.inherit.get({
          id,
          status: from.status === 'offered' ? 'queued' : from.status,
          skillGroup: from.skill_group,
          agent: from.status === 'active' ? from.assigned_agent_id : null,
          routing: from.routing_json,
          waitingSince: from.waiting_since,
          handover: from.handover_json,
          from: from.id,
        }) as SessionRow;
        q.copyCandidates.run(id, from.id);
        for (const p of previous) {
          const closed = q.moveClose.get({ id: p.id, to: id, t }) as SessionRow | undefined;
          if (closed && p === from) moved = toSession(closed);
        }
      }
    }
    return { sessionRow, newSession, moved, merges };
  }

  return {
    // Issue 11: transfers (transfers.sqlite.ts).
    ...createTransferWriter({ db, ring, commit, iso }),

    async appendInbound(draft, { skillGroup, customerId: decided }) {
      // resolveCustomer leaves the customer's data key in the ring's cache for the transaction below.
      const { customerId, identityHmac } = await resolveCustomer(draft.identity, decided);
      return commit.run((): InboundResult => {
        const dup = checkDuplicate(customerId, 'in', draft.clientMessageId, draft.content, draft.idempotencyContent);
        if (dup) {
          const session = toSession(q.session.get(dup.session_id) as SessionRow);
          return { envelope: decryptMessage(dup), session, duplicate: true, newSession: false, moved: null, merges: [] };
        }
        const { sessionRow, newSession, moved, merges } = admit(customerId, identityHmac, draft, skillGroup);
        const { envelope, at } = insertMessage({
          session: sessionRow,
          direction: 'in',
          content: draft.content,
          clientMessageId: draft.clientMessageId,
          critical: draft.critical,
          authorId: null,
          authorKind: 'customer',
          sentAt: draft.sentAt,
          receivedAt: draft.receivedAt,
          meta: draft.meta,
          ...(draft.idempotencyContent !== undefined ? { idempotencyContent: draft.idempotencyContent } : {}),
        });
        // What touchSession wrote, without reading the row back.
        const session = { ...toSession(sessionRow), lastMessageAt: at, updatedAt: at };
        return { envelope, session, duplicate: false, newSession, moved, merges };
      });
    },

    async admitInbound(draft, { skillGroup, customerId: decided }) {
      const { customerId, identityHmac } = await resolveCustomer(draft.identity, decided);
      return commit.run((): AdmittedInbound => {
        const { sessionRow, newSession, moved, merges } = admit(customerId, identityHmac, draft, skillGroup);
        const t = iso();
        q.touchSession.run(t, t, sessionRow.id);
        return { session: { ...toSession(sessionRow), lastMessageAt: t, updatedAt: t }, newSession, moved, merges };
      });
    },

    async mergeCustomers({ survivorId, mergedId, by, reason }) {
      return commit.run(() => mergeGroups(survivorId, mergedId, by, reason));
    },

    async undoMerge(mergeId, by) {
      return commit.run(() => {
        const merge = q.merge.get(mergeId) as MergeRow | undefined;
        if (!merge) throw new HuiliuError('NOT_FOUND', 'No such merge.');
        const undone = q.undoMerge.get(iso(), by, mergeId) as MergeRow | undefined;
        if (!undone) throw new HuiliuError('MERGE_ALREADY_UNDONE');
        q.unmerge.run(merge.merged_id, merge.survivor_id);
        q.regroupSubtree.run({ root: merge.merged_id });
        const t = iso();
        const detached: SessionRecord[] = [];
        for (const row of q.crossSessions.all({ a: groupOf(merge.survivor_id), b: merge.merged_id }) as SessionRow[]) {
          const closed = q.detach.get({ id: row.id, t }) as SessionRow | undefined;
          if (!closed) continue;
          detached.push(toSession(closed));
          closeConversationIfDone(closed.conversation_id, t);
        }
        return { merge: toMerge(undone), detached };
      });
    },

    async saveContactDetails(identity, source, options = {}) {
      const { customerId, identityHmac, created } = await resolveCustomer(identity, options.customerId);
      // Typed by the customer: never a merge, never taken from a holder (applyLinks with merge off).
      const links = (identity.links ?? []).map((l) => ({ kind: l.kind, value: l.value, merge: false }));
      await commit.run(() => {
        updateProfile(customerId, identity, identityHmac);
        applyLinks(customerId, links, source);
      });
      return { customerId, created };
    },

    async linkIdentity(customerId, link, source) {
      const value = normalizeLinkValue(link.kind, link.value);
      if (value === null) throw new HuiliuError('VALIDATION_FAILED', `That is not a valid ${link.kind}.`);
      groupOf(customerId); // NOT_FOUND before any key is asked for
      await loadCustomerKey(customerId);
      return commit.run((): LinkView => {
        const group = groupOf(customerId);
        const hmac = blind('link', link.kind, value);
        const owner = q.link.get(link.kind, hmac) as { customer_id: string; trusted: number } | undefined;
        const key = ring.cached(customerKeyOwner(customerId));
        const sealed = sealText(key, value, linkAad(link.kind, hmac));
        // An agent checked it with the customer: a trusted link. One an untrusted source recorded for
        // someone else is taken over; a trusted one of another person is a conflict.
        if (owner && groupOf(owner.customer_id) === group) {
          if (owner.trusted) return { customerId: owner.customer_id, kind: link.kind, value, source, createdAt: iso() };
          // Sealed with this customer's key: the row becomes this customer's.
          q.takeLink.run(customerId, sealed, source, iso(), link.kind, hmac);
          return { customerId, kind: link.kind, value, source, createdAt: iso() };
        }
        if (owner?.trusted) throw new HuiliuError('LINK_CONFLICT', undefined, { customerId: groupOf(owner.customer_id) });
        const row = (
          owner
            ? q.takeLink.get(customerId, sealed, source, iso(), link.kind, hmac)
            : q.insertLink.get(link.kind, hmac, customerId, sealed, source, 1, iso())
        ) as { created_at: string };
        return { customerId, kind: link.kind, value, source, createdAt: row.created_at };
      });
    },

    async appendOutbound(input) {
      const current = q.session.get(input.sessionId) as SessionRow | undefined;
      if (!current) throw new HuiliuError('SESSION_NOT_FOUND');
      await loadCustomerKey(current.customer_id);
      return commit.run(() => appendOutboundNow(input));
    },

    async appendAndClaim(sessionId, agentId, history) {
      const current = q.session.get(sessionId) as SessionRow | undefined;
      if (!current) throw new HuiliuError('SESSION_NOT_FOUND');
      if (history.length) await loadCustomerKey(current.customer_id);
      // One job, so one savepoint: the messages and the claim are stored together or not at all.
      return commit.run(() => {
        for (const message of history) appendOutboundNow({ ...message, sessionId });
        return claimNow(sessionId, agentId);
      });
    },

    async appendAndClose(sessionId, agentId, wrapUpCode, note, history) {
      const existing = closable(sessionId, agentId);
      const key = note || history.length ? await loadCustomerKey(existing.customer_id) : null;
      return commit.run(() => {
        // Checked again inside the write: the session may have changed while the key was loaded.
        closable(sessionId, agentId);
        for (const message of history) appendOutboundNow({ ...message, sessionId });
        return closeNow(sessionId, wrapUpCode, note && key ? sealText(key, note, wrapUpNoteAad(sessionId)) : null);
      });
    },

    async saveRouting(sessionId, decision, offer, seen) {
      const json = routingColumns(decision);
      return commit.run(() => {
        const t = iso();
        const common = { routing: json.routing, t, id: sessionId, seen: seen ? 1 : 0, seenAgent: seen?.offeredAgentId ?? null };
        const saved = (
          offer?.capacity !== undefined
            ? q.saveOfferWithin.get({
                ...common,
                agent: offer.agentId,
                expires: offer.expiresAt,
                voice: offer.capacity.kind === 'voice' ? 1 : 0,
                chatCap: offer.capacity.limits.chat,
                voiceCap: offer.capacity.limits.voice,
                during: offer.capacity.limits.chatsDuringVoice,
              })
            : q.saveRouting.get({
                ...common,
                status: offer ? 'offered' : 'queued',
                agent: offer?.agentId ?? null,
                expires: offer?.expiresAt ?? null,
              })
        ) as SessionRow | undefined;
        if (saved) {
          // Logged in the same transaction as the state it explains: a decision is in the log iff it applied.
          const version = decision.offerConfigVersion ?? decision.configVersion;
          q.appendDecision.run(sessionId, t, version, decision.trigger ?? 'new', offer?.agentId ?? null, json.whole);
          writeRoutingCandidates(candidateStatements, sessionId, json.candidates);
          return { session: toSession(saved), applied: true };
        }
        const existing = q.session.get(sessionId) as SessionRow | undefined;
        if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
        // Taken, closed, or the agent is full: the decision does not apply; the session is returned unchanged.
        return { session: toSession(existing), applied: false };
      });
    },

    async startBot(sessionId, decision) {
      const json = routingColumns(decision);
      return commit.run(() => {
        const t = iso();
        const row = q.startBot.get(json.routing, t, sessionId) as SessionRow | undefined;
        if (row) {
          q.appendDecision.run(
            sessionId,
            t,
            decision.offerConfigVersion ?? decision.configVersion,
            decision.trigger ?? 'new',
            null,
            json.whole,
          );
          writeRoutingCandidates(candidateStatements, sessionId, json.candidates);
          return { session: toSession(row), applied: true };
        }
        const existing = q.session.get(sessionId) as SessionRow | undefined;
        if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
        return { session: toSession(existing), applied: false };
      });
    },

    async handOver(sessionId, { handover, summary, claimBy }) {
      const existing = q.session.get(sessionId) as SessionRow | undefined;
      if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
      const key = summary ? await loadCustomerKey(existing.customer_id) : null;
      return commit.run(() => {
        const row = q.handOver.get({
          id: sessionId,
          status: claimBy ? 'active' : 'queued',
          agent: claimBy ?? null,
          handover: JSON.stringify(handover),
          summary: key && summary ? sealText(key, JSON.stringify(summary), handoverSummaryAad(sessionId)) : null,
          t: iso(),
        }) as SessionRow | undefined;
        if (row) return { session: toSession(row), changed: true };
        return { session: toSession(q.session.get(sessionId) as SessionRow), changed: false };
      });
    },

    async claim(sessionId, agentId) {
      // The conditional UPDATE is the one place that decides a hand-over happened: of two concurrent
      // claims (even by the same agent) exactly one sees `changed` (C9).
      return commit.run(() => claimNow(sessionId, agentId));
    },

    async close(sessionId, agentId, wrapUpCode, note) {
      const existing = closable(sessionId, agentId);
      // Only a note needs the customer's key: an erased customer's contact (issue 17) closes without one.
      const key = note ? await loadCustomerKey(existing.customer_id) : null;
      return commit.run(() => closeNow(sessionId, wrapUpCode, note && key ? sealText(key, note, wrapUpNoteAad(sessionId)) : null));
    },

    async abandon(sessionId) {
      return commit.run(() => {
        const t = iso();
        const row = q.abandon.get(t, t, sessionId) as SessionRow | undefined;
        if (!row) return null;
        closeConversationIfDone(row.conversation_id, t);
        return toSession(row);
      });
    },

    async release(sessionId, agentId) {
      const t = iso();
      return commit.run(() => {
        const row = q.release.get(t, t, sessionId, agentId) as SessionRow | undefined;
        return row ? toSession(row) : null;
      });
    },

    async ensureCustomers(identities, options = {}) {
      const decided = options.customerIds;
      if (decided && decided.length !== identities.length) {
        throw new HuiliuError('VALIDATION_FAILED', 'customerIds must name one customer per identity.');
      }
      // All at once: new customers' keys and rows are written in a few group commits, not one each.
      // One lookup per distinct identity, so a list naming someone twice creates them once.
      const distinct = new Map<string, ReturnType<typeof resolveCustomer>>();
      const pending = identities.map((identity, i) => {
        const id = joinKey('\u0000', [identity.channel, identity.externalId]);
        let p = distinct.get(id);
        if (!p) distinct.set(id, (p = resolveCustomer(identity, decided?.[i])));
        return p;
      });
      const resolved = await Promise.all(pending);
      const seen = new Set<string>();
      return resolved.map(({ customerId, created }) => {
        const first = !seen.has(customerId);
        seen.add(customerId);
        return { customerId, created: created && first };
      });
    },

    async putCustomerFacts(updates) {
      const keys = new Map<string, Buffer>();
      for (const { customerId } of updates) {
        if (keys.has(customerId)) continue;
        if (!q.customerExists.get(customerId)) throw new HuiliuError('NOT_FOUND', 'No such customer.');
        const key = await ring.get(customerKeyOwner(customerId));
        if (!key) throw new HuiliuError('NOT_FOUND', 'The customer was erased.');
        keys.set(customerId, key);
      }
      await commit.run(() => {
        const t = iso();
        // Read and merged inside the transaction: two updates of one customer never lose a field.
        for (const u of updates) {
          const key = keys.get(u.customerId)!;
          const facts = readFacts(u.customerId, key);
          if (u.spend !== undefined) facts.spend = { value: u.spend, source: u.source, at: t };
          if (u.csat !== undefined) facts.csat = { value: u.csat, source: u.source, at: t };
          q.putFacts.run(u.customerId, sealText(key, JSON.stringify(facts), factsAad(u.customerId)), t);
        }
      });
    },

    async rateSession({ sessionId, customerId, score, comment }) {
      const existing = q.session.get(sessionId) as SessionRow | undefined;
      // Another customer's session is not there for this one: not even its existence leaks.
      if (!existing || existing.customer_id !== customerId) throw new HuiliuError('SESSION_NOT_FOUND');
      if (existing.status !== 'closed') throw new HuiliuError('SESSION_NOT_CLOSED');
      const key = comment ? await loadCustomerKey(customerId) : null;
      return commit.run(() => {
        const t = iso();
        const sealed = key && comment ? sealText(key, comment, ratingCommentAad(sessionId)) : null;
        if (q.rate.run(sessionId, customerId, score, sealed, t).changes === 0) throw new HuiliuError('CSAT_ALREADY_GIVEN');
        return { sessionId, customerId, score, comment: comment ?? null, ratedAt: t };
      });
    },
  };
}
