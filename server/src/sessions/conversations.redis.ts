import { v7 as uuidv7 } from 'uuid';
import type { Cluster, Redis } from 'ioredis';
import { HuiliuError, type ErrorCode } from '../../../common/errors/codes';
import { ENVELOPE_VERSION, type Content, type Envelope } from '../../../common/message/envelope';
import { parseSessionId, sessionHashTag, type ChannelCode } from '../../../common/message/session-id';
import type { AuthorKind } from '../../../common/ai/assist';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import { open, openText, seal, sealText, TamperError } from '../crypto/aead';
import type { KeyProvider } from '../keys/provider';
import {
  contextAad,
  defaultAuthorKind,
  pageSize,
  QUEUE_STATUSES,
  type ConversationStore,
  type QueueStatus,
  type SessionContext,
} from './conversations';
import type { ArchivedRecord, SessionArchive } from './archive';
import { LIBRARY, LIBRARY_VERSION } from './conversations.redis.lua';
import { ConversationRecordCache } from './record-cache';
import {
  BLOCK_RECORDS,
  blockEntry,
  blockHead,
  openBlock,
  pageOf,
  pageStart,
  sealBlock,
  type BlockHead,
  type OpenedBlock,
} from './record-block';
import { blindIndex, customerKeyOwner, INDEX_KEY_OWNER, messageAad } from './sqlite-rows';
import type { SessionRecord } from './store';

/**
 * The conversations port on Redis Cluster (ioredis `Cluster`), DESIGN §2/§3, docs/store.md.
 *
 * Layout (`P` = prefix; `{…}` = the hash tag; Tc = `sessionHashTag` of the conversation's opening session):
 * | key | type | what |
 * |---|---|---|
 * | `P:cv:{<conversationId>}` | string | Tc (immutable pointer, cached) |
 * | `P:{Tc}:c:<conversationId>` | hash | customerId, status, createdAt, updatedAt, retries, base (seqs trimmed after archiving) |
 * | `P:{Tc}:m:<conversationId>` | list | message records: element i is seq base+i+1 (gap-free by construction; '' = removed by retention) |
 * | `P:{Tc}:i:<conversationId>` | hash | `<direction>:<clientMessageId>` → `<seq>:<content HMAC>` |
 * | `P:{Tc}:ss:<conversationId>` | set | the conversation's session ids |
 * | `P:{Tc}:s:<sessionId>` | hash | the session's state (no customer content), `ver` |
 * | `P:{Tc}:x:<sessionId>` | string | the sealed session context |
 * | `P:{Ts}:h:<sessionId>` | string | Tc, when the session joined a conversation another session opened |
 * | `P:q:{<skillGroup>}:<status>` | zset | queue index: score waitingSince ms, member session id |
 * | `P:q:{<skillGroup>}:meta` | hash | index bookkeeping: writers in flight, newest version |
 * | `P:dk:{<owner>}` | string | a data key wrapped by the KEK: `len(kekId) ‖ kekId ‖ wrapped` |
 *
 * Everything a conversation writes together is in one slot and written by one Redis function; the
 * queue index of a skill group is in the group's slot, so it is kept by a protocol (docs/store.md):
 * add the prospective entry first, write the state, reconcile after — the index is always a superset
 * of the truth, readers verify each entry against the session and repair what they find stale.
 *
 * Durability: every write is followed, on the same connection to the master of its slot, by
 * `WAIT 1 <waitMs>`; it resolves only when at least one replica acknowledged it (NOT_READY otherwise).
 */
export interface RedisConversationOptions {
  /** A connected ioredis Cluster (or, for a single node without replicas, `waitReplicas: 0`). */
  redis: Cluster | Redis;
  keys: KeyProvider;
  /** Key prefix; default `huiliu`. */
  prefix?: string;
  /** Replicas that must acknowledge a write before it resolves (default 1). */
  waitReplicas?: number;
  /** How long one `WAIT` may block, ms (default 1,000). */
  waitMs?: number;
  /** How long a write keeps retrying through a failover (MOVED, CLUSTERDOWN, a lost link), ms (default 20,000). */
  retryMs?: number;
  now?: () => number;
  /** Bytes of opened records kept in memory (`ConversationRecordCache`); default 32 MiB, 0 off. */
  openedCacheBytes?: number;
  /** Tests only: runs between a state write and its index reconcile (throw to simulate a crash there). */
  afterStateWrite?: (sessionId: string) => void;
  /**
   * Where records trimmed after archiving are read back from (archive.ts, PostgreSQL): history reads of
   * seqs below the conversation's `base` go there. Also settable later with `useArchive`.
   */
  archive?: ArchiveReader;
}

/** What the adapter reads from the session archive: its records of a conversation (archive.ts). */
export type ArchiveReader = Pick<SessionArchive, 'records'>;

/** What `trimArchived` did (docs/store.md "Trim after archive"). */
export type TrimOutcome = 'trimmed' | 'done' | 'open' | 'short' | 'changed' | 'unknown';

/** The Redis adapter's extras beyond the port: the repair sweep and the key layout for tests and tools. */
export interface RedisConversationStore extends ConversationStore {
  readonly kind: 'redis';
  /**
   * Repairs one skill group's queue indexes after a crashed writer: every entry is checked against its
   * session and the index made exact (`force`: even for sessions whose writer never came back).
   * Answers how many entries were removed.
   */
  repairQueue(skillGroup: string, options?: { force?: boolean }): Promise<number>;
  /** Raw index members of one group and status, unverified (tests). */
  queueIndex(skillGroup: string, status: QueueStatus): Promise<string[]>;
  /**
   * The conversation's stored records after `afterSeq` (default 0), oldest first, at most `limit` (default
   * 100, at most 1,000), still sealed: what the session archive (archive.ts) copies.
   */
  sealedRecords(conversationId: string, options?: { afterSeq?: number; limit?: number }): Promise<ArchivedRecord[]>;
  /**
   * Opens records `sealedRecords` gave (from the archive or here) into envelopes.
   * @throws HuiliuError CUSTOMER_ERASED (the customer's data key is destroyed), INTERNAL (tampered record)
   */
  openSealed(conversationId: string, records: readonly ArchivedRecord[]): Promise<Envelope[]>;
  /** The key names this store uses (tests and tools). */
  readonly layout: Layout;
  /** Reads trimmed (archived) seqs from this archive from now on (main.ts wires it once the archive is open). */
  useArchive(archive: ArchiveReader): void;
  /**
   * Trim after archive (issue 14, docs/store.md): removes the conversation's records up to `throughSeq`
   * from Redis — they must be durably in the archive, `check` (a record the archive holds, at its seq)
   * is compared byte for byte with Redis first — in one Redis function on the conversation's slot, and
   * only while none of its sessions is open. The seq numbering continues from where it was (`base`).
   * Durable (`WAIT`). Answers `trimmed`, `done` (already trimmed that far), `open` (a session is open:
   * nothing trimmed), `short` (Redis has fewer seqs), `changed` (the check did not match), `unknown`
   * (no such conversation).
   * @throws HuiliuError NOT_READY when the trim could not be made durable in time
   */
  trimArchived(conversationId: string, throughSeq: number, check?: ArchivedRecord): Promise<TrimOutcome>;
  /**
   * Retention (issue 17) in Redis: removes a closed session's records still in Redis (each becomes an
   * empty tombstone at its seq, so later seqs keep their numbers) and its sealed context. Answers the
   * number of records removed (0 for a session Redis does not know).
   * @throws HuiliuError SESSION_NOT_CLOSED for a session that is not closed
   */
  pruneSession(sessionId: string): Promise<number>;
  /** The conversation's `base`: seqs up to it were trimmed after archiving (0: none). */
  trimmedThrough(conversationId: string): Promise<number>;
  /**
   * Crypto-erasure (issue 14/17, DESIGN §8): deletes each customer's wrapped data key
   * `P:dk:{customer:<id>}` (durably: on the master and `waitReplicas` replicas, `WAIT`) and drops this
   * process's copies (`forgetCustomers`). Their sealed records stay in Redis but can never be opened
   * again: reads of them answer CUSTOMER_ERASED (410). Idempotent; answers how many keys were deleted.
   * Every other process must call `forgetCustomers` too (the server does it on `customer.erased`).
   * @throws HuiliuError NOT_READY when the deletes could not be made durable in time (retry)
   */
  eraseCustomers(customerIds: readonly string[]): Promise<number>;
  /**
   * Drops this process's unwrapped data keys and opened payloads of these customers (no Redis call).
   * Answers how many cached entries (keys + payloads) were dropped.
   */
  forgetCustomers(customerIds: readonly string[]): number;
  /**
   * The opened-record cache of this process (record-cache.ts): records served from memory (`hits`),
   * opened from Redis (`misses`), records and bytes (estimate) held now. For tests and metrics.
   */
  recordCacheStats(): { hits: number; misses: number; records: number; bytes: number };
  /**
   * Sealed page blocks of this process (record-block.ts, docs/store.md "Sealed page blocks"): records a
   * read took from a block (`fromBlocks`) or opened one by one (`opened`), blocks opened, and block
   * writes stored / refused by Redis. For tests, metrics and the bench.
   */
  blockStats(): { fromBlocks: number; opened: number; blocksOpened: number; written: number; refused: number };
  /** Resolves when the block writes this process started (after appends) have finished. */
  flushBlocks(): Promise<void>;
}

const STATUS_CODES: readonly string[] = [
  'SESSION_NOT_FOUND',
  'SESSION_NOT_CLOSED',
  'SESSION_CLOSED',
  'IDEMPOTENCY_CONFLICT',
  'NOT_ASSIGNED',
  'OFFER_TAKEN',
];

/** The key names of one prefix (see the table above). */
export function redisLayout(prefix = 'huiliu') {
  return {
    conversationTag: (conversationId: string) => `${prefix}:cv:{${conversationId}}`,
    conversation: (tag: string, conversationId: string) => `${prefix}:{${tag}}:c:${conversationId}`,
    messages: (tag: string, conversationId: string) => `${prefix}:{${tag}}:m:${conversationId}`,
    idempotency: (tag: string, conversationId: string) => `${prefix}:{${tag}}:i:${conversationId}`,
    sessionsOf: (tag: string, conversationId: string) => `${prefix}:{${tag}}:ss:${conversationId}`,
    session: (tag: string, sessionId: string) => `${prefix}:{${tag}}:s:${sessionId}`,
    context: (tag: string, sessionId: string) => `${prefix}:{${tag}}:x:${sessionId}`,
    home: (sessionId: string) => `${prefix}:{${sessionHashTag(sessionId)}}:h:${sessionId}`,
    queue: (skillGroup: string): [string, string, string, string] => [
      ...(QUEUE_STATUSES.map((s) => `${prefix}:q:{${skillGroup}}:${s}`) as [string, string, string]),
      `${prefix}:q:{${skillGroup}}:meta`,
    ],
    dataKey: (owner: string) => `${prefix}:dk:{${owner}}`,
    /** Sealed page blocks of a conversation (hash: page index → block, record-block.ts). */
    blocks: (tag: string, conversationId: string) => `${prefix}:{${tag}}:b:${conversationId}`,
  };
}
export type Layout = ReturnType<typeof redisLayout>;

/** Record format of a stored message: 1 | header length (u16 BE) | header JSON | sealed payload. */
const RECORD_V1 = 1;
interface RecordHeader {
  id: string;
  s: string;
  c: string;
  ch: ChannelCode;
  d: 'in' | 'out';
  k: Envelope['kind'];
  cr: 0 | 1;
  m: string;
  a: string | null;
  ak: AuthorKind;
  st: string;
  rt: string;
  /** The data key the payload is sealed with (its owner; the wrapped key names its KEK). */
  key: string;
}

function packRecord(header: RecordHeader, sealed: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(3 + head.length + sealed.length);
  out[0] = RECORD_V1;
  out.writeUInt16BE(head.length, 1);
  head.copy(out, 3);
  sealed.copy(out, 3 + head.length);
  return out;
}

function unpackRecord(record: Buffer): { header: RecordHeader; sealed: Buffer } {
  if (record[0] !== RECORD_V1) throw new HuiliuError('INTERNAL', `unknown message record format ${record[0]}`);
  const n = record.readUInt16BE(1);
  return { header: JSON.parse(record.subarray(3, 3 + n).toString('utf8')) as RecordHeader, sealed: record.subarray(3 + n) };
}

/** A hash reply (flat [field, value, …], strings or Buffers) as a map. */
function fields(flat: unknown[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), String(flat[i + 1]));
  return m;
}

function toSession(f: Map<string, string>): SessionRecord & { ver: number } {
  const opt = (k: string) => f.get(k) ?? null;
  const json = <T>(k: string) => (f.has(k) ? (JSON.parse(f.get(k)!) as T) : null);
  return {
    id: f.get('id')!,
    conversationId: f.get('conversationId')!,
    customerId: f.get('customerId')!,
    channel: f.get('channel') as ChannelCode,
    status: f.get('status') as SessionStatus,
    skillGroup: f.get('skillGroup')!,
    assignedAgentId: opt('assignedAgentId'),
    offeredAgentId: opt('offeredAgentId'),
    offerExpiresAt: opt('offerExpiresAt'),
    routing: json('routing'),
    wrapUpCode: opt('wrapUpCode') as WrapUpCode | null,
    createdAt: f.get('createdAt')!,
    updatedAt: f.get('updatedAt')!,
    waitingSince: f.get('waitingSince')!,
    closedAt: opt('closedAt'),
    lastMessageAt: f.get('lastMessageAt')!,
    handover: json('handover'),
    movedTo: opt('movedTo'),
    movedFrom: opt('movedFrom'),
    ver: Number(f.get('ver') ?? 0),
  };
}

const publicSession = (s: SessionRecord & { ver?: number }): SessionRecord => {
  const { ver: _ver, ...rest } = s;
  return rest;
};

/** Is this error one where the command did not run (or an idempotent retry is safe): a failover in progress. */
function transient(error: unknown): boolean {
  const m = error instanceof Error ? error.message : String(error);
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY)\b|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|NOT_DURABLE/.test(
    m,
  );
}

function mapError(error: unknown): never {
  const m = error instanceof Error ? error.message : String(error);
  const code = STATUS_CODES.find((c) => m === c || m.startsWith(`${c} `) || m.endsWith(` ${c}`));
  if (code) throw new HuiliuError(code as ErrorCode);
  throw error;
}

/** Opens the adapter: loads the function library on every master (FUNCTION LOAD REPLACE). */
export async function createRedisConversationStore(options: RedisConversationOptions): Promise<RedisConversationStore> {
  const redis = options.redis;
  const L = redisLayout(options.prefix);
  const waitReplicas = options.waitReplicas ?? 1;
  const waitMs = options.waitMs ?? 1000;
  const retryMs = options.retryMs ?? 20_000;
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const isCluster = 'nodes' in redis && typeof (redis as Cluster).nodes === 'function' && (redis as Cluster).isCluster;
  // Opened records of recently read conversations (record-cache.ts): re-reads skip the header parse and GCM.
  const recordCache = new ConversationRecordCache<RecordHeader>(options.openedCacheBytes ?? 32 * 1024 * 1024);
  /** Bumped by every `forgetCustomers`: a read that started before it keeps nothing it opened. */
  let forgets = 0;
  const blockCounts = { fromBlocks: 0, opened: 0, blocksOpened: 0, written: 0, refused: 0 };

  async function loadLibrary(): Promise<void> {
    const masters = isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
    await Promise.all(
      masters.map(async (node) => {
        const have = await node.call('FCALL', 'huiliu_version', 0).catch(() => null);
        // Never downgrade: an older library's conv_append ignores `base` (trim after archive, version 3).
        if (!(Number(have) >= LIBRARY_VERSION)) await node.call('FUNCTION', 'LOAD', 'REPLACE', LIBRARY);
      }),
    );
  }

  /**
   * Runs `commands` on the master of their slot, then `WAIT waitReplicas waitMs` on the same connection,
   * retrying transient failover errors until `retryMs`. Answers the replies of `commands`.
   * @throws HuiliuError NOT_READY when no replica acknowledged within the retry budget
   */
  async function durable(build: (p: ReturnType<Cluster['pipeline']>) => void, options: { idempotent: boolean }): Promise<unknown[]> {
    const deadline = Date.now() + retryMs;
    let delay = 50;
    for (;;) {
      try {
        const p = redis.pipeline();
        build(p);
        const n = p.length;
        if (waitReplicas > 0) p.wait(waitReplicas, waitMs);
        const replies = (await p.exec())!;
        for (let i = 0; i < n; i++) if (replies[i]![0]) throw replies[i]![0];
        if (waitReplicas > 0) {
          const acked = Number(replies[n]![1]);
          // Not acknowledged by a replica in time: not acked to the caller either. An idempotent write is
          // retried (its retry writes again, so the next WAIT covers it); others answer NOT_READY.
          if (acked < waitReplicas) throw new Error(`NOT_DURABLE ${acked}/${waitReplicas} replicas`);
        }
        return replies.slice(0, n).map((r) => r[1]);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message.startsWith('ERR Function not found') || message.includes('Library') || message.startsWith('NOSCRIPT')) {
          await loadLibrary();
          continue;
        }
        const retriable = transient(error) && (options.idempotent || !message.startsWith('NOT_DURABLE'));
        if (!retriable || Date.now() > deadline) {
          if (message.startsWith('NOT_DURABLE') || transient(error)) {
            throw new HuiliuError('NOT_READY', 'The session store could not confirm the write on a replica; retry.');
          }
          mapError(error);
        }
        // A redirection or a dead node: the slot map changed (a failover); learn the new one.
        if (isCluster && !message.startsWith('NOT_DURABLE')) (redis as Cluster).refreshSlotsCache();
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 500);
      }
    }
  }

  /** Reads retry through a failover too (they change nothing). */
  async function read<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + retryMs;
    let delay = 50;
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!transient(error) || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 500);
      }
    }
  }

  // ── data keys: wrapped by the KEK in Redis, unwrapped once per process (bounded LRU) ─────────────
  const keyCache = new Map<string, Buffer>();
  const remember = (owner: string, key: Buffer) => {
    keyCache.delete(owner);
    keyCache.set(owner, key);
    if (keyCache.size > 50_000) keyCache.delete(keyCache.keys().next().value!);
    return key;
  };
  const packWrapped = (kekId: string, wrapped: Buffer) =>
    Buffer.concat([Buffer.from([Buffer.byteLength(kekId)]), Buffer.from(kekId), wrapped]);
  async function dataKey(owner: string, create: boolean): Promise<Buffer | null> {
    const hit = keyCache.get(owner);
    if (hit) return remember(owner, hit);
    const stored = await read(() => redis.getBuffer(L.dataKey(owner)));
    if (stored) {
      const n = stored[0]!;
      return remember(
        owner,
        await options.keys.unwrapDataKey({ kekId: stored.subarray(1, 1 + n).toString(), wrapped: stored.subarray(1 + n) }),
      );
    }
    if (!create) return null;
    const { plain, wrapped } = await options.keys.generateDataKey();
    // SET NX: of two creators the first wins; durable (WAIT) before anything is sealed with it.
    const [set] = await durable((p) => p.set(L.dataKey(owner), packWrapped(wrapped.kekId, wrapped.wrapped), 'NX'), { idempotent: true });
    if (set !== 'OK') return dataKey(owner, false);
    return remember(owner, plain);
  }
  const customerKey = async (customerId: string) => {
    const key = await dataKey(customerKeyOwner(customerId), false);
    if (!key) throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
    return key;
  };

  await loadLibrary();
  const blind = blindIndex((await dataKey(INDEX_KEY_OWNER, true))!);
  const contentHmac = (customerId: string, content: Content, idempotencyContent?: string) =>
    blind('content', customerId, idempotencyContent ?? JSON.stringify(content));

  // ── tags: immutable once written, so cached without bound worries (LRU 100k) ─────────────────────
  const tagCache = new Map<string, string>();
  const cacheTag = (k: string, tag: string) => {
    if (tagCache.size > 100_000) tagCache.delete(tagCache.keys().next().value!);
    tagCache.set(k, tag);
    return tag;
  };
  async function conversationTag(conversationId: string): Promise<string | null> {
    const hit = tagCache.get(`c:${conversationId}`);
    if (hit) return hit;
    const tag = await read(() => redis.get(L.conversationTag(conversationId)));
    return tag ? cacheTag(`c:${conversationId}`, tag) : null;
  }
  /** The tag of the conversation slot holding the session's state (its own tag unless it joined one). */
  async function sessionTag(sessionId: string): Promise<string | null> {
    if (!parseSessionId(sessionId)) return null;
    const hit = tagCache.get(`s:${sessionId}`);
    if (hit) return hit;
    const home = await read(() => redis.get(L.home(sessionId)));
    return cacheTag(`s:${sessionId}`, home ?? sessionHashTag(sessionId));
  }
  async function sessionAt(tag: string, sessionId: string): Promise<(SessionRecord & { ver: number }) | null> {
    const flat = await read(() => redis.call('HGETALL', L.session(tag, sessionId)) as Promise<string[]>);
    return flat.length ? toSession(fields(flat)) : null;
  }
  async function loadSession(sessionId: string) {
    const tag = await sessionTag(sessionId);
    return tag ? sessionAt(tag, sessionId) : null;
  }

  type SessionFacts = Pick<SessionRecord, 'id' | 'conversationId' | 'customerId' | 'channel'>;
  const factsCache = new Map<string, SessionFacts>();
  const rememberFacts = (f: SessionFacts) => {
    if (factsCache.size > 100_000) factsCache.delete(factsCache.keys().next().value!);
    factsCache.set(f.id, f);
    return f;
  };

  // ── queue index protocol (docs/store.md) ───────────────────────────────────────────────────────
  const scoreOf = (s: SessionRecord) => Date.parse(s.waitingSince);
  const indexBefore = (skillGroup: string, sessionId: string, status: QueueStatus | '', score: number) =>
    durable((p) => p.call('FCALL', 'queue_before', 4, ...L.queue(skillGroup), sessionId, status, score), { idempotent: true });
  /** After a state write, in `group`'s indexes (default the session's own; another group's: it is gone from there). */
  const indexAfter = (s: SessionRecord & { ver: number }, group = s.skillGroup) =>
    durable(
      (p) => p.call('FCALL', 'queue_after', 4, ...L.queue(group), s.id, s.ver, s.skillGroup === group ? s.status : 'gone', scoreOf(s)),
      { idempotent: true },
    );
  const indexFix = (skillGroup: string, sessionId: string, truth: (SessionRecord & { ver: number }) | null, force: boolean) =>
    durable(
      (p) =>
        p.call(
          'FCALL',
          'queue_fix',
          4,
          ...L.queue(skillGroup),
          sessionId,
          truth?.ver ?? 0,
          truth && truth.skillGroup === skillGroup ? truth.status : 'gone',
          truth ? scoreOf(truth) : 0,
          force ? '1' : '0',
        ),
      { idempotent: true },
    );

  /** Walks one index in order, verifying each member; stale members are repaired on the way. */
  async function walkQueue(skillGroup: string, status: QueueStatus, want: number, force: boolean) {
    const key = L.queue(skillGroup)[QUEUE_STATUSES.indexOf(status)]!;
    const found: SessionRecord[] = [];
    let removed = 0;
    const batch = Math.max(50, Math.min(want, 500));
    for (let offset = 0; found.length < want;) {
      const ids = await read(() => redis.zrange(key, offset, offset + batch - 1));
      if (ids.length === 0) break;
      const truths = await Promise.all(ids.map((id) => loadSession(id)));
      let kept = 0;
      for (let i = 0; i < ids.length; i++) {
        const t = truths[i];
        if (t && t.status === status && t.skillGroup === skillGroup) {
          kept++;
          if (found.length < want) found.push(publicSession(t));
        } else {
          const [changed] = await indexFix(skillGroup, ids[i]!, t ?? null, force);
          if (Number(changed) === 1) removed++;
          else kept++;
        }
      }
      offset += kept;
      if (ids.length < batch) break;
    }
    return { found, removed };
  }

  /**
   * Decodes stored records of one conversation (element i = seq `firstSeq` + i). A record read before
   * is served from `recordCache` (record-cache.ts) only when its stored bytes are unchanged and the
   * customer's data key resolved now is the Buffer it was opened with; every customer's key is resolved
   * before any of their records is served, so an erased customer answers CUSTOMER_ERASED, cached or not.
   * A record not in the cache is taken from its page's sealed block (`blocks`: page index → stored block,
   * record-block.ts) when the block names the record's data key and holds this very record byte for byte,
   * else opened by itself.
   * @throws HuiliuError CUSTOMER_ERASED; TamperError when a record or a block fails its GCM check (or a
   *   block is not where it belongs); INTERNAL for an unknown record format
   */
  async function decode(
    conversationId: string,
    stored: Buffer[],
    firstSeq: number | readonly number[],
    blocks?: ReadonlyMap<number, Buffer>,
  ): Promise<Envelope[]> {
    const out: Envelope[] = [];
    // The pages' blocks: head read, opened on first use (null: the page has no block of this version).
    const pageBlocks = new Map<number, { raw: Buffer; head: BlockHead; opened?: OpenedBlock } | null>();
    const fromBlock = (seq: number, record: Buffer, owner: string, key: Buffer): string | undefined => {
      const page = pageOf(seq);
      let b = pageBlocks.get(page);
      if (b === undefined) {
        const raw = blocks!.get(page);
        const head = raw ? blockHead(raw) : null;
        // We only ever write a block at its own page: one elsewhere was moved there.
        if (head && (head.firstSeq !== pageStart(page) || head.count < 1 || head.count > BLOCK_RECORDS)) throw new TamperError();
        b = raw && head ? { raw, head } : null;
        pageBlocks.set(page, b);
      }
      const i = b ? seq - b.head.firstSeq : -1;
      if (!b || i < 0 || i >= b.head.count) return undefined;
      // A block is written only over records of its own data key: another owner here is a changed byte.
      if (b.head.owner !== owner) throw new TamperError();
      if (!b.opened) {
        b.opened = openBlock(key, conversationId, b.raw, b.head);
        blockCounts.blocksOpened++;
      }
      if (!b.opened.records[i]!.equals(record)) return undefined;
      return b.opened.payloads[i]!.toString('utf8');
    };
    // A forget (erasure) while this page awaits a key: what this page opens is not kept.
    const generation = forgets;
    const window = recordCache.window(conversationId);
    // The page's data keys (usually one customer), resolved once per page.
    const keysOf = new Map<string, Buffer>();
    const keyOf = async (customerId: string) => {
      const key = await customerKey(customerId);
      keysOf.set(customerId, key);
      return key;
    };
    for (let i = 0; i < stored.length; i++) {
      const record = stored[i]!;
      // An empty element: a record retention removed (its seq keeps its place).
      if (record.length === 0) continue;
      const seq = typeof firstSeq === 'number' ? firstSeq + i : firstSeq[i]!;
      let h: RecordHeader;
      let plain: string;
      const hit = recordCache.lookup(window, seq, record);
      if (hit !== undefined && hit.key === (keysOf.get(hit.customerId) ?? (await keyOf(hit.customerId)))) {
        recordCache.hits++;
        h = hit.header;
        plain = hit.plain;
      } else {
        recordCache.misses++;
        const unpacked = unpackRecord(record);
        h = unpacked.header;
        const key = keysOf.get(h.c) ?? (await keyOf(h.c));
        const blockPlain = blocks && blocks.size > 0 ? fromBlock(seq, record, h.key, key) : undefined;
        if (blockPlain !== undefined) {
          plain = blockPlain;
          blockCounts.fromBlocks++;
        } else {
          plain = openText(key, unpacked.sealed, messageAad(h.id));
          blockCounts.opened++;
        }
        // A copy: the reply's Buffer may be a view on a larger socket chunk.
        if (generation === forgets)
          recordCache.put(conversationId, seq, { record: Buffer.from(record), key, customerId: h.c, header: h, plain });
      }
      const { body, meta } = JSON.parse(plain) as { body: unknown; meta: unknown };
      out.push({
        v: ENVELOPE_VERSION,
        id: h.id,
        sessionId: h.s,
        conversationId,
        customerId: h.c,
        channel: h.ch,
        direction: h.d,
        seq,
        kind: h.k,
        body,
        critical: h.cr === 1,
        clientMessageId: h.m,
        sentAt: h.st,
        receivedAt: h.rt,
        ...(h.a ? { authorId: h.a } : {}),
        authorKind: h.ak,
        meta,
      } as Envelope);
    }
    return out;
  }

  // ── trimmed history: seqs up to the conversation's `base` are in the archive (docs/store.md) ───────
  let archive: ArchiveReader | null = options.archive ?? null;
  /** Each conversation's last known base (it only grows): a read guesses it and checks it in the same MULTI. */
  const baseCache = new Map<string, number>();
  const rememberBase = (conversationId: string, base: number) => {
    if (baseCache.size > 100_000) baseCache.delete(baseCache.keys().next().value!);
    baseCache.set(conversationId, base);
    return base;
  };

  /**
   * The records of seqs `from`..`to` (inclusive) still in Redis, with the conversation's base and last
   * seq — one MULTI on the conversation's slot (HGET base, LLEN, LRANGE), so a trim cannot shift the
   * list between reading the base and the range. The LRANGE uses the cached base; a trim since (base
   * moved) re-reads with the new one. `first` is the seq of `records[0]`. With `withBlocks` the same MULTI
   * reads the sealed blocks (record-block.ts) of the range's pages that have a seq this process has not
   * cached (`blocks`: page index → block).
   */
  async function hotRange(tag: string, conversationId: string, from: number, to: number, withBlocks = false) {
    const ck = L.conversation(tag, conversationId);
    const mk = L.messages(tag, conversationId);
    let guess = baseCache.get(conversationId) ?? 0;
    for (;;) {
      const first = Math.max(from, guess + 1);
      const wantRange = to >= first;
      const pages: number[] = [];
      if (wantRange && withBlocks) {
        const cached = recordCache.window(conversationId)?.entries;
        for (let page = pageOf(first); page <= pageOf(to); page++) {
          const end = Math.min(to, pageStart(page) + BLOCK_RECORDS - 1);
          let missing = !cached;
          for (let seq = Math.max(first, pageStart(page)); !missing && seq <= end; seq++) missing = !cached!.has(seq);
          if (missing) pages.push(page);
        }
      }
      const replies = await read(async () => {
        const m = redis.multi().hget(ck, 'base').llen(mk);
        if (wantRange) m.lrangeBuffer(mk, first - guess - 1, to - guess - 1);
        if (pages.length > 0) m.hmgetBuffer(L.blocks(tag, conversationId), ...pages.map(String));
        const r = await m.exec();
        if (!r) throw new Error('MULTI aborted');
        for (const [error] of r) if (error) throw error;
        return r.map(([, value]) => value);
      });
      const base = Number(replies[0] ?? 0);
      if (base !== guess) {
        guess = rememberBase(conversationId, base);
        continue;
      }
      const last = base + Number(replies[1]);
      const blocks = new Map<number, Buffer>();
      if (pages.length > 0) (replies[3] as (Buffer | null)[]).forEach((b, i) => b && blocks.set(pages[i]!, b));
      return { base, last, first, records: wantRange ? (replies[2] as Buffer[]) : [], blocks };
    }
  }

  /**
   * Archived records of seqs `from`..`to` (inclusive, at most 1,000 seqs), oldest first; seqs retention
   * removed are missing. @throws HuiliuError NOT_READY when no archive is attached (HUILIU_PG_URL unset)
   */
  async function coldRange(conversationId: string, from: number, to: number): Promise<ArchivedRecord[]> {
    if (to < from) return [];
    if (!archive) throw new HuiliuError('NOT_READY', 'This history was archived; reading it needs the archive (HUILIU_PG_URL).');
    const rows = await archive.records(conversationId, { afterSeq: from - 1, limit: to - from + 1 });
    return rows.filter((r) => r.seq <= to);
  }

  /** Seqs `from`..`to` of a conversation, from the archive below its base and from Redis above, opened. */
  async function readSeqs(tag: string, conversationId: string, from: number, to: number): Promise<{ messages: Envelope[]; last: number }> {
    const hot = await hotRange(tag, conversationId, from, to, true);
    const hotMessages = await decode(conversationId, hot.records, hot.first, hot.blocks);
    if (from > hot.base) return { messages: hotMessages, last: hot.last };
    const cold = await coldRange(conversationId, from, Math.min(to, hot.base));
    const coldMessages = await decode(
      conversationId,
      cold.map((r) => r.record),
      cold.map((r) => r.seq),
    );
    return { messages: [...coldMessages, ...hotMessages], last: hot.last };
  }

  // ── sealed page blocks: written after each append by the appending process (record-block.ts) ─────
  /** A page block this process last wrote: its entries (record + plaintext payload) so far. */
  interface Tail {
    page: number;
    owner: string;
    customerId: string;
    entries: Buffer[];
  }
  /** Per conversation, the block of the page its last append here went to (bounded, oldest out first). */
  const tails = new Map<string, Tail>();
  /** Block writes run one after another per conversation (a block only grows). */
  const blockChains = new Map<string, Promise<void>>();
  const pendingBlocks = new Set<Promise<void>>();
  interface Appended {
    tag: string;
    conversationId: string;
    seq: number;
    record: Buffer;
    payload: Buffer;
    owner: string;
    customerId: string;
    key: Buffer;
  }

  /**
   * The block of `seq`'s page up to `seq - 1`, rebuilt from Redis when this process does not hold it (another
   * process appended meanwhile, or this one restarted): the page's records and its stored block in one MULTI;
   * a record the block holds byte for byte (or the record cache) is not opened again, the others are opened
   * (GCM-checked). Null when the page cannot have a block: trimmed, a removed record, or another data key.
   */
  async function rebuildTail(a: Appended): Promise<Tail | null> {
    const page = pageOf(a.seq);
    const first = pageStart(page);
    const hot = await hotRange(a.tag, a.conversationId, first, a.seq - 1, true);
    if (hot.first !== first || hot.records.length !== a.seq - first) return null;
    const raw = hot.blocks.get(page);
    const head = raw ? blockHead(raw) : null;
    let b: OpenedBlock | null = null;
    if (raw && head && head.owner === a.owner && head.firstSeq === first && head.count <= BLOCK_RECORDS) {
      b = openBlock(a.key, a.conversationId, raw, head);
    }
    const window = recordCache.window(a.conversationId);
    const entries: Buffer[] = [];
    for (const [i, record] of hot.records.entries()) {
      if (record.length === 0) return null;
      const { header, sealed } = unpackRecord(record);
      if (header.key !== a.owner) return null;
      let payload: Buffer;
      const cached = recordCache.lookup(window, first + i, record);
      if (b && i < b.count && b.records[i]!.equals(record)) payload = b.payloads[i]!;
      else if (cached && cached.key === a.key) payload = Buffer.from(cached.plain, 'utf8');
      else payload = open(a.key, sealed, messageAad(header.id));
      entries.push(blockEntry(record, payload));
    }
    return { page, owner: a.owner, customerId: a.customerId, entries };
  }

  /** Adds an appended record to its page's block and stores the block (conv_block, no WAIT: derived data). */
  async function extendBlock(a: Appended, generation: number): Promise<void> {
    const page = pageOf(a.seq);
    const first = pageStart(page);
    let t: Tail | null | undefined = tails.get(a.conversationId);
    tails.delete(a.conversationId);
    if (!t || t.page !== page || t.owner !== a.owner || first + t.entries.length !== a.seq) {
      t = a.seq === first ? { page, owner: a.owner, customerId: a.customerId, entries: [] } : await rebuildTail(a);
      if (!t) return;
    }
    t.entries.push(blockEntry(a.record, a.payload));
    const count = t.entries.length;
    const block = sealBlock(a.key, a.conversationId, { firstSeq: first, count, owner: a.owner }, t.entries);
    const args = [L.conversation(a.tag, a.conversationId), L.messages(a.tag, a.conversationId), L.blocks(a.tag, a.conversationId)];
    const call = () => redis.call('FCALL', 'conv_block', 3, ...args, page, first, count, block);
    let stored: unknown;
    try {
      stored = await call();
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('ERR Function not found'))) throw error;
      await loadLibrary();
      stored = await call();
    }
    if (Number(stored) === 1) blockCounts.written++;
    else {
      blockCounts.refused++;
      return;
    }
    // Keep the page's plaintext for the next append here, unless it is full or an erasure came meanwhile.
    if (count < BLOCK_RECORDS && generation === forgets) {
      tails.set(a.conversationId, t);
      if (tails.size > 10_000) tails.delete(tails.keys().next().value!);
    }
  }

  /** Queues `extendBlock` after the conversation's earlier block writes; a failure only costs the block. */
  function scheduleBlock(a: Appended): void {
    const generation = forgets;
    const before = blockChains.get(a.conversationId) ?? Promise.resolve();
    const next = before
      .then(() => extendBlock(a, generation))
      .catch(() => {
        blockCounts.refused++;
        tails.delete(a.conversationId);
      });
    blockChains.set(a.conversationId, next);
    pendingBlocks.add(next);
    void next.finally(() => {
      pendingBlocks.delete(next);
      if (blockChains.get(a.conversationId) === next) blockChains.delete(a.conversationId);
    });
  }

  const store: RedisConversationStore = {
    kind: 'redis',
    layout: L,

    async openSession(input) {
      if (!parseSessionId(input.sessionId)) throw new HuiliuError('VALIDATION_FAILED', 'not a session ID');
      const own = sessionHashTag(input.sessionId);
      // The customer's data key exists (durably) before anything is sealed with it.
      await dataKey(customerKeyOwner(input.customerId), true);
      // The conversation's slot: the one its opening session chose (SET NX decides between racers).
      let tag = await conversationTag(input.conversationId);
      if (!tag) {
        const [set] = await durable((p) => p.set(L.conversationTag(input.conversationId), own, 'NX'), { idempotent: true });
        tag = set === 'OK' ? cacheTag(`c:${input.conversationId}`, own) : await conversationTag(input.conversationId);
        if (!tag) throw new HuiliuError('INTERNAL', 'conversation tag vanished');
      }
      // A session joining a conversation elsewhere leaves a pointer in its own slot first: never unreachable.
      if (tag !== own) await durable((p) => p.set(L.home(input.sessionId), tag), { idempotent: true });
      const t = iso();
      await indexBefore(input.skillGroup, input.sessionId, 'queued', Date.parse(t));
      const [reply] = (await durable(
        (p) =>
          p.call(
            'FCALL',
            'conv_open',
            3,
            L.conversation(tag, input.conversationId),
            L.session(tag, input.sessionId),
            L.sessionsOf(tag, input.conversationId),
            input.conversationId,
            input.customerId,
            input.sessionId,
            input.channel,
            input.skillGroup,
            t,
          ),
        { idempotent: true },
      )) as [[number, string[]]];
      const session = toSession(fields(reply[1]));
      cacheTag(`s:${input.sessionId}`, tag);
      options.afterStateWrite?.(input.sessionId);
      await indexAfter(session);
      return { session: publicSession(session), created: reply[0] === 1 };
    },

    async append(input) {
      const tag = await sessionTag(input.sessionId);
      // A session's ids and channel never change: read once, then the Redis function checks its status.
      let session = factsCache.get(input.sessionId);
      if (!session && tag) {
        const s = await sessionAt(tag, input.sessionId);
        if (s) session = rememberFacts({ id: s.id, conversationId: s.conversationId, customerId: s.customerId, channel: s.channel });
      }
      if (!tag || !session) throw new HuiliuError('SESSION_NOT_FOUND');
      const key = await customerKey(session.customerId);
      const hmac = contentHmac(session.customerId, input.content, input.idempotencyContent);
      const t = iso();
      const id = uuidv7();
      const meta = input.meta ?? {};
      const header: RecordHeader = {
        id,
        s: session.id,
        c: session.customerId,
        ch: session.channel,
        d: input.direction,
        k: input.content.kind,
        cr: input.critical ? 1 : 0,
        m: input.clientMessageId,
        a: input.authorId ?? null,
        ak: defaultAuthorKind(input),
        st: input.sentAt ?? t,
        rt: t,
        key: customerKeyOwner(session.customerId),
      };
      const payload = Buffer.from(JSON.stringify({ body: input.content.body, meta }), 'utf8');
      const record = packRecord(header, seal(key, payload, messageAad(id)));
      const c = session.conversationId;
      const [reply] = (await durable(
        (p) =>
          p.callBuffer(
            'FCALL',
            'conv_append',
            4,
            L.session(tag, session.id),
            L.conversation(tag, c),
            L.messages(tag, c),
            L.idempotency(tag, c),
            input.direction,
            input.clientMessageId,
            hmac,
            record,
            t,
          ),
        { idempotent: true },
      )) as [[Buffer, number, Buffer?]];
      const seq = Number(reply[1]);
      if (reply[0].toString() === 'dup') {
        // Trimmed since (reply without the record): the archive has it. Removed by retention: no message to answer.
        const stored = reply[2] ?? (await coldRange(c, seq, seq))[0]?.record;
        const [envelope] = stored ? await decode(c, [stored], seq) : [];
        if (!envelope)
          throw new HuiliuError('SESSION_CLOSED', 'This message was stored in a session since closed and removed by retention.');
        return { envelope, duplicate: true };
      }
      scheduleBlock({ tag, conversationId: c, seq, record, payload, owner: header.key, customerId: session.customerId, key });
      const envelope = {
        v: ENVELOPE_VERSION,
        id,
        sessionId: session.id,
        conversationId: c,
        customerId: session.customerId,
        channel: session.channel,
        direction: input.direction,
        seq,
        kind: input.content.kind,
        body: input.content.body,
        critical: input.critical,
        clientMessageId: input.clientMessageId,
        sentAt: header.st,
        receivedAt: t,
        ...(header.a ? { authorId: header.a } : {}),
        authorKind: header.ak,
        meta,
      } as Envelope;
      return { envelope, duplicate: false };
    },

    async getSession(id) {
      const s = await loadSession(id);
      return s ? publicSession(s) : null;
    },

    async listMessages(conversationId, { afterSeq = 0, limit } = {}) {
      const tag = await conversationTag(conversationId);
      if (!tag) return [];
      const n = pageSize(limit, 100, 1000);
      const from = Math.max(0, afterSeq);
      return (await readSeqs(tag, conversationId, from + 1, from + n)).messages;
    },

    async recentMessages(conversationId, { beforeSeq, limit } = {}) {
      const tag = await conversationTag(conversationId);
      if (!tag) return { messages: [], hasOlder: false };
      const n = pageSize(limit, 100, 1000);
      const { last } = await hotRange(tag, conversationId, 1, 0);
      let end = Math.min(last, (beforeSeq ?? Number.MAX_SAFE_INTEGER) - 1); // the newest seq wanted
      if (end < 1) return { messages: [], hasOlder: false };
      // Retention may have emptied seqs (their records removed): read further back until the page is full.
      let messages: Envelope[] = [];
      let first = end + 1;
      while (messages.length < n && first > 1) {
        first = Math.max(1, end - (n - messages.length) + 1);
        messages = [...(await readSeqs(tag, conversationId, first, end)).messages, ...messages];
        end = first - 1;
      }
      return { messages, hasOlder: first > 1 };
    },

    async lastMessage(conversationId) {
      const page = await store.recentMessages(conversationId, { limit: 1 });
      return page.messages[0] ?? null;
    },

    async lastSeq(conversationId) {
      const tag = await conversationTag(conversationId);
      return tag ? (await hotRange(tag, conversationId, 1, 0)).last : 0;
    },

    async queue(skillGroup, status, { limit } = {}) {
      return (await walkQueue(skillGroup, status, pageSize(limit, 100, 1000), false)).found;
    },

    async queueSize(skillGroup, status) {
      return (await walkQueue(skillGroup, status, Number.MAX_SAFE_INTEGER, false)).found.length;
    },

    async claim(sessionId, agentId) {
      const tag = await sessionTag(sessionId);
      const before = tag ? await sessionAt(tag, sessionId) : null;
      if (!tag || !before) throw new HuiliuError('SESSION_NOT_FOUND');
      await indexBefore(before.skillGroup, sessionId, 'active', scoreOf(before));
      let reply: [number, string[]];
      try {
        [reply] = (await durable((p) => p.call('FCALL', 'conv_claim', 1, L.session(tag, sessionId), agentId, iso()), {
          idempotent: false,
        })) as [[number, string[]]];
      } catch (error) {
        // The state write may or may not have happened: settle the writer count with the state as it is
        // now (if that read fails too, the entry stays — a superset readers verify — until a repair).
        const truth = await sessionAt(tag, sessionId).catch(() => null);
        if (truth) await indexAfter(truth).catch(() => undefined);
        throw error;
      }
      const after = toSession(fields(reply[1]));
      options.afterStateWrite?.(sessionId);
      await indexAfter(after);
      if (reply[0] === 1) return { session: publicSession(after), changed: true };
      if (after.status === 'active' && after.assignedAgentId === agentId) return { session: publicSession(after), changed: false };
      if (after.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      throw new HuiliuError('OFFER_TAKEN');
    },

    async close(sessionId, agentId, wrapUpCode) {
      const tag = await sessionTag(sessionId);
      const before = tag ? await sessionAt(tag, sessionId) : null;
      if (!tag || !before) throw new HuiliuError('SESSION_NOT_FOUND');
      await indexBefore(before.skillGroup, sessionId, '', scoreOf(before));
      let after: SessionRecord & { ver: number };
      try {
        const [flat] = (await durable((p) => p.call('FCALL', 'conv_close', 1, L.session(tag, sessionId), agentId, wrapUpCode, iso()), {
          idempotent: false,
        })) as [string[]];
        after = toSession(fields(flat));
      } catch (error) {
        // Refused (not theirs, closed): nothing changed; settle the writer count with the state as it is.
        const truth = await sessionAt(tag, sessionId);
        if (truth) await indexAfter(truth);
        throw error;
      }
      options.afterStateWrite?.(sessionId);
      await indexAfter(after);
      return publicSession(after);
    },

    async follow(state) {
      const tag = await sessionTag(state.id);
      const before = tag ? await sessionAt(tag, state.id) : null;
      if (!tag || !before) throw new HuiliuError('SESSION_NOT_FOUND');
      const target = (QUEUE_STATUSES as readonly string[]).includes(state.status) ? state.status : '';
      const groups = before.skillGroup === state.skillGroup ? [state.skillGroup] : [state.skillGroup, before.skillGroup];
      // The new group's entry first (readers verify members), and a writer counted in each group touched.
      await indexBefore(state.skillGroup, state.id, target as QueueStatus | '', Date.parse(state.waitingSince));
      if (groups.length > 1) await indexBefore(before.skillGroup, state.id, '', scoreOf(before));
      const settle = (s: SessionRecord & { ver: number }) => Promise.all(groups.map((group) => indexAfter(s, group)));
      let after: SessionRecord & { ver: number };
      try {
        const args = [
          state.status,
          state.skillGroup,
          state.assignedAgentId ?? '',
          state.offeredAgentId ?? '',
          state.offerExpiresAt ?? '',
          state.waitingSince,
          state.wrapUpCode ?? '',
          state.closedAt ?? '',
          iso(),
        ];
        const [flat] = (await durable((p) => p.call('FCALL', 'conv_follow', 1, L.session(tag, state.id), ...args), {
          idempotent: true,
        })) as [string[]];
        after = toSession(fields(flat));
      } catch (error) {
        const truth = await sessionAt(tag, state.id).catch(() => null);
        if (truth) await settle(truth).catch(() => undefined);
        throw error;
      }
      options.afterStateWrite?.(state.id);
      await settle(after);
      return publicSession(after);
    },

    async sealedRecords(conversationId, { afterSeq = 0, limit } = {}) {
      const tag = await conversationTag(conversationId);
      if (!tag) return [];
      const from = Math.max(0, afterSeq);
      const hot = await hotRange(tag, conversationId, from + 1, from + pageSize(limit, 100, 1000));
      const out: ArchivedRecord[] = [];
      // Tombstones (records retention removed) are left out: their seqs stay empty.
      hot.records.forEach((record, i) => {
        if (record.length > 0) out.push({ seq: hot.first + i, sessionId: unpackRecord(record).header.s, record });
      });
      return out;
    },

    useArchive(reader) {
      archive = reader;
    },

    async trimmedThrough(conversationId) {
      const tag = await conversationTag(conversationId);
      return tag ? (await hotRange(tag, conversationId, 1, 0)).base : 0;
    },

    async trimArchived(conversationId, throughSeq, check) {
      const tag = await conversationTag(conversationId);
      if (!tag) return 'unknown';
      const ck = L.conversation(tag, conversationId);
      // The function checks every session of the conversation; a session added meanwhile answers 'sessions'.
      for (let attempt = 0; attempt < 5; attempt++) {
        const ids = await read(() => redis.smembers(L.sessionsOf(tag, conversationId)));
        const [reply] = (await durable(
          (p) =>
            p.call(
              'FCALL',
              'conv_trim',
              4 + ids.length,
              ck,
              L.messages(tag, conversationId),
              L.sessionsOf(tag, conversationId),
              L.blocks(tag, conversationId),
              ...ids.map((id) => L.session(tag, id)),
              throughSeq,
              check?.seq ?? 0,
              check?.record ?? '',
              'b',
            ),
          { idempotent: true },
        )) as [[string, number?]];
        const outcome = String(reply[0]);
        if (outcome === 'sessions') continue;
        tails.delete(conversationId);
        if (outcome === 'trimmed' || outcome === 'done') rememberBase(conversationId, Number(reply[1]));
        return outcome as TrimOutcome;
      }
      return 'open';
    },

    async pruneSession(sessionId) {
      const tag = await sessionTag(sessionId);
      const session = tag ? await sessionAt(tag, sessionId) : null;
      if (!tag || !session) return 0;
      const c = session.conversationId;
      // The session's seqs still in Redis (their headers name it); the function checks each again.
      const seqs: number[] = [];
      const start = await hotRange(tag, c, 1, 0);
      for (let from = start.base + 1, last = start.last; from <= last; from += 1000) {
        const hot = await hotRange(tag, c, from, from + 999);
        last = hot.last;
        hot.records.forEach((record, i) => {
          if (record.length > 0 && unpackRecord(record).header.s === sessionId) seqs.push(hot.first + i);
        });
      }
      let removed = 0;
      for (let i = 0; i === 0 || i < seqs.length; i += 500) {
        const [n] = await durable(
          (p) =>
            p.call(
              'FCALL',
              'conv_prune',
              5,
              L.conversation(tag, c),
              L.messages(tag, c),
              L.session(tag, sessionId),
              L.context(tag, sessionId),
              L.blocks(tag, c),
              sessionId,
              ...seqs.slice(i, i + 500),
            ),
          { idempotent: true },
        );
        removed += Number(n);
      }
      recordCache.forgetConversation(c);
      tails.delete(c);
      return removed;
    },

    async openSealed(conversationId, records) {
      const out: Envelope[] = [];
      for (const r of records) out.push(...(await decode(conversationId, [r.record], r.seq)));
      return out;
    },

    async putContext(sessionId, context: SessionContext) {
      const tag = await sessionTag(sessionId);
      const session = tag ? await sessionAt(tag, sessionId) : null;
      if (!tag || !session) throw new HuiliuError('SESSION_NOT_FOUND');
      const sealed = sealText(await customerKey(session.customerId), JSON.stringify(context), contextAad(sessionId));
      await durable((p) => p.call('FCALL', 'conv_put_context', 2, L.session(tag, sessionId), L.context(tag, sessionId), sealed), {
        idempotent: true,
      });
    },

    async getContext(sessionId) {
      const tag = await sessionTag(sessionId);
      const session = tag ? await sessionAt(tag, sessionId) : null;
      if (!tag || !session) return null;
      const sealed = await read(() => redis.getBuffer(L.context(tag, sessionId)));
      if (!sealed) return null;
      return JSON.parse(openText(await customerKey(session.customerId), sealed, contextAad(sessionId))) as SessionContext;
    },

    async repairQueue(skillGroup, { force = false } = {}) {
      let removed = 0;
      for (const status of QUEUE_STATUSES) removed += (await walkQueue(skillGroup, status, Number.MAX_SAFE_INTEGER, force)).removed;
      return removed;
    },

    async queueIndex(skillGroup, status) {
      return redis.zrange(L.queue(skillGroup)[QUEUE_STATUSES.indexOf(status)]!, 0, -1);
    },

    async ping() {
      if (isCluster) {
        const info = String(await (redis as Cluster).cluster('INFO'));
        if (!info.includes('cluster_state:ok')) throw new HuiliuError('NOT_READY', 'The Redis Cluster is not ok.');
      } else await redis.ping();
    },

    async eraseCustomers(customerIds) {
      let deleted = 0;
      // One data key per slot (its hash tag is the owner): one durable write each.
      for (const id of new Set(customerIds)) {
        const [n] = await durable((p) => p.del(L.dataKey(customerKeyOwner(id))), { idempotent: true });
        deleted += Number(n);
      }
      store.forgetCustomers(customerIds);
      return deleted;
    },

    forgetCustomers(customerIds) {
      let n = 0;
      forgets++;
      for (const id of customerIds) {
        if (keyCache.delete(customerKeyOwner(id))) n++;
        n += recordCache.forgetCustomer(id);
      }
      const erased = new Set(customerIds);
      for (const [c, t] of tails) if (erased.has(t.customerId)) tails.delete(c);
      return n;
    },

    recordCacheStats() {
      return { hits: recordCache.hits, misses: recordCache.misses, records: recordCache.count, bytes: recordCache.bytes };
    },

    blockStats() {
      return { ...blockCounts };
    },

    async flushBlocks() {
      while (pendingBlocks.size > 0) await Promise.all([...pendingBlocks]);
    },

    async shutdown() {
      await store.flushBlocks();
      tails.clear();
      recordCache.clear();
      keyCache.clear();
    },
  };
  return store;
}
