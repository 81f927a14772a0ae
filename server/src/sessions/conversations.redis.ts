import { v7 as uuidv7 } from 'uuid';
import type { Cluster, Redis } from 'ioredis';
import { HuiliuError, type ErrorCode } from '../../../common/errors/codes';
import { ENVELOPE_VERSION, type Content, type Envelope } from '../../../common/message/envelope';
import { parseSessionId, sessionHashTag, type ChannelCode } from '../../../common/message/session-id';
import type { AuthorKind } from '../../../common/ai/assist';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import { openText, sealText } from '../crypto/aead';
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
import { createRedisIo, dataKeyName, isRedisCluster, RedisDataKeys } from './redis-io';
import { blindIndex, customerKeyOwner, INDEX_KEY_OWNER, openMessage, sealMessage, type MessageHeader } from './sqlite-rows';
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
    dataKey: (owner: string) => dataKeyName(prefix, owner),
  };
}
export type Layout = ReturnType<typeof redisLayout>;

/** Record format of a stored message: 1 | header length (u16 BE) | header JSON | sealed payload. */
const RECORD_V1 = 1;
export interface RecordHeader {
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

/** A record header's fields as the AAD of format 2 binds them (sqlite-rows.ts `MessageHeader`). */
export function recordHeaderFields(h: RecordHeader, conversationId: string): MessageHeader {
  return {
    id: h.id,
    conversationId,
    sessionId: h.s,
    customerId: h.c,
    channel: h.ch,
    direction: h.d,
    kind: h.k,
    critical: h.cr === 1,
    clientMessageId: h.m,
    authorId: h.a,
    authorKind: h.ak,
    sentAt: h.st,
    receivedAt: h.rt,
  };
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
  const isCluster = isRedisCluster(redis);
  // Opened records of recently read conversations (record-cache.ts): re-reads skip the header parse and GCM.
  const recordCache = new ConversationRecordCache<RecordHeader>(options.openedCacheBytes ?? 32 * 1024 * 1024);
  /** Bumped by every `forgetCustomers`: a read that started before it keeps nothing it opened. */
  let forgets = 0;

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

  const { durable, read } = createRedisIo({ redis, waitReplicas, waitMs, retryMs, loadLibrary, mapError });

  // ── data keys: wrapped by the KEK in Redis, unwrapped once per process (bounded LRU, redis-io.ts) ─
  const dataKeys = new RedisDataKeys(redis, { durable, read }, options.keys, options.prefix ?? 'huiliu');
  const dataKey = (owner: string, create: boolean) => dataKeys.get(owner, create);
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
   * @throws HuiliuError CUSTOMER_ERASED; TamperError when a record fails its GCM check; INTERNAL for an
   *   unknown record format
   */
  async function decode(conversationId: string, stored: Buffer[], firstSeq: number | readonly number[]): Promise<Envelope[]> {
    const out: Envelope[] = [];
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
        plain = openMessage(key, unpacked.sealed, recordHeaderFields(h, conversationId));
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
   * moved) re-reads with the new one. `first` is the seq of `records[0]`.
   */
  async function hotRange(tag: string, conversationId: string, from: number, to: number) {
    const ck = L.conversation(tag, conversationId);
    const mk = L.messages(tag, conversationId);
    let guess = baseCache.get(conversationId) ?? 0;
    for (;;) {
      const first = Math.max(from, guess + 1);
      const wantRange = to >= first;
      const replies = await read(async () => {
        const m = redis.multi().hget(ck, 'base').llen(mk);
        if (wantRange) m.lrangeBuffer(mk, first - guess - 1, to - guess - 1);
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
      return { base, last, first, records: wantRange ? (replies[2] as Buffer[]) : [] };
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
    const hot = await hotRange(tag, conversationId, from, to);
    const hotMessages = await decode(conversationId, hot.records, hot.first);
    if (from > hot.base) return { messages: hotMessages, last: hot.last };
    const cold = await coldRange(conversationId, from, Math.min(to, hot.base));
    const coldMessages = await decode(
      conversationId,
      cold.map((r) => r.record),
      cold.map((r) => r.seq),
    );
    return { messages: [...coldMessages, ...hotMessages], last: hot.last };
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
      // A forget (erasure) while this append awaits: the plaintext it sealed is not kept in the cache.
      const generation = forgets;
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
        st: input.sentAt ?? input.receivedAt ?? t,
        rt: input.receivedAt ?? t,
        key: customerKeyOwner(session.customerId),
      };
      const plain = JSON.stringify({ body: input.content.body, meta });
      const record = packRecord(header, sealMessage(key, plain, recordHeaderFields(header, session.conversationId)));
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
      // Write-through: this process sealed the record, so it keeps it as opened (the bytes it pushed,
      // byte-compared with Redis on every read like any cached record) — the agent reading the message
      // it was just sent does not open it again (docs/store.md, the opened-record cache).
      if (generation === forgets) recordCache.put(c, seq, { record, key, customerId: session.customerId, header, plain });
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
        receivedAt: header.rt,
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
              3 + ids.length,
              ck,
              L.messages(tag, conversationId),
              L.sessionsOf(tag, conversationId),
              ...ids.map((id) => L.session(tag, id)),
              throughSeq,
              check?.seq ?? 0,
              check?.record ?? '',
            ),
          { idempotent: true },
        )) as [[string, number?]];
        const outcome = String(reply[0]);
        if (outcome === 'sessions') continue;
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
              4,
              L.conversation(tag, c),
              L.messages(tag, c),
              L.session(tag, sessionId),
              L.context(tag, sessionId),
              sessionId,
              ...seqs.slice(i, i + 500),
            ),
          { idempotent: true },
        );
        removed += Number(n);
      }
      recordCache.forgetConversation(c);
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
        if (dataKeys.forget(customerKeyOwner(id))) n++;
        n += recordCache.forgetCustomer(id);
      }
      return n;
    },

    recordCacheStats() {
      return { hits: recordCache.hits, misses: recordCache.misses, records: recordCache.count, bytes: recordCache.bytes };
    },

    async shutdown() {
      recordCache.clear();
      dataKeys.clear();
    },
  };
  return store;
}
