import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

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
