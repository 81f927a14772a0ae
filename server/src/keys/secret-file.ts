import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { open, seal } from '../crypto/aead';
import type { KeyProvider, WrappedKey } from './provider';

/**
 * A 32-byte server secret in a 0600 file, created on first start (e.g. `keys/visitor.key` for
 * signing widget visitor tokens). Refused when others can read it, like the key file.
 */
export function loadOrCreateSecret(path: string): Buffer {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users; chmod 600 it`);
  }
  const secret = readFileSync(path);
  if (secret.length !== 32) throw new Error(`${path} is not a 32-byte secret`);
  return secret;
}

/**
 * A 32-byte server secret kept wrapped by the KeyProvider (issue 14): with `pkcs11` no secret is in
 * a plain file. The file holds JSON `{"kekId": "…", "wrapped": "<base64>"}` (mode 0600): the secret
 * is a data key the provider generated, unwrapped at each start (one HSM call). A `local` provider
 * keeps the plain file of `loadOrCreateSecret` (embedded mode, unchanged since issue 6).
 * @throws HuiliuError when the wrapped secret was altered or wrapped by another KEK
 */
/**
 * A wrapped-secret file: JSON `{"kekId": "…", "wrapped": "<base64>"}`.
 * @throws Error when the file is not one
 */
export function readWrappedSecret(file: string): WrappedKey {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { kekId?: unknown; wrapped?: unknown };
  if (typeof saved.kekId !== 'string' || typeof saved.wrapped !== 'string') throw new Error(`${file} is not a wrapped secret`);
  return { kekId: saved.kekId, wrapped: Buffer.from(saved.wrapped, 'base64') };
}

/**
 * Writes a wrapped-secret file (mode 0600): `create` refuses an existing one; otherwise it is replaced
 * whole (a temporary file renamed over it), so a crash leaves the old or the new wrapping.
 */
export function writeWrappedSecret(file: string, wrapped: WrappedKey, create = false): void {
  const json = JSON.stringify({ kekId: wrapped.kekId, wrapped: wrapped.wrapped.toString('base64') });
  if (create) return writeFileSync(file, json, { mode: 0o600, flag: 'wx' });
  writeFileSync(`${file}.tmp`, json, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export async function loadOrCreateWrappedSecret(path: string, keys: KeyProvider): Promise<Buffer> {
  if (keys.kind === 'local') return loadOrCreateSecret(path);
  const file = `${path}.wrapped`;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) {
    const { plain, wrapped } = await keys.generateDataKey();
    writeWrappedSecret(file, wrapped, true);
    return plain;
  }
  return keys.unwrapDataKey(readWrappedSecret(file));
}

/**
 * The SecretBox that keeps the TLS private keys sealed when the KEK is on a PKCS#11 token (issue 14):
 * AES-256-GCM (crypto/aead.ts) under a data key wrapped by the provider (`tls.key.wrapped`).
 * Undefined for the local key file: the embedded mode keeps its 0600 PEM files.
 */
export async function tlsKeyBox(
  keys: KeyProvider,
  keysDir: string,
): Promise<{ seal(p: Buffer, aad: string): Buffer; open(s: Buffer, aad: string): Buffer } | undefined> {
  if (keys.kind === 'local') return undefined;
  const key = await loadOrCreateWrappedSecret(join(keysDir, 'tls.key'), keys);
  return { seal: (plain, aad) => seal(key, plain, aad), open: (sealed, aad) => open(key, sealed, aad) };
}
