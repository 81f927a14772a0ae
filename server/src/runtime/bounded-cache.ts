/**
 * A bounded least-recently-used map with an optional time to live: for the hot path's caches
 * (channel keys, customer display names), each invalidated by its owner on change. Its surface is
 * `lru-cache`'s `get`/`set`/`delete`/`clear`/`size`, so that package can replace it if it becomes a
 * direct dependency; a `Map` in insertion order is all it needs today.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly now: () => number;

  /**
   * @param options.max entries kept (≥ 1); setting one more drops the least recently used
   * @param options.ttlMs how long an entry is served after it was set, in ms (default: no expiry);
   *   bounds how stale an entry can be when a change happens where its owner cannot see it
   * @param options.now clock in ms (tests)
   * @throws RangeError for a `max` below 1 or a `ttlMs` that is not positive
   */
  constructor(private readonly options: { max: number; ttlMs?: number; now?: () => number }) {
    if (!(options.max >= 1)) throw new RangeError('BoundedCache: max must be at least 1');
    if (options.ttlMs !== undefined && !(options.ttlMs > 0)) throw new RangeError('BoundedCache: ttlMs must be positive');
    this.now = options.now ?? Date.now;
  }

  /** The value, or undefined when absent or expired; a hit becomes the most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.options.ttlMs === undefined ? Infinity : this.now() + this.options.ttlMs });
    // A Map iterates in insertion order: the first key is the least recently used.
    if (this.entries.size > this.options.max) this.entries.delete(this.entries.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired ones not yet looked up included. */
  get size(): number {
    return this.entries.size;
  }
}
