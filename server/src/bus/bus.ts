import type { EventOf, EventType } from '../../../common/events/events';

export type { BusEvent, EventOf, EventType } from '../../../common/events/events';

export type Handler<T extends EventType> = (event: EventOf<T>) => Promise<void> | void;

export interface Subscription {
  unsubscribe(): Promise<void>;
}

/**
 * The event bus (DESIGN §1 "Events", §2). Topics are event types (common/events/); every event is a
 * fact that already happened and is durable in the session store. Two delivery modes:
 *
 * - **work** (`subscribe(type, group, handler)`): each event goes once to every group, and within a
 *   group to one consumer, on whichever node it runs (the router, the outbound dispatcher, the AI).
 *   At least once: a handler that throws is retried with backoff, then the event is reported to
 *   `onDeadLetter` and the group moves on. A retry redelivers the same event (same `id`), so
 *   consumers are idempotent by event id (see `onceById`).
 * - **fan-out** (`subscribeAll(type, handler)`): every subscriber on every node gets every event
 *   published while it is subscribed (pushes to the sockets connected to this node). Not durable: no
 *   backlog for a subscriber that was not there; a client that missed pushes resyncs on reconnect.
 *   Failures are retried and reported like work deliveries (consumer name `fanout`).
 *
 * Both modes deliver in publish order per topic to each group / subscriber. In-process by default
 * (`createMemoryBus`), Redis Streams (consumer groups for work, a per-node reader for fan-out) in
 * scale-out; both pass `busContract`.
 */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  /**
   * Publishes one event after checking it against its schema (common/events/ `EVENT_SCHEMAS`).
   * @throws HuiliuError EVENT_INVALID (details name the fields) for an event that breaks its schema:
   *   a programming error, never a customer's input; Error when the bus is closed
   */
  publish<T extends EventType>(event: EventOf<T>): Promise<void>;
  /** Work delivery: one consumer per group (see above). */
  subscribe<T extends EventType>(type: T, group: string, handler: Handler<T>): Promise<Subscription>;
  /** Fan-out delivery: every subscriber on every node (see above). */
  subscribeAll<T extends EventType>(type: T, handler: Handler<T>): Promise<Subscription>;
  /** Waits for deliveries already queued to this node's subscribers, then stops them and refuses publishes. */
  close(): Promise<void>;
}

export interface BusOptions {
  /** Tries per delivery before it is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Backoff base in ms: try n waits n × this (default 50). */
  retryDelayMs?: number;
  /** `consumer` is the work group, or `fanout` for a fan-out subscriber. */
  onDeadLetter?: (type: EventType, consumer: string, event: unknown, error: unknown) => void;
  /**
   * Issue 16: called as a handler first gets an event (not on retries), with the event's type and
   * `at` (ISO 8601), so the server can measure bus lag (`huiliu_bus_lag_seconds`). Must not throw.
   */
  onDelivery?: (type: EventType, at: string) => void;
}
