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
 * plain data only, never key material.
 */
export type KeyProviderSpec =
  | { kind: 'local'; dir: string }
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
      /** One Int32 every thread's provider adds its module calls to (shared, not copied, by workerData). */
      calls: SharedArrayBuffer;
    };

export interface KeyProvider {
  readonly kind: 'local' | 'pkcs11';
  /** What another thread passes to `openKeyProvider` to reach the same KEK. */
  readonly spec: KeyProviderSpec;
  /** A fresh random 256-bit data key, in plain for use and wrapped for storage. */
  generateDataKey(): Promise<{ plain: Buffer; wrapped: WrappedKey }>;
  /** Unwraps a stored data key; throws when it was not wrapped by this provider or was altered. */
  unwrapDataKey(wrapped: WrappedKey): Promise<Buffer>;
  /**
   * Calls into the KEK's keeper so far, by every thread that opened this provider's spec (issue 14:
   * 0 per message after warm-up; `huiliu_key_provider_calls_total`). The local key file counts too.
   */
  readonly calls: number;
  close(): Promise<void>;
}
