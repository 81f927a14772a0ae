import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HuiliuError } from '../../../common/errors/codes';

/**
 * AES-256-GCM sealing for data at rest (DESIGN §8). Layout: version (1) | nonce (12) | tag (16) | ct.
 * The version byte names how the record's AAD is formed (`openVersioned`): 1 for every record, 2 for
 * messages whose AAD binds their whole header (sessions/sqlite-rows.ts `messageAadOf`). Each version's
 * AAD differs from the other's, so changing the byte fails the GCM check like any other flipped byte.
 * Nonces are 96 random bits per message; under one data key that stays far below the 2^32 messages
 * at which random nonces would risk a repeat (NIST SP 800-38D §8.3). The AAD binds a ciphertext to
 * its row, so swapping ciphertexts between rows is detected like any other tampering.
 */
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
export const KEY_BYTES = 32;

export class TamperError extends HuiliuError {
  constructor() {
    super('INTERNAL', 'Stored data failed its integrity check.');
    this.name = 'TamperError';
  }
}

// Nonces come from a pool filled 4 KiB at a time: one CSPRNG call per ~340 seals instead of one each
// (a per-call randomBytes was ~5 % of the writer thread). Every slice is used once, then the pool refills.
const NONCE_POOL = 4096 - (4096 % NONCE);
let noncePool = Buffer.alloc(0);
let nonceAt = NONCE_POOL;

function nextNonce(): Buffer {
  if (nonceAt + NONCE > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL);
    nonceAt = 0;
  }
  const nonce = noncePool.subarray(nonceAt, nonceAt + NONCE);
  nonceAt += NONCE;
  return nonce;
}

/** The record formats `seal` writes: 1 (any record), 2 (a message bound to its header). */
export type SealVersion = 1 | 2;

/**
 * AES-256-GCM of `plaintext` under a 32-byte `key` with a fresh random 96-bit nonce, the UTF-8 `aad`
 * authenticated. `version` (default 1) is the first byte; the opener must form the same AAD for it.
 * @throws RangeError when the key is not 32 bytes
 */
export function seal(key: Buffer, plaintext: Buffer, aad: string, version: SealVersion = VERSION): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError('AES-256 needs a 32-byte key');
  const out = Buffer.allocUnsafe(1 + NONCE + TAG + plaintext.length);
  out[0] = version;
  const nonce = nextNonce();
  nonce.copy(out, 1);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  // GCM is a stream mode: ciphertext length equals plaintext length, written after the tag's slot.
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  body.copy(out, 1 + NONCE + TAG);
  tail.copy(out, 1 + NONCE + TAG + body.length);
  cipher.getAuthTag().copy(out, 1 + NONCE);
  return out;
}

/** Opens a version-1 record (`seal` without a version). @throws TamperError on any change, RangeError on a bad key */
export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  return openVersioned(key, sealed, (version) => (version === VERSION ? aad : null));
}

/**
 * Opens a record whose AAD depends on its format: `aadOf(version)` answers the AAD for the stored
 * version byte, or null when that version is not one this kind of record can have.
 * @throws TamperError when the version is refused, the record is too short, or GCM fails (a flipped
 *   byte, another row's ciphertext, a header that changed); RangeError when the key is not 32 bytes
 */
export function openVersioned(key: Buffer, sealed: Buffer, aadOf: (version: number) => string | null): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError('AES-256 needs a 32-byte key');
  const aad = sealed.length < 1 + NONCE + TAG ? null : aadOf(sealed[0]!);
  if (aad === null) throw new TamperError();
  const nonce = sealed.subarray(1, 1 + NONCE);
  const tag = sealed.subarray(1 + NONCE, 1 + NONCE + TAG);
  const ct = sealed.subarray(1 + NONCE + TAG);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new TamperError();
  }
}

export const sealText = (key: Buffer, text: string, aad: string): Buffer => seal(key, Buffer.from(text, 'utf8'), aad);
export const openText = (key: Buffer, sealed: Buffer, aad: string): string => open(key, sealed, aad).toString('utf8');
