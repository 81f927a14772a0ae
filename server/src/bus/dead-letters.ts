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
