/**
 * Key encryption keys (KEK) live behind a KeyProvider: a local key file in the embedded mode, a
 * PKCS#11 HSM in scale-out (DESIGN §2, §8). Data keys are generated here, stored only wrapped, and
 * cached unwrapped in memory by their users, so a message costs no KEK call.
 */
export interface WrappedKey {
  /** Which KEK wrapped it, so KEK rotation can re-wrap lazily. */
  kekId: string;
  wrapped: Buffer;
}

/**
 * How to open the same provider again in another thread (the session writer's worker, issue 8):
 * plain data only, never key material. `shared` (see `SharedKeyState`) is shared, not copied, by
 * workerData: every thread's provider counts its calls there and sees a KEK rotation at once.
 */
export type KeyProviderSpec =
  | { kind: 'local'; dir: string; shared: SharedArrayBuffer }
  /**
   * The same token and KEK label (provider.pkcs11.ts). `pin` travels only to this process's worker
   * threads (workerData), never to a log, a file or another process.
   */
  | {
      kind: 'pkcs11';
      lib: string;
      token: string;
      pin: string;
      keyLabel: string;
      shared: SharedArrayBuffer;
    };

/**
 * Int32 slots every provider opened from one spec shares across threads: [0] calls into the KEK's
 * keeper, [1] the rotation epoch (bumped by `rotateKek`/`retireKek`; a provider that sees a newer epoch
 * reloads its KEKs before the next wrap or unwrap), [2] the shred epoch (issue 17: bumped after a
 * data key was destroyed; every `DataKeyRing` that sees a newer one drops cached keys whose row is gone).
 * From byte 16 (buffers of 32 bytes, the default since issue 16), two BigInt64 counters of every
 * thread's `DataKeyRing` lookups: [0] served from the ring's cache, [1] read from the database.
 */
export class SharedKeyState {
  private readonly slots: Int32Array;
  private readonly cache: BigInt64Array | null;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(32)) {
    this.slots = new Int32Array(buffer, 0, 3);
    this.cache = buffer.byteLength >= 32 ? new BigInt64Array(buffer, 16, 2) : null;
  }
  /** Counts one data-key lookup: `hit` when the ring had the key unwrapped in memory. */
  countLookup(hit: boolean): void {
    if (this.cache) Atomics.add(this.cache, hit ? 0 : 1, 1n);
  }
  /** Data-key lookups of every thread so far (0 and 0 when the buffer predates the counters). */
  get lookups(): { hits: number; misses: number } {
    return this.cache ? { hits: Number(Atomics.load(this.cache, 0)), misses: Number(Atomics.load(this.cache, 1)) } : { hits: 0, misses: 0 };
  }
  count(n = 1): void {
    Atomics.add(this.slots, 0, n);
  }
  get calls(): number {
    return Atomics.load(this.slots, 0);
  }
  get epoch(): number {
    return Atomics.load(this.slots, 1);
  }
  bump(): void {
    Atomics.add(this.slots, 1, 1);
  }
  /** The shred epoch (0 when the buffer predates slot [2]). */
  get shredEpoch(): number {
    return this.slots.length > 2 ? Atomics.load(this.slots, 2) : 0;
  }
  /** Announces to every thread that data keys were destroyed (crypto-shredding, issue 17). */
  bumpShred(): void {
    if (this.slots.length > 2) Atomics.add(this.slots, 2, 1);
  }
}

/** The KEKs a provider holds: the one new data keys are wrapped with, and earlier ones kept to unwrap. */
export interface KekStatus {
  current: string;
  /** Earlier KEKs still kept (after a rotation, until retired), oldest first. */
  previous: string[];
}

export interface KeyProvider {
  readonly kind: 'local' | 'pkcs11';
  /** What another thread passes to `openKeyProvider` to reach the same KEK. */
  readonly spec: KeyProviderSpec;
  /** A fresh random 256-bit data key, in plain for use and wrapped for storage. */
  generateDataKey(): Promise<{ plain: Buffer; wrapped: WrappedKey }>;
  /** Unwraps a stored data key; throws when it was not wrapped by a KEK this provider holds, or was altered. */
  unwrapDataKey(wrapped: WrappedKey): Promise<Buffer>;
  /** Wraps an existing data key under the current KEK (re-wrapping after a rotation). */
  wrapDataKey(plain: Buffer): Promise<WrappedKey>;
  /** The current and the earlier KEKs (issue 14). */
  kekStatus(): KekStatus;
  /**
   * Makes a fresh KEK current (issue 14, rotation without downtime): new data keys are wrapped with it
   * at once, in every thread; the earlier KEK stays to unwrap until `retireKek`. Crash-safe: a rotation
   * cut short leaves either the old or the new KEK current, never none.
   */
  rotateKek(): Promise<KekStatus>;
  /**
   * Destroys an earlier KEK once nothing is wrapped by it any more (the caller checks: rewrap.ts).
   * @throws HuiliuError VALIDATION_FAILED for the current KEK, NOT_FOUND for an unknown id
   */
  retireKek(kekId: string): Promise<KekStatus>;
  /**
   * Calls into the KEK's keeper so far, by every thread that opened this provider's spec (issue 14:
   * 0 per message after warm-up; `huiliu_key_provider_calls_total`). The local key file counts too.
   */
  readonly calls: number;
  close(): Promise<void>;
}
