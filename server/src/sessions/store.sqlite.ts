import { HuiliuError } from '../../../common/errors/codes';
import type { ChannelCode } from '../../../common/message/session-id';
import { normalizeLinkValue, type Envelope, type IdentityLinkKind } from '../../../common/message/envelope';
import type { ConversationSummary } from '../../../common/ai/assist';
import type { SessionStatus } from '../../../common/api/sessions';
import type { RoutingCandidate } from '../../../common/routing/types';
import { openText } from '../crypto/aead';
import type { Statement } from 'better-sqlite3';
import { GroupCommit } from '../db/group-commit';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { KeyProvider } from '../keys/provider';
import { DataKeyRing } from './data-keys';
import type { RandomSource } from './session-id';
import {
  blindIndex,
  changeAad,
  externalIdAad,
  linkAad,
  toMerge,
  type MergeRow,
  customerKeyOwner,
  factsAad,
  handoverSummaryAad,
  INDEX_KEY_OWNER,
  nameAad,
  ratingCommentAad,
  toLogEntry,
  toSession,
  type DecisionRow,
  type MessageRow,
  type SessionRow,
  decryptMessage as decryptRow,
  loadCustomerKey as loadKey,
  CONVERSATION_SQL,
  ROUTING_CANDIDATES_SQL,
  messageAadOf,
  rowHeader,
  envelopeOf,
} from './sqlite-rows';
import { PageBlockReader } from './page-blocks';
import type {
  CustomerRecord,
  IdentityView,
  LinkView,
  LogPage,
  MessagePage,
  ProfileChange,
  ReplayContact,
  SessionFilter,
  SessionStore,
  StoredCustomerFacts,
} from './store';
import { OpenedPayloadCache } from './opened-cache';
import { openSessionWriter, type OnSealed, type SessionWriter } from './writer';
import { createTransferReader } from './transfers.sqlite';
import { startWorkerSessionWriter } from './writer.client';

export interface SqliteStoreOptions {
  path: string;
  keys: KeyProvider;
  /** A customer's new contact joins their open conversation if it was active this recently. */
  continuityMs?: number;
  /**
   * Where writes run. `worker` (the default): a worker thread owns the write connection, so group
   * commits and their fsync never block this thread's sockets (issue 8). `inline`: on this thread
   * (tests that inject `now`/`random`, tools).
   */
  writer?: 'worker' | 'inline';
  /** Test clock for `inline` only. */
  now?: () => number;
  /** Test clock shared with the writer thread: ms since epoch at index 0 (a Float64Array over a SharedArrayBuffer). */
  clock?: Float64Array;
  random?: RandomSource;
  /** The writer thread died and was restarted (the server logs it). */
  onWriterError?: (error: Error) => void;
  /** Crash tests only (worker mode): hold the batch after this many committed writes open, forever. */
  holdBatchAfterJobs?: number;
  onWriterHeld?: (jobs: number) => void;
  /** Crash tests only (worker mode): the first writer thread exits after the commit reaching this many writes. */
  exitWriterAfterJobs?: number;
  /**
   * Bytes of recently opened message payloads kept decrypted in memory (`OpenedPayloadCache`), so
   * history read again is not decrypted again. Default 32 MiB; 0 turns it off.
   */
  openedCacheBytes?: number;
}

const MIGRATIONS = migrationsDir('sessions');
const DEFAULT_CONTINUITY_MS = 30 * 60_000;

/** The bindings of a decision-log page query: [from, to), after (at, seq), at most `limit` rows. */
function logPage(from: string, to: string, page: LogPage) {
  return {
    from,
    to,
    afterAt: page.after?.at ?? '',
    afterSeq: page.after?.seq ?? 0,
    limit: Math.max(1, Math.min(page.limit ?? 1000, 10_000)),
  };
}

interface ReplayRow {
  seq: number;
  at: string;
  session_id: string;
  decided_at: string;
  skill_group: string;
  value_score: number;
  difficulty_score: number;
  value_facts: string | null;
  candidate_ids: string;
  channel: ChannelCode;
  status: SessionStatus;
  assigned_agent_id: string | null;
  created_at: string;
  closed_at: string | null;
  last_message_at: string;
  handover_at: string | null;
  handover_by: string | null;
}

const toReplayContact = (r: ReplayRow): ReplayContact => ({
  seq: r.seq,
  at: r.at,
  decidedAt: r.decided_at,
  sessionId: r.session_id,
  channel: r.channel,
  status: r.status,
  skillGroup: r.skill_group,
  valueScore: r.value_score,
  difficultyScore: r.difficulty_score,
  valueFacts: r.value_facts ? (JSON.parse(r.value_facts) as ReplayContact['valueFacts']) : null,
  candidateIds: (JSON.parse(r.candidate_ids) as (string | null)[]).filter((id): id is string => typeof id === 'string'),
  assignedAgentId: r.assigned_agent_id,
  createdAt: r.created_at,
  closedAt: r.closed_at,
  lastMessageAt: r.last_message_at,
  handover: r.handover_at && r.handover_by ? { at: r.handover_at, by: r.handover_by } : null,
});

/**
 * Embedded SessionStore on SQLite (better-sqlite3, WAL), everything sensitive sealed with AES-256-GCM.
 * Reads run on the caller's thread over their own connection (WAL readers never wait for the writer);
 * writes go to the session writer (`writer.ts`), in a worker thread by default, and resolve once durable.
 */
export async function createSqliteSessionStore(options: SqliteStoreOptions): Promise<SessionStore> {
  const mode = options.writer ?? (options.now || options.random ? 'inline' : 'worker');
  if (mode === 'worker' && (options.now || options.random)) {
    throw new HuiliuError('INTERNAL', 'now/random cannot cross to the writer thread; use clock, or writer: inline');
  }
  const db: Db = openDatabase(options.path);
  migrate(db, 'sessions', MIGRATIONS);
  const continuityMs = options.continuityMs ?? DEFAULT_CONTINUITY_MS;
  const clock = options.clock;
  const now = options.now ?? (clock ? () => clock[0]! : Date.now);

  let writer: SessionWriter;
  let stopWriter: () => Promise<void>;
  let writerHealthy = () => true;
  let ring: DataKeyRing | undefined;
  const opened = new OpenedPayloadCache(options.openedCacheBytes ?? 32 * 1024 * 1024);
  /**
   * Write-through: a message the writer sealed goes into this thread's opened cache with its payload,
   * so the first read of a message written through this store opens nothing. A customer whose key this
   * thread's ring does not hold yet has it loaded first (one unwrap per customer, as their first read
   * would; loads in flight are shared), and their message is kept once it is there — a read racing that
   * load opens the message itself.
   */
  const loadingKeys = new Map<string, Promise<Buffer | null>>();
  const keepSealed: OnSealed | undefined =
    (options.openedCacheBytes ?? 1) > 0
      ? (row, payload) => {
          const aad = row.payload_ct.length > 0 ? messageAadOf(rowHeader(row))(row.payload_ct[0]!) : null;
          if (aad === null || !ring) return;
          const keep = (key: Buffer | null | undefined) => key && opened.put(row.id, row.customer_id, key, row.payload_ct, aad, payload);
          const owner = customerKeyOwner(row.customer_id);
          const held = ring.peek(owner);
          if (held) return void keep(held);
          let loading = loadingKeys.get(owner);
          if (!loading) {
            loading = ring.get(owner).finally(() => loadingKeys.delete(owner));
            loadingKeys.set(owner, loading);
          }
          loading.then(keep, () => undefined);
        }
      : undefined;
  if (mode === 'inline') {
    const commit = new GroupCommit(db);
    ({ writer, ring } = await openSessionWriter({
      db,
      keys: options.keys,
      commit,
      continuityMs,
      now,
      ...(options.random ? { random: options.random } : {}),
      ...(keepSealed ? { onSealed: keepSealed } : {}),
    }));
    stopWriter = () => commit.run(() => undefined); // writes already queued are committed first
  } else {
    const worker = await startWorkerSessionWriter({
      path: options.path,
      keys: options.keys.spec,
      continuityMs,
      ...(clock ? { clock } : {}),
      ...(options.holdBatchAfterJobs !== undefined ? { holdBatchAfterJobs: options.holdBatchAfterJobs } : {}),
      ...(options.exitWriterAfterJobs !== undefined ? { exitAfterJobs: options.exitWriterAfterJobs } : {}),
      ...(options.onWriterError ? { onError: options.onWriterError } : {}),
      ...(options.onWriterHeld ? { onHeld: options.onWriterHeld } : {}),
      ...(keepSealed ? { onSealed: keepSealed } : {}),
    });
    writer = worker;
    stopWriter = () => worker.shutdown();
    writerHealthy = () => worker.healthy();
    // This thread only reads keys (the writer creates them): it never writes through the ring.
    ring = new DataKeyRing(db, options.keys, () => Promise.reject(new Error('data keys are created by the session writer')));
  }
  const indexKey = await ring.get(INDEX_KEY_OWNER);
  if (!indexKey) throw new HuiliuError('INTERNAL', 'the session writer did not create the blind index key');
  const blind = blindIndex(indexKey);
  // listSessions builds its SQL from the filter's shape; there are few shapes, so cache them.
  const listStatements = new Map<string, Statement<unknown[]>>();

  const q = {
    identity: db.prepare('SELECT customer_id FROM customer_identities WHERE channel = ? AND external_id_hmac = ?'),
    customer: db.prepare('SELECT id, name_ct, created_at, merged_into, group_id FROM customers WHERE id = ?'),
    // Issue 12: a customer's merge group, root first.
    group: db.prepare(
      `SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?)
       ORDER BY id = group_id DESC, created_at, id`,
    ),
    groupIdentities: db.prepare(
      `SELECT channel, external_id_hmac, customer_id, external_id_ct, created_at FROM customer_identities
       WHERE customer_id IN (SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?))
       ORDER BY created_at, rowid`,
    ),
    groupLinks: db.prepare(
      `SELECT kind, value_hmac, customer_id, value_ct, source, created_at FROM customer_links
       WHERE customer_id IN (SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?))
       ORDER BY created_at, rowid`,
    ),
    merge: db.prepare('SELECT * FROM customer_merges WHERE id = ?'),
    link: db.prepare('SELECT customer_id FROM customer_links WHERE kind = ? AND value_hmac = ?'),
    groupMerges: db.prepare(
      `SELECT * FROM customer_merges WHERE survivor_id IN (SELECT value FROM json_each(?)) OR merged_id IN (SELECT value FROM json_each(?))
       ORDER BY id DESC LIMIT 200`,
    ),
    timeline: db.prepare(
      `SELECT * FROM messages WHERE customer_id IN (SELECT value FROM json_each(@members)) AND id < @before
       ORDER BY id DESC LIMIT @limit`,
    ),
    customerChannels: db.prepare('SELECT DISTINCT channel FROM customer_identities WHERE customer_id = ? ORDER BY channel'),
    latestSession: db.prepare('SELECT * FROM sessions WHERE customer_id = ? AND channel = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
    session: db.prepare(CONVERSATION_SQL.session),
    routingCandidates: db.prepare(ROUTING_CANDIDATES_SQL.get),
    messagesAfter: db.prepare(CONVERSATION_SQL.messagesAfter),
    messagesAfterOf: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? AND customer_id = ? ORDER BY seq LIMIT ?'),
    messagesBefore: db.prepare(CONVERSATION_SQL.messagesBefore),
    activeChats: db.prepare(`SELECT count(*) AS n FROM sessions WHERE assigned_agent_id = ? AND status = 'active'`),
    profileChanges: db.prepare('SELECT * FROM customer_profile_changes WHERE customer_id = ? ORDER BY id'),
    lastMessage: db.prepare(CONVERSATION_SQL.lastMessage),
    // Walks the (conversation_id, seq) index back from the newest: a customer message is a few rows away.
    lastMessageOf: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND direction = ? ORDER BY seq DESC LIMIT 1'),
    decisions: db.prepare('SELECT * FROM routing_decisions WHERE session_id = ? ORDER BY seq'),
    decisionsBetween: db.prepare('SELECT * FROM routing_decisions WHERE at >= ? AND at < ? AND seq > ? ORDER BY at, seq LIMIT ?'),
    // The what-if replay (issue 11): each decision is parsed once as JSONB and only a few fields leave SQLite.
    replayContacts: db.prepare(
      `SELECT d.seq, d.at, d.session_id, d.j ->> '$.decidedAt' AS decided_at, d.j ->> '$.skillGroup' AS skill_group,
         d.j ->> '$.valueScore' AS value_score, d.j ->> '$.difficultyScore' AS difficulty_score, json(d.j -> '$.facts.value') AS value_facts,
         (SELECT json_group_array(c.value ->> '$.agentId') FROM json_each(d.j, '$.candidates') c) AS candidate_ids,
         s.channel, s.status, s.assigned_agent_id, s.created_at, s.closed_at, s.last_message_at,
         s.handover_json ->> '$.at' AS handover_at, s.handover_json ->> '$.by' AS handover_by
       FROM (SELECT seq, at, session_id, jsonb(decision_json) AS j FROM routing_decisions
             WHERE cause = 'new' AND at >= @from AND at < @to AND (at > @afterAt OR (at = @afterAt AND seq > @afterSeq))
             ORDER BY at, seq LIMIT @limit) d
       JOIN sessions s ON s.id = d.session_id
       ORDER BY d.at, d.seq`,
    ),
    offersBetween: db.prepare(
      `SELECT seq, at, session_id, offered_to FROM routing_decisions
       WHERE offered_to IS NOT NULL AND at >= @from AND at < @to AND (at > @afterAt OR (at = @afterAt AND seq > @afterSeq))
       ORDER BY at, seq LIMIT @limit`,
    ),
    offeredCount: db.prepare(`SELECT count(*) AS n FROM sessions WHERE offered_agent_id = ? AND status = 'offered'`),
    voiceHeld: db.prepare(
      `SELECT count(*) AS n FROM sessions WHERE channel = 'SP' AND
         ((status = 'active' AND assigned_agent_id = @agent) OR (status = 'offered' AND offered_agent_id = @agent))`,
    ),
    ping: db.prepare('SELECT 1 AS ok'),
    facts: db.prepare('SELECT facts_ct FROM customer_facts WHERE customer_id = ?'),
    rating: db.prepare('SELECT * FROM session_ratings WHERE session_id = ?'),
    ratings: db.prepare(
      'SELECT session_id, score, rated_at FROM session_ratings WHERE customer_id = ? AND rated_at >= ? ORDER BY rated_at DESC LIMIT ?',
    ),
  };

  const decryptMessage = (row: MessageRow) => decryptRow(ring!, row, opened);
  const pages = new PageBlockReader(db, (customerId) => ring!.peek(customerKeyOwner(customerId)), opened);
  /**
   * Opens rows of history (their customers' keys loaded): the pages where enough of them are cold come
   * from their sealed page blocks (one open per page, each row checked against the block), the rest
   * through the opened cache or one by one.
   */
  const decryptRows = (rows: readonly MessageRow[]): Envelope[] => {
    const vouched = pages.vouch(rows);
    if (!vouched) return rows.map(decryptMessage);
    return rows.map((row, i) => {
      const payload = vouched[i];
      if (payload === undefined) return decryptMessage(row);
      const { body, meta } = JSON.parse(payload) as { body: unknown; meta: unknown };
      return envelopeOf(row, body, meta);
    });
  };
  const loadCustomerKey = (customerId: string) => loadKey(ring, customerId);
  /**
   * The keys of every customer whose messages are in `rows`: since issue 12 one conversation can hold
   * messages of several customers of a merge group (each sealed with its own key).
   */
  const loadKeysOf = (rows: readonly MessageRow[]): Promise<void> | undefined => {
    // Held keys without a promise (a read's rows are mostly one customer's): only misses are awaited.
    let last: string | undefined;
    let missing: Set<string> | undefined;
    for (const r of rows) {
      if (r.customer_id === last) continue;
      last = r.customer_id;
      if (!ring.hit(customerKeyOwner(last))) (missing ??= new Set()).add(last);
    }
    return missing && loadMissingKeys(missing);
  };
  const loadMissingKeys = async (customers: Set<string>) => {
    for (const id of customers) await loadCustomerKey(id);
  };

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
    if (filter.customerId) {
      // Issue 12: a customer's sessions are their whole merge group's.
      where.push('customer_id IN (SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?))');
      params.push(filter.customerId);
    }
    if (filter.assignedAgentId) list('assigned_agent_id', [filter.assignedAgentId]);
    if (filter.offeredAgentId) list('offered_agent_id', [filter.offeredAgentId]);
    if (filter.waitingBefore) {
      where.push('waiting_since < ?');
      params.push(filter.waitingBefore);
    }
    if (filter.createdSince) {
      where.push('created_at >= ?');
      params.push(filter.createdSince);
    }
    if (filter.createdBefore) {
      where.push('created_at < ?');
      params.push(filter.createdBefore);
    }
    if (filter.contactsOnly) where.push('moved_from IS NULL');
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
    appendInbound: (draft, opts) => writer.appendInbound(draft, opts),
    admitInbound: (draft, opts) => writer.admitInbound!(draft, opts),
    appendOutbound: (input) => writer.appendOutbound(input),
    saveRouting: (sessionId, decision, offer, seen) => writer.saveRouting(sessionId, decision, offer, seen),
    claim: (sessionId, agentId) => writer.claim(sessionId, agentId),
    close: (sessionId, agentId, wrapUpCode, note) => writer.close(sessionId, agentId, wrapUpCode, note),
    appendAndClaim: (sessionId, agentId, history) => writer.appendAndClaim(sessionId, agentId, history),
    appendAndClose: (sessionId, agentId, wrapUpCode, note, history) => writer.appendAndClose(sessionId, agentId, wrapUpCode, note, history),
    release: (sessionId, agentId) => writer.release(sessionId, agentId),
    abandon: (sessionId) => writer.abandon(sessionId),
    startBot: (sessionId, decision) => writer.startBot(sessionId, decision),
    handOver: (sessionId, input) => writer.handOver(sessionId, input),
    ensureCustomers: (identities, opts) => writer.ensureCustomers(identities, opts),
    putCustomerFacts: (updates) => writer.putCustomerFacts(updates),
    rateSession: (input) => writer.rateSession(input),

    async customerFacts(customerId) {
      const row = q.facts.get(customerId) as { facts_ct: Buffer } | undefined;
      if (!row) return null;
      const key = await ring.get(customerKeyOwner(customerId));
      // Erased: the facts went with the key.
      if (!key) return null;
      return JSON.parse(openText(key, row.facts_ct, factsAad(customerId))) as StoredCustomerFacts;
    },

    async sessionRating(sessionId) {
      const row = q.rating.get(sessionId) as
        { session_id: string; customer_id: string; score: number; comment_ct: Buffer | null; rated_at: string } | undefined;
      if (!row) return null;
      const comment = row.comment_ct ? openText(await loadCustomerKey(row.customer_id), row.comment_ct, ratingCommentAad(sessionId)) : null;
      return { sessionId, customerId: row.customer_id, score: row.score, comment, ratedAt: row.rated_at };
    },

    async customerRatings(customerId, { since = '', limit = 100 } = {}) {
      const rows = q.ratings.all(customerId, since, Math.max(1, Math.min(limit, 1000))) as {
        session_id: string;
        score: number;
        rated_at: string;
      }[];
      return rows.map((r) => ({ sessionId: r.session_id, score: r.score, ratedAt: r.rated_at }));
    },
    startTransfer: (input) => writer.startTransfer(input),
    decideTransfer: (transferId, outcome) => writer.decideTransfer(transferId, outcome),
    undoTransfer: (transferId, restore) => writer.undoTransfer(transferId, restore),
    ...createTransferReader({ db, ring }),

    async handoverSummary(sessionId) {
      const row = q.session.get(sessionId) as SessionRow | undefined;
      if (!row?.handover_summary_ct) return null;
      const key = await loadCustomerKey(row.customer_id);
      return JSON.parse(openText(key, row.handover_summary_ct, handoverSummaryAad(sessionId))) as ConversationSummary;
    },

    async getSession(id) {
      const row = q.session.get(id) as SessionRow | undefined;
      return row ? toSession(row) : null;
    },

    async routingCandidates(sessionId) {
      const row = q.routingCandidates.get(sessionId) as { candidates_json: string } | undefined;
      return row ? (JSON.parse(row.candidates_json) as RoutingCandidate[]) : null;
    },

    async listSessions(filter: SessionFilter) {
      const where = whereOf(filter);
      if (!where) return [];
      const order =
        filter.order === 'priority'
          ? `coalesce(json_extract(handover_json, '$.noAgentOnline'), 0) DESC, json_extract(routing_json, '$.priority') IS NULL,
             json_extract(routing_json, '$.priority') DESC, waiting_since ASC, id ASC`
          : 'waiting_since ASC, id ASC';
      const sql = `SELECT * FROM sessions ${where.sql} ORDER BY ${order} LIMIT ?`;
      return (statement(sql).all(...where.params, Math.min(filter.limit ?? 500, 5000)) as SessionRow[]).map(toSession);
    },

    async countSessions(filter: SessionFilter) {
      const where = whereOf(filter);
      if (!where) return 0;
      return (statement(`SELECT count(*) AS n FROM sessions ${where.sql}`).get(...where.params) as { n: number }).n;
    },

    async listMessages(conversationId, { afterSeq = 0, limit = 1000, customerId } = {}) {
      const n = Math.min(limit, 10_000);
      const rows = (
        customerId ? q.messagesAfterOf.all(conversationId, afterSeq, customerId, n) : q.messagesAfter.all(conversationId, afterSeq, n)
      ) as MessageRow[];
      const keysLoading = loadKeysOf(rows);
      if (keysLoading) await keysLoading;
      return decryptRows(rows);
    },

    async recentMessages(conversationId, { beforeSeq, limit = 100 } = {}): Promise<MessagePage> {
      const n = Math.max(1, Math.min(limit, 1000));
      // One row more than asked says whether an older page exists.
      const rows = q.messagesBefore.all(conversationId, beforeSeq ?? Number.MAX_SAFE_INTEGER, n + 1) as MessageRow[];
      const hasOlder = rows.length > n;
      const page = rows.slice(0, n).reverse();
      const keysLoading = loadKeysOf(page);
      if (keysLoading) await keysLoading;
      return { messages: decryptRows(page), hasOlder };
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

    async lastMessage(conversationId, { direction } = {}) {
      const row = (direction ? q.lastMessageOf.get(conversationId, direction) : q.lastMessage.get(conversationId)) as
        MessageRow | undefined;
      if (!row) return null;
      await loadCustomerKey(row.customer_id);
      return decryptMessage(row);
    },

    async getCustomer(id) {
      const row = q.customer.get(id) as
        { id: string; name_ct: Buffer; created_at: string; merged_into: string | null; group_id: string | null } | undefined;
      if (!row) return null;
      const key = await loadCustomerKey(id);
      const channels = (q.customerChannels.all(id) as { channel: ChannelCode }[]).map((r) => r.channel);
      return {
        id,
        name: openText(key, row.name_ct, nameAad(id)),
        channels,
        createdAt: row.created_at,
        mergedInto: row.merged_into,
        groupId: row.group_id ?? id,
      } satisfies CustomerRecord;
    },

    mergeCustomers: (input) => writer.mergeCustomers(input),
    undoMerge: (mergeId, by) => writer.undoMerge(mergeId, by),
    linkIdentity: (customerId, link, source) => writer.linkIdentity(customerId, link, source),
    saveContactDetails: (identity, source, opts) => writer.saveContactDetails(identity, source, opts),

    async getMerge(mergeId) {
      const row = q.merge.get(mergeId) as MergeRow | undefined;
      return row ? toMerge(row) : null;
    },

    async merges(customerId) {
      const members = JSON.stringify(await store.customerGroup(customerId));
      return (q.groupMerges.all(members, members) as MergeRow[]).map(toMerge);
    },

    async findCustomerByLink(kind, value) {
      const normal = normalizeLinkValue(kind, value);
      if (normal === null) return null;
      const found = q.link.get(kind, blind('link', kind, normal)) as { customer_id: string } | undefined;
      return found ? store.getCustomer(found.customer_id) : null;
    },

    async customerGroup(customerId) {
      return (q.group.all(customerId) as { id: string }[]).map((r) => r.id);
    },

    async customerIdentities(customerId) {
      const identityRows = q.groupIdentities.all(customerId) as {
        channel: ChannelCode;
        external_id_hmac: string;
        customer_id: string;
        external_id_ct: Buffer;
        created_at: string;
      }[];
      const linkRows = q.groupLinks.all(customerId) as {
        kind: IdentityLinkKind;
        value_hmac: string;
        customer_id: string;
        value_ct: Buffer;
        source: string;
        created_at: string;
      }[];
      const keys = new Map<string, Buffer>();
      const keyOf = async (id: string) => {
        let key = keys.get(id);
        if (!key) keys.set(id, (key = await loadCustomerKey(id)));
        return key;
      };
      const identities: IdentityView[] = [];
      for (const r of identityRows) {
        const externalId = openText(await keyOf(r.customer_id), r.external_id_ct, externalIdAad(r.channel, r.external_id_hmac));
        identities.push({ customerId: r.customer_id, channel: r.channel, externalId, createdAt: r.created_at });
      }
      const links: LinkView[] = [];
      for (const r of linkRows) {
        const value = openText(await keyOf(r.customer_id), r.value_ct, linkAad(r.kind, r.value_hmac));
        links.push({ customerId: r.customer_id, kind: r.kind, value, source: r.source, createdAt: r.created_at });
      }
      return { identities, links };
    },

    async timeline(customerId, { before, limit = 50 } = {}) {
      const members = await store.customerGroup(customerId);
      const size = Math.max(1, Math.min(limit, 200));
      // One row more than asked says whether older messages exist. '~' sorts after every UUID.
      const rows = q.timeline.all({ members: JSON.stringify(members), before: before ?? '~', limit: size + 1 }) as MessageRow[];
      const page = rows.slice(0, size);
      const keysLoading = loadKeysOf(page);
      if (keysLoading) await keysLoading;
      return { messages: decryptRows(page), hasOlder: rows.length > size };
    },

    async findCustomerByIdentity(channel, externalId) {
      const found = q.identity.get(channel, blind('identity', channel, externalId)) as { customer_id: string } | undefined;
      return found ? store.getCustomer(found.customer_id) : null;
    },

    async latestSession(customerId, channel) {
      const row = q.latestSession.get(customerId, channel) as SessionRow | undefined;
      return row ? toSession(row) : null;
    },

    async decisions(sessionId) {
      return (q.decisions.all(sessionId) as DecisionRow[]).map(toLogEntry);
    },

    async decisionsBetween(from, to, { afterSeq = 0, limit = 1000 } = {}) {
      const n = Math.max(1, Math.min(limit, 10_000));
      return (q.decisionsBetween.all(from, to, afterSeq, n) as DecisionRow[]).map(toLogEntry);
    },

    async replayContacts(from, to, page = {}) {
      return (q.replayContacts.all(logPage(from, to, page)) as ReplayRow[]).map(toReplayContact);
    },

    async offersBetween(from, to, page = {}) {
      return (q.offersBetween.all(logPage(from, to, page)) as { seq: number; at: string; session_id: string; offered_to: string }[]).map(
        (r) => ({ seq: r.seq, at: r.at, sessionId: r.session_id, agentId: r.offered_to }),
      );
    },

    async agentLoad(agentId) {
      const active = (q.activeChats.get(agentId) as { n: number }).n;
      const offered = (q.offeredCount.get(agentId) as { n: number }).n;
      const voice = (q.voiceHeld.get({ agent: agentId }) as { n: number }).n;
      return { active, offered, byKind: { chat: active + offered - voice, voice } };
    },

    async ping() {
      q.ping.get();
      // Readiness covers writes too: while the writer thread restarts, every write answers NOT_READY.
      if (!writerHealthy()) throw new HuiliuError('NOT_READY', 'The session writer is restarting.');
    },

    forgetCached(customerIds) {
      let n = 0;
      for (const id of customerIds) n += opened.forgetCustomer(id);
      return n;
    },

    openedCacheStats() {
      return { hits: opened.hits, misses: opened.misses, bytes: opened.bytes, pageBlocks: { ...pages.stats } };
    },

    async shutdown() {
      await stopWriter();
      db.close();
    },
  };
  return store;
}
