import type { SessionFacts } from '../../../../common/events/events';
import type { DeliveryResult } from '../../../../common/message/delivery';
import { authorOf, textOf, type Envelope } from '../../../../common/message/envelope';
import type { Bus } from '../../bus/bus';
import { newEvent } from '../../bus/events';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { SessionStore } from '../../sessions/store';
import type { ChannelAccount, ChannelStore } from '../channels';
import {
  WEBHOOK_SECRET,
  WEBHOOK_URL_SETTING,
  classifyStatus,
  retryDelay,
  signWebhook,
  webhookHost,
  webhookUrlProblem,
  type WebhookRetryConfig,
} from './webhook';
import type { WebhookDelivery, WebhookOutbox } from './webhook-outbox.sqlite';

/** The JSON body of one webhook delivery (docs/channels/app.md). */
export interface WebhookPayload {
  /** `message` (issue 15: events such as `conversation.csat_requested` have their own `type`). */
  type: 'message';
  /** The message id: also `X-Huiliu-Delivery`, the app's idempotency key. */
  id: string;
  sessionId: string;
  conversationId: string;
  /** The app's own user id (`customer.externalId` of its POSTs). */
  externalId: string;
  seq: number;
  author: ReturnType<typeof authorOf>;
  kind: Envelope['kind'];
  text: string;
  /** ISO 8601. */
  sentAt: string;
}

/** A dead-lettered delivery as admins see it: ids, counts and the last error, never the message. */
export interface DeadLetterView {
  id: string;
  messageId: string;
  appId: string;
  sessionId: string;
  status: WebhookDelivery['status'];
  reason: WebhookDelivery['deadReason'];
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export const deadLetterView = (d: WebhookDelivery): DeadLetterView => ({
  id: d.id,
  messageId: d.messageId,
  appId: d.appId,
  sessionId: d.sessionId,
  status: d.status,
  reason: d.deadReason,
  attempts: d.attempts,
  lastError: d.lastError,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

export interface AppWebhooks {
  /**
   * Queues the message for every app of the session's customer that has a webhook (usually one),
   * durably, and wakes the worker. Resolves how many deliveries were queued (0: the apps poll).
   */
  enqueue(envelope: Envelope, session: SessionFacts): Promise<number>;
  /**
   * Issue 15: queues an event that is no stored message (`conversation.csat_requested`) for every app
   * of the session's customer that has a webhook, like `enqueue`. Its body is the event plus the app's
   * `externalId`; its `X-Huiliu-Delivery` is `event.id`. Its outcome is counted and logged (no message's
   * delivery state to record). Resolves how many deliveries were queued.
   */
  enqueueEvent(event: { id: string; type: string; sessionId: string; conversationId: string }, session: SessionFacts): Promise<number>;
  /** Starts the worker: deliveries left pending by an earlier run go out when due. */
  start(): void;
  /** Stops the worker and waits for the tries in flight (their outcome is stored). */
  close(): Promise<void>;
  /** Dead-lettered deliveries, newest first (at most 200); of one app with `appId`. */
  deadLetters(appId?: string): DeadLetterView[];
  /** Re-queues a dead delivery (due now, tries counted afresh); null when `id` is no dead delivery. */
  redeliver(id: string): DeadLetterView | null;
  /** Dead-lettered deliveries per app id. */
  deadLetterCounts(): Map<string, number>;
  /** Deletes delivered outbox rows older than `keepDeliveredMs` now (the worker also does it hourly); resolves how many. */
  cleanup(): number;
}

const LEASE_MARGIN_MS = 5_000;
/** Delivered rows kept this long by default (`channels.app.webhook.keepDeliveredDays`: 7). */
export const DEFAULT_KEEP_DELIVERED_MS = 7 * 24 * 3600_000;
const CLEANUP_EVERY_MS = 3600_000;
const BATCH = 16;
const IDLE_POLL_MS = 1_000;

/**
 * The app channel's outbound webhooks (issue 13). The adapter's `send` queues a delivery per app in
 * the outbox (SQLite) and answers `sent`; this worker POSTs each one, signed, and records what became
 * of it through the delivery-state path: a 2xx → `delivered`; 408, 429, 5xx, a timeout or a network
 * error → another try after `retryDelay`; after `maxAttempts` tries, or at once for any other status,
 * the delivery is dead-lettered and the message `failed` (`WEBHOOK_DEAD_LETTERED`,
 * `WEBHOOK_REFUSED`) until an admin re-queues it. Each change of state publishes `delivery.changed`.
 *
 * Logs carry ids, the URL's host, status codes and counts: never the secret, the text or the app's
 * user id.
 */
export function createAppWebhooks(deps: {
  outbox: WebhookOutbox;
  channels: ChannelStore;
  store: SessionStore;
  bus: Bus;
  logger: Logger;
  retry: WebhookRetryConfig;
  now?: () => number;
  random?: () => number;
  /** How often an idle worker looks for due deliveries (other nodes' queues, leases run out). Default 1 s. */
  pollMs?: number;
  /** Webhook counters and the outbox gauge (docs/channels/app.md §6). */
  metrics?: Metrics;
  /** Delivered rows older than this are deleted (at start, then every hour). Milliseconds; default 7 days. */
  keepDeliveredMs?: number;
}): AppWebhooks {
  const log = deps.logger.child({ component: 'gateway.app.webhooks' });
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? IDLE_POLL_MS;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let ticking = false;
  let cleanupTimer: NodeJS.Timeout | null = null;
  const keepDeliveredMs = deps.keepDeliveredMs ?? DEFAULT_KEEP_DELIVERED_MS;
  const metrics = deps.metrics;
  if (metrics) metrics.webhookOutboxCounts = () => deps.outbox.countByStatus();
  const cleanup = (): number => {
    const purged = deps.outbox.purgeDelivered(now() - keepDeliveredMs);
    if (purged > 0) {
      metrics?.webhookPurged.inc(purged);
      log.info({ purged, keepDeliveredMs }, 'delivered app webhook rows cleaned up');
    }
    return purged;
  };

  /** The newest account of the app that names a webhook (keys rotate: one app id, several rows). */
  const webhookAccount = async (appId: string): Promise<ChannelAccount | null> => {
    const accounts = (await deps.channels.accounts('AP')).filter(
      (a) => a.accountId === appId && a.settings[WEBHOOK_URL_SETTING] !== undefined,
    );
    return accounts.at(-1) ?? null;
  };

  /** The app ids of the customer's own app identities, with the app's user id in each (identities are `appId:externalId`). */
  const appIdentities = async (customerId: string): Promise<Map<string, string>> => {
    const { identities } = await deps.store.customerIdentities(customerId);
    const out = new Map<string, string>();
    for (const i of identities) {
      if (i.channel !== 'AP' || i.customerId !== customerId) continue;
      const colon = i.externalId.indexOf(':');
      if (colon > 0) out.set(i.externalId.slice(0, colon), i.externalId.slice(colon + 1));
    }
    return out;
  };

  const record = async (d: WebhookDelivery, result: DeliveryResult) => {
    // An event is no message: there is no delivery state to record (its row in the outbox says it).
    if (d.eventJson !== null) return;
    // A failure after the dispatcher's `sent` replaces it (the app only got it queued): a bounce.
    const { record: row, changed } = await deps.channels.recordDelivery(d.messageId, 'AP', result, { bounce: true });
    if (!changed) return;
    await deps.bus.publish(
      newEvent('delivery.changed', {
        actor: 'system',
        sessionId: d.sessionId,
        conversationId: d.conversationId,
        payload: {
          messageId: row.messageId,
          channel: row.channel,
          state: row.state,
          ...(row.error ? { error: row.error } : {}),
          session: JSON.parse(d.sessionJson) as SessionFacts,
        },
      }),
    );
  };

  const dead = async (d: WebhookDelivery, attempts: number, reason: 'exhausted' | 'refused', lastError: string) => {
    const row = deps.outbox.markDead(d.id, attempts, reason, lastError);
    metrics?.webhookAttempts.inc({ outcome: reason === 'refused' ? 'refused' : 'retry' });
    metrics?.webhookDeliveries.inc({ outcome: reason });
    log.warn(
      { deliveryId: d.id, messageId: d.messageId, appId: d.appId, attempts, reason, lastError },
      'app webhook delivery dead-lettered',
    );
    const code = reason === 'exhausted' ? 'WEBHOOK_DEAD_LETTERED' : 'WEBHOOK_REFUSED';
    const message =
      reason === 'exhausted'
        ? `The app's webhook did not take the message after ${attempts} tries.`
        : "The app's webhook refused the message.";
    await record(row, { state: 'failed', error: { code, message } });
  };

  /** One try of one claimed delivery; the outcome is stored before it resolves. */
  const attempt = async (d: WebhookDelivery): Promise<void> => {
    const attempts = d.attempts + 1;
    const account = await webhookAccount(d.appId);
    const url = account?.settings[WEBHOOK_URL_SETTING];
    // Checked again here: an account added by code (the demo seed, a script) skipped the config check.
    if (!account || typeof url !== 'string' || webhookUrlProblem(url)) return dead(d, attempts, 'refused', 'no valid webhook URL');
    const secret = (await deps.channels.secrets(account.id))?.[WEBHOOK_SECRET];
    if (!secret) return dead(d, attempts, 'refused', 'no webhook secret');
    const externalId = (await appIdentities(d.customerId)).get(d.appId);
    let body: string;
    if (d.eventJson !== null) {
      if (externalId === undefined) return dead(d, attempts, 'refused', 'customer gone');
      body = JSON.stringify({ ...(JSON.parse(d.eventJson) as Record<string, unknown>), externalId });
    } else {
      const [message] = await deps.store.listMessages(d.conversationId, { afterSeq: d.seq - 1, limit: 1 });
      if (!message || message.id !== d.messageId || externalId === undefined)
        return dead(d, attempts, 'refused', 'message or customer gone');
      const payload: WebhookPayload = {
        type: 'message',
        id: message.id,
        sessionId: d.sessionId,
        conversationId: d.conversationId,
        externalId,
        seq: message.seq,
        author: authorOf(message),
        kind: message.kind,
        text: textOf(message),
        sentAt: message.sentAt,
      };
      body = JSON.stringify(payload);
    }
    const timestamp = String(Math.floor(now() / 1000));
    let outcome: 'delivered' | 'retry' | 'refused';
    let lastError: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Huiliu-Webhook/1',
          'x-huiliu-timestamp': timestamp,
          'x-huiliu-signature': signWebhook(secret, timestamp, body),
          'x-huiliu-delivery': d.messageId,
        },
        body,
        // A redirect is not followed (it could point anywhere); it counts as a refusal.
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.retry.timeoutMs),
      });
      // The answer's body is not read beyond this: drop it so the connection is freed.
      await res.body?.cancel().catch(() => undefined);
      outcome = classifyStatus(res.status);
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      outcome = 'retry';
      const e = error as Error & { cause?: { code?: string } };
      lastError = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? 'network error');
    }
    const host = webhookHost(url);
    if (outcome === 'delivered') {
      const row = deps.outbox.markDelivered(d.id, attempts);
      metrics?.webhookAttempts.inc({ outcome: 'delivered' });
      metrics?.webhookDeliveries.inc({ outcome: 'delivered' });
      log.debug({ deliveryId: d.id, messageId: d.messageId, appId: d.appId, host, attempts }, 'app webhook delivered');
      return record(row, { state: 'delivered' });
    }
    if (outcome === 'refused') return dead(d, attempts, 'refused', lastError);
    if (attempts >= deps.retry.maxAttempts) return dead(d, attempts, 'exhausted', lastError);
    const wait = retryDelay(attempts, deps.retry, deps.random);
    deps.outbox.markRetry(d.id, attempts, now() + wait, lastError);
    metrics?.webhookAttempts.inc({ outcome: 'retry' });
    log.info(
      { deliveryId: d.id, messageId: d.messageId, appId: d.appId, host, attempts, lastError, retryInMs: wait },
      'app webhook try failed',
    );
  };

  const schedule = (delay: number) => {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), Math.max(0, delay));
    timer.unref();
  };

  /** Claims what is due, starts its tries, and sleeps until the next due time (at most `pollMs`). */
  const tick = async () => {
    if (!running || ticking) return;
    ticking = true;
    try {
      const at = now();
      for (const d of deps.outbox.claimDue(at, at + deps.retry.timeoutMs + LEASE_MARGIN_MS, BATCH)) {
        const p: Promise<void> = attempt(d)
          .catch((error: unknown) => {
            // The row keeps its lease and is tried again when it runs out.
            log.error({ err: error, deliveryId: d.id, messageId: d.messageId }, 'app webhook try failed to run');
          })
          .finally(() => {
            inFlight.delete(p);
            schedule(0);
          });
        inFlight.add(p);
      }
    } catch (error) {
      log.error({ err: error }, 'app webhook outbox could not be read');
    } finally {
      ticking = false;
    }
    const due = deps.outbox.nextDue();
    schedule(Math.min(pollMs, due === null ? pollMs : due - now()));
  };

  return {
    async enqueue(envelope, session) {
      const apps = await appIdentities(session.customerId);
      let queued = 0;
      for (const appId of apps.keys()) {
        if (!(await webhookAccount(appId))) continue;
        const added = deps.outbox.enqueue({
          messageId: envelope.id,
          appId,
          sessionId: envelope.sessionId,
          conversationId: envelope.conversationId,
          seq: envelope.seq,
          customerId: session.customerId,
          sessionJson: JSON.stringify(session),
        });
        if (added) queued++;
      }
      if (queued > 0) schedule(0);
      return queued;
    },
    async enqueueEvent(event, session) {
      const apps = await appIdentities(session.customerId);
      let queued = 0;
      for (const appId of apps.keys()) {
        if (!(await webhookAccount(appId))) continue;
        const added = deps.outbox.enqueue({
          messageId: event.id,
          appId,
          sessionId: event.sessionId,
          conversationId: event.conversationId,
          seq: 0,
          customerId: session.customerId,
          sessionJson: JSON.stringify(session),
          eventJson: JSON.stringify(event),
        });
        if (added) queued++;
      }
      if (queued > 0) schedule(0);
      return queued;
    },
    start() {
      if (running) return;
      running = true;
      schedule(0);
      const clean = () => {
        try {
          cleanup();
        } catch (error) {
          log.error({ err: error }, 'app webhook cleanup failed');
        }
      };
      clean();
      cleanupTimer = setInterval(clean, CLEANUP_EVERY_MS);
      cleanupTimer.unref();
    },
    async close() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      if (cleanupTimer) clearInterval(cleanupTimer);
      cleanupTimer = null;
      await Promise.allSettled([...inFlight]);
    },
    deadLetters(appId) {
      return deps.outbox.dead({ ...(appId !== undefined ? { appId } : {}), limit: 200 }).map(deadLetterView);
    },
    redeliver(id) {
      const row = deps.outbox.requeue(id, now());
      if (!row) return null;
      log.info({ deliveryId: id, messageId: row.messageId, appId: row.appId }, 'app webhook delivery re-queued');
      schedule(0);
      return deadLetterView(row);
    },
    deadLetterCounts: () => deps.outbox.deadCounts(),
    cleanup,
  };
}
