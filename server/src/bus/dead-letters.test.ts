import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger';
import { createMetrics } from '../metrics/metrics';
import { PoisonEntryError } from './bus.redis';
import { busLagReporter, deadLetterReporter } from './dead-letters';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const PHONE = '13812345678';
const event = { id: '01a217af-518a-76c9-b3e0-cc994d61d477', type: 'message.in', text: `call me on ${PHONE}` };

describe('dead-letter reporter', () => {
  it('counts a poison entry as redelivered and logs ids and counts, not the event', async () => {
    const { logger, lines } = capture();
    const metrics = createMetrics();
    deadLetterReporter(logger, metrics)('message.in', 'router', event, new PoisonEntryError('1700000000000-3', 6));
    const counted = await metrics.registry.getSingleMetricAsString('huiliu_bus_dead_lettered_total');
    expect(counted).toContain('huiliu_bus_dead_lettered_total{type="message.in",consumer="router",reason="redelivered"} 1');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, eventId: event.id, entryId: '1700000000000-3', deliveries: 6 });
    expect(lines[0]).not.toContain(PHONE);
    expect(lines[0]).not.toContain('call me');
  });

  it('counts a handler that failed every try as failed, and masks what its error says', async () => {
    const { logger, lines } = capture();
    const metrics = createMetrics();
    const report = deadLetterReporter(logger, metrics);
    report('message.in', 'fanout', event, new Error(`no such customer ${PHONE}`));
    report('message.in', 'fanout', null, new Error('unreadable stream entry'));
    const counted = await metrics.registry.getSingleMetricAsString('huiliu_bus_dead_lettered_total');
    expect(counted).toContain('huiliu_bus_dead_lettered_total{type="message.in",consumer="fanout",reason="failed"} 2');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(PHONE);
    expect(JSON.parse(lines[1]!)).toMatchObject({ eventId: null, consumer: 'fanout' });
  });
});

describe('busLagReporter', () => {
  it('observes the time from the event to its delivery in seconds, by type; a clock behind counts 0', async () => {
    const metrics = createMetrics();
    const report = busLagReporter(metrics, () => Date.parse('2026-01-01T00:00:01.500Z'));
    report('message.in', '2026-01-01T00:00:00.000Z');
    report('message.in', '2026-01-01T00:00:02.000Z');
    const text = await metrics.registry.metrics();
    expect(text).toContain('huiliu_bus_lag_seconds_count{type="message.in"} 2');
    expect(text).toContain('huiliu_bus_lag_seconds_sum{type="message.in"} 1.5');
    expect(text).toContain('huiliu_bus_lag_seconds_bucket{le="1",type="message.in"} 1');
  });
});
