import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import type { KeyProvider } from './provider';

/**
 * The KeyProvider contract. Every adapter (local key file, PKCS#11) runs this same suite with a
 * factory that gives a fresh provider and a second one over the same key material.
 */
export function keyProviderContract(
  name: string,
  factory: () => Promise<{ provider: KeyProvider; reopen: () => Promise<KeyProvider>; cleanup: () => Promise<void> }>,
): void {
  describe(`KeyProvider contract: ${name}`, () => {
    let provider: KeyProvider;
    let reopen: () => Promise<KeyProvider>;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ provider, reopen, cleanup } = await factory());
    });
    afterEach(async () => {
      await provider.close();
      await cleanup();
    });

    it('generates 256-bit data keys that unwrap to themselves', async () => {
      const { plain, wrapped } = await provider.generateDataKey();
      expect(plain).toHaveLength(32);
      expect(wrapped.wrapped.includes(plain)).toBe(false);
      expect((await provider.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
    });

    it('never hands out the same data key twice', async () => {
      const keys = await Promise.all(Array.from({ length: 50 }, () => provider.generateDataKey()));
      expect(new Set(keys.map((k) => k.plain.toString('hex'))).size).toBe(50);
    });

    it('unwraps keys after a restart with the same key material', async () => {
      const { plain, wrapped } = await provider.generateDataKey();
      const again = await reopen();
      try {
        expect((await again.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
      } finally {
        await again.close();
      }
    });

    it('rejects a wrapped key that was altered', async () => {
      const { wrapped } = await provider.generateDataKey();
      const bytes = Buffer.from(wrapped.wrapped);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
      await expect(provider.unwrapDataKey({ ...wrapped, wrapped: bytes })).rejects.toThrow();
    });

    it('rejects a key wrapped under another KEK id', async () => {
      const { wrapped } = await provider.generateDataKey();
      await expect(provider.unwrapDataKey({ ...wrapped, kekId: 'other:0000' })).rejects.toThrow();
    });
  });
}
