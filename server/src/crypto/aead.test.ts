import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, openText, seal, sealText, TamperError } from './aead';

describe('AES-256-GCM sealing', () => {
  const key = randomBytes(32);

  it('round-trips text, including Chinese and emoji', () => {
    const text = '我的订单还没到，能帮我查一下吗？🙏';
    expect(openText(key, sealText(key, text, 'row-1'), 'row-1')).toBe(text);
  });

  it('uses a fresh nonce every time, so equal plaintexts give different ciphertexts', () => {
    const a = sealText(key, 'same', 'aad');
    const b = sealText(key, 'same', 'aad');
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
  });

  it('never repeats a nonce across pool refills (each 4 KiB pool serves 340 seals)', () => {
    const key = randomBytes(32);
    const nonces = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const sealed = sealText(key, `m${i}`, 'aad');
      nonces.add(sealed.subarray(1, 13).toString('hex'));
      expect(openText(key, sealed, 'aad')).toBe(`m${i}`);
    }
    expect(nonces.size).toBe(2000);
  });

  it('detects a flipped bit anywhere in the sealed bytes', () => {
    const sealed = seal(key, Buffer.from('refund 100 yuan'), 'aad');
    for (let i = 0; i < sealed.length; i++) {
      const copy = Buffer.from(sealed);
      copy[i] = copy[i]! ^ 0x40;
      expect(() => open(key, copy, 'aad'), `byte ${i}`).toThrow(TamperError);
    }
  });

  it('detects a ciphertext moved to another row (AAD mismatch)', () => {
    const sealed = sealText(key, 'hello', 'message:1');
    expect(() => openText(key, sealed, 'message:2')).toThrow(TamperError);
  });

  it('rejects the wrong key and truncated input', () => {
    const sealed = sealText(key, 'hello', 'aad');
    expect(() => openText(randomBytes(32), sealed, 'aad')).toThrow(TamperError);
    expect(() => open(key, sealed.subarray(0, 20), 'aad')).toThrow(TamperError);
    expect(() => seal(randomBytes(16), Buffer.from('x'), 'aad')).toThrow(RangeError);
  });
});
