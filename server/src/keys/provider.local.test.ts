import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
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
