import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
  /** Issue 16: customer messages stored by `Ingest` (every channel's one inbound path), by channel code; duplicates not counted. */
  readonly channelMessages: Counter<'channel'>;
  /**
   * Issue 16: offers and how they ended, by outcome: `offered` (the router put a contact to an agent),
   * `declined` (the agent pressed Decline), `timeout` (no answer within `offerTimeoutMs`), `agent-gone`.
   */
  readonly offers: Counter<'outcome'>;
  /** Issue 16: AI tier turns by action (`answer`, `repeat`, `clarify`, `small-talk`, `handover`, `failed`). */
  readonly aiTurns: Counter<'action'>;
  /** Issue 16: how long an AI tier turn took, read to reply or hand-over stored, seconds, by action. */
  readonly aiTurnSeconds: Histogram<'action'>;
  readonly aiAssistSeconds: Histogram<'kind'>;
  /** Issue 16: bus delivery lag (handler start − event `at`), seconds, by event type. */
  readonly busLagSeconds: Histogram<'type'>;
  /**
   * Issue 16: contacts first answered (`answered`) or abandoned (`abandoned`) after the service-level
   * threshold of their channel (`kpis.serviceLevel`), by skill group, channel and outcome; counted once
   * per contact cluster-wide by the KPI recorder (kpis/recorder.ts).
   */
  readonly slaBreaches: Counter<'skill_group' | 'channel' | 'outcome'>;
  /** SLA policy breaches (issue 16, server/src/sla/): responses past their policy's target, by `kind` first | next. */
  readonly slaPolicyBreaches: Counter<'skill_group' | 'channel' | 'kind'>;
  /** Open sockets on this node, read at each scrape: `agent` (socket.io) and `widget` (WebSocket); set by each gateway. */
  readonly socketCounts: { agent?: () => number; widget?: () => number };
  /**
   * Issue 14 (`HUILIU_STORE=redis`): this node's routing decisions not yet copied to the Redis Cluster
   * (`RoutingLogOutbox.backlog`), read at each scrape into `huiliu_routing_log_outbox_backlog` and
   * `huiliu_routing_log_outbox_oldest_seconds`; set by main.ts in redis mode, null otherwise (both read 0).
   */
  routingLogBacklog: (() => { rows: number; oldestAt: string | null } | null) | null;
}

/** Buckets for latencies in seconds (1 ms … 30 s). */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
    channelMessages: new Counter({
      name: 'huiliu_channel_messages_total',
      help: 'Customer messages stored (duplicates not counted), by channel code.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    offers: new Counter({
      name: 'huiliu_offers_total',
      help: 'Offers to agents and how they ended, by outcome (offered, declined, timeout, agent-gone).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    aiTurns: new Counter({
      name: 'huiliu_ai_turns_total',
      help: 'AI tier turns by action (answer, repeat, clarify, small-talk, handover, failed).',
      labelNames: ['action'],
      registers: [registry],
    }),
    aiTurnSeconds: new Histogram({
      name: 'huiliu_ai_turn_seconds',
      help: 'AI tier turn duration (read to reply or hand-over stored), seconds, by action.',
      labelNames: ['action'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    aiAssistSeconds: new Histogram({
      name: 'huiliu_ai_assist_seconds',
      help: "AI assistance for agents (issue 10): time to produce an assisted-tier draft, a contact's suggested replies or a summary, seconds, by kind.",
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    busLagSeconds: new Histogram({
      name: 'huiliu_bus_lag_seconds',
      help: 'Bus delivery lag: handler start minus the event time, seconds, by event type.',
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: 'huiliu_sla_breaches_total',
      help: 'Contacts answered or abandoned after the service-level threshold of their channel, by skill group, channel and outcome.',
      labelNames: ['skill_group', 'channel', 'outcome'],
      registers: [registry],
    }),
    slaPolicyBreaches: new Counter({
      name: 'huiliu_sla_policy_breaches_total',
      help: 'Responses past their SLA policy target of business time, by skill group, channel and kind (first, next).',
      labelNames: ['skill_group', 'channel', 'kind'],
      registers: [registry],
    }),
    socketCounts: {},
    routingLogBacklog: null,
  };
  new Gauge({
    name: 'huiliu_socket_connections',
    help: 'Open sockets on this node, by kind (agent, widget).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const [kind, count] of Object.entries(metrics.socketCounts)) if (count) this.set({ kind }, count());
    },
  });
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
  new Gauge({
    name: 'huiliu_routing_log_outbox_backlog',
    help: "Routing decisions committed in this node's SQLite and not yet copied to the Redis Cluster's shared log (redis mode).",
    registers: [registry],
    collect() {
      const backlog = metrics.routingLogBacklog?.();
      if (backlog) this.set(backlog.rows);
    },
  });
  new Gauge({
    name: 'huiliu_routing_log_outbox_oldest_seconds',
    help: 'Age of the oldest routing decision waiting to be copied to the Redis Cluster, seconds (0 when none waits; redis mode).',
    registers: [registry],
    collect() {
      const backlog = metrics.routingLogBacklog?.();
      if (!backlog) return;
      this.set(backlog.oldestAt ? Math.max(0, (Date.now() - Date.parse(backlog.oldestAt)) / 1000) : 0);
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

/**
 * `huiliu_data_key_cache_total{result}` (issue 16): every thread's data-key ring lookups, `hit` (the
 * key was in memory, unwrapped) or `miss` (read from the database, then unwrapped by the provider when
 * it exists), read from the provider's shared state when scraped (`SharedKeyState.lookups`).
 */
export function registerDataKeyCache(metrics: Metrics, shared: { readonly lookups: { hits: number; misses: number } }): void {
  const reported = { hit: 0, miss: 0 };
  new Counter({
    name: 'huiliu_data_key_cache_total',
    help: 'Data-key ring lookups of every thread, by result (hit: served from memory, miss: read from the database).',
    labelNames: ['result'],
    registers: [metrics.registry],
    collect() {
      const { hits, misses } = shared.lookups;
      for (const [result, now] of [
        ['hit', hits],
        ['miss', misses],
      ] as const) {
        if (now > reported[result]) this.inc({ result }, now - reported[result]);
        reported[result] = now;
      }
    },
  });
}
