import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The WeChat official account server protocol's signatures and AES "safe mode" (Tencent, 消息加解密说明;
 * the algorithm and vectors are summarised in ../shared/data/wechat-official-account/SOURCE.md).
 * Pure functions over strings and buffers: no account, no I/O.
 */

/**
 * `hex(SHA1(concat(sort(parts))))`: the URL `signature` (parts = token, timestamp, nonce) and the
 * safe-mode `msg_signature` (parts = token, timestamp, nonce, Encrypt). Sorting is by UTF-16 code
 * unit (JavaScript's default), which for the ASCII these parts are equals the spec's byte order.
 */
export function wechatSignature(parts: readonly string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''), 'utf8')
    .digest('hex');
}

/**
 * Whether `given` is the signature of `parts`, compared in constant time (the expected value is 40 hex
 * digits; anything of another length or case is simply not equal). Never throws.
 */
export function signatureMatches(given: string | undefined, parts: readonly string[]): boolean {
  if (typeof given !== 'string' || given.length !== 40) return false;
  const expected = Buffer.from(wechatSignature(parts), 'latin1');
  const actual = Buffer.from(given.toLowerCase(), 'latin1');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Why a safe-mode payload was refused; `WechatCryptoError.reason`. */
export type WechatCryptoFailure = 'key' | 'base64' | 'cipher' | 'padding' | 'length' | 'appid';

export class WechatCryptoError extends Error {
  constructor(
    readonly reason: WechatCryptoFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WechatCryptoError';
  }
}

/** WeChat pads to a multiple of 32 bytes with PKCS#7 (not AES's 16). */
const BLOCK = 32;

/**
 * The AES-256 key of an EncodingAESKey: `Base64_Decode(EncodingAESKey + "=")`, 43 characters → 32 bytes.
 * @throws WechatCryptoError `key` for anything that is not 43 base64 characters decoding to 32 bytes
 */
export function aesKeyOf(encodingAESKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey)) throw new WechatCryptoError('key', 'EncodingAESKey must be 43 base64 characters');
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== 32) throw new WechatCryptoError('key', 'EncodingAESKey does not decode to 32 bytes');
  return key;
}

/**
 * Encrypts one message for safe mode: `Base64(AES-256-CBC(random16 ‖ len(msg) as 4 bytes BE ‖ msg ‖
 * appId))`, IV = the key's first 16 bytes, PKCS#7 padding to 32 bytes (done here; Node's own
 * padding is off).
 * @param random 16 bytes; a fresh random prefix when absent (tests inject the vectors' prefix)
 */
export function wechatEncrypt(message: string, key: Buffer, appId: string, random: Buffer = randomBytes(16)): string {
  if (random.length !== 16) throw new WechatCryptoError('length', 'the random prefix is 16 bytes');
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length);
  const plain = Buffer.concat([random, length, msg, Buffer.from(appId, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/**
 * Decrypts one safe-mode `Encrypt` value and checks that it was meant for `appId` (the receive id
 * after the message: AppID for an official account, CorpID for WeCom).
 * @returns the message (the XML, UTF-8), byte-exact
 * @throws WechatCryptoError `base64`, `cipher` (not a whole number of blocks, or AES refused it),
 *   `padding` (PKCS#7 byte outside 1..32 or inconsistent), `length` (declared length past the end),
 *   `appid` (the trailing id is not `appId`)
 */
export function wechatDecrypt(encrypted: string, key: Buffer, appId: string): string {
  const compact = encrypted.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new WechatCryptoError('base64', 'Encrypt is not base64');
  const data = Buffer.from(compact, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new WechatCryptoError('cipher', 'Encrypt is not a whole number of AES blocks');
  let padded: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    padded = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new WechatCryptoError('cipher', 'AES refused the ciphertext');
  }
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > BLOCK || pad > padded.length) throw new WechatCryptoError('padding', 'bad PKCS#7 padding');
  for (let i = padded.length - pad; i < padded.length; i++) {
    if (padded[i] !== pad) throw new WechatCryptoError('padding', 'bad PKCS#7 padding');
  }
  const plain = padded.subarray(0, padded.length - pad);
  if (plain.length < 20) throw new WechatCryptoError('length', 'the plaintext is shorter than its header');
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new WechatCryptoError('length', 'the declared length runs past the plaintext');
  const receiveId = plain.subarray(20 + length);
  const expected = Buffer.from(appId, 'utf8');
  if (receiveId.length !== expected.length || !timingSafeEqual(receiveId, expected)) {
    throw new WechatCryptoError('appid', 'the message was encrypted for another AppID');
  }
  return plain.subarray(20, 20 + length).toString('utf8');
}
