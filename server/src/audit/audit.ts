import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { HuiliuError } from '../../../common/errors/codes';
import type { WrappedKeyHolder } from '../keys/rewrap';

/**
 * The audit log (issue 17, DESIGN §8): every staff action and every AI action as an append-only,
 * hash-chained entry, kept ≥ 6 months, searchable by user and time range. Adapters: SQLite
 * (embedded, `audit.sqlite.ts`) and PostgreSQL with monthly partitions (scale-out, `audit.pg.ts`);
 * both run `audit.contract.ts`.
 *
 * Chain: entry n holds `prevHash` = entry n-1's `hash`, and `hash` = SHA-256 over the RFC 8785
 * canonical JSON of its own fields (all but `seq`, `hash` and `mac`), hex. The first entry's `prevHash`
 * is 64 zeros; after retention removed old entries, the oldest kept entry's `prevHash` is checked
 * against the stored anchor (the hash of the last removed entry). A chain alone can be recomputed by
 * whoever can write the table, so each entry also carries `mac` = HMAC-SHA256(audit key, hash): the
 * audit key is a data key wrapped by the KeyProvider (the HSM in scale-out), which a database writer
 * does not have. `verifyChain` names the first entry that was altered, inserted or deleted.
 */

/** Who acted: a staff user (id and username), the AI, or the server itself. */
export interface AuditActor {
  kind: 'staff' | 'ai' | 'system';
  /** The staff user's id; `ai` / `system` for the others. */
  id: string;
  /** The staff user's username, when known (searchable too). */
  name?: string;
}

export type AuditOutcome = 'ok' | 'denied' | 'failed';

export interface AuditEntryInput {
  /** ISO 8601 with milliseconds, UTC (`Date#toISOString`); default now. */
  at?: string;
  actor: AuditActor;
  /** What was done, dotted: `auth.login`, `session.view`, `message.reply`, `keys.rotate`… (docs/audit.md). */
  action: string;
  /** What it was done to: `{kind: 'session', id}`, `{kind: 'customer', id}`… */
  target?: { kind: string; id: string };
  outcome: AuditOutcome;
  /** Small, already-masked facts (no message text, no PII): ids, counts, codes. */
  detail?: Record<string, string | number | boolean | null>;
  /** The client address, when the action came over HTTP or a socket. */
  ip?: string;
}

export interface AuditEntry extends Required<Pick<AuditEntryInput, 'at' | 'actor' | 'action' | 'outcome'>> {
  /** Position in the chain, from 1, gap-free. */
  seq: number;
  target: { kind: string; id: string } | null;
  detail: Record<string, string | number | boolean | null>;
  ip: string | null;
  prevHash: string;
  hash: string;
  /** HMAC-SHA256(audit key, hash), hex. */
  mac: string;
}

export interface AuditQuery {
  /** A staff user's id or username (DESIGN §6). */
  userId?: string;
  /** Inclusive lower bound, ISO 8601. */
  from: string;
  /** Exclusive upper bound, ISO 8601. */
  to: string;
  /** Page size, 1..500. */
  limit: number;
  /** Continue after this cursor (from the previous page's `next`). */
  cursor?: string;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** Present when there are more: pass as `cursor`. */
  next?: string;
}

/** Where a chain walk found the first break. */
export type ChainBreak =
  { kind: 'altered'; seq: number } | { kind: 'inserted'; seq: number } | { kind: 'deleted'; afterSeq: number; missing: number };

export interface VerifyReport {
  ok: boolean;
  /** Entries walked. */
  checked: number;
  firstBreak?: ChainBreak;
}

export interface AuditLog {
  /** Appends entries in order, chained; answers them with seq and hashes. Durable before it resolves. */
  append(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /** Entries of one user (or all) in `[from, to)`, newest first, paged. */
  search(query: AuditQuery): Promise<AuditPage>;
  /** Walks the whole chain (in pages) and names the first break. */
  verify(): Promise<VerifyReport>;
  /**
   * Retention: removes entries older than `before` (never newer than 183 days ago: the 6-month floor)
   * and records the anchor; answers how many were removed.
   */
  prune(before: Date): Promise<number>;
  /**
   * Where this log keeps its wrapped MAC key when that is outside the server's SQLite file (the
   * PostgreSQL adapter), so KEK rotation re-wraps it too; absent when `data_keys` holds it.
   */
  readonly wrappedKeys?: WrappedKeyHolder;
  close(): Promise<void>;
}

export const GENESIS = '0'.repeat(64);

/** Why an existing log whose head is gone is neither written nor silently re-created. */
export const HEADLESS =
  'The audit log exists but its head record is missing: the log was tampered with. Run `npm run audit:verify` and restore the log from a backup.';

/**
 * An existing audit log has no head (deleted or renamed by someone with database access): the server
 * refuses to start (fail closed: it would otherwise serve with nothing recorded), while verify
 * (`open`) reads on and reports the break.
 * @throws HuiliuError INTERNAL with `HEADLESS` unless `mode` is `open`
 */
export function refuseHeadless(mode: 'refuse' | 'open' = 'refuse'): void {
  if (mode === 'refuse') throw new HuiliuError('INTERNAL', HEADLESS);
}
/** The retention floor: entries are kept at least this long whatever the configuration says. */
export const MIN_RETENTION_DAYS = 183;

/** A string the fast path writes itself; one with surrogates (emoji, or a lone one `canonicalize` refuses) takes the library's path. */
const str = (v: unknown): v is string => typeof v === 'string' && !/[\ud800-\udfff]/.test(v);
const primitive = (v: unknown) => v === null || str(v) || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * RFC 8785 canonical JSON of an entry's hashed body, written out for its known shape: members in
 * sorted order and every value through `JSON.stringify`, exactly what `canonicalize` does (it sorts
 * keys with `Array#sort` and serialises finite numbers and well-formed strings with `JSON.stringify`;
 * it refuses NaN, infinities and lone surrogates, which go to it to be refused), at about half the cost of hashing an entry
 * (17 → 8 µs with its SHA-256, measured on the busy 2-core development machine): the log's append
 * rate (docs/benchmarks.md, audit). Null when the body is not of the expected shape; the caller then
 * uses `canonicalize` itself.
 */
function canonicalBody(e: Omit<AuditEntry, 'hash' | 'mac'>): string | null {
  const { actor, target, detail } = e;
  if (!str(e.at) || !str(e.action) || !str(e.outcome) || !str(e.prevHash) || !(e.ip === null || str(e.ip))) return null;
  if (!str(actor.kind) || !str(actor.id) || !(actor.name === undefined || str(actor.name))) return null;
  if (target !== null && (!str(target.kind) || !str(target.id))) return null;
  const keys = Object.keys(detail).sort();
  let d = '';
  for (const k of keys) {
    const v = detail[k];
    if (!str(k) || !primitive(v)) return null;
    d += `${d ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  const j = JSON.stringify;
  const a = `{"id":${j(actor.id)},"kind":${j(actor.kind)}${actor.name === undefined ? '' : `,"name":${j(actor.name)}`}}`;
  const t = target === null ? 'null' : `{"id":${j(target.id)},"kind":${j(target.kind)}}`;
  return `{"action":${j(e.action)},"actor":${a},"at":${j(e.at)},"detail":{${d}},"ip":${j(e.ip)},"outcome":${j(e.outcome)},"prevHash":${j(e.prevHash)},"target":${t}}`;
}

/** The fields that are hashed: everything of the entry but its storage position, hash and MAC. */
export function hashEntry(entry: Omit<AuditEntry, 'hash' | 'mac'>): string {
  const fast = canonicalBody(entry);
  if (fast !== null) return createHash('sha256').update(fast).digest('hex');
  const body = {
    at: entry.at,
    actor: entry.actor.name === undefined ? { kind: entry.actor.kind, id: entry.actor.id } : entry.actor,
    action: entry.action,
    target: entry.target,
    outcome: entry.outcome,
    detail: entry.detail,
    ip: entry.ip,
    prevHash: entry.prevHash,
  };
  return createHash('sha256').update(canonicalize(body)!).digest('hex');
}

export const macOf = (key: Buffer, hash: string) => createHmac('sha256', key).update(hash).digest('hex');

/** Builds the next entries of a chain whose last entry is `(lastSeq, lastHash)`, MACed with `key`. */
export function chain(
  inputs: readonly AuditEntryInput[],
  lastSeq: number,
  lastHash: string,
  key: Buffer,
  now: () => Date = () => new Date(),
): AuditEntry[] {
  const out: AuditEntry[] = [];
  let seq = lastSeq;
  let prevHash = lastHash;
  for (const input of inputs) {
    seq++;
    const entry: Omit<AuditEntry, 'hash' | 'mac'> = {
      seq,
      at: input.at ?? now().toISOString(),
      actor: input.actor.name === undefined ? { kind: input.actor.kind, id: input.actor.id } : { ...input.actor },
      action: input.action,
      target: input.target ?? null,
      outcome: input.outcome,
      detail: input.detail ?? {},
      ip: input.ip ?? null,
      prevHash,
    };
    const hash = hashEntry(entry);
    out.push({ ...entry, hash, mac: macOf(key, hash) });
    prevHash = hash;
  }
  return out;
}

/** An entry is intact when its fields give its hash and the audit key gives its MAC. */
const intact = (e: AuditEntry, key: Buffer) => {
  const mac = Buffer.from(macOf(key, e.hash), 'hex');
  const stored = Buffer.from(e.mac, 'hex');
  return hashEntry(e) === e.hash && stored.length === mac.length && timingSafeEqual(stored, mac);
};

/**
 * Walks the chain in storage order, page by page (`readPage(afterSeq, limit)` answers entries with
 * seq > afterSeq ascending), from the anchor (`GENESIS`, or the hash of the last entry retention
 * removed), and names the first break:
 * - `altered`: an entry whose fields no longer give its hash, or whose MAC is wrong, and that the
 *   chain does not go around;
 * - `inserted`: an entry that is not intact while the next one links to the one before it (the
 *   chain goes around the newcomer), or a seq met twice;
 * - `deleted`: an intact entry whose `prevHash` is not the previous entry's hash while the chain
 *   goes on from it (entries between them are gone), `missing` = the gap in seq when the rows were
 *   not renumbered, else 0.
 * An intact entry whose `prevHash` is not the previous entry's hash is judged by the entry after it
 * (or the head, when it is the last): that one links to the previous entry → `inserted` (a genuine
 * entry copied in, renumbered), or `altered` when it is the entry the misplaced one links to (two
 * entries swapped); it links to neither → `altered` (another entry's content copied over this one);
 * it links to this one → `deleted`.
 */
export async function verifyChain(
  readPage: (afterSeq: number, limit: number) => Promise<AuditEntry[]>,
  key: Buffer,
  ends: { anchor: string; anchorSeq: number; head: ChainHead | null },
  pageSize = 5000,
): Promise<VerifyReport> {
  const anchor = ends.anchor;
  let prev = anchor;
  let prevSeq = ends.anchorSeq;
  let checked = 0;
  // Entries appended after the head was read (the server keeps writing while verify runs) are not
  // judged: the walk stops at the head's seq.
  const stopAt = ends.head ? ends.head.seq : Number.POSITIVE_INFINITY;
  const upTo = (entries: AuditEntry[]) => entries.filter((e) => e.seq <= stopAt);
  let page = upTo(await readPage(prevSeq, pageSize + 1));
  while (page.length > 0) {
    const last = Math.min(page.length, pageSize);
    for (let i = 0; i < last; i++) {
      const e = page[i]!;
      checked++;
      if (e.seq <= prevSeq) return { ok: false, checked, firstBreak: { kind: 'inserted', seq: e.seq } };
      if (!intact(e, key)) {
        const next = page[i + 1];
        if (next && intact(next, key) && next.prevHash === prev)
          return { ok: false, checked, firstBreak: { kind: 'inserted', seq: e.seq } };
        return { ok: false, checked, firstBreak: { kind: 'altered', seq: e.seq } };
      }
      if (e.prevHash !== prev) {
        // An intact entry out of place: the entry after it (or the head, at the end) tells how.
        const next = page[i + 1];
        // (A next entry that is broken too says nothing: the gap before this one is reported.)
        const after = next ? (intact(next, key) ? next.prevHash : e.hash) : ends.head?.seq === e.seq ? ends.head.hash : e.hash;
        // The chain goes around it: a genuine entry copied in (replayed), unless it is the next one's
        // predecessor, i.e. two entries swapped places.
        if (after === prev)
          return { ok: false, checked, firstBreak: { kind: e.prevHash === next?.hash ? 'altered' : 'inserted', seq: e.seq } };
        // The chain continues from it: entries before it are gone.
        if (after === e.hash)
          return { ok: false, checked, firstBreak: { kind: 'deleted', afterSeq: prevSeq, missing: Math.max(0, e.seq - prevSeq - 1) } };
        // Neither: another entry's content was copied (or moved) over this one.
        return { ok: false, checked, firstBreak: { kind: 'altered', seq: e.seq } };
      }
      prev = e.hash;
      prevSeq = e.seq;
    }
    if (page.length <= pageSize) break;
    page = upTo(await readPage(prevSeq, pageSize + 1));
  }
  // The head record (seq and hash of the newest entry, MACed) catches entries deleted from the end.
  const head = ends.head;
  if (head && !headIntact(head, key)) return { ok: false, checked, firstBreak: { kind: 'altered', seq: head.seq } };
  if (head && (head.seq !== prevSeq || head.hash !== prev)) {
    return { ok: false, checked, firstBreak: { kind: 'deleted', afterSeq: prevSeq, missing: Math.max(0, head.seq - prevSeq) } };
  }
  // The head exists from the log's creation (seq 0): without it the log was wiped or its head removed.
  if (!head) return { ok: false, checked, firstBreak: { kind: 'deleted', afterSeq: prevSeq, missing: 0 } };
  return { ok: true, checked };
}

/**
 * An entry's column values in the order of the `audit_log` table both adapters share (seq, at,
 * actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail (JSON), ip,
 * prev_hash, hash, mac); `mac` defaults to the entry's own.
 */
export function auditRowValues(e: AuditEntry, mac: string = e.mac): unknown[] {
  return [
    e.seq,
    e.at,
    e.actor.kind,
    e.actor.id,
    e.actor.name ?? null,
    e.action,
    e.target?.kind ?? null,
    e.target?.id ?? null,
    e.outcome,
    JSON.stringify(e.detail),
    e.ip,
    e.prevHash,
    e.hash,
    mac,
  ];
}

/** The newest entry's seq and hash, MACed: stored beside the log and replaced by every append. */
export interface ChainHead {
  seq: number;
  hash: string;
  mac: string;
}
export const headOf = (key: Buffer, seq: number, hash: string): ChainHead => ({ seq, hash, mac: macOf(key, `head:${seq}:${hash}`) });
function headIntact(head: ChainHead, key: Buffer): boolean {
  const want = Buffer.from(macOf(key, `head:${head.seq}:${head.hash}`), 'hex');
  const got = Buffer.from(head.mac, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}
/** The anchor retention leaves (the hash of the last removed entry), MACed like the head. */
export const anchorMac = (key: Buffer, hash: string) => macOf(key, `anchor:${hash}`);

/** An audit row as both adapters read it (columns by name; `seq` and `at` already JS-typed, `detail` parsed). */
export interface AuditRow {
  seq: number;
  at: string;
  actor_kind: AuditEntry['actor']['kind'];
  actor_id: string;
  actor_name: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  outcome: AuditEntry['outcome'];
  detail: AuditEntry['detail'];
  ip: string | null;
  prev_hash: string;
  hash: string;
  mac: string;
}

/** The entry of a stored row (adapters: audit.sqlite.ts, audit.pg.ts). */
export function entryOfRow(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor_name === null ? { kind: r.actor_kind, id: r.actor_id } : { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
    action: r.action,
    target: r.target_kind === null || r.target_id === null ? null : { kind: r.target_kind, id: r.target_id },
    outcome: r.outcome,
    detail: r.detail,
    ip: r.ip,
    prevHash: r.prev_hash,
    hash: r.hash,
    mac: r.mac,
  };
}

/** Opaque cursor of a newest-first page: the last entry's `at` and `seq`. */
export const encodeCursor = (e: Pick<AuditEntry, 'at' | 'seq'>) => Buffer.from(JSON.stringify([e.at, e.seq])).toString('base64url');
export function decodeCursor(cursor: string): { at: string; seq: number } | null {
  try {
    const [at, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at !== 'string' || typeof seq !== 'number' || !Number.isInteger(seq)) return null;
    return { at, seq };
  } catch {
    return null;
  }
}

/** The retention cut-off actually used: `before`, but never later than the 6-month floor. */
export function retentionCutoff(before: Date, now = new Date()): Date {
  const floor = new Date(now.getTime() - MIN_RETENTION_DAYS * 86_400_000);
  return before < floor ? before : floor;
}
