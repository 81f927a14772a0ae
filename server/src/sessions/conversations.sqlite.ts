import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { parseSessionId } from '../../../common/message/session-id';
import type { Content, Envelope } from '../../../common/message/envelope';
import { openText, sealText } from '../crypto/aead';
import { GroupCommit } from '../db/group-commit';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { contextAad, defaultAuthorKind, pageSize, type ConversationStore, type NewMessage, type SessionContext } from './conversations';
import { DataKeyRing } from './data-keys';
import { OpenedPayloadCache } from './opened-cache';
import {
  blindIndex,
  customerKeyOwner,
  decryptMessage,
  envelopeOf,
  INDEX_KEY_OWNER,
  loadCustomerKey,
  nameAad,
  rowHeader,
  sealMessage,
  toSession,
  type MessageRow,
  type SessionRow,
  CONVERSATION_SQL,
} from './sqlite-rows';

export interface SqliteConversationOptions {
  /** The sessions database (`huiliu.db`), or `:memory:`. */
  path: string;
  keys: KeyProvider;
  /** Test clock (ms since epoch); default `Date.now`. */
  now?: () => number;
  /** Bytes of opened payloads kept decrypted (`OpenedPayloadCache`); default 32 MiB, 0 off. */
  openedCacheBytes?: number;
}

/**
 * The conversations port (conversations.ts) on the embedded SQLite schema — the same tables, columns,
 * sealing labels (`messageAad`), blind index and data keys as the wide SQLite `SessionStore`, so both
 * read each other's rows. Writes go through group commit on this connection (synchronous=FULL: a
 * resolved write is on disk). Idempotency here is per (customer, direction, clientMessageId), the
 * schema's unique index — stricter than the port's per-conversation rule, which it implies.
 *
 * A customer the customers aggregate has not written yet gets a placeholder row (sealed empty name),
 * because messages and sessions reference `customers(id)`.
 */
export async function createSqliteConversationStore(options: SqliteConversationOptions): Promise<ConversationStore> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'sessions', migrationsDir('sessions'));
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const commit = new GroupCommit(db);
  const ring = new DataKeyRing(db, options.keys, (fn) => commit.run(fn));
  const blind = blindIndex(await ring.getOrCreate(INDEX_KEY_OWNER));
  const opened = new OpenedPayloadCache(options.openedCacheBytes ?? 32 * 1024 * 1024);
  const contentHmac = (customerId: string, content: Content, idempotencyContent?: string) =>
    blind('content', customerId, idempotencyContent ?? JSON.stringify(content));

  const q = {
    session: db.prepare(CONVERSATION_SQL.session),
    conversation: db.prepare('SELECT id, customer_id, last_seq FROM conversations WHERE id = ?'),
    placeholderCustomer: db.prepare(
      'INSERT OR IGNORE INTO customers (id, name_ct, name_hmac, created_at, group_id) VALUES (?, ?, NULL, ?, ?)',
    ),
    insertConversation: db.prepare(
      `INSERT OR IGNORE INTO conversations (id, customer_id, status, last_seq, created_at, updated_at) VALUES (?, ?, 'open', 0, ?, ?)`,
    ),
    reopenConversation: db.prepare(`UPDATE conversations SET status = 'open', updated_at = ? WHERE id = ? AND status = 'closed'`),
    insertSession: db.prepare(CONVERSATION_SQL.insertSession),
    byClientId: db.prepare(CONVERSATION_SQL.messageByClientId),
    nextSeq: db.prepare(CONVERSATION_SQL.nextSeq),
    insertMessage: db.prepare(CONVERSATION_SQL.insertMessage),
    touchSession: db.prepare(CONVERSATION_SQL.touchSession),
    messagesAfter: db.prepare(CONVERSATION_SQL.messagesAfter),
    messagesBefore: db.prepare(CONVERSATION_SQL.messagesBefore),
    lastMessage: db.prepare(CONVERSATION_SQL.lastMessage),
    queue: db.prepare('SELECT * FROM sessions WHERE status = ? AND skill_group = ? ORDER BY waiting_since, id LIMIT ?'),
    queueSize: db.prepare('SELECT count(*) AS n FROM sessions WHERE status = ? AND skill_group = ?'),
    claim: db.prepare(
      `UPDATE sessions SET status = 'active', assigned_agent_id = ?, offered_agent_id = NULL, offer_expires_at = NULL, updated_at = ?
       WHERE id = ? AND status IN ('queued', 'offered') RETURNING *`,
    ),
    close: db.prepare(
      `UPDATE sessions SET status = 'closed', wrap_up_code = ?, closed_at = ?, updated_at = ?
       WHERE id = ? AND status != 'closed' AND assigned_agent_id = ? RETURNING *`,
    ),
    openInConversation: db.prepare(CONVERSATION_SQL.openSessionsInConversation),
    closeConversation: db.prepare(CONVERSATION_SQL.closeConversation),
    follow: db.prepare(
      `UPDATE sessions SET status = @status, skill_group = @skillGroup, assigned_agent_id = @assignedAgentId,
         offered_agent_id = @offeredAgentId, offer_expires_at = @offerExpiresAt, waiting_since = @waitingSince,
         wrap_up_code = @wrapUpCode, closed_at = @closedAt, updated_at = @now
       WHERE id = @id RETURNING *`,
    ),
    putContext: db.prepare(
      `INSERT INTO session_context (session_id, context_ct, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET context_ct = excluded.context_ct, updated_at = excluded.updated_at`,
    ),
    context: db.prepare('SELECT context_ct FROM session_context WHERE session_id = ?'),
    ping: db.prepare('SELECT 1 AS ok'),
  };

  const sessionRow = (id: string) => q.session.get(id) as SessionRow | undefined;
  const open = (row: MessageRow) => decryptMessage(ring, row, opened);
  const loadKeysOf = async (rows: readonly MessageRow[]) => {
    for (const id of new Set(rows.map((r) => r.customer_id))) await loadCustomerKey(ring, id);
  };

  const store: ConversationStore = {
    kind: 'sqlite',

    async openSession(input) {
      if (!parseSessionId(input.sessionId)) throw new HuiliuError('VALIDATION_FAILED', 'not a session ID');
      const existing = sessionRow(input.sessionId);
      if (existing) return { session: toSession(existing), created: false };
      const key = await ring.getOrCreate(customerKeyOwner(input.customerId));
      return commit.run(() => {
        const t = iso();
        q.placeholderCustomer.run(input.customerId, sealText(key, '', nameAad(input.customerId)), t, input.customerId);
        q.insertConversation.run(input.conversationId, input.customerId, t, t);
        q.reopenConversation.run(t, input.conversationId);
        const { changes } = q.insertSession.run(
          input.sessionId,
          input.conversationId,
          input.customerId,
          input.channel,
          input.skillGroup,
          t,
          t,
          t,
          t,
        );
        return { session: toSession(sessionRow(input.sessionId)!), created: changes === 1 };
      });
    },

    async append(input: NewMessage) {
      const current = sessionRow(input.sessionId);
      if (!current) throw new HuiliuError('SESSION_NOT_FOUND');
      const key = await loadCustomerKey(ring, current.customer_id);
      const hmac = contentHmac(current.customer_id, input.content, input.idempotencyContent);
      return commit.run(() => {
        const dup = q.byClientId.get(current.customer_id, input.direction, input.clientMessageId) as MessageRow | undefined;
        if (dup) {
          if (dup.content_hmac !== hmac) throw new HuiliuError('IDEMPOTENCY_CONFLICT');
          return { envelope: open(dup), duplicate: true };
        }
        const session = sessionRow(input.sessionId)!;
        if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
        const t = iso();
        const { last_seq: seq } = q.nextSeq.get(t, session.conversation_id) as { last_seq: number };
        const id = uuidv7();
        const meta = input.meta ?? {};
        const fields: Omit<MessageRow, 'payload_ct'> = {
          id,
          conversation_id: session.conversation_id,
          session_id: session.id,
          customer_id: session.customer_id,
          seq,
          channel: session.channel,
          direction: input.direction,
          kind: input.content.kind,
          content_hmac: hmac,
          client_message_id: input.clientMessageId,
          critical: input.critical ? 1 : 0,
          author_id: input.authorId ?? null,
          author_kind: defaultAuthorKind(input),
          sent_at: input.sentAt ?? input.receivedAt ?? t,
          received_at: input.receivedAt ?? t,
        };
        // Format 2: the payload is bound to the row's header (sqlite-rows.ts `messageHeaderAad`).
        const payload = JSON.stringify({ body: input.content.body, meta });
        const row: MessageRow = { ...fields, payload_ct: sealMessage(key, payload, rowHeader(fields)) };
        q.insertMessage.run(row);
        q.touchSession.run(t, t, session.id);
        return { envelope: envelopeOf(row, input.content.body, meta) as Envelope, duplicate: false };
      });
    },

    async getSession(id) {
      const row = sessionRow(id);
      return row ? toSession(row) : null;
    },

    async listMessages(conversationId, { afterSeq = 0, limit } = {}) {
      const rows = q.messagesAfter.all(conversationId, afterSeq, pageSize(limit, 100, 1000)) as MessageRow[];
      await loadKeysOf(rows);
      return rows.map(open);
    },

    async recentMessages(conversationId, { beforeSeq, limit } = {}) {
      const n = pageSize(limit, 100, 1000);
      const rows = q.messagesBefore.all(conversationId, beforeSeq ?? Number.MAX_SAFE_INTEGER, n + 1) as MessageRow[];
      const page = rows.slice(0, n).reverse();
      await loadKeysOf(page);
      return { messages: page.map(open), hasOlder: rows.length > n };
    },

    async lastMessage(conversationId) {
      const row = q.lastMessage.get(conversationId) as MessageRow | undefined;
      if (!row) return null;
      await loadCustomerKey(ring, row.customer_id);
      return open(row);
    },

    async lastSeq(conversationId) {
      return (q.conversation.get(conversationId) as { last_seq: number } | undefined)?.last_seq ?? 0;
    },

    async queue(skillGroup, status, { limit } = {}) {
      return (q.queue.all(status, skillGroup, pageSize(limit, 100, 1000)) as SessionRow[]).map(toSession);
    },

    async queueSize(skillGroup, status) {
      return (q.queueSize.get(status, skillGroup) as { n: number }).n;
    },

    async claim(sessionId, agentId) {
      return commit.run(() => {
        const row = q.claim.get(agentId, iso(), sessionId) as SessionRow | undefined;
        if (row) return { session: toSession(row), changed: true };
        const existing = sessionRow(sessionId);
        if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
        if (existing.status === 'active' && existing.assigned_agent_id === agentId) return { session: toSession(existing), changed: false };
        if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
        throw new HuiliuError('OFFER_TAKEN');
      });
    },

    async close(sessionId, agentId, wrapUpCode) {
      return commit.run(() => {
        const t = iso();
        const row = q.close.get(wrapUpCode, t, t, sessionId, agentId) as SessionRow | undefined;
        if (!row) {
          const existing = sessionRow(sessionId);
          if (!existing) throw new HuiliuError('SESSION_NOT_FOUND');
          if (existing.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
          throw new HuiliuError('NOT_ASSIGNED');
        }
        if ((q.openInConversation.get(row.conversation_id) as { n: number }).n === 0) q.closeConversation.run(t, row.conversation_id);
        return toSession(row);
      });
    },

    async follow(state) {
      return commit.run(() => {
        const t = iso();
        const row = q.follow.get({
          id: state.id,
          status: state.status,
          skillGroup: state.skillGroup,
          assignedAgentId: state.assignedAgentId,
          offeredAgentId: state.offeredAgentId,
          offerExpiresAt: state.offerExpiresAt,
          waitingSince: state.waitingSince,
          wrapUpCode: state.wrapUpCode,
          closedAt: state.closedAt,
          now: t,
        }) as SessionRow | undefined;
        if (!row) throw new HuiliuError('SESSION_NOT_FOUND');
        if (row.status === 'closed' && (q.openInConversation.get(row.conversation_id) as { n: number }).n === 0) {
          q.closeConversation.run(t, row.conversation_id);
        } else if (row.status !== 'closed') q.reopenConversation.run(t, row.conversation_id);
        return toSession(row);
      });
    },

    async putContext(sessionId, context) {
      const row = sessionRow(sessionId);
      if (!row) throw new HuiliuError('SESSION_NOT_FOUND');
      const key = await loadCustomerKey(ring, row.customer_id);
      const sealed = sealText(key, JSON.stringify(context), contextAad(sessionId));
      await commit.run(() => q.putContext.run(sessionId, sealed, iso()));
    },

    async getContext(sessionId) {
      const row = q.context.get(sessionId) as { context_ct: Buffer } | undefined;
      if (!row) return null;
      const session = sessionRow(sessionId)!;
      const key = await loadCustomerKey(ring, session.customer_id);
      return JSON.parse(openText(key, row.context_ct, contextAad(sessionId))) as SessionContext;
    },

    async ping() {
      q.ping.get();
    },

    async shutdown() {
      await commit.run(() => undefined);
      db.close();
    },
  };
  return store;
}
