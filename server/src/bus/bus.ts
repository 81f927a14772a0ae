import type { Envelope } from '../../../common/message/envelope';

/**
 * The message bus (DESIGN §1, §2). Topics carry facts that already happened and are durable in the
 * session store; the bus moves them to the router, the agent hub and the channel adapters.
 * Delivery is at-least-once per consumer group, in publish order per topic; consumers are
 * idempotent by message id. In-process by default, Redis Streams consumer groups in scale-out.
 */
export interface BusTopics {
  /** A customer message was stored (seq assigned). `newSession` when it opened a session. */
  'message.in': { envelope: Envelope; newSession: boolean };
  /** A staff or AI message was stored and must reach the customer's channel. */
  'message.out': { envelope: Envelope };
  /** A session changed state (routed, offered, accepted, closed). */
  'session.changed': { sessionId: string; status: string; agentId: string | null; reason?: 'released' };
}
export type Topic = keyof BusTopics;

export type Handler<T extends Topic> = (payload: BusTopics[T]) => Promise<void> | void;

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface Bus {
  readonly kind: 'memory' | 'redis';
  publish<T extends Topic>(topic: T, payload: BusTopics[T]): Promise<void>;
  /**
   * Every group receives every message once (at least once on failure); within a group, one
   * consumer handles a message. A handler that throws is retried with backoff, then the message is
   * reported to `onDeadLetter` and the group moves on.
   */
  subscribe<T extends Topic>(topic: T, group: string, handler: Handler<T>): Promise<Subscription>;
  /** Waits for in-flight deliveries, then stops. */
  close(): Promise<void>;
}

export interface BusOptions {
  maxAttempts?: number;
  retryDelayMs?: number;
  onDeadLetter?: (topic: Topic, group: string, payload: unknown, error: unknown) => void;
}
