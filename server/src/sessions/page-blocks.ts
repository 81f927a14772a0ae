/**
 * Sealed page blocks (issue 14, DESIGN §9 "encryption keeps ≥ 70 % of plaintext reads"): a cold read of
 * history — another process, a restart, a customer's old conversations — opened one AES-256-GCM record
 * per message, ~5.7 µs each against ~2.5 µs for a plaintext row (`server/bench/aead-open.ts`). A page
 * (50 seqs of one conversation) sealed once as one block opens in ~0.25 µs a message.
 *
 * A block holds one customer's payloads of one page (a merge group's conversation can hold several
 * customers' messages, each sealed with its own data key: a block never mixes keys, so crypto-erasure
 * of one customer still makes exactly their content unreadable). It is sealed with that customer's data
 * key, AAD `mpage:` + JSON [conversationId, page, customerId, firstSeq, lastSeq] (format byte 1).
 *
 * **The rows stay the record.** Beside each payload a block holds the row it was sealed from: its seq,
 * its stored ciphertext byte for byte, and its `headerCode` (every header field a reader takes from
 * outside the ciphertext — those `messageHeaderAad` binds — length-prefixed). A reader takes a payload
 * from a block only for a row that is exactly that row (the same rule as the opened-payload cache's
 * hits), so a read of part of a page checks only the rows it read. A row of the read in the block's
 * range that the block does not hold byte for byte — added, moved, re-typed, re-headed, flipped — or a
 * flipped byte in the block, an unknown format: the block is refused and the rows are opened one by one
 * as before, so every tamper is still caught by the row's own GCM check (`TamperError`), never returned
 * as data. Cost: a block holds each row's ciphertext once more beside its payload and header code.
 *
 * Plaintext layout of a block (layout 2, since stop 38): the byte 2, a u32 row count n, then n u32s
 * each of the rows' seqs (less the place's firstSeq), their ciphertexts', header codes' and payloads'
 * byte lengths (all big-endian), then the ciphertexts, the codes (UTF-8) and the payloads (UTF-8), each
 * concatenated: a reader decodes only the rows it reads. Layout 1 (stop 37; its first byte is 0, the
 * high byte of its head's length) is still read: a 4-byte length, a JSON head `{"seqs","cts","codes",
 * "payloads"}` (UTF-16 lengths for codes and payloads), the ciphertexts, then codes and payloads as one text.
 */
import type { Statement } from 'better-sqlite3';
import { open, seal, TamperError } from '../crypto/aead';
import type { Db } from '../db/sqlite';
import type { OpenedPayloadCache } from './opened-cache';
import { messageAadOf, rowHeader, type MessageRow } from './sqlite-rows';

/** Seqs per page: seqs 1–50 are page 0, 51–100 page 1, … (the workstation and the bench read 50 at a time). */
export const PAGE_SEQS = 50;

/**
 * A customer's cold page is read through their block when at least this many of their rows on it miss
 * the opened cache (below: opening them costs less — a block costs a point read, a GCM open and its head).
 */
export const PAGE_BLOCK_MIN_ROWS = 5;

/** The page a seq (1-based) is on. */
export const pageOf = (seq: number): number => Math.floor((seq - 1) / PAGE_SEQS);

/** What a block is bound to (its AAD). */
export interface PagePlace {
  conversationId: string;
  page: number;
  customerId: string;
  firstSeq: number;
  lastSeq: number;
}

/** A `message_pages` row. */
export interface PageBlockRow {
  conversation_id: string;
  page: number;
  customer_id: string;
  first_seq: number;
  last_seq: number;
  block_ct: Buffer;
}

export const PAGE_SQL = {
  upsert: `INSERT INTO message_pages (conversation_id, page, customer_id, first_seq, last_seq, block_ct) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (conversation_id, page, customer_id) DO UPDATE SET first_seq = excluded.first_seq, last_seq = excluded.last_seq,
      block_ct = excluded.block_ct`,
  /** The page's rows of every customer, in seq order (the `(conversation_id, seq)` index). */
  pageRows: 'SELECT * FROM messages WHERE conversation_id = ? AND seq BETWEEN ? AND ? ORDER BY seq',
  /**
   * One customer's block of one page (the primary key): a read fetches exactly the blocks it may open —
   * a range of pages would also fetch every block between two distant pages a read touches (one
   * customer's rows in a merge group's long conversation) and the other customers' blocks of each.
   */
  blockOf: 'SELECT * FROM message_pages WHERE conversation_id = ? AND page = ? AND customer_id = ?',
  /** Blocks are a derived copy: whoever deletes messages deletes the blocks of their conversations too. */
  deleteOfSession:
    'DELETE FROM message_pages WHERE conversation_id IN (SELECT DISTINCT conversation_id FROM messages WHERE session_id = ?)',
  /** A customer's blocks (crypto-erasure: unreadable once their key is destroyed; removed with their other derived data). */
  deleteOfCustomer: 'DELETE FROM message_pages WHERE customer_id = ?',
} as const;

const pageAad = (p: PagePlace) => `mpage:${JSON.stringify([p.conversationId, p.page, p.customerId, p.firstSeq, p.lastSeq])}`;

/** A stored row's AAD as its format byte calls for it; null for a format no reader accepts (never put in a block). */
export const storedAadOf = (row: MessageRow): string | null =>
  row.payload_ct.length > 0 ? messageAadOf(rowHeader(row))(row.payload_ct[0]!) : null;

/** Whether a row's format byte is one readers open (1 or 2): only such rows go into a block. */
export const knownFormat = (row: MessageRow): boolean => row.payload_ct.length > 0 && (row.payload_ct[0] === 1 || row.payload_ct[0] === 2);

const isText = (v: unknown) => typeof v === 'string';
const isTextOrNone = (v: unknown) => v === null || v === undefined || typeof v === 'string';

/**
 * Whether every column of a row has the type the writer stores (text, integer, null where allowed; the
 * payload a Buffer). SQLite keeps whatever type a value was written with, and `headerCode` renders a
 * BLOB of the same bytes as the text — or the integer 1 — it replaced: only well-typed rows are
 * checked against a block (any other is opened row by row, where its header fails the GCM check).
 */
export const wellTyped = (r: MessageRow): boolean =>
  Number.isSafeInteger(r.seq) &&
  (r.critical === 0 || r.critical === 1) &&
  Buffer.isBuffer(r.payload_ct) &&
  isText(r.id) &&
  isText(r.conversation_id) &&
  isText(r.customer_id) &&
  isText(r.session_id) &&
  isText(r.channel) &&
  isText(r.direction) &&
  isText(r.kind) &&
  isText(r.client_message_id) &&
  isTextOrNone(r.author_id) &&
  isTextOrNone(r.author_kind) &&
  isText(r.sent_at) &&
  isText(r.received_at);

const field = (s: string | null | undefined) => (s === null || s === undefined ? '-' : `${s.length}:${s}`);

/**
 * A row's header as a block holds it: each text field length-prefixed (`<UTF-16 length>:<text>`, `-` for
 * none), so the concatenation of well-typed rows (`wellTyped`: only those are checked) is injective. The conversation and customer are not in it: a block
 * is bound to both (its AAD) and only rows with exactly those are checked against it. ~4× cheaper than the AAD's JSON.
 */
export function headerCode(row: MessageRow): string {
  return `${row.seq}:${row.payload_ct.length}:${row.critical}${field(row.id)}${field(row.session_id)}${field(row.channel)}${field(row.direction)}${field(row.kind)}${field(row.client_message_id)}${field(row.author_id)}${field(row.author_kind)}${field(row.sent_at)}${field(row.received_at)}|`;
}

/**
 * Seals one customer's rows of one page with their payloads as a block: per row its seq, its stored
 * ciphertext (byte for byte), its `headerCode` and its payload (layout 2, see the file's head).
 * @param rows the customer's rows of the page in seq order (at least one, all within `place`'s seqs), `payloads` their plaintexts
 * @throws RangeError when there is no row, not one payload per row, a row outside `place`, or `key` is not 32 bytes
 */
export function sealPageBlock(key: Buffer, place: PagePlace, rows: readonly MessageRow[], payloads: readonly string[]): Buffer {
  if (rows.length === 0 || payloads.length !== rows.length) throw new RangeError('a page block needs one payload per row');
  if (rows.some((r) => r.seq < place.firstSeq || r.seq > place.lastSeq)) throw new RangeError('a page block holds rows of its place only');
  const n = rows.length;
  const codes = rows.map((r) => Buffer.from(headerCode(r), 'utf8'));
  const texts = payloads.map((p) => Buffer.from(p, 'utf8'));
  const head = Buffer.allocUnsafe(5 + 16 * n);
  head[0] = LAYOUT;
  head.writeUInt32BE(n, 1);
  let at = 5;
  for (const r of rows) at = head.writeUInt32BE(r.seq - place.firstSeq, at);
  for (const r of rows) at = head.writeUInt32BE(r.payload_ct.length, at);
  for (const c of codes) at = head.writeUInt32BE(c.length, at);
  for (const t of texts) at = head.writeUInt32BE(t.length, at);
  const plain = Buffer.concat([head, ...rows.map((r) => r.payload_ct), ...codes, ...texts]);
  return seal(key, plain, pageAad(place));
}

/**
 * A block opened: per row (in seq order) its seq, and where in the block's plaintext its stored
 * ciphertext, header code and payload are (row i's ciphertext is `plain[ctAt[i], ctAt[i + 1])`, its
 * code and payload likewise UTF-8 between `codeAt` and `payloadAt`): nothing is decoded or copied per
 * row until asked for (`ctOf`, `codeOf`, `blockPayloadOf`), so a read of half a page decodes half of it.
 */
export interface OpenedPage {
  seqs: number[];
  plain: Buffer;
  ctAt: number[];
  codeAt: number[];
  payloadAt: number[];
  /** Layout 1 (blocks sealed in stop 37): its codes and payloads, decoded at once. */
  decoded?: { codes: string[]; payloads: string[] };
}

/** Row `i`'s stored ciphertext as the block holds it. */
export const ctOf = (page: OpenedPage, i: number): Buffer => page.plain.subarray(page.ctAt[i], page.ctAt[i + 1]);

/** Row `i`'s header code (`headerCode` of the row it was sealed from). */
export const codeOf = (page: OpenedPage, i: number): string =>
  page.decoded ? page.decoded.codes[i]! : page.plain.toString('utf8', page.codeAt[i], page.codeAt[i + 1]);

/** Row `i`'s payload (the JSON text sealed in its row). */
export const blockPayloadOf = (page: OpenedPage, i: number): string =>
  page.decoded ? page.decoded.payloads[i]! : page.plain.toString('utf8', page.payloadAt[i], page.payloadAt[i + 1]);

/** Whether `sealed` is byte for byte row `i`'s ciphertext in the block (compared in place). */
const sameCt = (page: OpenedPage, i: number, sealed: Buffer) =>
  sealed.length === page.ctAt[i + 1]! - page.ctAt[i]! && sealed.compare(page.plain, page.ctAt[i], page.ctAt[i + 1]) === 0;

const isCounts = (v: unknown, n?: number): v is number[] =>
  Array.isArray(v) && (n === undefined || v.length === n) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);

/** The block layout `sealPageBlock` writes (the first plaintext byte; layout 1's is always 0: its head length's high byte). */
const LAYOUT = 2;

/**
 * Opens a block (layout 2, or layout 1 as sealed before stop 38: a JSON head and one text).
 * @throws TamperError when it fails its GCM check (any flipped byte, another place's block) or its
 * plaintext is not a well-formed block
 */
export function openPageBlock(key: Buffer, place: PagePlace, sealed: Buffer): OpenedPage {
  const plain = open(key, sealed, pageAad(place));
  try {
    return plain[0] === LAYOUT ? openLayout2(plain, place) : openLayout1(plain);
  } catch {
    throw new TamperError();
  }
}

/** Splits `text` into consecutive pieces of `lengths` UTF-16 units, from `t`; the end (must be `text`'s). */
function piecesOf(text: string, lengths: readonly number[], out: string[], t = 0): number {
  for (const n of lengths) out.push(text.slice(t, (t += n)));
  return t;
}

/** Offsets of `n` consecutive pieces whose byte lengths are u32s at `plain[at…]`, from `from`: n + 1 offsets. */
function offsetsOf(plain: Buffer, at: number, n: number, from: number): number[] {
  const offsets: number[] = new Array(n + 1);
  for (let i = 0; i < n; i++, at += 4) {
    offsets[i] = from;
    from += plain.readUInt32BE(at);
  }
  offsets[n] = from;
  return offsets;
}

function openLayout2(plain: Buffer, place: PagePlace): OpenedPage {
  const n = plain.readUInt32BE(1);
  if (n === 0 || n > PAGE_SEQS) throw new Error('rows');
  const seqs: number[] = new Array(n);
  for (let i = 0, at = 5; i < n; i++, at += 4) seqs[i] = place.firstSeq + plain.readUInt32BE(at);
  const ctAt = offsetsOf(plain, 5 + 4 * n, n, 5 + 16 * n);
  const codeAt = offsetsOf(plain, 5 + 8 * n, n, ctAt[n]!);
  const payloadAt = offsetsOf(plain, 5 + 12 * n, n, codeAt[n]!);
  if (payloadAt[n] !== plain.length) throw new Error('length');
  return { seqs, plain, ctAt, codeAt, payloadAt };
}

function openLayout1(plain: Buffer): OpenedPage {
  const headLength = plain.readUInt32BE(0);
  const head = JSON.parse(plain.toString('utf8', 4, 4 + headLength)) as Record<string, unknown>;
  const { seqs } = head;
  if (!isCounts(seqs) || !isCounts(head.cts, seqs.length) || !isCounts(head.codes, seqs.length) || !isCounts(head.payloads, seqs.length))
    throw new Error('shape');
  let at = 4 + headLength;
  const ctAt = [at];
  for (const n of head.cts) ctAt.push((at += n));
  if (at > plain.length) throw new Error('length');
  const text = plain.toString('utf8', at);
  const codes: string[] = [];
  const payloads: string[] = [];
  if (piecesOf(text, head.payloads, payloads, piecesOf(text, head.codes, codes)) !== text.length) throw new Error('length');
  return { seqs, plain, ctAt, codeAt: [], payloadAt: [], decoded: { codes, payloads } };
}

/** A block row's place. */
export const placeOf = (b: PageBlockRow): PagePlace => ({
  conversationId: b.conversation_id,
  page: b.page,
  customerId: b.customer_id,
  firstSeq: b.first_seq,
  lastSeq: b.last_seq,
});

/** What the page blocks did for reads so far (`SessionStore.openedCacheStats`). */
export interface PageBlockStats {
  /** Rows whose payload came from a block. */
  rows: number;
  /** Blocks opened. */
  opened: number;
  /** Blocks not used: failed their GCM check, or their rows no longer match (opened row by row instead). */
  refused: number;
}

/**
 * The read side on one connection: `vouch(rows)` opens a customer's block of a page where enough of
 * their `rows` miss the opened-payload cache, checks it against those very rows (the objects the read's
 * own statement returned) and answers their payloads (also kept in the cache).
 */
export class PageBlockReader {
  readonly stats: PageBlockStats = { rows: 0, opened: 0, refused: 0 };
  private readonly blockOf: Statement;

  constructor(
    db: Db,
    private readonly keyOf: (customerId: string) => Buffer | undefined,
    private readonly cache: OpenedPayloadCache,
  ) {
    this.blockOf = db.prepare(PAGE_SQL.blockOf);
  }

  /**
   * Payloads of `rows` (their customers' keys already loaded) that blocks vouch for: `payloads[i]` is
   * row i's, undefined for a row no block vouched for (open it on its own); null when no customer's page
   * of them is cold enough to be worth a block (`PAGE_BLOCK_MIN_ROWS`).
   */
  vouch(rows: readonly MessageRow[]): (string | undefined)[] | null {
    if (rows.length < PAGE_BLOCK_MIN_ROWS) return null;
    // conversation → page → customer → the indexes of their rows missing the cache: only the blocks of
    // customers with enough cold rows on the page are opened (a read of one customer's messages does not
    // open — decrypt — another's on the page, and a merge group's member with one message there is
    // opened alone), and each block is checked against its own customer's cold rows of its page only, so
    // a read's work is linear in its rows however many blocks it opens. Rows come in runs of one
    // conversation, page and customer: the last ones are remembered.
    const cold = new Map<string, Map<number, Map<string, number[]>>>();
    let customer: string | undefined;
    let key: Buffer | undefined;
    let conversation: string | undefined;
    let pages: Map<number, Map<string, number[]>> | undefined;
    let page = -1;
    let byCustomer: Map<string, number[]> | undefined;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.customer_id !== customer) {
        customer = r.customer_id;
        key = this.keyOf(customer);
      }
      if (!key || this.cache.holds(r.id, key, r.payload_ct)) continue;
      if (r.conversation_id !== conversation || !pages) {
        conversation = r.conversation_id;
        pages = cold.get(conversation);
        if (!pages) cold.set(conversation, (pages = new Map()));
        page = -1;
      }
      const p = pageOf(r.seq);
      if (p !== page || !byCustomer) {
        page = p;
        byCustomer = pages.get(p);
        if (!byCustomer) pages.set(p, (byCustomer = new Map()));
      }
      const own = byCustomer.get(customer);
      if (own) own.push(i);
      else byCustomer.set(customer, [i]);
    }
    let out: (string | undefined)[] | null = null;
    for (const [conversationId, pages] of cold)
      for (const [page, byCustomer] of pages)
        for (const [customerId, own] of byCustomer) {
          if (own.length < PAGE_BLOCK_MIN_ROWS) continue;
          const block = this.blockOf.get(conversationId, page, customerId) as PageBlockRow | undefined;
          if (block) out = this.check(block, rows, own, out);
        }
    return out;
  }

  /**
   * Checks `block` against `rows[own…]` (its customer's rows of its page that the read has cold; rows of
   * the cache are not asked for) and, when every one of them in its range is a row it holds byte for
   * byte, puts their payloads in `out` (made when null) by row index; else refuses it (`out` untouched).
   */
  private check(
    block: PageBlockRow,
    rows: readonly MessageRow[],
    own: readonly number[],
    out: (string | undefined)[] | null,
  ): (string | undefined)[] | null {
    const key = this.keyOf(block.customer_id);
    if (!key) return out;
    const place = placeOf(block);
    // The writer seals rows of one page: a wider place is not a block it made.
    const span = place.lastSeq - place.firstSeq + 1;
    if (!(span >= 1 && span <= PAGE_SEQS)) return this.refuse(out);
    let opened: OpenedPage;
    try {
      opened = openPageBlock(key, place, block.block_ct);
    } catch (err) {
      if (!(err instanceof TamperError)) throw err;
      return this.refuse(out);
    }
    this.stats.opened++;
    // Row i of the block by seq (its seqs are in its place, each once).
    const at = new Int8Array(span).fill(-1);
    for (let i = 0; i < opened.seqs.length; i++) {
      const o = opened.seqs[i]! - place.firstSeq;
      if (!(o >= 0 && o < span) || at[o] !== -1) return this.refuse(out);
      at[o] = i;
    }
    const matched: number[] = [];
    for (const r of own) {
      const row = rows[r]!;
      if (row.conversation_id !== place.conversationId || row.customer_id !== place.customerId) continue;
      const o = row.seq - place.firstSeq;
      if (!(o >= 0 && o < span)) continue;
      const i = at[o]!;
      // Every row of the read in the block's range must be a row the block holds, byte for byte — a row
      // added, moved, re-typed, re-headed or flipped refuses the whole block (a page that was tampered
      // with is opened row by row, where each row's own GCM check speaks).
      if (i === -1 || !knownFormat(row) || !wellTyped(row) || !sameCt(opened, i, row.payload_ct)) return this.refuse(out);
      if (headerCode(row) !== codeOf(opened, i)) return this.refuse(out);
      matched.push(r, i);
    }
    this.stats.rows += matched.length / 2;
    out ??= new Array<string | undefined>(rows.length);
    for (let m = 0; m < matched.length; m += 2) {
      const row = rows[matched[m]!]!;
      const payload = blockPayloadOf(opened, matched[m + 1]!);
      out[matched[m]!] = payload;
      // Kept in the opened cache (its hits compare the row's AAD, so each is formed once here) when it is on.
      if (this.cache.enabled) this.cache.put(row.id, row.customer_id, key, row.payload_ct, storedAadOf(row)!, payload);
    }
    return out;
  }

  private refuse<T>(out: T): T {
    this.stats.refused++;
    return out;
  }
}
