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
 * Plaintext layout of a block: a 4-byte big-endian length, a JSON head `{"seqs":[…],"cts":[…],
 * "codes":[…],"payloads":[…]}` (the ciphertexts' byte lengths, the codes' and payloads' UTF-16
 * lengths), the ciphertexts concatenated, then the codes and payloads as one UTF-8 text.
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
 * ciphertext (byte for byte), its `headerCode` and its payload.
 * @param rows the customer's rows of the page in seq order (at least one), `payloads` their plaintexts
 * @throws RangeError when there is no row or not one payload per row, or `key` is not 32 bytes
 */
export function sealPageBlock(key: Buffer, place: PagePlace, rows: readonly MessageRow[], payloads: readonly string[]): Buffer {
  if (rows.length === 0 || payloads.length !== rows.length) throw new RangeError('a page block needs one payload per row');
  const codes = rows.map(headerCode);
  const head = Buffer.from(
    JSON.stringify({
      seqs: rows.map((r) => r.seq),
      cts: rows.map((r) => r.payload_ct.length),
      codes: codes.map((c) => c.length),
      payloads: payloads.map((p) => p.length),
    }),
    'utf8',
  );
  const headLength = Buffer.allocUnsafe(4);
  headLength.writeUInt32BE(head.length, 0);
  const plain = Buffer.concat([
    headLength,
    head,
    ...rows.map((r) => r.payload_ct),
    Buffer.from(codes.join('') + payloads.join(''), 'utf8'),
  ]);
  return seal(key, plain, pageAad(place));
}

/** A block opened: per row (in seq order) its seq, stored ciphertext, header code and payload. */
export interface OpenedPage {
  seqs: number[];
  /** The block's plaintext: row i's ciphertext is `plain[ctAt[i], ctAt[i + 1])` (`ctOf`; no Buffer made per row). */
  plain: Buffer;
  ctAt: number[];
  codes: string[];
  payloads: string[];
}

/** Row `i`'s stored ciphertext as the block holds it. */
export const ctOf = (page: OpenedPage, i: number): Buffer => page.plain.subarray(page.ctAt[i], page.ctAt[i + 1]);

/** Whether `sealed` is byte for byte row `i`'s ciphertext in the block (compared in place). */
const sameCt = (page: OpenedPage, i: number, sealed: Buffer) =>
  sealed.length === page.ctAt[i + 1]! - page.ctAt[i]! && sealed.compare(page.plain, page.ctAt[i], page.ctAt[i + 1]) === 0;

const isCounts = (v: unknown, n?: number): v is number[] =>
  Array.isArray(v) && (n === undefined || v.length === n) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);

/**
 * Opens a block. @throws TamperError when it fails its GCM check (any flipped byte, another place's
 * block) or its plaintext is not a well-formed block
 */
export function openPageBlock(key: Buffer, place: PagePlace, sealed: Buffer): OpenedPage {
  const plain = open(key, sealed, pageAad(place));
  try {
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
    let t = 0;
    const codes = head.codes.map((n) => text.slice(t, (t += n)));
    const payloads = head.payloads.map((n) => text.slice(t, (t += n)));
    if (t !== text.length) throw new Error('length');
    return { seqs, plain, ctAt, codes, payloads };
  } catch {
    throw new TamperError();
  }
}

/** A block row's place. */
export const placeOf = (b: PageBlockRow): PagePlace => ({
  conversationId: b.conversation_id,
  page: b.page,
  customerId: b.customer_id,
  firstSeq: b.first_seq,
  lastSeq: b.last_seq,
});

/** A payload a block vouched for: the row it was verified against (its bytes and header code). */
interface Vouched {
  row: MessageRow;
  code: string;
  payload: string;
}

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
 * their `rows` miss the opened-payload cache, checks it against those rows and answers their payloads (also kept in
 * the cache); `payloadOf` hands one out for a row that is byte-for-byte the vouched one.
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
   * Payloads of `rows` (their customers' keys already loaded) that blocks vouch for, by message id;
   * null when no customer's page of them is cold enough to be worth a block (`PAGE_BLOCK_MIN_ROWS`).
   */
  vouch(rows: readonly MessageRow[]): Map<string, Vouched> | null {
    if (rows.length < PAGE_BLOCK_MIN_ROWS) return null;
    // conversation → page → customer → their rows missing the cache: only the blocks of customers with
    // enough cold rows on the page are opened (a read of one customer's messages does not open — decrypt
    // — another's on the page, and a merge group's member with one message there is opened alone), and
    // each block is checked against its own customer's cold rows of its page only, so a read's work is
    // linear in its rows however many blocks it opens.
    const cold = new Map<string, Map<number, Map<string, MessageRow[]>>>();
    const keys = new Map<string, Buffer | undefined>();
    for (const r of rows) {
      let key = keys.get(r.customer_id);
      if (key === undefined && !keys.has(r.customer_id)) keys.set(r.customer_id, (key = this.keyOf(r.customer_id)));
      if (!key || this.cache.holds(r.id, key, r.payload_ct)) continue;
      let pages = cold.get(r.conversation_id);
      if (!pages) cold.set(r.conversation_id, (pages = new Map()));
      const page = pageOf(r.seq);
      let byCustomer = pages.get(page);
      if (!byCustomer) pages.set(page, (byCustomer = new Map()));
      const own = byCustomer.get(r.customer_id);
      if (own) own.push(r);
      else byCustomer.set(r.customer_id, [r]);
    }
    let out: Map<string, Vouched> | null = null;
    for (const [conversationId, pages] of cold) {
      for (const [page, byCustomer] of pages) {
        for (const [customerId, own] of byCustomer) {
          if (own.length < PAGE_BLOCK_MIN_ROWS) continue;
          const block = this.blockOf.get(conversationId, page, customerId) as PageBlockRow | undefined;
          if (!block) continue;
          const vouched = this.check(block, own);
          if (!vouched) continue;
          out ??= new Map();
          for (const v of vouched) out.set(v.row.id, v);
        }
      }
    }
    return out;
  }

  /**
   * The payload `vouched` holds for `row` when `row` is byte-for-byte the row it was checked against —
   * its conversation and customer too (the header code leaves them out): a read's row and the row a
   * partial read's block was checked against come from two statements, and the file may change between.
   */
  static payloadOf(vouched: Map<string, Vouched> | null, row: MessageRow): string | undefined {
    const v = vouched?.get(row.id);
    if (!v) return undefined;
    if (v.row === row) return v.payload;
    if (
      wellTyped(row) &&
      v.row.conversation_id === row.conversation_id &&
      v.row.customer_id === row.customer_id &&
      v.row.payload_ct.equals(row.payload_ct) &&
      v.code === headerCode(row)
    )
      return v.payload;
    return undefined;
  }

  /**
   * The payloads `block` vouches for among `rows` (its customer's rows of its page that the read has
   * cold; rows of the cache are not asked for), or null when it is refused: any of `rows` in its range
   * that it does not hold byte for byte refuses it.
   */
  private check(block: PageBlockRow, rows: readonly MessageRow[]): Vouched[] | null {
    const key = this.keyOf(block.customer_id);
    if (!key) return null;
    const place = placeOf(block);
    let opened: OpenedPage;
    try {
      opened = openPageBlock(key, place, block.block_ct);
    } catch (err) {
      if (!(err instanceof TamperError)) throw err;
      return this.refuse();
    }
    this.stats.opened++;
    const inBlock = (r: MessageRow) =>
      r.conversation_id === place.conversationId && r.customer_id === place.customerId && r.seq >= place.firstSeq && r.seq <= place.lastSeq;
    const at = new Map(opened.seqs.map((seq, i) => [seq, i]));
    const vouched: Vouched[] = [];
    for (const row of rows) {
      if (!inBlock(row)) continue;
      const i = at.get(row.seq);
      // Every row of the read in the block's range must be a row the block holds, byte for byte — a row
      // added, moved, re-typed, re-headed or flipped refuses the whole block (a page that was tampered
      // with is opened row by row, where each row's own GCM check speaks).
      if (i === undefined || !knownFormat(row) || !wellTyped(row) || !sameCt(opened, i, row.payload_ct)) return this.refuse();
      const code = headerCode(row);
      if (code !== opened.codes[i]) return this.refuse();
      vouched.push({ row, code, payload: opened.payloads[i]! });
    }
    this.stats.rows += vouched.length;
    // Kept in the opened cache (its hits compare the row's AAD, so each is formed once here) when it is on.
    if (this.cache.enabled)
      for (const v of vouched) this.cache.put(v.row.id, v.row.customer_id, key, v.row.payload_ct, storedAadOf(v.row)!, v.payload);
    return vouched;
  }

  private refuse(): null {
    this.stats.refused++;
    return null;
  }
}
