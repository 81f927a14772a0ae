import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyProviderContract } from './provider.contract';
import { createLocalKeyProvider } from './provider.local';

keyProviderContract('local key file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-keys-'));
  return {
    provider: createLocalKeyProvider(dir),
    reopen: async () => createLocalKeyProvider(dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('local key file', () => {
  it('is created with mode 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-keys-'));
    createLocalKeyProvider(dir);
    expect(statSync(join(dir, 'kek.key')).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a key file that other users can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-keys-'));
    createLocalKeyProvider(dir);
    chmodSync(join(dir, 'kek.key'), 0o644);
    expect(() => createLocalKeyProvider(dir)).toThrow(/readable by other users/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('local key file rotation cut short by a crash', () => {
  it('makes kek.key.next current when kek.key is gone, and drops it beside a kek.key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-keys-'));
    try {
      const provider = createLocalKeyProvider(dir);
      const old = await provider.generateDataKey();
      await provider.close();
      // Crash after the old key was kept as kek-<id>.key and before the new one was renamed.
      const next = randomBytes(32);
      writeFileSync(join(dir, 'kek.key.next'), next, { mode: 0o600 });
      renameSync(join(dir, 'kek.key'), join(dir, `kek-${old.wrapped.kekId.slice('local:'.length)}.key`));
      const recovered = createLocalKeyProvider(dir);
      expect(recovered.kekStatus().previous).toEqual([old.wrapped.kekId]);
      expect(readFileSync(join(dir, 'kek.key')).equals(next)).toBe(true);
      expect((await recovered.unwrapDataKey(old.wrapped)).equals(old.plain)).toBe(true);
      // Crash before the first rename: the new key never wrapped anything and is dropped.
      writeFileSync(join(dir, 'kek.key.next'), randomBytes(32), { mode: 0o600 });
      const again = createLocalKeyProvider(dir);
      expect(again.kekStatus()).toEqual(recovered.kekStatus());
      expect(existsSync(join(dir, 'kek.key.next'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
