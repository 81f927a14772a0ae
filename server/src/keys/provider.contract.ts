import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { openKeyProvider } from './open';
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
    it('rotates the KEK without downtime: old wrapped keys still unwrap, new ones use the new KEK', async () => {
      const before = await provider.generateDataKey();
      const was = provider.kekStatus().current;
      expect(before.wrapped.kekId).toBe(was);
      const status = await provider.rotateKek();
      expect(status.current).not.toBe(was);
      expect(status.previous).toEqual([was]);
      expect((await provider.unwrapDataKey(before.wrapped)).equals(before.plain)).toBe(true);
      const after = await provider.generateDataKey();
      expect(after.wrapped.kekId).toBe(status.current);
      // Re-wrapping an existing data key moves it to the new KEK.
      const rewrapped = await provider.wrapDataKey(before.plain);
      expect(rewrapped.kekId).toBe(status.current);
      expect((await provider.unwrapDataKey(rewrapped)).equals(before.plain)).toBe(true);
      // A restart holds both KEKs.
      const again = await reopen();
      try {
        expect(again.kekStatus()).toEqual(status);
        expect((await again.unwrapDataKey(before.wrapped)).equals(before.plain)).toBe(true);
        expect((await again.unwrapDataKey(after.wrapped)).equals(after.plain)).toBe(true);
      } finally {
        await again.close();
      }
    });

    it('tells a provider opened from its spec (another thread) of a rotation at once', async () => {
      const other = openKeyProvider(provider.spec);
      try {
        const { current } = await provider.rotateKek();
        expect((await other.generateDataKey()).wrapped.kekId).toBe(current);
        const before = other.calls;
        await other.unwrapDataKey((await provider.generateDataKey()).wrapped);
        // Both count into one shared counter.
        expect(provider.calls).toBe(other.calls);
        expect(other.calls).toBeGreaterThan(before);
      } finally {
        await other.close();
      }
    });

    it('retires an earlier KEK: what it wrapped no longer unwraps; the current one cannot be retired', async () => {
      const old = await provider.generateDataKey();
      const { current, previous } = await provider.rotateKek();
      await expect(provider.retireKek(current)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(provider.retireKek('local:ffffffffffffffff')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await provider.retireKek(previous[0]!)).toEqual({ current, previous: [] });
      await expect(provider.unwrapDataKey(old.wrapped)).rejects.toThrow();
      const again = await reopen();
      try {
        expect(again.kekStatus()).toEqual({ current, previous: [] });
      } finally {
        await again.close();
      }
    });
  });
}
