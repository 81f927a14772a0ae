import { describe, expect, it } from 'vitest';
import { aesKeyOf, signatureMatches, wechatDecrypt, wechatEncrypt, wechatSignature, WechatCryptoError } from './crypto';
import { readWechatData, VECTORS } from './__fixtures__/data';

const vector = (id: string) => VECTORS.aes_mode.find((v) => v.id === id)!;
const cdata = (xml: string, tag: string) => new RegExp(`<${tag}>(?:<!\\[CDATA\\[)?([^<\\]]*)`).exec(xml)![1]!;

describe('WeChat signatures (crypto_vectors.json plain_mode_url_signature)', () => {
  it('accepts every positive vector and rejects the negative one', () => {
    let positive = 0;
    let negative = 0;
    for (const v of VECTORS.plain_mode_url_signature) {
      if ('inputs' in v) {
        expect(wechatSignature(v.inputs)).toBe(v.expected_signature);
        expect(signatureMatches(v.expected_signature, v.inputs)).toBe(true);
        positive++;
      } else if ('expected_signature' in v) {
        const parts = [v.token, v.timestamp, v.nonce];
        expect(wechatSignature(parts)).toBe(v.expected_signature);
        expect(signatureMatches(v.expected_signature, parts)).toBe(true);
        positive++;
      } else {
        expect(signatureMatches(v.signature, [v.token, v.timestamp, v.nonce])).toBe(false);
        negative++;
      }
    }
    expect([positive, negative]).toEqual([3, 1]);
  });

  it('sorts before joining (the official example)', () => {
    expect(wechatSignature(['AAAAA', '1714037059', '486452656'])).toBe('899cf89e464efb63f54ddac96b0a0a235f53aa78');
  });

  it('refuses missing, short, long and non-hex signatures without throwing', () => {
    const parts = ['test', '1410685589', 'test'];
    for (const given of [undefined, '', 'f21891de', `${'f'.repeat(40)}0`, 'z'.repeat(40)])
      expect(signatureMatches(given, parts)).toBe(false);
    // Case does not matter (hex).
    expect(signatureMatches('F21891DE399B4E33A1A93C9A7B8A8FFFB5A443FF', parts)).toBe(true);
  });
});

describe('WeChat AES safe mode (crypto_vectors.json aes_mode)', () => {
  it('encrypts vectors A and B byte-exact with the injected random prefix, and decrypts them back', () => {
    for (const id of ['oa-official-sample-A', 'oa-official-sample-B']) {
      const v = vector(id);
      const key = aesKeyOf(v.encoding_aes_key);
      const plaintext = v.plaintext ?? readWechatData(v.plaintext_file!);
      const encrypted = wechatEncrypt(plaintext, key, v.appid!, Buffer.from(v.random_16b!, 'utf8'));
      expect(encrypted, id).toBe(v.expected_encrypt_base64);
      expect(wechatDecrypt(encrypted, key, v.appid!), id).toBe(plaintext);
    }
  });

  it('computes vector B’s msg_signature over token, timestamp, nonce and Encrypt', () => {
    const v = vector('oa-official-sample-B');
    expect(wechatSignature([v.token, v.timestamp, v.nonce, v.expected_encrypt_base64!])).toBe(v.derived_here_msg_signature);
  });

  it('verifies and decrypts the WeCom URL-verification echostr; a changed nonce is rejected', () => {
    const v = vector('wecom-verify-url');
    expect(signatureMatches(v.msg_signature, [v.token, v.timestamp, v.nonce, v.echostr!])).toBe(true);
    expect(signatureMatches(v.msg_signature, [v.token, v.timestamp, v.negative_case!.nonce, v.echostr!])).toBe(false);
    expect(wechatDecrypt(v.echostr!, aesKeyOf(v.encoding_aes_key), v.receive_id!)).toBe(v.derived_here_decrypted_echostr);
  });

  it('decrypts the inbound envelope byte-exact to its plaintext file', () => {
    const v = vector('wecom-decrypt-inbound');
    const envelope = readWechatData(v.envelope_file!);
    const encrypt = cdata(envelope, 'Encrypt');
    expect(signatureMatches(v.msg_signature, [v.token, v.timestamp, v.nonce, encrypt])).toBe(true);
    const plain = wechatDecrypt(encrypt, aesKeyOf(v.encoding_aes_key), v.receive_id!);
    expect(Buffer.from(plain, 'utf8').equals(Buffer.from(readWechatData(v.expected_plaintext_file!), 'utf8'))).toBe(true);
    expect(plain).toContain('<Content><![CDATA[test]]></Content>');
    expect(plain).toContain('<FromUserName><![CDATA[messense]]></FromUserName>');
  });

  it('encrypts the reply to the expected envelope (Encrypt and MsgSignature) with the injected prefix', () => {
    const v = vector('wecom-encrypt-reply');
    const expected = readWechatData(v.expected_envelope_file!);
    const encrypt = wechatEncrypt(
      readWechatData(v.plaintext_file!),
      aesKeyOf(v.encoding_aes_key),
      v.receive_id!,
      Buffer.from(v.random_16b!),
    );
    expect(encrypt).toBe(cdata(expected, 'Encrypt'));
    expect(wechatSignature([v.token, v.timestamp, v.nonce, encrypt])).toBe(cdata(expected, 'MsgSignature'));
  });

  it('refuses a message encrypted for another AppID', () => {
    const v = vector('oa-official-sample-A');
    const key = aesKeyOf(v.encoding_aes_key);
    const encrypted = wechatEncrypt('<xml/>', key, 'wx0000000000other');
    expect(() => wechatDecrypt(encrypted, key, v.appid!)).toThrow(expect.objectContaining({ reason: 'appid' }));
    // Same length, one character off: still refused.
    expect(() => wechatDecrypt(v.expected_encrypt_base64!, key, 'wxb11529c136998cb7')).toThrow(WechatCryptoError);
  });

  it('refuses damaged ciphertexts with a reason, never a crash', () => {
    const key = aesKeyOf(vector('oa-official-sample-A').encoding_aes_key);
    const good = vector('oa-official-sample-A').expected_encrypt_base64!;
    const flipped = Buffer.from(good, 'base64');
    flipped[flipped.length - 1]! ^= 0xff;
    const cases: [string, string][] = [
      ['not base64 !', 'base64'],
      ['', 'base64'],
      [Buffer.alloc(15).toString('base64'), 'cipher'],
      [flipped.toString('base64'), 'padding'],
    ];
    for (const [input, reason] of cases)
      expect(() => wechatDecrypt(input, key, 'wxb11529c136998cb6')).toThrow(expect.objectContaining({ reason }));
    expect(() => aesKeyOf('short')).toThrow(expect.objectContaining({ reason: 'key' }));
  });
});
