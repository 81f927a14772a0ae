import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_BYTES, open, seal } from '../crypto/aead';
import { HuiliuError } from '../../../common/errors/codes';
import type { KeyProvider, WrappedKey } from './provider';

const KEK_FILE = 'kek.key';

/**
 * Embedded-mode KEK: 32 random bytes in `<keysDir>/kek.key`, mode 0600, generated on first start.
 * Refuses a key file that others can read, as a leaked KEK unwraps every data key.
 */
export function createLocalKeyProvider(keysDir: string): KeyProvider {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const path = join(keysDir, KEK_FILE);
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new HuiliuError('INTERNAL', `${path} is readable by other users; chmod 600 it`);
  }
  const kek = readFileSync(path);
  if (kek.length !== KEY_BYTES) throw new HuiliuError('INTERNAL', `${path} is not a 32-byte key`);
  let calls = 0;
  const kekId = `local:${createHash('sha256').update(kek).digest('hex').slice(0, 16)}`;

  return {
    kind: 'local',
    spec: { kind: 'local', dir: keysDir },
    get calls() {
      return calls;
    },
    async generateDataKey() {
      calls++;
      const plain = randomBytes(KEY_BYTES);
      const wrapped: WrappedKey = { kekId, wrapped: seal(kek, plain, `kek:${kekId}`) };
      return { plain, wrapped };
    },
    async unwrapDataKey(w) {
      if (w.kekId !== kekId) throw new HuiliuError('INTERNAL', `data key was wrapped by ${w.kekId}, not ${kekId}`);
      calls++;
      return open(kek, w.wrapped, `kek:${kekId}`);
    },
    async close() {
      kek.fill(0);
    },
  };
}
