import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_BYTES, open, seal } from '../crypto/aead';
import { HuiliuError } from '../../../common/errors/codes';
import { SharedKeyState, type KekStatus, type KeyProvider, type WrappedKey } from './provider';

const KEK_FILE = 'kek.key';
/** A rotation's new KEK before it becomes current. */
const NEXT_FILE = 'kek.key.next';
/** An earlier KEK kept to unwrap: `kek-<16 hex>.key`. */
const PREVIOUS = /^kek-([0-9a-f]{16})\.key$/;

const idOf = (kek: Buffer) => createHash('sha256').update(kek).digest('hex').slice(0, 16);

function writeKey(path: string): void {
  writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

function readKey(path: string): Buffer {
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new HuiliuError('INTERNAL', `${path} is readable by other users; chmod 600 it`);
  }
  const kek = readFileSync(path);
  if (kek.length !== KEY_BYTES) throw new HuiliuError('INTERNAL', `${path} is not a 32-byte key`);
  return kek;
}

/**
 * Finishes or undoes a rotation a crash cut short: a `kek.key.next` with no `kek.key` was about to
 * become current (the old one is already kept as `kek-<id>.key`); one beside a `kek.key` never wrapped
 * anything (the rotation had not returned) and is dropped.
 */
function recover(dir: string): void {
  const next = join(dir, NEXT_FILE);
  if (!existsSync(next)) return;
  if (existsSync(join(dir, KEK_FILE))) rmSync(next);
  else renameSync(next, join(dir, KEK_FILE));
}

/**
 * Embedded-mode KEK: 32 random bytes in `<keysDir>/kek.key`, mode 0600, generated on first start.
 * Refuses a key file that others can read, as a leaked KEK unwraps every data key. After a rotation
 * (issue 14) earlier KEKs are kept as `kek-<id>.key` until retired. KEK ids are `local:<16 hex of
 * SHA-256 of the key>`. Wrapping is AES-256-GCM (crypto/aead.ts) with AAD `kek:<kekId>`.
 */
export function createLocalKeyProvider(keysDir: string, sharedBuffer?: SharedArrayBuffer): KeyProvider {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const shared = new SharedKeyState(sharedBuffer);
  let keks = new Map<string, Buffer>();
  let current = '';
  let epoch = -1;

  function load(): void {
    recover(keysDir);
    const path = join(keysDir, KEK_FILE);
    if (!existsSync(path)) writeKey(path);
    const next = new Map<string, Buffer>();
    const kek = readKey(path);
    current = `local:${idOf(kek)}`;
    next.set(current, kek);
    for (const f of readdirSync(keysDir)) {
      if (PREVIOUS.test(f)) {
        const old = readKey(join(keysDir, f));
        next.set(`local:${idOf(old)}`, old);
      }
    }
    for (const k of keks.values()) if (![...next.values()].includes(k)) k.fill(0);
    keks = next;
    epoch = shared.epoch;
  }
  const fresh = () => {
    if (epoch !== shared.epoch) load();
  };
  load();

  function wrapWith(plain: Buffer): WrappedKey {
    shared.count();
    return { kekId: current, wrapped: seal(keks.get(current)!, plain, `kek:${current}`) };
  }
  const status = (): KekStatus => ({ current, previous: [...keks.keys()].filter((k) => k !== current) });

  return {
    kind: 'local',
    get spec() {
      return { kind: 'local' as const, dir: keysDir, shared: shared.buffer };
    },
    get calls() {
      return shared.calls;
    },
    async generateDataKey() {
      fresh();
      const plain = randomBytes(KEY_BYTES);
      return { plain, wrapped: wrapWith(plain) };
    },
    async wrapDataKey(plain) {
      fresh();
      return wrapWith(plain);
    },
    async unwrapDataKey(w) {
      fresh();
      // Another process (or a thread that did not share this spec) may have rotated: look again once.
      if (!keks.has(w.kekId)) load();
      const kek = keks.get(w.kekId);
      if (!kek) throw new HuiliuError('INTERNAL', `data key was wrapped by ${w.kekId}, which this server does not hold`);
      shared.count();
      return open(kek, w.wrapped, `kek:${w.kekId}`);
    },
    kekStatus() {
      fresh();
      return status();
    },
    async rotateKek() {
      fresh();
      const was = current;
      writeKey(join(keysDir, NEXT_FILE));
      renameSync(join(keysDir, KEK_FILE), join(keysDir, `kek-${was.slice('local:'.length)}.key`));
      renameSync(join(keysDir, NEXT_FILE), join(keysDir, KEK_FILE));
      shared.bump();
      load();
      return status();
    },
    async retireKek(kekId) {
      fresh();
      if (kekId === current) throw new HuiliuError('VALIDATION_FAILED', 'the current KEK cannot be retired; rotate first');
      if (!keks.has(kekId)) throw new HuiliuError('NOT_FOUND', `no KEK ${kekId}`);
      rmSync(join(keysDir, `kek-${kekId.slice('local:'.length)}.key`));
      shared.bump();
      load();
      return status();
    },
    async close() {
      for (const k of keks.values()) k.fill(0);
    },
  };
}
