import type { Db } from '../db/sqlite';
import { SharedKeyState, type KeyProvider } from '../keys/provider';

/**
 * Per-owner data keys (a customer, the blind index): created through the KeyProvider, stored only
 * wrapped, unwrapped once and then served from memory, so messages cost no KEK/HSM call
 * (DESIGN §9: 0 HSM calls per message). Bounded LRU so a huge customer base does not pin memory.
 */
export class DataKeyRing {
  private readonly cache = new Map<string, Buffer>();
  /** Shared by every thread that opened the provider's spec: its shred epoch says a key was destroyed. */
  private readonly shared: SharedKeyState;
  private seenShred: number;
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    /** How writes reach the disk (the store passes its group commit); direct by default. */
    private readonly write: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
    private readonly maxCached = 50_000,
  ) {
    this.shared = new SharedKeyState(keys.spec.shared);
    this.seenShred = this.shared.shredEpoch;
  }

  /**
   * Crypto-shredding (issue 17): after `destroy` in any thread, every ring drops the cached keys whose
   * `data_keys` row is gone (one point read per cached key, once per erasure), so no thread keeps
   * reading or sealing with a destroyed key.
   */
  private dropShredded(): void {
    const epoch = this.shared.shredEpoch;
    if (epoch === this.seenShred) return;
    this.seenShred = epoch;
    const exists = this.db.prepare('SELECT 1 AS x FROM data_keys WHERE owner = ?');
    for (const owner of [...this.cache.keys()]) if (!exists.get(owner)) this.cache.delete(owner);
    const keyExists = (owner: string) => exists.get(owner) !== undefined;
    for (const fn of this.shredListeners) fn(keyExists);
  }

  private readonly shredListeners: ((keyExists: (owner: string) => boolean) => void)[] = [];

  /**
   * Calls `fn` in this ring's thread each time the ring learns of an erasure (at its next `get` or
   * `peek` after one), with a point check of whether an owner's key still exists: whoever keeps
   * plaintext beside the ring (the session writer's recent payloads) drops the erased customers' there.
   */
  onShred(fn: (keyExists: (owner: string) => boolean) => void): void {
    this.shredListeners.push(fn);
  }

  /**
   * Destroys the owners' data keys (crypto-shredding, issue 17): deletes their wrapped rows (inside the
   * caller's transaction when there is one), then tells every thread's rings to drop them (`dropShredded`).
   * Whatever was sealed with them can no longer be opened anywhere. Answers how many keys existed.
   */
  static destroy(db: Db, owners: readonly string[]): number {
    const del = db.prepare('DELETE FROM data_keys WHERE owner = ?');
    let n = 0;
    for (const owner of owners) n += del.run(owner).changes;
    return n;
  }

  /** Call after the transaction that ran `destroy` committed: every thread's rings drop the destroyed keys. */
  static announceShred(keys: KeyProvider): void {
    new SharedKeyState(keys.spec.shared).bumpShred();
  }

  private remember(owner: string, key: Buffer): Buffer {
    this.cache.delete(owner);
    this.cache.set(owner, key);
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return key;
  }

  /** The owner's key if it exists (null otherwise). */
  async get(owner: string): Promise<Buffer | null> {
    const hit = this.hit(owner);
    if (hit) return hit;
    this.shared.countLookup(false);
    const row = this.db.prepare('SELECT kek_id, wrapped FROM data_keys WHERE owner = ?').get(owner) as
      { kek_id: string; wrapped: Buffer } | undefined;
    if (!row) return null;
    const plain = await this.keys.unwrapDataKey({ kekId: row.kek_id, wrapped: row.wrapped });
    return this.remember(owner, plain);
  }

  async getOrCreate(owner: string): Promise<Buffer> {
    const existing = await this.get(owner);
    if (existing) return existing;
    const { plain, wrapped } = await this.keys.generateDataKey();
    // Another caller may have created it while we awaited the provider: keep the first one.
    // Durable before any data is sealed with it: a key lost in a crash would make that data unreadable.
    const info = await this.write(() =>
      this.db
        .prepare('INSERT OR IGNORE INTO data_keys (owner, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)')
        .run(owner, wrapped.kekId, wrapped.wrapped, new Date().toISOString()),
    );
    if (info.changes === 0) return (await this.get(owner))!;
    return this.remember(owner, plain);
  }

  /**
   * `get` when the ring holds the key (counted as a lookup and kept as recently used, as `get` does),
   * without a promise; undefined on a miss, which is then not counted: the caller goes on to `get`.
   */
  hit(owner: string): Buffer | undefined {
    this.dropShredded();
    const hit = this.cache.get(owner);
    if (!hit) return undefined;
    this.shared.countLookup(true);
    return this.remember(owner, hit);
  }

  /** The owner's key when this ring holds it already (no read, no unwrap); undefined otherwise or once destroyed. */
  peek(owner: string): Buffer | undefined {
    this.dropShredded();
    return this.cache.get(owner);
  }

  /** Cached key only: for synchronous code paths inside a transaction, after `get`/`getOrCreate`. */
  cached(owner: string): Buffer {
    const key = this.cache.get(owner);
    if (!key) throw new Error(`data key for ${owner} not loaded`);
    return key;
  }
}
