import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { BusOptions } from './bus';
import { PoisonEntryError } from './bus.redis';

/**
 * The server's `onDeadLetter` (both adapters): counts each given-up delivery in
 * `huiliu_bus_dead_lettered_total{type,consumer,reason}` and logs it at error level with ids and
 * counts only — the event id, and for the Redis poison cap the stream entry id and Redis's delivery
 * count — never the event's contents (the logger masks every line on top of that, DESIGN §8).
 * `reason` is `redelivered` for a `PoisonEntryError`, else `failed`.
 */
export function deadLetterReporter(logger: Logger, metrics: Pick<Metrics, 'busDeadLettered'>): NonNullable<BusOptions['onDeadLetter']> {
  return (type, consumer, event, error) => {
    const eventId = typeof event === 'object' && event !== null && 'id' in event ? String((event as { id: unknown }).id) : null;
    if (error instanceof PoisonEntryError) {
      metrics.busDeadLettered.inc({ type, consumer, reason: 'redelivered' });
      logger.error(
        { type, consumer, eventId, entryId: error.entryId, deliveries: error.deliveries },
        'bus entry redelivered past the poison cap; moved to the dead letters',
      );
      return;
    }
    metrics.busDeadLettered.inc({ type, consumer, reason: 'failed' });
    logger.error({ type, consumer, eventId, err: error }, 'bus event dead-lettered');
  };
}

/**
 * The server's `onDelivery` (both adapters, issue 16): observes `huiliu_bus_lag_seconds{type}`, the
 * time from an event's `at` to its handler's first start, in seconds (clock skew between nodes under
 * the Redis bus shows as lag; a negative difference counts as 0).
 */
export function busLagReporter(
  metrics: Pick<Metrics, 'busLagSeconds'>,
  now: () => number = Date.now,
): NonNullable<BusOptions['onDelivery']> {
  return (type, at) => {
    const sent = Date.parse(at);
    if (Number.isFinite(sent)) metrics.busLagSeconds.observe({ type }, Math.max(0, now() - sent) / 1000);
  };
}
