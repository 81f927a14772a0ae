import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageLike } from './store';

/**
 * A stand-in for Electron's `safeStorage` in Node tests and the bench: it really encrypts (AES-256-GCM
 * under a per-instance "OS" key), so a test can show the data key is never stored in clear, and a
 * second instance (another OS user, a new keychain) cannot unwrap it.
 */
export function createTestSafeStorage(o: { available?: boolean; backend?: string } = {}): SafeStorageLike & { calls: string[] } {
  const osKey = randomBytes(32);
  const calls: string[] = [];
  return {
    calls,
    isEncryptionAvailable: () => o.available ?? true,
    getSelectedStorageBackend: () => o.backend ?? 'gnome_libsecret',
    encryptString(plain) {
      calls.push('encrypt');
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', osKey, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString(encrypted) {
      calls.push('decrypt');
      const d = createDecipheriv('aes-256-gcm', osKey, encrypted.subarray(0, 12));
      d.setAuthTag(encrypted.subarray(12, 28));
      return Buffer.concat([d.update(encrypted.subarray(28)), d.final()]).toString('utf8');
    },
  };
}
