/**
 * A bounded, in-memory LRU of message payloads already opened (AES-256-GCM, DESIGN §8), so reading
 * recent history again — an agent reopening a conversation, a reconnect catching up, the AI assist
 * reading context — costs a lookup instead of one `createDecipheriv` per message (DESIGN §9:
 * "encryption keeps ≥ 70 % of unencrypted" reads). The first read of a message still opens it.
 *
 * An entry is served only when it was opened with the very same data key (the ring's cached Buffer,
 * compared by identity) and the stored ciphertext is byte-for-byte the one that was opened: a flipped
 * byte on disk misses the cache and fails GCM's check as before, and a customer whose data key was
 * destroyed (crypto-erasure) no longer has a key to match. `forgetCustomer` drops a customer's
 * plaintext at once when their data is erased.
 */
import { openVersioned } from '../crypto/aead';

interface Entry {
  /** The data key the payload was opened with (the ring's Buffer: identity, not contents). */
  key: Buffer;
  /** The ciphertext as stored when it was opened. */
  sealed: Buffer;
  /** The AAD it was opened with (format 2: the row's header): a changed header is not a hit. */
  aad: string;
  plain: string;
  customerId: string;
  bytes: number;
  /** Read since it last came up for eviction (CLOCK: the second chance of an approximate LRU). */
  used: boolean;
}

/** Rough per-entry overhead of the Map slot and the entry object, in bytes. */
const ENTRY_OVERHEAD = 160;

export class OpenedPayloadCache {
  private readonly entries = new Map<string, Entry>();
  private size = 0;
  hits = 0;
  misses = 0;

  /** `maxBytes`: the budget for ciphertext + plaintext (UTF-16) kept; 0 turns the cache off. */
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** False when built with a budget of 0: nothing is ever kept. */
  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** Bytes held now (estimate: ciphertext + 2 bytes per plaintext and AAD code unit + overhead). */
  get bytes(): number {
    return this.size;
  }

  /**
   * The plaintext of `sealed` (stored under `id`, bound to the AAD `aadOf(its format byte)` returns —
   * null refuses the format), from the cache when the same key opened the same bytes with the same AAD
   * before, else opened with `openVersioned` (throws `TamperError` on any change). Eviction is CLOCK over insertion order: an entry read since it last came up gets a
   * second chance, so hot conversations stay without reordering the map on every hit.
   */
  open(id: string, customerId: string, key: Buffer, sealed: Buffer, aadOf: (version: number) => string | null): string {
    const aad = sealed.length > 0 ? aadOf(sealed[0]!) : null;
    const hit = this.entries.get(id);
    if (hit !== undefined && aad !== null && hit.key === key && hit.aad === aad && hit.sealed.equals(sealed)) {
      this.hits++;
      hit.used = true;
      return hit.plain;
    }
    this.misses++;
    const plain = openVersioned(key, sealed, () => aad).toString('utf8');
    this.keep(id, customerId, key, sealed, aad!, plain);
    return plain;
  }

  /**
   * Whether `open` would likely answer `id` from the cache: an entry opened with this very key Buffer
   * from these very bytes (the AAD is not checked here; `open` still checks it). Counts nothing. False
   * for a `sealed` that is not a Buffer (a payload column re-typed on disk: `open` answers TamperError).
   */
  holds(id: string, key: Buffer, sealed: Buffer): boolean {
    const hit = this.entries.get(id);
    return hit !== undefined && hit.key === key && Buffer.isBuffer(sealed) && hit.sealed.equals(sealed);
  }

  /**
   * Write-through: keeps `plain` as the payload of `sealed` — the record this process just sealed from
   * it (the session writer's `onSealed`) — so the first read of a message written here is a hit. Safe
   * for the same reasons as `open`: a later read hits only with the very same key Buffer, AAD and bytes,
   * and a row that was rolled back is never read. `aad`: the AAD the record was sealed with.
   */
  put(id: string, customerId: string, key: Buffer, sealed: Buffer, aad: string, plain: string): void {
    this.keep(id, customerId, key, sealed, aad, plain);
  }

  private keep(id: string, customerId: string, key: Buffer, sealed: Buffer, aad: string, plain: string): void {
    const hit = this.entries.get(id);
    if (hit) this.drop(id, hit);
    const bytes = sealed.length + (plain.length + aad.length) * 2 + ENTRY_OVERHEAD;
    if (bytes > this.maxBytes) return;
    this.entries.set(id, { key, sealed, aad, plain, customerId, bytes, used: false });
    this.size += bytes;
    while (this.size > this.maxBytes) {
      const [oldId, old] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldId);
      if (old.used && oldId !== id) {
        old.used = false;
        this.entries.set(oldId, old);
      } else this.size -= old.bytes;
    }
  }

  /** Drops every cached payload of one customer (crypto-erasure, merge undo). Returns how many. */
  forgetCustomer(customerId: string): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (e.customerId === customerId) {
        this.drop(id, e);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.clear();
    this.size = 0;
  }

  private drop(id: string, e: Entry): void {
    this.entries.delete(id);
    this.size -= e.bytes;
  }
}
