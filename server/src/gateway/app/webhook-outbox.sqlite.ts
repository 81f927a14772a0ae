import { v7 as uuidv7 } from 'uuid';
import { openDatabase, type Db } from '../../db/sqlite';

/** One webhook delivery of one outbound message to one app (ids and states only: no text, no user id). */
export interface WebhookDelivery {
  id: string;
  messageId: string;
  appId: string;
  sessionId: string;
  conversationId: string;
  seq: number;
  customerId: string;
  /** The session's facts (SessionFacts) as JSON, for the `delivery.changed` this delivery publishes. */
  sessionJson: string;
  /**
   * An event delivery (issue 15: `conversation.csat_requested`): its JSON body (ids, language, expiry),
   * `messageId` being the event id; null for a message delivery (the message is read at each try).
   */
  eventJson: string | null;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  /** Epoch milliseconds. */
  nextAttemptAt: number;
  /** The last failure, short and without content: `HTTP 503`, `timeout`, `connection refused`… */
  lastError: string | null;
  /** Why a dead delivery is dead: `exhausted` (retries used up) or `refused` (the app said no for good). */
  deadReason: 'exhausted' | 'refused' | null;
  createdAt: string;
  updatedAt: string;
}

export type NewWebhookDelivery = Pick<
  WebhookDelivery,
  'messageId' | 'appId' | 'sessionId' | 'conversationId' | 'seq' | 'customerId' | 'sessionJson'
> & { eventJson?: string };

interface Row {
  id: string;
  message_id: string;
  app_id: string;
  session_id: string;
  conversation_id: string;
  seq: number;
  customer_id: string;
  session_json: string;
  event_json: string | null;
  status: WebhookDelivery['status'];
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  dead_reason: WebhookDelivery['deadReason'];
  created_at: string;
  updated_at: string;
}

const toDelivery = (r: Row): WebhookDelivery => ({
  id: r.id,
  messageId: r.message_id,
  appId: r.app_id,
  sessionId: r.session_id,
  conversationId: r.conversation_id,
  seq: r.seq,
  customerId: r.customer_id,
  sessionJson: r.session_json,
  eventJson: r.event_json,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deadReason: r.dead_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * The webhook outbox (issue 13) in the server's database file: the table comes with the channels
 * store's migrations (gateway/migrations/0003), so open the channels store first.
 */
export interface WebhookOutbox {
  /** Queues a delivery due now; the same (message, app) again is ignored (the bus may redeliver). Resolves true when queued. */
  enqueue(input: NewWebhookDelivery): boolean;
  /**
   * Takes up to `limit` pending deliveries due by `now` and pushes each one's due time to `leaseUntil`,
   * in one transaction, so two workers on one file never send the same try twice.
   */
  claimDue(now: number, leaseUntil: number, limit: number): WebhookDelivery[];
  /** The earliest due time of a pending delivery (epoch ms), or null. */
  nextDue(): number | null;
  /** A try succeeded. */
  markDelivered(id: string, attempts: number): WebhookDelivery;
  /** A try failed; another is due at `nextAttemptAt`. */
  markRetry(id: string, attempts: number, nextAttemptAt: number, lastError: string): WebhookDelivery;
  /** Dead-lettered: no more tries until `requeue`. */
  markDead(id: string, attempts: number, reason: 'exhausted' | 'refused', lastError: string): WebhookDelivery;
  /** Dead deliveries, newest first; of one app when `appId` is given. */
  dead(options: { appId?: string; limit: number }): WebhookDelivery[];
  /** Puts a dead delivery back in the queue, due now, with its tries counted afresh; null when `id` is not a dead delivery. */
  requeue(id: string, now: number): WebhookDelivery | null;
  get(id: string): WebhookDelivery | null;
  /** Dead deliveries per app id (the admin list's counts). */
  deadCounts(): Map<string, number>;
  /** Rows per status (the outbox depth metric). */
  countByStatus(): Record<WebhookDelivery['status'], number>;
  /**
   * Deletes delivered rows last changed before `before` (epoch ms); pending and dead rows are never
   * deleted. Resolves how many went. Issue 13: keeps the outbox from growing with every reply.
   */
  purgeDelivered(before: number): number;
  close(): void;
}

export function createSqliteWebhookOutbox(options: { path: string; now?: () => number }): WebhookOutbox {
  const db: Db = openDatabase(options.path);
  const now = options.now ?? Date.now;
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'app_webhook_deliveries'").get();
  if (!table) {
    db.close();
    throw new Error('app_webhook_deliveries is missing: open the channels store (its migrations) before the webhook outbox');
  }
  const iso = () => new Date(now()).toISOString();
  const q = {
    insert: db.prepare(
      `INSERT INTO app_webhook_deliveries (id, message_id, app_id, session_id, conversation_id, seq, customer_id, session_json,
         event_json, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (message_id, app_id) DO NOTHING`,
    ),
    claim: db.prepare(
      `UPDATE app_webhook_deliveries SET next_attempt_at = ? WHERE id IN (
         SELECT id FROM app_webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?)
       RETURNING *`,
    ),
    nextDue: db.prepare("SELECT MIN(next_attempt_at) AS due FROM app_webhook_deliveries WHERE status = 'pending'"),
    set: db.prepare(
      `UPDATE app_webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, dead_reason = ?, updated_at = ?
       WHERE id = ? RETURNING *`,
    ),
    dead: db.prepare("SELECT * FROM app_webhook_deliveries WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT ?"),
    deadOf: db.prepare(
      "SELECT * FROM app_webhook_deliveries WHERE status = 'dead' AND app_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
    ),
    requeue: db.prepare(
      `UPDATE app_webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, dead_reason = NULL, updated_at = ?
       WHERE id = ? AND status = 'dead' RETURNING *`,
    ),
    get: db.prepare('SELECT * FROM app_webhook_deliveries WHERE id = ?'),
    deadCounts: db.prepare("SELECT app_id, COUNT(*) AS n FROM app_webhook_deliveries WHERE status = 'dead' GROUP BY app_id"),
    byStatus: db.prepare('SELECT status, COUNT(*) AS n FROM app_webhook_deliveries GROUP BY status'),
    purge: db.prepare("DELETE FROM app_webhook_deliveries WHERE status = 'delivered' AND updated_at < ?"),
  };
  const set = (
    id: string,
    status: WebhookDelivery['status'],
    attempts: number,
    next: number,
    error: string | null,
    reason: WebhookDelivery['deadReason'],
  ) => {
    const row = q.set.get(status, attempts, next, error, reason, iso(), id) as Row | undefined;
    if (!row) throw new Error(`webhook delivery ${id} is gone`);
    return toDelivery(row);
  };
  return {
    enqueue(d) {
      const at = iso();
      return (
        q.insert.run(
          uuidv7(),
          d.messageId,
          d.appId,
          d.sessionId,
          d.conversationId,
          d.seq,
          d.customerId,
          d.sessionJson,
          d.eventJson ?? null,
          now(),
          at,
          at,
        ).changes > 0
      );
    },
    claimDue(at, leaseUntil, limit) {
      return db.transaction(() => (q.claim.all(leaseUntil, at, limit) as Row[]).map(toDelivery)).immediate();
    },
    nextDue() {
      return (q.nextDue.get() as { due: number | null }).due;
    },
    markDelivered: (id, attempts) => set(id, 'delivered', attempts, 0, null, null),
    markRetry: (id, attempts, next, error) => set(id, 'pending', attempts, next, error, null),
    markDead: (id, attempts, reason, error) => set(id, 'dead', attempts, 0, error, reason),
    dead({ appId, limit }) {
      const rows = (appId === undefined ? q.dead.all(limit) : q.deadOf.all(appId, limit)) as Row[];
      return rows.map(toDelivery);
    },
    requeue(id, at) {
      const row = q.requeue.get(at, iso(), id) as Row | undefined;
      return row ? toDelivery(row) : null;
    },
    get(id) {
      const row = q.get.get(id) as Row | undefined;
      return row ? toDelivery(row) : null;
    },
    deadCounts() {
      return new Map((q.deadCounts.all() as { app_id: string; n: number }[]).map((r) => [r.app_id, r.n]));
    },
    countByStatus() {
      const out = { pending: 0, delivered: 0, dead: 0 };
      for (const r of q.byStatus.all() as { status: WebhookDelivery['status']; n: number }[]) out[r.status] = r.n;
      return out;
    },
    purgeDelivered(before) {
      // updated_at is ISO 8601 in UTC: its text order is its time order.
      return q.purge.run(new Date(before).toISOString()).changes;
    },
    close() {
      db.close();
    },
  };
}
