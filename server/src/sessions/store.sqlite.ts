import { createHmac } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { ENVELOPE_VERSION, type Content, type Envelope, type InboundDraft } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import type { RoutingDecision } from '../../../common/routing/types';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import { openText, sealText } from '../crypto/aead';
import { joinKey } from '../crypto/composite-key';
import type { Statement } from 'better-sqlite3';
import { GroupCommit } from '../db/group-commit';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { KeyProvider } from '../keys/provider';
import { DataKeyRing } from './data-keys';
import { mintSessionId, type RandomSource } from './session-id';
import type {
  CustomerRecord,
  InboundResult,
  MessagePage,
  OutboundInput,
  ProfileChange,
  RoutingLogEntry,
  SessionFilter,
  SessionRecord,
  SessionStore,
} from './store';

export interface SqliteStoreOptions {
  path: string;
  keys: KeyProvider;
  /** A customer's new contact joins their open conversation if it was active this recently. */
  continuityMs?: number;
  now?: () => number;
  random?: RandomSource;
}

interface SessionRow {
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
}

interface MessageRow {
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
  sent_at: string;
  received_at: string;
}

const INDEX_KEY_OWNER = 'index';
/** The name a customer has until a channel tells us theirs. */
const DEFAULT_NAMES: Partial<Record<ChannelCode, string>> = { WB: 'Web visitor' };
const customerKeyOwner = (customerId: string) => `customer:${customerId}`;
const MIGRATIONS = migrationsDir('sessions');

function toSession(row: SessionRow): SessionRecord {
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
    routing: row.routing_json ? (JSON.parse(row.routing_json) as RoutingDecision) : null,
    wrapUpCode: row.wrap_up_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    waitingSince: row.waiting_since,
    closedAt: row.closed_at,
    lastMessageAt: row.last_message_at,
  };
}

interface DecisionRow {
  seq: number;
  session_id: string;
  at: string;
  config_version: number;
  decision_json: string;
}

function toLogEntry(row: DecisionRow): RoutingLogEntry {
  return {
    seq: row.seq,
    sessionId: row.session_id,
    at: row.at,
    configVersion: row.config_version,
    decision: JSON.parse(row.decision_json) as RoutingDecision,
  };
}

/** Embedded SessionStore on SQLite (better-sqlite3, WAL), everything sensitive sealed with AES-256-GCM. */
export async function createSqliteSessionStore(options: SqliteStoreOptions): Promise<SessionStore> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'sessions', MIGRATIONS);
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const continuityMs = options.continuityMs ?? 30 * 60_000;
  const commit = new GroupCommit(db);
  const ring = new DataKeyRing(db, options.keys, (fn) => commit.run(fn));
  // listSessions builds its SQL from the filter's shape; there are few shapes, so cache them.
  const listStatements = new Map<string, Statement<unknown[]>>();
  const indexKey = await ring.getOrCreate(INDEX_KEY_OWNER);
  // Blind index: a keyed hash of label + fixed parts + one free-text part, joined injectively (B7).
  const blind = (...parts: string[]) => createHmac('sha256', indexKey).update(joinKey('\u0000', parts)).digest('hex');

  const q = {
    identity: db.prepare('SELECT customer_id FROM customer_identities WHERE channel = ? AND external_id_hmac = ?'),
    insertCustomer: db.prepare('INSERT INTO customers (id, name_ct, name_hmac, created_at) VALUES (?, ?, ?, ?)'),
    insertIdentity: db.prepare(
      `INSERT INTO customer_identities (channel, external_id_hmac, customer_id, external_id_ct, phone_ct, phone_hmac, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    customer: db.prepare('SELECT id, name_ct, created_at FROM customers WHERE id = ?'),
    customerChannels: db.prepare('SELECT DISTINCT channel FROM customer_identities WHERE customer_id = ? ORDER BY channel'),
    messageByClientId: db.prepare('SELECT * FROM messages WHERE customer_id = ? AND direction = ? AND client_message_id = ?'),
    openSessionOnChannel: db.prepare(
      `SELECT * FROM sessions WHERE customer_id = ? AND channel = ? AND status != 'closed' ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ),
    latestSession: db.prepare('SELECT * FROM sessions WHERE customer_id = ? AND channel = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
    recentOpenConversation: db.prepare(
      `SELECT id FROM conversations WHERE customer_id = ? AND status = 'open' AND updated_at >= ? ORDER BY updated_at DESC LIMIT 1`,
    ),
    insertConversation: db.prepare(
      `INSERT INTO conversations (id, customer_id, status, last_seq, created_at, updated_at) VALUES (?, ?, 'open', 0, ?, ?)`,
    ),
    insertSession: db.prepare(
      `INSERT OR IGNORE INTO sessions (id, conversation_id, customer_id, channel, status, skill_group, created_at, updated_at, waiting_since, last_message_at)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
    ),
    nextSeq: db.prepare('UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq'),
    insertMessage: db.prepare(
      `INSERT INTO messages (id, conversation_id, session_id, customer_id, seq, channel, direction, kind, payload_ct,
         content_hmac, client_message_id, critical, author_id, sent_at, received_at)
       VALUES (@id, @conversation_id, @session_id, @customer_id, @seq, @channel, @direction, @kind, @payload_ct,
         @content_hmac, @client_message_id, @critical, @author_id, @sent_at, @received_at)`,
    ),
    touchSession: db.prepare('UPDATE sessions SET last_message_at = ?, updated_at = ? WHERE id = ?'),
    session: db.prepare('SELECT * FROM sessions WHERE id = ?'),
    messagesAfter: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    messagesBefore: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?'),
    activeChats: db.prepare(`SELECT count(*) AS n FROM sessions WHERE assigned_agent_id = ? AND status = 'active'`),
    profileState: db.prepare(
      `SELECT c.name_ct, c.name_hmac, i.phone_ct, i.phone_hmac FROM customers c
         JOIN customer_identities i ON i.customer_id = c.id WHERE i.channel = ? AND i.external_id_hmac = ?`,
    ),
    setName: db.prepare('UPDATE customers SET name_ct = ?, name_hmac = ? WHERE id = ?'),
    setPhone: db.prepare('UPDATE customer_identities SET phone_ct = ?, phone_hmac = ? WHERE channel = ? AND external_id_hmac = ?'),
    insertProfileChange: db.prepare(
      `INSERT INTO customer_profile_changes (id, customer_id, field, channel, previous_ct, value_ct, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    profileChanges: db.prepare('SELECT * FROM customer_profile_changes WHERE customer_id = ? ORDER BY id'),
    lastMessage: db.prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1'),
    saveRouting: db.prepare(
      `UPDATE sessions SET routing_json = ?, status = ?, offered_agent_id = ?, offer_expires_at = ?, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'offered') RETURNING *`,
    ),
    // The capacity check and the offer are one statement: no other writer (process) can slip an offer
    // to the same agent between the count and the write.
    saveOfferWithin: db.prepare(
      `UPDATE sessions SET routing_json = @routing, status = 'offered', offered_agent_id = @agent, offer_expires_at = @expires,
         updated_at = @t
       WHERE id = @id AND status IN ('queued', 'offered')
         AND (SELECT count(*) FROM sessions WHERE id != @id AND
               ((status = 'active' AND assigned_agent_id = @agent) OR (status = 'offered' AND offered_agent_id = @agent))) < @capacity
       RETURNING *`,
    ),
    appendDecision: db.prepare(
      `INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    decisions: db.prepare('SELECT * FROM routing_decisions WHERE session_id = ? ORDER BY seq'),
    decisionsBetween: db.prepare('SELECT * FROM routing_decisions WHERE at >= ? AND at < ? AND seq > ? ORDER BY at, seq LIMIT ?'),
    offeredCount: db.prepare(`SELECT count(*) AS n FROM sessions WHERE offered_agent_id = ? AND status = 'offered'`),
    ping: db.prepare('SELECT 1 AS ok'),
    claim: db.prepare(
      `UPDATE sessions SET status = 'active', assigned_agent_id = ?, offered_agent_id = NULL, offer_expires_at = NULL, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'offered') RETURNING *`,
    ),
    close: db.prepare(
      `UPDATE sessions SET status = 'closed', wrap_up_code = ?, wrap_up_note_ct = ?, closed_at = ?, updated_at = ?
       WHERE id = ? AND status != 'closed' RETURNING *`,
    ),
    release: db.prepare(
      `UPDATE sessions SET status = 'queued', assigned_agent_id = NULL, waiting_since = ?, updated_at = ?
       WHERE id = ? AND status = 'active' AND assigned_agent_id = ? RETURNING *`,
    ),
    openSessionsInConversation: db.prepare(`SELECT count(*) AS n FROM sessions WHERE conversation_id = ? AND status != 'closed'`),
    closeConversation: db.prepare(`UPDATE conversations SET status = 'closed', updated_at = ? WHERE id = ?`),
  };

  function envelopeOf(row: MessageRow, body: unknown, meta: unknown): Envelope {
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
      meta,
    } as Envelope;
  }

  function decryptMessage(row: MessageRow): Envelope {
    const key = ring.cached(customerKeyOwner(row.customer_id));
    const { body, meta } = JSON.parse(openText(key, row.payload_ct, `msg:${row.id}`)) as { body: unknown; meta: unknown };
    return envelopeOf(row, body, meta);
  }

  async function loadCustomerKey(customerId: string): Promise<Buffer> {
    const key = await ring.get(customerKeyOwner(customerId));
    if (!key) throw new HuiliuError('INTERNAL', `customer ${customerId} has no data key (erased?)`);
    return key;
  }

  const contentHmac = (customerId: string, content: Content) => blind('content', customerId, JSON.stringify(content));

  function insertMessage(args: {
    session: SessionRow;
    direction: 'in' | 'out';
    content: Content;
    clientMessageId: string;
    critical: boolean;
    authorId: string | null;
    sentAt: string;
    receivedAt: string;
    meta: Envelope['meta'];
  }): { row: MessageRow; envelope: Envelope } {
    const { session } = args;
    const key = ring.cached(customerKeyOwner(session.customer_id));
    const t = iso();
    const { last_seq: seq } = q.nextSeq.get(t, session.conversation_id) as { last_seq: number };
    const id = uuidv7();
    const row: MessageRow = {
      id,
      conversation_id: session.conversation_id,
      session_id: session.id,
      customer_id: session.customer_id,
      seq,
      channel: session.channel,
      direction: args.direction,
      kind: args.content.kind,
      payload_ct: sealText(key, JSON.stringify({ body: args.content.body, meta: args.meta }), `msg:${id}`),
      content_hmac: contentHmac(session.customer_id, args.content),
      client_message_id: args.clientMessageId,
      critical: args.critical ? 1 : 0,
      author_id: args.authorId,
      sent_at: args.sentAt,
      received_at: args.receivedAt,
    };
    q.insertMessage.run(row);
    q.touchSession.run(t, t, session.id);
    return { row, envelope: envelopeOf(row, args.content.body, args.meta) };
  }

  function checkDuplicate(customerId: string, direction: 'in' | 'out', clientMessageId: string, content: Content): MessageRow | null {
    const existing = q.messageByClientId.get(customerId, direction, clientMessageId) as MessageRow | undefined;
    if (!existing) return null;
    if (existing.content_hmac !== contentHmac(customerId, content)) {
      throw new HuiliuError('IDEMPOTENCY_CONFLICT');
    }
    return existing;
  }

  const nameAad = (customerId: string) => `cust:${customerId}:name`;
  const phoneAad = (channel: ChannelCode, identityHmac: string) => `ident:${channel}:${identityHmac}:phone`;
  const changeAad = (customerId: string, id: string, field: ProfileChange['field']) => `cust:${customerId}:change:${id}:${field}`;
  const nameHmac = (customerId: string, name: string) => blind('name', customerId, name);
  const phoneHmac = (channel: ChannelCode, identityHmac: string, phone: string) => blind('phone', channel, identityHmac, phone);

  /**
   * Later contact details win (C10): a name or phone that differs from the stored one replaces it and
   * the change is kept, sealed, in customer_profile_changes. Absent fields change nothing. Runs inside
   * the message's transaction; "unchanged" is decided on keyed hashes, so the usual case decrypts nothing.
   */
  function updateProfile(customerId: string, identity: InboundDraft['identity'], hmac: string): void {
    if (!identity.displayName && !identity.phone) return;
    const row = q.profileState.get(identity.channel, hmac) as
      { name_ct: Buffer; name_hmac: string | null; phone_ct: Buffer | null; phone_hmac: string | null } | undefined;
    if (!row) return;
    const key = ring.cached(customerKeyOwner(customerId));
    const t = iso();
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
      // Rows from before migration 0002 have no hash yet: decrypt once to compare.
      const current = row.name_hmac ?? nameHmac(customerId, openText(key, row.name_ct, nameAad(customerId)));
      if (current !== next) {
        record('name', openText(key, row.name_ct, nameAad(customerId)), identity.displayName);
        q.setName.run(sealText(key, identity.displayName, nameAad(customerId)), next, customerId);
      }
    }
    if (identity.phone) {
      const next = phoneHmac(identity.channel, hmac, identity.phone);
      const previous = row.phone_ct ? openText(key, row.phone_ct, phoneAad(identity.channel, hmac)) : null;
      const current = row.phone_hmac ?? (previous === null ? null : phoneHmac(identity.channel, hmac, previous));
      if (current !== next) {
        record('phone', previous, identity.phone);
        q.setPhone.run(sealText(key, identity.phone, phoneAad(identity.channel, hmac)), next, identity.channel, hmac);
      }
    }
  }

  /** The draft's customer (created on first contact) and its identity's blind index, computed once. */
  async function resolveCustomer(draft: InboundDraft): Promise<{ customerId: string; identityHmac: string }> {
    const { identity } = draft;
    const hmac = blind('identity', identity.channel, identity.externalId);
    const found = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
    if (found) {
      await loadCustomerKey(found.customer_id);
      return { customerId: found.customer_id, identityHmac: hmac };
    }
    const customerId = uuidv7();
    const key = await ring.getOrCreate(customerKeyOwner(customerId));
    // Re-check after the await: a concurrent first message from the same identity may have won.
    const resolved = await commit.run(() => {
      const again = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
      if (again) return again.customer_id;
      const t = iso();
      const name = identity.displayName ?? DEFAULT_NAMES[identity.channel] ?? `${identity.channel} customer`;
      q.insertCustomer.run(customerId, sealText(key, name, nameAad(customerId)), nameHmac(customerId, name), t);
      q.insertIdentity.run(
        identity.channel,
        hmac,
        customerId,
        sealText(key, identity.externalId, `ident:${identity.channel}:${hmac}:ext`),
        identity.phone ? sealText(key, identity.phone, phoneAad(identity.channel, hmac)) : null,
        identity.phone ? phoneHmac(identity.channel, hmac, identity.phone) : null,
        t,
      );
      return customerId;
    });
    return { customerId: resolved, identityHmac: hmac };
  }

  /** The WHERE clause of a session filter, or null when it can match nothing (an empty list). */
  function whereOf(filter: SessionFilter): { sql: string; params: unknown[] } | null {
    if ((filter.status && filter.status.length === 0) || (filter.skillGroups && filter.skillGroups.length === 0)) return null;
    const where: string[] = [];
    const params: unknown[] = [];
    const list = (column: string, values: readonly string[]) => {
      where.push(`${column} IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
    };
    if (filter.status) list('status', filter.status);
    if (filter.skillGroups) list('skill_group', filter.skillGroups);
    if (filter.channel) list('channel', [filter.channel]);
    if (filter.customerId) list('customer_id', [filter.customerId]);
    if (filter.assignedAgentId) list('assigned_agent_id', [filter.assignedAgentId]);
    if (filter.offeredAgentId) list('offered_agent_id', [filter.offeredAgentId]);
    return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }
  // The SQL of a filter depends on its shape only; there are few shapes, so statements are cached.
  const statement = (sql: string) => {
    let stmt = listStatements.get(sql);
    if (!stmt) listStatements.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  };

  const store: SessionStore = {
    kind: 'sqlite',

    async appendInbound(draft, { skillGroup }) {
      // resolveCustomer leaves the customer's data key in the ring's cache for the transaction below.
      const { customerId, identityHmac } = await resolveCustomer(draft);
      return commit.run((): InboundResult => {
        const dup = checkDuplicate(customerId, 'in', draft.clientMessageId, draft.content);
        if (dup) {
          const session = toSession(q.session.get(dup.session_id) as SessionRow);
          return { envelope: decryptMessage(dup), session, duplicate: true, newSession: false };
        }
        updateProfile(customerId, draft.identity, identityHmac);
        const channel = draft.identity.channel;
        let sessionRow = q.openSessionOnChannel.get(customerId, channel) as SessionRow | undefined;
        let newSession = false;
        if (!sessionRow) {
          const t = iso();
          const recent = q.recentOpenConversation.get(customerId, new Date(now() - continuityMs).toISOString()) as
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
        }
        const { envelope } = insertMessage({
          session: sessionRow,
          direction: 'in',
          content: draft.content,
          clientMessageId: draft.clientMessageId,
          critical: draft.critical,
          authorId: null,
          sentAt: draft.sentAt,
          receivedAt: draft.receivedAt,
          meta: draft.meta,
        });
        const session = toSession(q.session.get(sessionRow.id) as SessionRow);
        return { envelope, session, duplicate: false, newSession };
      });
    },

    async appendOutbound(input: OutboundInput) {
      const current = q.session.get(input.sessionId) as SessionRow | undefined;
      if (!current) throw new HuiliuError('SESSION_NOT_FOUND');
      await loadCustomerKey(current.customer_id);
      return commit.run(() => {
        const dup = checkDuplicate(current.customer_id, 'out', input.clientMessageId, input.content);
        if (dup) return { envelope: decryptMessage(dup), duplicate: true };
        const session = q.session.get(input.sessionId) as SessionRow;
        if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
        const t = iso();
        const { envelope } = insertMessage({
          session,
          direction: 'out',
          content: input.content,
          clientMessageId: input.clientMessageId,
          critical: input.critical,
          authorId: input.authorId,
          sentAt: t,
          receivedAt: t,
          meta: {},
        });
        return { envelope, duplicate: false };
      });
    },

    async getSession(id) {
      const row = q.session.get(id) as SessionRow | undefined;
      return row ? toSession(row) : null;
    },

    async listSessions(filter: SessionFilter) {
      const where = whereOf(filter);
      if (!where) return [];
      const order =
        filter.order === 'priority'
          ? `json_extract(routing_json, '$.priority') IS NULL, json_extract(routing_json, '$.priority') DESC, waiting_since ASC, id ASC`
          : 'waiting_since ASC, id ASC';
      const sql = `SELECT * FROM sessions ${where.sql} ORDER BY ${order} LIMIT ?`;
      return (statement(sql).all(...where.params, Math.min(filter.limit ?? 500, 5000)) as SessionRow[]).map(toSession);
    },

    async countSessions(filter: SessionFilter) {
      const where = whereOf(filter);
      if (!where) return 0;
      return (statement(`SELECT count(*) AS n FROM sessions ${where.sql}`).get(...where.params) as { n: number }).n;
    },

    async listMessages(conversationId, { afterSeq = 0, limit = 1000 } = {}) {
      const rows = q.messagesAfter.all(conversationId, afterSeq, Math.min(limit, 10_000)) as MessageRow[];
      if (rows.length > 0) await loadCustomerKey(rows[0]!.customer_id);
      return rows.map(decryptMessage);
    },

    async recentMessages(conversationId, { beforeSeq, limit = 100 } = {}): Promise<MessagePage> {
      const n = Math.max(1, Math.min(limit, 1000));
      // One row more than asked says whether an older page exists.
      const rows = q.messagesBefore.all(conversationId, beforeSeq ?? Number.MAX_SAFE_INTEGER, n + 1) as MessageRow[];
      const hasOlder = rows.length > n;
      const page = rows.slice(0, n).reverse();
      if (page.length > 0) await loadCustomerKey(page[0]!.customer_id);
      return { messages: page.map(decryptMessage), hasOlder };
    },

    async profileChanges(customerId) {
      const rows = q.profileChanges.all(customerId) as {
        id: string;
        field: ProfileChange['field'];
        channel: ChannelCode;
        previous_ct: Buffer | null;
        value_ct: Buffer;
        changed_at: string;
      }[];
      if (rows.length === 0) return [];
      const key = await loadCustomerKey(customerId);
      return rows.map((r) => ({
        field: r.field,
        channel: r.channel,
        previous: r.previous_ct ? openText(key, r.previous_ct, changeAad(customerId, r.id, r.field) + ':prev') : null,
        value: openText(key, r.value_ct, changeAad(customerId, r.id, r.field)),
        changedAt: r.changed_at,
      }));
    },

    async activeChatCount(agentId) {
      return (q.activeChats.get(agentId) as { n: number }).n;
    },

    async lastMessage(conversationId) {
      const row = q.lastMessage.get(conversationId) as MessageRow | undefined;
      if (!row) return null;
      await loadCustomerKey(row.customer_id);
      return decryptMessage(row);
    },

    async getCustomer(id) {
      const row = q.customer.get(id) as { id: string; name_ct: Buffer; created_at: string } | undefined;
      if (!row) return null;
      const key = await loadCustomerKey(id);
      const channels = (q.customerChannels.all(id) as { channel: ChannelCode }[]).map((r) => r.channel);
      return { id, name: openText(key, row.name_ct, nameAad(id)), channels, createdAt: row.created_at } satisfies CustomerRecord;
    },

    async findCustomerByIdentity(channel, externalId) {
      const found = q.identity.get(channel, blind('identity', channel, externalId)) as { customer_id: string } | undefined;
      return found ? store.getCustomer(found.customer_id) : null;
    },

    async latestSession(customerId, channel) {
      const row = q.latestSession.get(customerId, channel) as SessionRow | undefined;
      return row ? toSession(row) : null;
    },

    async saveRouting(sessionId, decision, offer) {
      const json = JSON.stringify(decision);
      const row = await commit.run(() => {
        const t = iso();
        const saved = (
          offer?.capacity !== undefined
            ? q.saveOfferWithin.get({
                routing: json,
                agent: offer.agentId,
                expires: offer.expiresAt,
                t,
                id: sessionId,
                capacity: offer.capacity,
              })
            : q.saveRouting.get(json, offer ? 'offered' : 'queued', offer?.agentId ?? null, offer?.expiresAt ?? null, t, sessionId)
        ) as SessionRow | undefined;
        // Logged in the same transaction as the state it explains: a decision is in the log iff it applied.
        if (saved) {
          const version = decision.offerConfigVersion ?? decision.configVersion;
          q.appendDecision.run(sessionId, t, version, decision.trigger ?? 'new', offer?.agentId ?? null, json);
        }
        return saved;
      });
      if (row) return { session: toSession(row), applied: true };
      const existing = q.session.get(sessionId) as SessionRow | undefined;
      if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
      // Taken, closed, or the agent is full: the decision does not apply; the session is returned unchanged.
      return { session: toSession(existing), applied: false };
    },

    async decisions(sessionId) {
      return (q.decisions.all(sessionId) as DecisionRow[]).map(toLogEntry);
    },

    async decisionsBetween(from, to, { afterSeq = 0, limit = 1000 } = {}) {
      const n = Math.max(1, Math.min(limit, 10_000));
      return (q.decisionsBetween.all(from, to, afterSeq, n) as DecisionRow[]).map(toLogEntry);
    },

    async agentLoad(agentId) {
      return {
        active: (q.activeChats.get(agentId) as { n: number }).n,
        offered: (q.offeredCount.get(agentId) as { n: number }).n,
      };
    },

    async ping() {
      q.ping.get();
    },

    async claim(sessionId, agentId) {
      // The conditional UPDATE is the one place that decides a hand-over happened: of two concurrent
      // claims (even by the same agent) exactly one sees `changed` (C9).
      const row = await commit.run(() => q.claim.get(agentId, iso(), sessionId) as SessionRow | undefined);
      if (row) return { session: toSession(row), changed: true };
      const existing = q.session.get(sessionId) as SessionRow | undefined;
      if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
      if (existing.status === 'active' && existing.assigned_agent_id === agentId) return { session: toSession(existing), changed: false };
      if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      throw new HuiliuError('OFFER_TAKEN');
    },

    async close(sessionId, agentId, wrapUpCode, note) {
      const existing = q.session.get(sessionId) as SessionRow | undefined;
      if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
      if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      if (existing.assigned_agent_id !== agentId) throw new HuiliuError('NOT_ASSIGNED');
      const key = await loadCustomerKey(existing.customer_id);
      return commit.run(() => {
        const t = iso();
        const noteCt = note ? sealText(key, note, `session:${sessionId}:note`) : null;
        const row = q.close.get(wrapUpCode, noteCt, t, t, sessionId) as SessionRow | undefined;
        if (!row) throw new HuiliuError('SESSION_CLOSED');
        const { n } = q.openSessionsInConversation.get(row.conversation_id) as { n: number };
        if (n === 0) q.closeConversation.run(t, row.conversation_id);
        return toSession(row);
      });
    },

    async release(sessionId, agentId) {
      const t = iso();
      const row = await commit.run(() => q.release.get(t, t, sessionId, agentId) as SessionRow | undefined);
      return row ? toSession(row) : null;
    },

    async shutdown() {
      await commit.run(() => undefined); // writes already queued are committed first
      db.close();
    },
  };
  return store;
}
