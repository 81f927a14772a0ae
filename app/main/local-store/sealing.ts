import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** AES-256-GCM (NIST SP 800-38D): 96-bit nonce, 128-bit tag appended to the ciphertext. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Blind indexes are HMAC-SHA256 cut to 128 bits: no collisions in any realistic local store. */
const INDEX_BYTES = 16;

export interface SealedRecord {
  nonce: Buffer;
  sealed: Buffer;
}

/**
 * Seals the local store's records with one 256-bit data key: an encryption key and a blind-index key
 * are derived from it (HKDF-SHA256, RFC 5869), each record gets a fresh random nonce, and the record's
 * identity (table and key) is the AAD, so a ciphertext moved to another row fails to open.
 */
export class RecordSealer {
  readonly #encKey: Buffer;
  readonly #indexKey: Buffer;

  constructor(dataKey: Buffer) {
    if (dataKey.length !== 32) throw new Error('RecordSealer: the data key is 32 bytes');
    this.#encKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'huiliu-local/v1/enc', 32));
    this.#indexKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'huiliu-local/v1/index', 32));
  }

  /** Encrypts `value` (JSON) for the record named by `aad`. */
  seal(value: unknown, aad: string): SealedRecord {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { nonce, sealed: Buffer.concat([body, cipher.getAuthTag()]) };
  }

  /** Decrypts a record sealed for `aad`; throws when the key, the AAD or a byte is wrong. */
  open<T>(record: SealedRecord, aad: string): T {
    const decipher = createDecipheriv('aes-256-gcm', this.#encKey, record.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(record.sealed.subarray(record.sealed.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(record.sealed.subarray(0, record.sealed.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  }

  /** A keyed, deterministic stand-in for an identifier (conversation, customer, user), so none is stored in clear. */
  index(kind: string, value: string): Buffer {
    return createHmac('sha256', this.#indexKey).update(`${kind}\0${value}`).digest().subarray(0, INDEX_BYTES);
  }
}
