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
export type KeyProviderSpec = { kind: 'local'; dir: string };

export interface KeyProvider {
  readonly kind: 'local' | 'pkcs11';
  /** What another thread passes to `openKeyProvider` to reach the same KEK. */
  readonly spec: KeyProviderSpec;
  /** A fresh random 256-bit data key, in plain for use and wrapped for storage. */
  generateDataKey(): Promise<{ plain: Buffer; wrapped: WrappedKey }>;
  /** Unwraps a stored data key; throws when it was not wrapped by this provider or was altered. */
  unwrapDataKey(wrapped: WrappedKey): Promise<Buffer>;
  close(): Promise<void>;
}
