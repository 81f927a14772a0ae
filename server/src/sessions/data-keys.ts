import type { Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';

/**
 * Per-owner data keys (a customer, the blind index): created through the KeyProvider, stored only
 * wrapped, unwrapped once and then served from memory, so messages cost no KEK/HSM call
 * (DESIGN §9: 0 HSM calls per message). Bounded LRU so a huge customer base does not pin memory.
 */
export class DataKeyRing {
  private readonly cache = new Map<string, Buffer>();
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    /** How writes reach the disk (the store passes its group commit); direct by default. */
    private readonly write: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
    private readonly maxCached = 50_000,
  ) {}

  private remember(owner: string, key: Buffer): Buffer {
    this.cache.delete(owner);
    this.cache.set(owner, key);
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return key;
  }

  /** The owner's key if it exists (null otherwise). */
  async get(owner: string): Promise<Buffer | null> {
    const hit = this.cache.get(owner);
    if (hit) return this.remember(owner, hit);
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

  /** Cached key only: for synchronous code paths inside a transaction, after `get`/`getOrCreate`. */
  cached(owner: string): Buffer {
    const key = this.cache.get(owner);
    if (!key) throw new Error(`data key for ${owner} not loaded`);
    return key;
  }
}
