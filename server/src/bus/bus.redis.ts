import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { BusEvent, EventOf, EventType } from '../../../common/events/events';
import type { Bus, BusOptions, Handler, Subscription } from './bus';
import { assertValidEvent } from './bus.memory';

/** A connection (one Redis, or a Redis Cluster client). */
export type RedisConnection = Redis | Cluster;

export interface RedisBusOptions extends BusOptions {
  /**
   * Opens a new connection. The bus opens one for commands and one per blocking reader (one per work
   * group it serves and per type with fan-out subscribers on this node), and closes them all on `close`.
   */
  connect: () => RedisConnection;
  /** First part of every key (default `huiliu`); tests use a unique one per run. */
  prefix?: string;
  /** Approximate cap on each stream's length (`XADD MAXLEN ~`, default 100,000 entries). */
  maxLen?: number;
  /** How long a reader blocks in `XREADGROUP`/`XREAD` (ms, default 1000); `close` waits at most this long for it. */
  blockMs?: number;
  /** Entries read per call (default 100). */
  batch?: number;
  /** A group's reader lease (ms, default 10,000): a dead node's group is taken over after at most this long. */
  leaseMs?: number;
  /** Pending entries idle this long (ms, default `leaseMs`) are reclaimed (`XAUTOCLAIM`) by the group's reader. */
  reclaimIdleMs?: number;
  /** How often the group's reader looks for such entries (ms, default 5000). */
  reclaimEveryMs?: number;
  /**
   * Poison cap: an entry claimed from the pending list after more than this many deliveries (Redis's
   * delivery count, which `XREADGROUP` and each `XAUTOCLAIM` raise) — one whose handler keeps killing
   * or hanging the node that reads it — is moved to the dead-letter stream and acked without running
   * the handler again (default 5). `onDeadLetter` gets a `PoisonEntryError`.
   */
  maxDeliveries?: number;
  /** A Redis error a reader survived (it retries); for the log. Never carries event contents. */
  onError?: (error: unknown) => void;
}

/**
 * What `onDeadLetter` gets for an entry the poison cap dead-lettered: it was delivered `deliveries`
 * times (Redis's count, `XPENDING`) without being acked. Carries ids and counts only, never contents.
 */
export class PoisonEntryError extends Error {
  constructor(
    /** The stream entry id (`ms-seq`). */
    readonly entryId: string,
    /** Redis's delivery count when it was claimed. */
    readonly deliveries: number,
  ) {
    super(`stream entry ${entryId} delivered ${deliveries} times without an ack`);
    this.name = 'PoisonEntryError';
  }
}

/** The Redis Streams bus; `abandon` is what a crash does (tests of reclaim). */
export interface RedisBus extends Bus {
  /** Drops every connection at once: no deliveries finish, nothing is acked, leases expire on their own. */
  abandon(): void;
}

type Entry = [id: string, fields: string[]];
type StreamReply = [key: string, entries: Entry[]][] | null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Takes the lease if free, or extends it if this consumer holds it. KEYS[1] lease, ARGV[1] holder, ARGV[2] ms.
const ACQUIRE = `if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
return 0`;
// Extends the lease only while this consumer still holds it (never re-takes one it gave up).
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** Compares two stream ids (`ms-seq`). */
function afterId(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am > bm || (am === bm && as > bs);
}

/**
 * The Redis Streams bus (DESIGN §2 scale-out; docs/bus.md).
 *
 * - One stream per event type, `{<prefix>:bus:<type>}`; the group's lease `…:lease:<group>` and the
 *   dead letters `…:dead` share its hash tag, so each stream and everything about it lives in one
 *   Redis Cluster slot. `publish` is one `XADD … MAXLEN ~ maxLen`.
 * - Work: a Redis consumer group per bus group (created at `$` on first subscribe). On each node one
 *   reader per group (`XREADGROUP … BLOCK` on its own connection) hands entries to the node's handlers
 *   in turn, one at a time, and acks each after its handler resolves (one `XACK` per event-loop turn). A throwing handler leaves the
 *   entry pending while it is retried (`maxAttempts`, backoff); then `onDeadLetter`, a copy in the
 *   dead-letter stream, and `XACK`. Order: only the node holding the group's lease reads (the others
 *   stand by), so a group sees a type's events in stream order — per conversation and overall. On
 *   taking the lease a node first claims (`XAUTOCLAIM`) what the previous holder left pending, so a
 *   dead node's entries come before newer ones; it also reclaims idle pending entries periodically.
 *   Poison cap: a claimed entry delivered more than `maxDeliveries` times goes to the dead letters
 *   (moved and acked in one `MULTI`) instead of to a handler.
 * - Redis Cluster: every command names keys of one hash tag (one stream per read), so none is CROSSSLOT.
 * - Fan-out: one reader per type on each node (`XREAD`, no group) hands every entry to each of the
 *   node's subscribers of the type that came after the stream's last id when it subscribed, through
 *   the subscriber's own queue. A node that was down misses what was published meanwhile; a reader further behind than
 *   `maxLen` misses what was trimmed.
 * - Idempotency: entries carry the event (UUIDv7 `id`); a reclaimed entry or a publisher's retry is
 *   delivered again, so consumers that must act once wrap their handler in `onceById`.
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  const prefix = options.prefix ?? 'huiliu';
  const maxLen = options.maxLen ?? 100_000;
  const blockMs = options.blockMs ?? 1000;
  const batch = options.batch ?? 100;
  const leaseMs = options.leaseMs ?? 10_000;
  const reclaimIdleMs = options.reclaimIdleMs ?? leaseMs;
  const reclaimEveryMs = options.reclaimEveryMs ?? 5000;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 50;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const node = randomUUID();
  let closed = false;
  let abandoned = false;
  const conns = new Set<RedisConnection>();
  /** Opens a connection; its first error after each time it was ready goes to `onError` (not one per retry). */
  function open(): RedisConnection {
    const conn = options.connect();
    let failing = false;
    conn.on('ready', () => (failing = false));
    conn.on('error', (error: unknown) => {
      if (!failing && !abandoned && !closed) options.onError?.(error);
      failing = true;
    });
    conns.add(conn);
    return conn;
  }
  const cmd = open();
  const readers = new Set<Reader>();

  const streamKey = (type: EventType) => `{${prefix}:bus:${type}}`;

  interface Reader {
    stopped: boolean;
    closing: boolean;
    conn: RedisConnection;
    loop: Promise<void>;
    wake: () => void;
  }

  function newReader(): Omit<Reader, 'loop'> {
    const conn = open();
    return { stopped: false, closing: false, conn, wake: () => {} };
  }

  /** Waits `ms` unless the reader is stopped or closing first. */
  function pause(r: Omit<Reader, 'loop'>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      r.wake = () => (clearTimeout(t), resolve());
    });
  }

  async function stop(r: Reader, drain: boolean): Promise<void> {
    if (drain) r.closing = true;
    else {
      r.stopped = true;
      r.conn.disconnect(); // ends a blocked read at once; what it had taken stays pending and is reclaimed
    }
    r.wake();
    await r.loop;
    readers.delete(r);
    r.conn.disconnect();
    conns.delete(r.conn);
  }

  /** Tries a handler `maxAttempts` times; false when it was dead-lettered. */
  async function deliver(type: EventType, consumer: string, handler: Handler<EventType>, event: BusEvent): Promise<boolean> {
    options.onDelivery?.(type, event.at);
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event as never);
        return true;
      } catch (error) {
        if (abandoned) return false;
        if (attempt >= maxAttempts) {
          options.onDeadLetter?.(type, consumer, event, error);
          return false;
        }
        await sleep(retryDelayMs * attempt);
      }
    }
  }

  function parse(fields: string[]): BusEvent | null {
    const i = fields.indexOf('e');
    try {
      return i >= 0 ? (JSON.parse(fields[i + 1]!) as BusEvent) : null;
    } catch {
      return null;
    }
  }

  /**
   * Moves entry `id` to the dead-letter stream and acks it, in one `MULTI` (both keys share the
   * stream's hash tag, so this holds on Redis Cluster too).
   */
  async function deadLetter(
    type: EventType,
    group: string,
    id: string,
    fields: string[],
    reason: 'failed' | 'redelivered',
    deliveries: number,
  ): Promise<void> {
    const key = streamKey(type);
    const i = fields.indexOf('e');
    const raw = i >= 0 ? (fields[i + 1] ?? '') : '';
    const result = await cmd
      .multi()
      .xadd(`${key}:dead`, 'MAXLEN', '~', 10_000, '*', 'group', group, 'entry', id, 'reason', reason, 'deliveries', deliveries, 'e', raw)
      .xack(key, group, id)
      .exec();
    const failed = result?.find(([error]) => error);
    if (!result || failed) throw failed?.[0] ?? new Error('dead-letter transaction aborted');
  }

  function workReader(type: EventType, group: string, handlers: Handler<EventType>[]): Reader {
    const key = streamKey(type);
    const lease = `${key}:lease:${group}`;
    const r = newReader();
    let holding = false;
    let lastReclaim = 0;
    let turn = 0;

    const renew = setInterval(
      () => {
        if (abandoned) return clearInterval(renew);
        if (!holding || r.stopped) return;
        cmd.eval(RENEW, 1, lease, node, leaseMs).then(
          (ok) => void (holding = ok === 1),
          (error) => options.onError?.(error),
        );
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );

    /**
     * Acks coalesce: ids whose handlers resolved go out in one `XACK key group id…` at the next
     * `setImmediate` (so an ack waits at most one event-loop turn after its handler, and a batch of
     * quick handlers costs one command, not one each); `flushAcks` sends them now and waits.
     */
    let ackIds: string[] = [];
    let ackTimer: NodeJS.Immediate | null = null;
    let ackSent: Promise<void> = Promise.resolve();
    function flushAcks(): Promise<void> {
      if (ackTimer) clearImmediate(ackTimer);
      ackTimer = null;
      if (ackIds.length > 0 && !abandoned) {
        const ids = ackIds;
        // An ack that fails leaves its entries pending: they are reclaimed and delivered again (at least once).
        const sent = cmd.xack(key, group, ...ids).then(
          () => undefined,
          (error: unknown) => void (abandoned ? undefined : options.onError?.(error)),
        );
        ackSent = Promise.all([ackSent, sent]).then(() => undefined);
      }
      ackIds = [];
      return ackSent;
    }
    function ack(id: string): void {
      ackIds.push(id);
      ackTimer ??= setImmediate(() => void flushAcks());
    }

    /** Handles entries in order; `deliveries` (claimed entries) holds Redis's delivery counts. Acks are all sent when it returns. */
    async function handle(entries: Entry[], deliveries?: Map<string, number>): Promise<void> {
      try {
        for (const [id, fields] of entries) {
          // Left pending: whoever reads for the group next claims it (a lost lease: the new holder).
          if (r.stopped || abandoned || !holding) return;
          const count = deliveries?.get(id) ?? 1;
          const event = parse(fields);
          if (count > maxDeliveries) {
            // Poison: it has killed or stalled the reader before; do not run the handler again.
            await deadLetter(type, group, id, fields, 'redelivered', count);
            options.onDeadLetter?.(type, group, event, new PoisonEntryError(id, count));
            continue;
          }
          if (event && handlers.length > 0) {
            const handler = handlers[turn++ % handlers.length]!;
            const ok = await deliver(type, group, handler, event);
            if (abandoned) return;
            if (!ok) {
              await deadLetter(type, group, id, fields, 'failed', count);
              continue;
            }
          } else if (!event) {
            options.onDeadLetter?.(type, group, null, new Error('unreadable stream entry'));
          }
          ack(id);
        }
      } finally {
        await flushAcks();
      }
    }

    /** Redis's delivery counts of entries now pending for this node, `from`…`to` (`XPENDING` extended form). */
    async function deliveryCounts(from: string, to: string, count: number): Promise<Map<string, number>> {
      const rows = (await cmd.xpending(key, group, from, to, count, node)) as [string, string, number, number][];
      return new Map(rows.map(([id, , , n]) => [id, Number(n)]));
    }

    /** Claims entries pending for other consumers (idle ≥ `minIdle`) and handles them in id order. */
    async function reclaim(minIdle: number): Promise<void> {
      lastReclaim = Date.now();
      let cursor = '0-0';
      do {
        const [next, claimed] = (await cmd.xautoclaim(key, group, node, minIdle, cursor, 'COUNT', batch)) as [string, (Entry | null)[]];
        const entries = claimed.filter((e): e is Entry => e !== null);
        if (entries.length > 0) {
          const counts = await deliveryCounts(entries[0]![0], entries[entries.length - 1]![0], entries.length + batch);
          await handle(entries, counts);
        }
        cursor = next;
      } while (cursor !== '0-0' && !r.stopped && !abandoned);
    }

    async function run(): Promise<void> {
      while (!r.stopped && !abandoned) {
        try {
          if (!holding) {
            if (r.closing) return;
            holding = (await cmd.eval(ACQUIRE, 1, lease, node, leaseMs)) === 1;
            if (!holding) {
              await pause(r, Math.max(10, Math.floor(leaseMs / 3)));
              continue;
            }
            await reclaim(0); // what the previous holder left, before anything newer
          } else if (Date.now() - lastReclaim >= reclaimEveryMs) {
            await reclaim(reclaimIdleMs);
          }
          const closing = r.closing;
          const block = closing ? [] : ['BLOCK', blockMs];
          const reply = (await r.conn.xreadgroup(
            'GROUP',
            group,
            node,
            'COUNT',
            batch,
            ...(block as ['BLOCK', number]),
            'STREAMS',
            key,
            '>',
          )) as StreamReply;
          const entries = reply?.[0]?.[1] ?? [];
          await handle(entries);
          if (closing && entries.length === 0) return;
        } catch (error) {
          if (r.stopped || abandoned) return;
          options.onError?.(error);
          // A Redis that restarted without its data: the group comes back and reads the new stream from its start.
          if (String(error).includes('NOGROUP')) await ensureGroup(key, group, '0').catch(() => undefined);
          await pause(r, 200);
        }
      }
    }

    const reader: Reader = Object.assign(r, {
      loop: run().finally(async () => {
        clearInterval(renew);
        if (holding && !abandoned) await cmd.eval(RELEASE, 1, lease, node).catch(() => undefined);
      }),
    });
    readers.add(reader);
    return reader;
  }

  /** Creates the consumer group (and the stream) unless it exists. */
  async function ensureGroup(key: string, group: string, from: '$' | '0'): Promise<void> {
    try {
      await cmd.xgroup('CREATE', key, group, from, 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  async function lastId(key: string): Promise<string> {
    try {
      const info = (await cmd.xinfo('STREAM', key)) as unknown[];
      const i = info.indexOf('last-generated-id');
      return i >= 0 ? String(info[i + 1]) : '0-0';
    } catch {
      return '0-0'; // no stream yet: everything that comes is new
    }
  }

  /** A fan-out subscriber on this node: its own queue, drained in order, so a failing one holds up no other. */
  interface FanoutSub {
    handler: Handler<EventType>;
    /** The stream's last id when it subscribed: it gets entries after it. */
    from: string;
    queue: BusEvent[];
    running: Promise<void> | null;
    stopped: boolean;
  }
  /** Most events a subscriber's queue holds before the type's reader waits for it. */
  const FANOUT_QUEUE_MAX = 1000;

  function drainSub(type: EventType, sub: FanoutSub): Promise<void> {
    sub.running ??= (async () => {
      while (sub.queue.length > 0 && !sub.stopped && !abandoned) {
        await deliver(type, 'fanout', sub.handler, sub.queue[0]!);
        sub.queue.shift();
      }
      sub.running = null;
    })();
    return sub.running;
  }

  /**
   * One reader per type on this node for all its fan-out subscribers: one `XREAD` and one
   * `JSON.parse` per entry, handed to each subscriber's queue (the entries after its `from`).
   */
  function fanoutReader(type: EventType, subs: Set<FanoutSub>, from: string): Reader {
    const key = streamKey(type);
    const r = newReader();
    let last = from;
    async function run(): Promise<void> {
      while (!r.stopped && !abandoned) {
        try {
          const closing = r.closing;
          const block = closing ? [] : ['BLOCK', blockMs];
          const reply = (await r.conn.xread('COUNT', batch, ...(block as ['BLOCK', number]), 'STREAMS', key, last)) as StreamReply;
          const entries = reply?.[0]?.[1] ?? [];
          for (const [id, fields] of entries) {
            if (r.stopped || abandoned) return;
            last = afterId(id, last) ? id : last;
            const event = parse(fields);
            if (!event) continue;
            for (const sub of subs) {
              if (sub.stopped || !afterId(id, sub.from)) continue;
              sub.queue.push(event);
              void drainSub(type, sub);
            }
            // A subscriber far behind: wait for it rather than hold an unbounded backlog in memory.
            for (const sub of subs) while (sub.queue.length > FANOUT_QUEUE_MAX && sub.running && !r.stopped) await sub.running;
          }
          if (closing && entries.length === 0) break;
        } catch (error) {
          if (r.stopped || abandoned) return;
          options.onError?.(error);
          await pause(r, 200);
        }
      }
      // Closing: what was handed over is delivered before the reader counts as stopped.
      if (!r.stopped && !abandoned) await Promise.all([...subs].map((sub) => drainSub(type, sub)));
    }
    const reader: Reader = Object.assign(r, { loop: run() });
    readers.add(reader);
    return reader;
  }

  /** This node's fan-out readers by type, with their subscribers. */
  const fanouts = new Map<EventType, { reader: Reader; subs: Set<FanoutSub> }>();

  /** This node's work readers by type and group, with their handlers. */
  const groups = new Map<string, { reader: Reader; handlers: Handler<EventType>[] }>();

  return {
    kind: 'redis',
    async publish<T extends EventType>(event: EventOf<T>) {
      if (closed) throw new Error('bus is closed');
      assertValidEvent(event);
      await cmd.xadd(streamKey(event.type as EventType), 'MAXLEN', '~', maxLen, '*', 'e', JSON.stringify(event));
    },
    async subscribe<T extends EventType>(type: T, group: string, handler: Handler<T>): Promise<Subscription> {
      if (closed) throw new Error('bus is closed');
      const id = `${type}\n${group}`;
      let entry = groups.get(id);
      if (!entry) {
        await ensureGroup(streamKey(type), group, '$');
        const handlers: Handler<EventType>[] = [];
        entry = { reader: workReader(type, group, handlers), handlers };
        groups.set(id, entry);
      }
      const mine = entry;
      const h = handler as Handler<EventType>;
      mine.handlers.push(h);
      return {
        unsubscribe: async () => {
          const i = mine.handlers.indexOf(h);
          if (i >= 0) mine.handlers.splice(i, 1);
          if (mine.handlers.length === 0 && groups.get(id) === mine) {
            groups.delete(id);
            await stop(mine.reader, false);
          }
        },
      };
    },
    async subscribeAll<T extends EventType>(type: T, handler: Handler<T>): Promise<Subscription> {
      if (closed) throw new Error('bus is closed');
      const from = await lastId(streamKey(type));
      if (closed) throw new Error('bus is closed');
      const sub: FanoutSub = { handler: handler as Handler<EventType>, from, queue: [], running: null, stopped: false };
      let entry = fanouts.get(type);
      if (!entry) {
        const subs = new Set<FanoutSub>();
        entry = { reader: fanoutReader(type, subs, from), subs };
        fanouts.set(type, entry);
      }
      const mine = entry;
      mine.subs.add(sub);
      return {
        unsubscribe: async () => {
          sub.stopped = true;
          sub.queue.length = 0;
          mine.subs.delete(sub);
          await sub.running;
          if (mine.subs.size === 0 && fanouts.get(type) === mine) {
            fanouts.delete(type);
            await stop(mine.reader, false);
          }
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Readers take what was published before the close without blocking, hand it over, then stop.
      await Promise.all([...readers].map((r) => stop(r, true)));
      groups.clear();
      fanouts.clear();
      cmd.disconnect();
      conns.clear();
    },
    abandon() {
      closed = true;
      abandoned = true;
      for (const r of readers) {
        r.stopped = true;
        r.wake();
      }
      for (const c of conns) c.disconnect();
      conns.clear();
    },
  };
}

/**
 * Connections for `HUILIU_REDIS_NODES` (DESIGN §5): one `host:port` is a single Redis, several are
 * Redis Cluster seed nodes.
 */
export function redisConnector(nodes: readonly string[]): () => RedisConnection {
  const parsed = nodes.map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
  if (parsed.length === 1) return () => new Redis({ ...parsed[0]!, maxRetriesPerRequest: null });
  return () => new Cluster(parsed, { redisOptions: { maxRetriesPerRequest: null } });
}
