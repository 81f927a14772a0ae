import type { Cluster, Redis } from 'ioredis';
import { HuiliuError } from '../../../common/errors/codes';
import { sessionHashTag } from '../../../common/message/session-id';
import type { RoutingDecision } from '../../../common/routing/types';
import { createRedisIo, isRedisCluster } from '../sessions/redis-io';
import type { LogPage } from '../sessions/store';
import {
  causeOf,
  checkAfter,
  checkDecision,
  checkWindow,
  logLimit,
  sameAppend,
  toOffer,
  type DecisionInput,
  type LogFilter,
  type LoggedDecision,
  type RoutingLog,
} from './decisions';
import { RLOG_LIBRARY, RLOG_LIBRARY_VERSION } from './decisions.redis.lua';

/**
 * The routing decisions port on Redis Cluster (ioredis `Cluster`), docs/store.md "The routing decisions
 * port". `P` = prefix, `{…}` = hash tag, Ts = `sessionHashTag(sessionId)` (the conversations adapter's
 * tag of that session), `m` = minutes since the epoch of the entry's `at`, `s` = the session's shard
 * (`Number(Ts) mod SHARDS`), `b` = m × 16 + s (the bucket), `h` = ⌊m / 60⌋:
 *
 * | key | type | what |
 * |---|---|---|
 * | `P:rl:{rl<b>}:r` | hash | entry id → `<n, 7 digits><body JSON>` (idempotency and the stored entry) |
 * | `P:rl:{rl<b>}:a` / `:n` / `:o` | zset | window indexes (all / first decisions / offers): score 0, member `<atMs>:<b>:<n>:<id>` (lex order = (at, seq)) |
 * | `P:rl:{rl<b>}:c` | string | the bucket's counter `n` |
 * | `P:rl:{rlh<h>}` | set | the buckets `b` of hour `h` that may hold entries (a superset: written before the bucket) |
 * | `P:{Ts}:rd:<sessionId>` | zset | the session's entries: score seq, member the entry JSON (in the session's slot) |
 *
 * `seq` = b × 2^20 + n: unique (one counter per bucket), increasing with time across minutes and with
 * append order within a session's bucket, below 2^53 until the year 3000. A window reads the hour sets
 * of its hours, then only the buckets they name, minute by minute, and stops when the page is full: no
 * KEYS/SCAN, a bounded number of keys (`stats`). Writes spread over 16 × 1,440 bucket slots a day (a
 * minute's writes over `SHARDS` slots) — no permanently hot slot.
 *
 * An append is three writes on three slots, in this order, each acked only after `WAIT` (redis-io.ts):
 * the hour set (once per process per bucket), `rlog_append` on the bucket (idempotent on the id: a retry
 * answers the stored entry), then ZADD NX of the entry in the session's zset (identical member on a
 * retry). A crash between them leaves an entry in the window without its session copy until the
 * caller's retry (same id and `at`) completes it; never a session entry missing from its window.
 */
export interface RedisRoutingLogOptions {
  redis: Cluster | Redis;
  /** Key prefix; default `huiliu`. */
  prefix?: string;
  /** Replicas that must acknowledge a write before it resolves (default 1; 0 for a single node). */
  waitReplicas?: number;
  /** How long one `WAIT` may block, ms (default 1,000). */
  waitMs?: number;
  /** How long a write keeps retrying through a failover, ms (default 20,000). */
  retryMs?: number;
  /** Tests only: runs between the bucket write and the session copy (throw to simulate a crash there). */
  afterBucketWrite?: (id: string) => void;
}

export interface RedisRoutingLog extends RoutingLog {
  readonly kind: 'redis';
  readonly layout: RoutingLogLayout;
  /** Keys read by window reads since the store was opened: hour sets and bucket pages (tests, metrics). */
  stats(): { hourSetsRead: number; bucketPagesRead: number };
}

/** Shards per minute: a minute's appends spread over this many slots (at most 16, see `seq`). */
export const SHARDS = 4;
const N_BITS = 2 ** 20;
const MINUTE = 60_000;
const HOUR_MINUTES = 60;
/** The longest window one read may span: 62 days of hour sets. */
const MAX_WINDOW_HOURS = 62 * 24;

export const bucketOf = (atMs: number, sessionId: string) => Math.floor(atMs / MINUTE) * 16 + (Number(sessionHashTag(sessionId)) % SHARDS);
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function routingLogLayout(prefix = 'huiliu') {
  return {
    bodies: (b: number) => `${prefix}:rl:{rl${b}}:r`,
    index: (b: number, filter: LogFilter) => `${prefix}:rl:{rl${b}}:${filter === 'all' ? 'a' : filter === 'new' ? 'n' : 'o'}`,
    counter: (b: number) => `${prefix}:rl:{rl${b}}:c`,
    hour: (h: number) => `${prefix}:rl:{rlh${h}}`,
    session: (sessionId: string) => `${prefix}:{${sessionHashTag(sessionId)}}:rd:${sessionId}`,
  };
}
export type RoutingLogLayout = ReturnType<typeof routingLogLayout>;

/** The compact body stored in a bucket (no seq: it follows from the bucket and n). */
interface Body {
  id: string;
  s: string;
  at: string;
  cv: number;
  c: string;
  o: string | null;
  d: RoutingDecision;
}

const toEntry = (seq: number, b: Body): LoggedDecision => ({
  seq,
  id: b.id,
  sessionId: b.s,
  at: b.at,
  configVersion: b.cv,
  cause: b.c,
  offeredTo: b.o,
  decision: b.d,
});

/** The session zset's member for a stored bucket entry: the body with its seq (the same string on every retry). */
const sessionMember = (seq: number, body: string) => `{"seq":${seq},${body.slice(1)}`;
const fromSessionMember = (member: string): LoggedDecision => {
  const { seq, ...b } = JSON.parse(member) as Body & { seq: number };
  return toEntry(seq, b);
};
const byAtSeq = (x: LoggedDecision, y: LoggedDecision) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.seq - y.seq);

const STATUS_CODES: readonly string[] = ['LOG_BUCKET_FULL'];
function mapError(error: unknown): never {
  const m = error instanceof Error ? error.message : String(error);
  if (STATUS_CODES.some((c) => m === c || m.startsWith(`${c} `)))
    throw new HuiliuError('NOT_READY', 'The routing log bucket is full this minute.');
  throw error;
}

/** Opens the adapter: loads the function library on every master (FUNCTION LOAD REPLACE when older). */
export async function createRedisRoutingLog(options: RedisRoutingLogOptions): Promise<RedisRoutingLog> {
  const redis = options.redis;
  const L = routingLogLayout(options.prefix);
  const cluster = isRedisCluster(redis);
  async function loadLibrary(): Promise<void> {
    const masters = cluster ? (redis as Cluster).nodes('master') : [redis as Redis];
    await Promise.all(
      masters.map(async (node) => {
        const have = await node.call('FCALL', 'rlog_version', 0).catch(() => null);
        if (!(Number(have) >= RLOG_LIBRARY_VERSION)) await node.call('FUNCTION', 'LOAD', 'REPLACE', RLOG_LIBRARY);
      }),
    );
  }
  const io = createRedisIo({
    redis,
    waitReplicas: options.waitReplicas ?? 1,
    waitMs: options.waitMs ?? 1000,
    retryMs: options.retryMs ?? 20_000,
    loadLibrary,
    mapError,
  });
  await loadLibrary();

  // Hour sets this process has durably written (one write per bucket per process): bounded.
  const marked = new Set<string>();
  const counts = { hourSetsRead: 0, bucketPagesRead: 0 };

  /** Reads one page of bucket `b`'s index within [min, max] (ZRANGE BYLEX bounds). */
  async function bucketPage(b: number, filter: LogFilter, min: string, max: string, limit: number) {
    counts.bucketPagesRead += 1;
    const flat = (await io.read(() => redis.call('FCALL', 'rlog_page', 2, L.index(b, filter), L.bodies(b), min, max, limit))) as string[];
    const out: { member: string; entry: LoggedDecision }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const member = flat[i]!;
      const stored = flat[i + 1]!;
      if (!stored) continue;
      const seq = b * N_BITS + Number(member.slice(25, 32));
      out.push({ member, entry: toEntry(seq, JSON.parse(stored.slice(7)) as Body) });
    }
    return out;
  }

  async function window(from: string, to: string, page: LogPage & { filter?: LogFilter } = {}): Promise<LoggedDecision[]> {
    const { fromMs, toMs } = checkWindow(from, to);
    const limit = logLimit(page.limit);
    const filter = page.filter ?? 'all';
    if (toMs <= fromMs) return [];
    // Members are `<atMs 13>:<b 10>:<n 7>:<id>`; the cursor's members and smaller are excluded with `(`… `;`.
    let min = `[${pad(fromMs, 13)}`;
    let startMs = fromMs;
    const after = checkAfter(page);
    if (after && after.atMs >= fromMs) {
      const b = Math.floor(after.seq / N_BITS);
      min = `(${pad(after.atMs, 13)}:${pad(b, 10)}:${pad(after.seq % N_BITS, 7)};`;
      startMs = after.atMs;
    }
    const max = `(${pad(toMs, 13)}`;
    const firstHour = Math.floor(startMs / (HOUR_MINUTES * MINUTE));
    const lastHour = Math.floor((toMs - 1) / (HOUR_MINUTES * MINUTE));
    if (lastHour - Math.floor(fromMs / (HOUR_MINUTES * MINUTE)) + 1 > MAX_WINDOW_HOURS)
      throw new HuiliuError('VALIDATION_FAILED', 'window: at most 62 days per read');
    const firstMinute = Math.floor(startMs / MINUTE);
    const lastMinute = Math.floor((toMs - 1) / MINUTE);
    const out: LoggedDecision[] = [];
    // Hour sets in batches of 24 (a day), then each minute's buckets in parallel, in minute order.
    for (let h0 = firstHour; h0 <= lastHour && out.length < limit; h0 += 24) {
      const hours = Array.from({ length: Math.min(24, lastHour - h0 + 1) }, (_, i) => h0 + i);
      counts.hourSetsRead += hours.length;
      const sets = await Promise.all(hours.map((h) => io.read(() => redis.smembers(L.hour(h)))));
      const byMinute = new Map<number, number[]>();
      for (const b of sets.flat().map(Number)) {
        const minute = Math.floor(b / 16);
        if (minute < firstMinute || minute > lastMinute) continue;
        const list = byMinute.get(minute);
        if (list) list.push(b);
        else byMinute.set(minute, [b]);
      }
      for (const minute of [...byMinute.keys()].sort((x, y) => x - y)) {
        const need = limit - out.length;
        const pages = await Promise.all(byMinute.get(minute)!.map((b) => bucketPage(b, filter, min, max, need)));
        const merged = pages.flat().sort((x, y) => (x.member < y.member ? -1 : x.member > y.member ? 1 : 0));
        for (const { entry } of merged.slice(0, need)) out.push(entry);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  return {
    kind: 'redis',
    layout: L,
    stats: () => ({ ...counts }),

    async append(input: DecisionInput) {
      const decision = checkDecision(input);
      let atMs: number;
      let b: number;
      try {
        atMs = Date.parse(input.at);
        b = bucketOf(atMs, input.sessionId);
      } catch {
        throw new HuiliuError('VALIDATION_FAILED', 'decision sessionId: not a session ID');
      }
      if (atMs < 1e12 || atMs >= 1e13) throw new HuiliuError('VALIDATION_FAILED', 'decision at: between 2001 and 2286');
      const hour = Math.floor(atMs / (HOUR_MINUTES * MINUTE));
      const mark = `${hour}|${b}`;
      if (!marked.has(mark)) {
        // Before the bucket: the hour set is a superset of the buckets holding entries.
        await io.durable((p) => p.sadd(L.hour(hour), String(b)), { idempotent: true });
        if (marked.size > 10_000) marked.clear();
        marked.add(mark);
      }
      const cause = causeOf(decision);
      const body: Body = {
        id: input.id,
        s: input.sessionId,
        at: input.at,
        cv: decision.offerConfigVersion ?? decision.configVersion,
        c: cause,
        o: decision.offeredTo,
        d: decision,
      };
      // Sent more than once (a WAIT that fell short, a failover): a 'dup' may be this call's own first attempt.
      let attempts = 0;
      const [reply] = (await io.durable(
        (p) => {
          attempts += 1;
          p.call(
            'FCALL',
            'rlog_append',
            5,
            L.bodies(b),
            L.index(b, 'all'),
            L.index(b, 'new'),
            L.index(b, 'offers'),
            L.counter(b),
            input.id,
            pad(atMs, 13),
            pad(b, 10),
            cause === 'new' ? '1' : '0',
            decision.offeredTo !== null ? '1' : '0',
            JSON.stringify(body),
          );
        },
        { idempotent: true },
      )) as [[string, string]];
      const [outcome, stored] = reply;
      const seq = b * N_BITS + Number(stored.slice(0, 7));
      const storedBody = stored.slice(7);
      const entry = toEntry(seq, JSON.parse(storedBody) as Body);
      if (outcome === 'dup') sameAppend(entry, input, decision);
      options.afterBucketWrite?.(input.id);
      // The session's copy, in the session's slot; a retry finds the identical member.
      await io.durable((p) => p.call('FCALL', 'rlog_session', 1, L.session(input.sessionId), String(seq), sessionMember(seq, storedBody)), {
        idempotent: true,
      });
      return { entry, duplicate: outcome === 'dup' && attempts === 1 };
    },

    async ofSession(sessionId) {
      let key: string;
      try {
        key = L.session(sessionId);
      } catch {
        return [];
      }
      const members = await io.read(() => redis.zrange(key, 0, -1));
      return members.map(fromSessionMember).sort(byAtSeq);
    },

    between: window,

    async offers(from, to, page = {}) {
      return (await window(from, to, { ...page, filter: 'offers' })).map(toOffer);
    },

    async shutdown() {
      marked.clear();
    },
  };
}
