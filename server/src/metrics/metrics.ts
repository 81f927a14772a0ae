import { Counter, Gauge, Registry } from 'prom-client';

/** Names of the limits a refusal is counted under (`huiliu_rate_limited_total{limit}`). */
export type LimitName =
  | 'widget_connection_messages'
  | 'widget_connection_replays'
  | 'visitor_messages'
  | 'ip_messages'
  | 'ip_new_sessions'
  | 'ip_connections'
  | 'app_key_messages'
  | 'app_customer_messages'
  | 'app_key_reads'
  | 'ip_bad_app_keys'
  | 'agent_ip_connections'
  | 'agent_socket_events'
  | 'ip_uploads'
  | 'visitor_upload_bytes'
  | 'ip_upload_bytes';

/**
 * The server's Prometheus metrics (DESIGN §6, names `huiliu_*`). One registry per app instance, not
 * prom-client's global one, so several servers in one process (tests) do not collide.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Requests, frames or connections refused by a limit, by limit name. */
  readonly rateLimited: Counter<'limit'>;
  /** Widget sockets closed by the server, by reason (`too_big`, `slow_consumer`, `policy`, `error`). */
  readonly widgetClosed: Counter<'reason'>;
  /** Agent sockets the server disconnected, by reason (`slow_consumer`, `revoked`, `expired`). */
  readonly agentDisconnected: Counter<'reason'>;
  /** Channel requests refused before anything was stored (bad signature, malformed XML …), by channel and error code. */
  readonly channelRejected: Counter<'channel' | 'code'>;
  /** Channel pushes acknowledged without storing a message (platform notices, unknown types …), by channel, type and reason. */
  readonly channelAcknowledged: Counter<'channel' | 'type' | 'reason'>;
  /** Media a channel could not fetch or check: the message was stored without it, by channel and reason. */
  readonly channelMediaFailed: Counter<'channel' | 'reason'>;
  /** Failed connection attempts of long-lived channel links (the XMPP component), by channel. */
  readonly channelConnectFailures: Counter<'channel'>;
  /** 1 while a long-lived channel link is up, by channel and account id (XMPP: one per component account). */
  readonly channelConnected: Gauge<'channel' | 'account'>;
  /**
   * Bus deliveries given up, by event type, consumer (work group or `fanout`) and reason: `failed`
   * (the handler threw on every try) or `redelivered` (the Redis bus's poison cap, docs/bus.md).
   */
  readonly busDeadLettered: Counter<'type' | 'consumer' | 'reason'>;
  /**
   * Issue 13, the app channel's outbound webhooks. Tries by outcome: `delivered` (2xx), `retry`
   * (408, 429, 5xx, timeout, network error), `refused` (any other status, no URL or secret).
   */
  readonly webhookAttempts: Counter<'outcome'>;
  /** Deliveries that reached an end, by outcome: `delivered`, `exhausted` (dead-lettered after maxAttempts), `refused` (dead-lettered at once). */
  readonly webhookDeliveries: Counter<'outcome'>;
  /** Delivered outbox rows deleted by the cleanup (older than `channels.app.webhook.keepDeliveredDays`). */
  readonly webhookPurged: Counter;
  /**
   * Where the outbox's counts come from (`huiliu_app_webhook_outbox{status}`: pending = depth, dead =
   * dead letters waiting), read at each scrape; set by the webhook worker.
   */
  webhookOutboxCounts: (() => Record<'pending' | 'delivered' | 'dead', number>) | null;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const metrics: Metrics = {
    registry,
    rateLimited: new Counter({
      name: 'huiliu_rate_limited_total',
      help: 'Requests, frames or connections refused by a rate or concurrency limit.',
      labelNames: ['limit'],
      registers: [registry],
    }),
    widgetClosed: new Counter({
      name: 'huiliu_widget_closed_total',
      help: 'Widget WebSocket connections closed by the server, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    agentDisconnected: new Counter({
      name: 'huiliu_agent_disconnected_total',
      help: 'Agent socket.io connections the server disconnected, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    channelRejected: new Counter({
      name: 'huiliu_channel_rejected_total',
      help: 'Channel requests refused before anything was stored, by channel and error code.',
      labelNames: ['channel', 'code'],
      registers: [registry],
    }),
    channelAcknowledged: new Counter({
      name: 'huiliu_channel_acknowledged_total',
      help: 'Channel pushes acknowledged without storing a message, by channel, type and reason.',
      labelNames: ['channel', 'type', 'reason'],
      registers: [registry],
    }),
    channelMediaFailed: new Counter({
      name: 'huiliu_channel_media_failed_total',
      help: 'Media a channel could not fetch or check (the message was stored without it), by channel and reason.',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    channelConnectFailures: new Counter({
      name: 'huiliu_channel_connect_failures_total',
      help: 'Failed connection attempts of long-lived channel links (XMPP component), by channel.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    channelConnected: new Gauge({
      name: 'huiliu_channel_connected',
      help: '1 while a long-lived channel link (XMPP component) is connected, by channel and account.',
      labelNames: ['channel', 'account'],
      registers: [registry],
    }),
    busDeadLettered: new Counter({
      name: 'huiliu_bus_dead_lettered_total',
      help: 'Bus deliveries given up (handler failed every try, or redelivered past the poison cap), by type, consumer and reason.',
      labelNames: ['type', 'consumer', 'reason'],
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'huiliu_app_webhook_attempts_total',
      help: 'App webhook tries, by outcome (delivered, retry, refused).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'huiliu_app_webhook_deliveries_total',
      help: 'App webhook deliveries that reached an end, by outcome (delivered, exhausted, refused).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookPurged: new Counter({
      name: 'huiliu_app_webhook_purged_total',
      help: 'Delivered app webhook outbox rows deleted by the cleanup.',
      registers: [registry],
    }),
    webhookOutboxCounts: null,
  };
  new Gauge({
    name: 'huiliu_app_webhook_outbox',
    help: 'App webhook outbox rows by status: pending (the depth), dead (dead letters waiting), delivered (kept until cleanup).',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = metrics.webhookOutboxCounts?.();
      if (!counts) return;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  return metrics;
}

/**
 * `huiliu_key_provider_calls_total{provider}` (issue 14): calls into the KEK's keeper (the HSM over
 * PKCS#11, or the local key file) by every thread, read from the provider when scraped. After warm-up
 * it stays flat while messages flow: data keys are cached unwrapped (DESIGN §9, 0 HSM calls per message).
 */
export function registerKeyProviderCalls(metrics: Metrics, keys: { readonly kind: string; readonly calls: number }): void {
  let reported = 0;
  new Counter({
    name: 'huiliu_key_provider_calls_total',
    help: 'Calls into the key provider (HSM or local key file) that wraps data keys, all threads.',
    labelNames: ['provider'],
    registers: [metrics.registry],
    collect() {
      const now = keys.calls;
      if (now > reported) this.inc({ provider: keys.kind }, now - reported);
      reported = now;
    },
  });
}
