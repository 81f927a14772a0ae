import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { HuiliuError } from '../../../common/errors/codes';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { createRedisIo, RedisDataKeys } from '../sessions/redis-io';
import { INDEX_KEY_OWNER } from '../sessions/sqlite-rows';

/** Why an entry of the log was not applied (stable: the `reason` label of `huiliu_erasure_log_rejected_total` and of the log line). */
export type ErasureEntryRejection =
  /** No MAC, a MAC that does not verify under the deployment's log key, or an entry format this node does not know. */
  | 'ERASURE_ENTRY_UNVERIFIED'
  /** Larger than `maxEntryBytes` (field names and values summed): measured in Redis and never read whole. */
  | 'ERASURE_ENTRY_TOO_LARGE'
  /** Verified, but its ids or identity hashes are not in the recorded shape (a bug, never applied). */
  | 'ERASURE_ENTRY_MALFORMED';

/** One verified entry, as `apply` gets it: ids and blind hashes only (no PII). */
export interface ErasureEntry {
  /** The stream entry id (`<ms>-<seq>`). */
  id: string;
  /** The customers erased (the whole merge group the approving node knew). */
  customerIds: string[];
  /** Their identities' blind hashes when erased: `<channel>:<64 hex HMAC of the external id>` (the port's lookup names). */
  identities: string[];
  /** When the erasure was approved (ISO 8601, the approving node's clock). */
  at: string;
}

export interface SharedErasureLogOptions {
  redis: Cluster | Redis;
  /** The deployment's key prefix (`HUILIU_REDIS_PREFIX`): the log is `<prefix>:privacy:erased`. */
  prefix: string;
  /** This node's database file: the cursor of the entries it applied (`privacy_erasure_cursor`). */
  path: string;
  /**
   * The server's KeyProvider. Entries are MACed (HMAC-SHA256) under a key derived (HKDF-SHA256, label
   * `huiliu:erasure-log:mac:v2`) from the cluster's blind-index data key `<prefix>:dk:{index}`, which is
   * stored wrapped by the KEK: only a holder of the KEK (key file or HSM) can write an entry nodes apply.
   */
  keys: KeyProvider;
  /**
   * Applies one recorded erasure to this node (its SQLite shred, caches): must be idempotent (it runs
   * again on the approving node, and after a crash between applying and moving the cursor). The entry's
   * identity hashes are already kept in this file (`privacy_erased_identities`) when it is called.
   */
  apply(customerIds: readonly string[], entry: ErasureEntry): Promise<void>;
  /** Entries read per round trip; default 100. */
  batch?: number;
  /** Replicas that must acknowledge a recorded erasure (default 1), and how long a write retries (ms, default 20,000). */
  waitReplicas?: number;
  retryMs?: number;
  /** How long entries are kept, ms (default 180 days) by the Redis server's clock: `record` trims older ones (XTRIM MINID). */
  retentionMs?: number;
  /** Entries larger than this many bytes (field names and values) are refused unread (default 65,536). */
  maxEntryBytes?: number;
  /**
   * Operator override (`HUILIU_ERASURE_LOG_ACCEPT_GAP=1`, docs/operations.md): a gap (entries after this
   * node's cursor trimmed or deleted) is logged through `onGap` and passed instead of failing with
   * `ErasureLogGapError`. Default false.
   */
  acceptGap?: boolean;
  /** Told about each entry not applied (ids and a stable reason only: safe to log). */
  onRejected?: (entryId: string, reason: ErasureEntryRejection) => void;
  /** Told about a gap passed under `acceptGap` (stream ids only). */
  onGap?: (gap: { cursor: string; lastDeleted: string }) => void;
  /** Counts refused entries in `huiliu_erasure_log_rejected_total{reason}` when given. */
  registry?: Registry;
  now?: () => number;
}

export interface SharedErasureLog {
  /** The log's Redis key. */
  readonly key: string;
  /**
   * Records that these customers were erased (the approving node, before the request is recorded
   * executed): MACed stream entries with their ids, their identities' blind hashes
   * (`<channel>:<64 hex>`, no plaintext) and the time, durable on the master and a replica. Split into
   * several entries when one would exceed `maxEntryBytes`. Entries older than the retention are trimmed.
   * @throws HuiliuError NOT_READY when no replica acknowledged (the request fails; filing again retries);
   *   VALIDATION_FAILED for an id with a comma, space or control character, or a hash not in that shape
   */
  record(customerIds: readonly string[], identities?: readonly string[]): Promise<void>;
  /**
   * Applies, in order, every entry this node's file has not applied yet, moving the cursor after each.
   * Entries that fail verification or are too large are skipped (counted, `onRejected`), never applied
   * and never blocking later ones. One run at a time (a call while one runs waits for it, then reads on
   * from its cursor). Answers how many entries and customer ids this call applied and refused.
   * @throws ErasureLogGapError (`code` ERASURE_LOG_GAP) when entries after this node's cursor were trimmed or deleted
   *   (it was down longer than the retention; the log deleted or recreated) and `acceptGap` is not set: the
   *   entries still after the gap were applied all the same (a running node keeps shredding), but the file's
   *   cursor stays before the gap, so every start reports it. With `acceptGap` the cursor moves past the gap
   *   at once (one override suffices).
   */
  catchUp(): Promise<{ entries: number; customers: number; rejected: number }>;
  /** Resolves when no catch-up is running (shutdown). */
  idle(): Promise<void>;
}

/**
 * A node's start refused (operators' code `ERASURE_LOG_GAP`, docs/operations.md): entries after its
 * cursor were trimmed (retention) or deleted, so erasures it missed can no longer be applied. Not an
 * API error (no client sees it): `main()` prints the code, the message and `details` and exits 78.
 */
export class ErasureLogGapError extends Error {
  readonly code = 'ERASURE_LOG_GAP' as const;
  constructor(
    /**
     * Stream ids only: the log's key, this node's cursor, the largest entry id removed (`unknown` when
     * the log was deleted, or cut by hand, past this node's cursor: its entry is gone, uncounted).
     */
    readonly details: { log: string; cursor: string; lastDeleted: string },
  ) {
    super(
      `erasures this node missed are no longer in the cluster erasure log ${details.log} (cursor ${details.cursor}, ` +
        `entries up to ${details.lastDeleted} removed): do not reuse this file, or re-run the missed erasures and start once ` +
        'with HUILIU_ERASURE_LOG_ACCEPT_GAP=1 (docs/operations.md, ERASURE_LOG_GAP)',
    );
    this.name = 'ErasureLogGapError';
  }
}

const ENTRY_VERSION = '2';
const DAY_MS = 24 * 3600_000;
const IDENTITY = /^[A-Z]{2}:[0-9a-f]{64}$/;
/** A customer id as the log carries it: 1–200 printable characters without a comma or space. */
const CUSTOMER_ID = /^[!-+\--~]{1,200}$/;

/**
 * XRANGE from an exclusive cursor, but an entry whose fields sum to more than ARGV[3] bytes comes back
 * as `{id, {'oversize', n}}`: Redis measures it, the node never receives it whole.
 */
const READ_BOUNDED = `
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
local max = tonumber(ARGV[3])
for i, e in ipairs(entries) do
  local n = 0
  for _, v in ipairs(e[2]) do n = n + #v end
  if n > max then entries[i] = {e[1], {'oversize', tostring(n)}} end
end
return entries`;

/**
 * XADD, then the entries older than ARGV[1] ms by the Redis server's clock trimmed (XTRIM MINID) and
 * the largest trimmed id kept as the stream's `max-deleted-entry-id` (XSETID MAXDELETEDID: XTRIM alone
 * does not set it in Redis 7.0), so a node whose cursor is behind it knows it missed entries.
 * ARGV[2..] the entry's fields. Reply: the new entry's id.
 */
const APPEND_TRIMMED = `
local function later(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local t = redis.call('TIME')
local minId = string.format('%d-0', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1]))
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
local old = redis.call('XREVRANGE', KEYS[1], '(' .. minId, '-', 'COUNT', 1)
if #old > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', minId)
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local deleted = '0-0'
  for i = 1, #info, 2 do if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end end
  if later(old[1][1], deleted) then redis.call('XSETID', KEYS[1], id, 'MAXDELETEDID', old[1][1]) end
end
return id`;

/** Stream ids compare as (ms, seq). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map((x) => BigInt(x || '0'));
  const [bm, bs] = b.split('-').map((x) => BigInt(x || '0'));
  if (am! !== bm!) return am! < bm! ? -1 : 1;
  if ((as ?? 0n) !== (bs ?? 0n)) return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
  return 0;
}

/**
 * Issue 14, `HUILIU_STORE=redis` (docs/store.md "Erasures a stopped node missed"): the cluster's log of
 * approved erasures. Every running node shreds its own SQLite on `customer.erased`, but a node that was
 * stopped then never sees that event; the log makes the erasure durable: the approving node appends
 * the erased customer ids and their identities' blind hashes (a Redis stream, no PII, each entry MACed
 * under a key only KEK holders have), and every node applies the verified entries after its cursor
 * (kept in its own SQLite) at start, on `customer.erased`, when its cluster connection is ready again,
 * and on a timer. Entries older than the retention (default 180 days) are trimmed; a node whose cursor
 * is behind a trimmed or deleted entry fails with `ERASURE_LOG_GAP` unless the operator overrides.
 */
export function createSharedErasureLog(options: SharedErasureLogOptions): SharedErasureLog {
  const key = `${options.prefix}:privacy:erased`;
  const io = createRedisIo({
    redis: options.redis,
    waitReplicas: options.waitReplicas ?? 1,
    waitMs: 1000,
    retryMs: options.retryMs ?? 20_000,
    loadLibrary: async () => undefined,
    mapError: (error) => {
      throw error;
    },
  });
  const dataKeys = new RedisDataKeys(options.redis, io, options.keys, options.prefix);
  const now = () => (options.now ?? Date.now)();
  const batch = options.batch ?? 100;
  const retentionMs = options.retentionMs ?? 180 * DAY_MS;
  const maxEntryBytes = options.maxEntryBytes ?? 65_536;
  const rejectedTotal = options.registry
    ? new Counter({
        name: 'huiliu_erasure_log_rejected_total',
        help: 'Entries of the cluster erasure log this node refused (not applied), by reason',
        labelNames: ['reason'] as const,
        registers: [options.registry],
      })
    : null;
  let macKey: Buffer | null = null;
  /** How far this process applied past a gap it may not pass (`resume`: the gap's), kept in memory only. */
  let pastGap: { resume: string; id: string } | null = null;
  // One run at a time: each call runs after the one before it (an empty read when nothing is new).
  let queue: Promise<unknown> = Promise.resolve();

  async function mac(ids: string, identities: string, at: string): Promise<Buffer> {
    macKey ??= Buffer.from(
      hkdfSync('sha256', (await dataKeys.get(INDEX_KEY_OWNER, true))!, Buffer.alloc(0), 'huiliu:erasure-log:mac:v2', 32),
    );
    return createHmac('sha256', macKey).update([key, ENTRY_VERSION, ids, identities, at].join('\n')).digest();
  }

  /** The entry verified and parsed, or why it is refused. */
  async function verify(id: string, fields: string[]): Promise<ErasureEntry | ErasureEntryRejection> {
    if (fields[0] === 'oversize') return 'ERASURE_ENTRY_TOO_LARGE';
    const get = (name: string) => fieldOf(fields, name);
    const [v, ids, identities, at, tag] = [get('v'), get('ids'), get('idh') ?? '', get('at'), get('mac')];
    if (v !== ENTRY_VERSION || ids === undefined || at === undefined || !tag || !/^[0-9a-f]{64}$/.test(tag)) {
      return 'ERASURE_ENTRY_UNVERIFIED';
    }
    const expected = await mac(ids, identities, at);
    if (!timingSafeEqual(expected, Buffer.from(tag, 'hex'))) return 'ERASURE_ENTRY_UNVERIFIED';
    const entry = { id, customerIds: ids.split(',').filter(Boolean), identities: identities.split(',').filter(Boolean), at };
    if (!entry.customerIds.every((c) => CUSTOMER_ID.test(c)) || !entry.identities.every((h) => IDENTITY.test(h))) {
      return 'ERASURE_ENTRY_MALFORMED';
    }
    if (Number.isNaN(Date.parse(at))) return 'ERASURE_ENTRY_MALFORMED';
    return entry;
  }

  /**
   * Entries after `cursor` that are gone, as `{ lastDeleted, resume }` (`resume`: where an overridden
   * run reads on from), or null. Redis 7 keeps the largest id XDEL (or `record`'s trim) removed; a
   * stream deleted (DEL, FLUSHALL, a master lost without persistence) or trimmed by hand (XTRIM does
   * not keep that id in Redis 7.0) and perhaps recreated since, so that this node's cursor entry is gone
   * without being counted deleted, is a gap too (`lastDeleted` `unknown`, `resume` `0-0`: every entry of
   * the new stream is new to this node, however its ids compare with the old cursor). A file with no
   * cursor and no customer holds nobody an old erasure could name: no gap for it; nor for one with no
   * cursor and no log yet (no erasure ever recorded). Errors other than a missing log are thrown.
   */
  async function gap(db: Db, cursor: string | null): Promise<{ lastDeleted: string; resume: string } | null> {
    const applied = cursor !== null && cursor !== '0-0';
    const info = (await io.read(() =>
      options.redis.xinfo('STREAM', key).catch((error: unknown) => {
        if (error instanceof Error && /no such key/i.test(error.message)) return null;
        throw error;
      }),
    )) as unknown[] | null;
    if (!info) return applied ? { lastDeleted: 'unknown', resume: '0-0' } : null;
    const lastDeleted = fieldOf(info as string[], 'max-deleted-entry-id') ?? '0-0';
    if (applied && compareIds(lastDeleted, cursor) < 0) {
      // The cursor entry is still there, or it was removed without being counted: the log was cut.
      const at = (await io.read(() => options.redis.xrange(key, cursor, cursor))) as unknown[];
      if (at.length === 0) return { lastDeleted: 'unknown', resume: '0-0' };
    }
    if (lastDeleted === '0-0') return null;
    if (cursor === null) {
      const hasCustomers = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customers'").get()
        ? db.prepare('SELECT 1 FROM customers LIMIT 1').get()
        : undefined;
      if (!hasCustomers) return null;
    }
    return compareIds(lastDeleted, cursor ?? '0-0') > 0 ? { lastDeleted, resume: lastDeleted } : null;
  }

  async function run(): Promise<{ entries: number; customers: number; rejected: number }> {
    const db = openDatabase(options.path);
    try {
      migrate(db, 'privacy', migrationsDir('privacy'));
      const row = db.prepare('SELECT entry_id, applied FROM privacy_erasure_cursor WHERE log = ?').get(key) as
        { entry_id: string; applied: number } | undefined;
      const save = db.prepare(
        `INSERT INTO privacy_erasure_cursor (log, entry_id, applied, updated_at) VALUES (@log, @id, @applied, @at)
         ON CONFLICT(log) DO UPDATE SET entry_id = @id, applied = @applied, updated_at = @at`,
      );
      const keep = db.prepare(
        `INSERT INTO privacy_erased_identities (identity, erased_at) VALUES (?, ?)
         ON CONFLICT(identity) DO UPDATE SET erased_at = max(erased_at, excluded.erased_at)`,
      );
      let cursor = row?.entry_id ?? '0-0';
      let applied = row?.applied ?? 0;
      const iso = () => new Date(now()).toISOString();
      const missed = await gap(db, row?.entry_id ?? null);
      let blocked: ErasureLogGapError | null = null;
      if (missed) {
        const { lastDeleted, resume } = missed;
        if (!options.acceptGap) {
          blocked = new ErasureLogGapError({ log: key, cursor, lastDeleted });
          // The file's cursor stays before the gap (every start reports it), but the entries still in
          // the log are erasures all the same: applied here first, so a running node that a gap reached
          // (an entry deleted, the log deleted and recreated) keeps shredding what is erased after it.
          // From where this process got to (in memory): each run applies only what is new.
          cursor = pastGap?.resume === resume ? pastGap.id : resume;
        }
      }
      if (missed && !blocked) {
        const { lastDeleted, resume } = missed;
        options.onGap?.({ cursor, lastDeleted });
        // Passed once: the cursor moves past the gap now, so the next start needs no override even
        // when no entry follows it (the override does not stay needed, nor hide a later gap).
        cursor = resume;
        save.run({ log: key, id: cursor, applied, at: iso() });
      }
      db.prepare('DELETE FROM privacy_erased_identities WHERE erased_at < ?').run(new Date(now() - retentionMs).toISOString());
      const done = { entries: 0, customers: 0, rejected: 0 };
      for (;;) {
        const entries = (await io.read(() => options.redis.eval(READ_BOUNDED, 1, key, `(${cursor}`, batch, maxEntryBytes))) as [
          string,
          string[],
        ][];
        if (entries.length === 0) {
          if (blocked) throw blocked;
          return done;
        }
        for (const [id, fields] of entries) {
          const entry = await verify(id, fields);
          if (typeof entry === 'string') {
            done.rejected++;
            rejectedTotal?.inc({ reason: entry });
            options.onRejected?.(id, entry);
          } else {
            // The hashes first: this file's copy of pre-redis customers skips whoever held them.
            db.transaction(() => {
              for (const h of entry.identities) keep.run(h, entry.at);
            })();
            if (entry.customerIds.length) await options.apply(entry.customerIds, entry);
            done.entries++;
            done.customers += entry.customerIds.length;
          }
          cursor = id;
          if (blocked) {
            pastGap = { resume: missed!.resume, id };
            continue;
          }
          applied++;
          save.run({ log: key, id, applied, at: iso() });
        }
      }
    } finally {
      db.close();
    }
  }

  return {
    key,

    async record(customerIds, identities = []) {
      if (customerIds.length === 0) return;
      for (const id of customerIds) {
        if (!CUSTOMER_ID.test(id))
          throw new HuiliuError('VALIDATION_FAILED', 'a customer id in an erasure has a comma, space or control character');
      }
      for (const h of identities) {
        if (!IDENTITY.test(h)) throw new HuiliuError('VALIDATION_FAILED', 'an erased identity is not a blind hash <channel>:<64 hex>');
      }
      // Chunks that stay under the read bound (names, MAC, time and separators included).
      const budget = maxEntryBytes - 200 - key.length;
      const chunks: { ids: string[]; identities: string[] }[] = [{ ids: [], identities: [] }];
      let used = 0;
      const add = (kind: 'ids' | 'identities', value: string) => {
        if (used + value.length + 1 > budget && (chunks.at(-1)!.ids.length || chunks.at(-1)!.identities.length)) {
          chunks.push({ ids: [], identities: [] });
          used = 0;
        }
        chunks.at(-1)![kind].push(value);
        used += value.length + 1;
      };
      for (const id of customerIds) add('ids', id);
      for (const h of new Set(identities)) add('identities', h);
      const at = new Date(now()).toISOString();
      for (const chunk of chunks) {
        const ids = chunk.ids.join(',');
        const idh = chunk.identities.join(',');
        const tag = (await mac(ids, idh, at)).toString('hex');
        // A re-sent entry (a reply lost in a failover) is applied twice: shredding is idempotent.
        // The entries older than the retention are trimmed in the same script (exact: few, small entries).
        await io.durable(
          (p) => p.eval(APPEND_TRIMMED, 1, key, retentionMs, 'v', ENTRY_VERSION, 'ids', ids, 'idh', idh, 'at', at, 'mac', tag),
          { idempotent: true },
        );
      }
    },

    catchUp() {
      const next = queue.then(run);
      queue = next.catch(() => undefined);
      return next;
    },

    async idle() {
      await queue;
    },
  };
}

function fieldOf(fields: unknown[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2)
    if (fields[i] === name) return typeof fields[i + 1] === 'string' ? (fields[i + 1] as string) : undefined;
  return undefined;
}

/**
 * When the cluster's erasure log last erased this identity (`<channel>:<64 hex>`, the port's blind
 * hash), as this node's file kept it (`privacy_erased_identities`, filled by `catchUp`); null when it
 * has no record (or the table does not exist yet). `db` is a connection on the node's file.
 */
export function erasedIdentityAt(db: Db): (identity: string) => string | null {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'privacy_erased_identities'").get()) return () => null;
  const q = db.prepare('SELECT erased_at FROM privacy_erased_identities WHERE identity = ?');
  return (identity) => (q.get(identity) as { erased_at: string } | undefined)?.erased_at ?? null;
}
