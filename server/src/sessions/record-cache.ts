/**
 * Opened message records of the conversations read recently, per conversation, for the Redis adapter
 * (issue 14, DESIGN §9 "store ≥ 50 % of raw"; docs/store.md "Reading history"). A conversation's list
 * element `seq` never changes once written (append-only, gap-free), so an opened record is kept under
 * (conversation, seq) together with its decoded header and its plaintext payload (`body` + `meta` as
 * JSON text): reading the page again costs one byte comparison of the stored record per message instead
 * of parsing its header and opening AES-256-GCM.
 *
 * What keeps it safe (DESIGN §8):
 * - an entry is served only for a stored record **byte-for-byte** equal to the one that was opened
 *   (header and ciphertext): any change in Redis misses the cache and is opened, and GCM-checked, again;
 * - the caller serves an entry only when the customer's data key it holds now is the very Buffer the
 *   entry was opened with (identity): a destroyed key (crypto-erasure) or another key matches nothing,
 *   and the caller resolves that key before any hit, so an erased customer's read fails with
 *   CUSTOMER_ERASED instead of finding cached plaintext;
 * - `forgetCustomer` drops a customer's plaintext at once (`customer.erased`), `clear` drops all.
 *
 * Bounded by bytes (record + plaintext in UTF-16 + overhead). Windows are kept in least-recently-read
 * order: over budget, the whole window read longest ago goes first; one conversation keeps at most
 * `perConversation` records (the ones inserted first go first).
 */

/** One opened record: the header as decoded and the payload's plaintext JSON. */
export interface CachedRecord<H> {
  /** The stored record these values came from (compared byte for byte on every hit). */
  record: Buffer;
  /** The data key the payload was opened with (the adapter's cached Buffer: identity, not contents). */
  key: Buffer;
  customerId: string;
  header: H;
  plain: string;
  bytes: number;
}

/** The cached records of one conversation by seq. */
export interface RecordWindow<H> {
  entries: Map<number, CachedRecord<H>>;
  bytes: number;
}

/** Rough overhead per entry (Map slot, entry object, header object), bytes. */
const ENTRY_OVERHEAD = 400;

export class ConversationRecordCache<H> {
  private readonly windows = new Map<string, RecordWindow<H>>();
  private size = 0;
  hits = 0;
  misses = 0;

  /**
   * `maxBytes`: the budget over all conversations (0 turns the cache off); `perConversation`: most
   * records kept for one conversation.
   */
  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly perConversation = 2000,
  ) {}

  /** Bytes held now (estimate). */
  get bytes(): number {
    return this.size;
  }

  /** Records cached now, over all conversations. */
  get count(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.entries.size;
    return n;
  }

  /** The conversation's window (marked read most recently), or undefined when nothing of it is cached. */
  window(conversationId: string): RecordWindow<H> | undefined {
    const w = this.windows.get(conversationId);
    if (w === undefined) return undefined;
    this.windows.delete(conversationId);
    this.windows.set(conversationId, w);
    return w;
  }

  /**
   * The entry at `seq` in `window` when the stored `record` is byte-identical to the one it was opened
   * from; undefined otherwise (the caller opens the record and calls `put`). The caller must still check
   * that `entry.key` is the customer's current data key.
   */
  lookup(window: RecordWindow<H> | undefined, seq: number, record: Buffer): CachedRecord<H> | undefined {
    const e = window?.entries.get(seq);
    if (e !== undefined && e.record.equals(record)) return e;
    return undefined;
  }

  /** Keeps an opened record of `conversationId` at `seq` (replacing what was there). */
  put(conversationId: string, seq: number, entry: Omit<CachedRecord<H>, 'bytes'>): void {
    if (this.maxBytes <= 0) return;
    const bytes = entry.record.length + entry.plain.length * 2 + ENTRY_OVERHEAD;
    if (bytes > this.maxBytes) return;
    let w = this.windows.get(conversationId);
    if (w === undefined) {
      w = { entries: new Map(), bytes: 0 };
      this.windows.set(conversationId, w);
    }
    const old = w.entries.get(seq);
    if (old !== undefined) this.dropEntry(w, seq, old);
    w.entries.set(seq, { ...entry, bytes });
    w.bytes += bytes;
    this.size += bytes;
    while (w.entries.size > this.perConversation) {
      const [s, e] = w.entries.entries().next().value as [number, CachedRecord<H>];
      this.dropEntry(w, s, e);
    }
    // Over budget: whole windows read longest ago first, then the oldest entries of this one.
    while (this.size > this.maxBytes) {
      const [id, oldest] = this.windows.entries().next().value as [string, RecordWindow<H>];
      if (oldest === w && this.windows.size === 1) {
        const [s, e] = w.entries.entries().next().value as [number, CachedRecord<H>];
        this.dropEntry(w, s, e);
      } else if (oldest === w) {
        this.windows.delete(id);
        this.windows.set(id, w);
      } else this.dropWindow(id, oldest);
    }
  }

  /** Drops every cached record of one customer (crypto-erasure). Answers how many. */
  forgetCustomer(customerId: string): number {
    let n = 0;
    for (const [id, w] of this.windows) {
      for (const [seq, e] of w.entries) {
        if (e.customerId === customerId) {
          this.dropEntry(w, seq, e);
          n++;
        }
      }
      if (w.entries.size === 0) this.windows.delete(id);
    }
    return n;
  }

  /** Drops every cached record of one conversation (retention removed some of its content). Answers how many. */
  forgetConversation(conversationId: string): number {
    const w = this.windows.get(conversationId);
    if (!w) return 0;
    this.dropWindow(conversationId, w);
    return w.entries.size;
  }

  /** Drops everything. */
  clear(): void {
    this.windows.clear();
    this.size = 0;
  }

  private dropEntry(w: RecordWindow<H>, seq: number, e: CachedRecord<H>): void {
    w.entries.delete(seq);
    w.bytes -= e.bytes;
    this.size -= e.bytes;
  }

  private dropWindow(id: string, w: RecordWindow<H>): void {
    this.windows.delete(id);
    this.size -= w.bytes;
  }
}
