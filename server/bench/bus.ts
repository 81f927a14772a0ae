/**
 * `npm run bench -- bus`, part (a): the Redis Streams bus's work-delivery throughput against raw
 * ioredis doing the same work, in this process, on the Redis at `BENCH_REDIS` (default
 * 127.0.0.1:6379), each side on its own key prefix (deleted after).
 *
 * Both sides move `n` events (a `session.changed`, ~600 bytes of JSON) from publishers to one
 * consumer and ack them: `publishers` concurrent publish loops, then the time until every event was
 * handled and acked (`XPENDING` empty). Bus: `publish` → the group's reader → handler → `XACK`.
 * Raw: `XADD … MAXLEN ~` of the same JSON, one `XREADGROUP … COUNT 100 BLOCK` loop, `JSON.parse`,
 * the same handler, one `XACK` of the batch's ids — what a hand-written consumer does.
 *
 * Also the bus's own share of latency: publish → fan-out subscriber in this process, paced
 * (`fanoutLatency`), on the Redis bus and on the in-process bus.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/bus/bus.redis';
import { newEvent } from '../src/bus/events';
import type { EventOf } from '../../common/events/events';
import type { Bus } from '../src/bus/bus';
import { nowMs, sleep, summarize } from './stats';

export interface BusThroughput {
  n: number;
  publishers: number;
  /** Events published, handled and acked per second, end to end. */
  rate: number;
  seconds: number;
}

const event = (n: number): EventOf<'session.changed'> =>
  newEvent('session.changed', {
    actor: 'system',
    sessionId: `WB${String(n).padStart(18, '0')}`,
    conversationId: randomUUID(),
    payload: {
      status: 'queued',
      reason: 'routed',
      channel: 'WB',
      customerId: randomUUID(),
      skillGroup: 'general',
      assignedAgentId: null,
      offeredAgentId: null,
      offerExpiresAt: null,
      tier: null,
      priority: null,
      createdAt: '2026-11-30T00:00:00.000Z',
      waitingSince: '2026-11-30T00:00:00.000Z',
      lastMessageAt: '2026-11-30T00:00:00.000Z',
    },
  });

function redisAt(address: string): () => Redis {
  const i = address.lastIndexOf(':');
  return () => new Redis({ host: address.slice(0, i), port: Number(address.slice(i + 1)), maxRetriesPerRequest: null });
}

async function drop(connect: () => Redis, prefix: string): Promise<void> {
  const r = connect();
  const keys = await r.keys(`{${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
}

/** Deletes every key of `prefix` (`{<prefix>:…}`) on the Redis at `address` (`host:port`). */
export function dropPrefix(address: string, prefix: string): Promise<void> {
  return drop(redisAt(address), prefix);
}

/** Runs `publishers` loops that together call `publish` for events 0..n-1. */
async function publishAll(n: number, publishers: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: publishers }, async () => {
      while (next < n) await publish(next++);
    }),
  );
}

async function waitAcked(redis: Redis, key: string, group: string, handled: () => number, n: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (handled() < n || ((await redis.xpending(key, group)) as [number])[0] > 0) {
    if (Date.now() > deadline) throw new Error(`bus bench: ${handled()}/${n} handled after 120 s`);
    await sleep(1);
  }
}

/** The Redis Streams bus: publish → work group `bench` → handler → XACK. */
export async function busThroughput(address: string, n: number, publishers: number): Promise<BusThroughput> {
  const connect = redisAt(address);
  const prefix = `huiliu-bench-${randomUUID()}`;
  const bus = createRedisBus({ connect, prefix });
  const redis = connect();
  try {
    const events = Array.from({ length: n }, (_, i) => event(i));
    let handled = 0;
    await bus.subscribe('session.changed', 'bench', (e) => void (e.sessionId && handled++));
    await sleep(200); // the reader holds the lease
    const t0 = nowMs();
    await publishAll(n, publishers, (i) => bus.publish(events[i]!));
    await waitAcked(redis, `{${prefix}:bus:session.changed}`, 'bench', () => handled, n);
    const seconds = (nowMs() - t0) / 1000;
    return { n, publishers, rate: n / seconds, seconds };
  } finally {
    await bus.close();
    redis.disconnect();
    await drop(connect, prefix);
  }
}

/** Raw ioredis: XADD MAXLEN ~ / XREADGROUP COUNT 100 BLOCK / JSON.parse / handler / XACK of the batch. */
export async function rawThroughput(address: string, n: number, publishers: number): Promise<BusThroughput> {
  const connect = redisAt(address);
  const prefix = `huiliu-bench-${randomUUID()}`;
  const key = `{${prefix}:raw}`;
  const pub = connect();
  const reader = connect();
  const ack = connect();
  let stopped = false;
  try {
    const events = Array.from({ length: n }, (_, i) => event(i));
    await pub.xgroup('CREATE', key, 'bench', '$', 'MKSTREAM');
    let handled = 0;
    const loop = (async () => {
      while (!stopped) {
        const reply = (await reader.xreadgroup('GROUP', 'bench', 'c1', 'COUNT', 100, 'BLOCK', 100, 'STREAMS', key, '>')) as
          [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [, fields] of entries) {
          const e = JSON.parse(fields[1]!) as { sessionId?: string };
          if (e.sessionId) handled++;
        }
        if (entries.length) await ack.xack(key, 'bench', ...entries.map(([id]) => id));
      }
    })();
    const t0 = nowMs();
    await publishAll(n, publishers, (i) => pub.xadd(key, 'MAXLEN', '~', 100_000, '*', 'e', JSON.stringify(events[i]!)));
    await waitAcked(pub, key, 'bench', () => handled, n);
    const seconds = (nowMs() - t0) / 1000;
    stopped = true;
    await loop;
    return { n, publishers, rate: n / seconds, seconds };
  } finally {
    stopped = true;
    pub.disconnect();
    reader.disconnect();
    ack.disconnect();
    await drop(connect, prefix);
  }
}

/** Publish → fan-out subscriber latency of one bus in this process, paced. */
export interface BusLatency {
  rate: number;
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Paces `rate` events/s for `seconds` through `bus` (one `session.changed` each) and times each from
 * just before `publish` to its fan-out subscriber on the same bus (ms): the bus's own share of the
 * inbound → agent path, without the server. `bus` is closed at the end.
 */
export async function fanoutLatency(bus: Bus, rate: number, seconds: number): Promise<BusLatency> {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  await bus.subscribeAll('session.changed', (e) => {
    const t = sentAt.get(e.id);
    if (t !== undefined) samples.push(nowMs() - t);
  });
  await sleep(100);
  const n = Math.round(rate * seconds);
  const t0 = nowMs();
  const publishes: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    const e = event(i);
    sentAt.set(e.id, nowMs());
    publishes.push(bus.publish(e));
  }
  await Promise.all(publishes);
  const deadline = Date.now() + 5000;
  while (samples.length < n && Date.now() < deadline) await sleep(10);
  await bus.close();
  const s = summarize(samples);
  return { rate, sent: n, received: s.count, p50: s.p50, p99: s.p99, max: s.max };
}

/** `fanoutLatency` on a Redis Streams bus at `address` (its keys deleted after). */
export async function redisFanoutLatency(address: string, rate: number, seconds: number): Promise<BusLatency> {
  const prefix = `huiliu-bench-${randomUUID()}`;
  try {
    return await fanoutLatency(createRedisBus({ connect: redisAt(address), prefix }), rate, seconds);
  } finally {
    await dropPrefix(address, prefix);
  }
}
