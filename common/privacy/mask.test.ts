import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isChineseResidentId, luhnValid, maskDeep, maskPii, maskPiiExhaustive, piiHints, unicodeDigits } from './mask';
import { LOOKALIKE_PII } from './lookalike-pii.fixture';
import { v7 as uuidv7 } from 'uuid';
import { CHANNEL_CODES, formatSessionId } from '../message/session-id';

// Public PII vectors (validator.js and id-validator, MIT): ../shared/data/pii-test-vectors/SOURCE.md
const VECTORS = fileURLToPath(new URL('../../../shared/data/pii-test-vectors/pii_vectors.json', import.meta.url));
interface Vector {
  value: string;
  expected_valid: boolean | null;
  note: string;
}
const data = JSON.parse(readFileSync(VECTORS, 'utf8')) as Record<string, Vector[]>;
const valid = (list: string) => data[list]!.filter((v) => v.expected_valid === true);
const digitsOf = (s: string) => s.replace(/\D/g, '');
/** `value` with its ASCII digits written in the decimal digit script whose zero is `zero`. */
const inScript = (value: string, zero: number) => value.replace(/\d/g, (d) => String.fromCodePoint(zero + Number(d)));
/** The personal values of the look-alike review finding, as the reviewer wrote them. */
const lookalikeValues = LOOKALIKE_PII;

describe('PII masking for logs (DESIGN §8)', () => {
  it('masks every valid Chinese resident ID embedded in a sentence', () => {
    const ids = valid('cn_resident_id');
    expect(ids.length).toBeGreaterThan(5);
    for (const { value } of ids) {
      const out = maskPii(`我的身份证号是${value}，请帮我查一下`);
      expect(out, value).not.toContain(value);
      expect(out).toContain('*');
    }
  });

  it('verifies the GB 11643 check digit', () => {
    for (const v of data.cn_resident_id!.filter((x) => x.value.length === 18 && /^\d{17}[\dX]$/.test(x.value))) {
      const sourceSaysChecksumOk = (v as unknown as { checks_here: { checksum_ok: boolean } }).checks_here.checksum_ok;
      expect(isChineseResidentId(v.value), v.value).toBe(sourceSaysChecksumOk);
    }
  });

  it('masks every valid Chinese mobile number, bare or with +86 / 0086', () => {
    const phones = valid('cn_mobile');
    expect(phones.length).toBeGreaterThan(10);
    for (const { value } of phones) {
      const out = maskPii(`call me on ${value} please`);
      expect(digitsOf(out), value).not.toContain(digitsOf(value).slice(-11));
    }
  });

  it('masks every valid payment card (spaces and dashes too) and keeps only the last 4', () => {
    const cards = valid('payment_card_isCreditCard');
    expect(cards.length).toBeGreaterThan(10);
    for (const { value } of cards) {
      const out = maskPii(`my card is ${value}.`);
      expect(digitsOf(out), value).toBe(digitsOf(value).slice(-4));
    }
  });

  it('agrees with the published Luhn verdicts', () => {
    for (const v of data.luhn_isLuhnNumber!) {
      if (/^\d+$/.test(v.value)) expect(luhnValid(v.value), v.value).toBe(v.expected_valid);
    }
  });

  it('masks e-mail local parts and international numbers', () => {
    expect(maskPii('write to li.lei@example.com')).toBe('write to ***@example.com');
    expect(maskPii('UK line +44 20 7946 0958 ok')).not.toContain('7946');
  });

  it('leaves ordinary numbers alone: order numbers, amounts, times, decimals, session IDs', () => {
    for (const text of [
      '订单 202311150001 金额 399.00 元',
      'at 2026-11-26T11:48:10.456Z took 3.0000000000001356 ms',
      'session WB169208100012348213 seq 12',
      'uuid 01a217af-518a-76c9-b3e0-cc994d61d475',
    ]) {
      expect(maskPii(text)).toBe(text);
    }
  });

  it('masks inside nested objects without changing their shape', () => {
    expect(maskDeep({ a: ['13812345678'], b: { c: 'x' }, n: 5 })).toEqual({ a: ['*******5678'], b: { c: 'x' }, n: 5 });
  });
});

describe('PII masking of encoded forms (E17)', () => {
  const phone = '+8613800138000';
  it.each([
    ['percent-encoded plus', 'GET /api/v1/channels/app/messages?externalId=%2B8613800138000 200'],
    ['double percent-encoding', 'url=/x?externalId=%252B8613800138000'],
    [
      'every character percent-encoded',
      `q=${[...phone].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('')}`,
    ],
    ['form-encoded spaces', 'q=%2B86+138+0013+8000&x=1'],
    ['percent-encoded spaces', 'q=138%200013%208000'],
    [
      'JSON unicode escapes',
      '{"text":"\\\\u0031\\\\u0033\\\\u0038\\\\u0030\\\\u0030\\\\u0031\\\\u0033\\\\u0038\\\\u0030\\\\u0030\\\\u0030"}',
    ],
    ['full-width digits', '我的电话是１３８００１３８０００，谢谢'],
    ['full-width plus and digits', '＋８６１３８００１３８０００'],
  ])('masks a phone written with %s', (_label, line) => {
    const out = maskPii(line);
    expect(digitsOf(out.normalize('NFKC'))).not.toContain('13800138000');
    expect(out).not.toContain('%2B8613800138000');
    expect(out).toContain('8000');
  });

  it('masks percent-encoded e-mails, IDs and cards from the public vectors', () => {
    expect(maskPii('u?email=li.lei%40example.com')).not.toContain('li.lei');
    expect(maskPii('u?email=li.lei%2540example.com')).not.toContain('li.lei');
    expect(maskPii('u?email=li.lei＠example.com')).not.toContain('li.lei');
    for (const { value } of [...valid('cn_resident_id'), ...valid('payment_card_isCreditCard'), ...valid('cn_mobile')]) {
      const encoded = encodeURIComponent(value);
      const everyChar = [...value].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
      for (const form of [encoded, everyChar, encodeURIComponent(encoded)]) {
        const out = maskPii(`GET /x?id=${form}&n=1`);
        expect(out, form).not.toContain(form);
        expect(digitsOf(out.replace(/%[0-9A-Fa-f]{2}/g, '')), form).not.toContain(digitsOf(value).slice(-11));
      }
    }
  });

  it('keeps a JSON log line parseable when a decoded token held quotes or backslashes', () => {
    const line = JSON.stringify({ url: '/x?q=%22%2B8613800138000%5C%22', msg: 'incoming request' });
    const out = maskPii(line);
    expect(out).not.toContain('%2B8613800138000');
    expect((JSON.parse(out) as { url: string }).url).toContain('8000');
  });

  it('leaves encoded text with nothing personal in it alone', () => {
    const line = 'GET /api/v1/sessions?skillGroup=general&q=%E4%BD%A0%E5%A5%BD&limit=20 took 12.5 ms';
    expect(maskPii(line)).toBe(line);
    expect(maskPii('价格：１２元')).toBe('价格：１２元');
  });
});

describe('the masking fast path (issue 8)', () => {
  // Lines as the server's logger writes them (pino JSON, ISO times, request lines without the query).
  const ordinary = [
    '{"level":30,"time":"2026-11-30T01:23:44.123Z","pid":12345,"hostname":"node-7","service":"huiliu","reqId":"req-1a","req":{"method":"POST","url":"/api/v1/channels/app/messages?[query]","remoteAddress":"127.0.0.1","remotePort":51234},"msg":"incoming request"}',
    '{"level":30,"time":"2026-11-30T01:23:44.127Z","pid":12345,"hostname":"node-7","service":"huiliu","reqId":"req-1a","res":{"statusCode":202},"responseTime":3.0000000000001356,"msg":"request completed"}',
    '{"level":30,"time":"2026-11-30T01:23:45.001Z","pid":12345,"component":"router","sessionId":"WB169208100012348213","agentId":"01a217af-518a-76c9-b3e0-cc994d61d475","msg":"offer timed out; offering to the next agent"}',
    '{"level":50,"time":"2026-11-30T01:23:46.000Z","err":{"type":"Error","message":"boom","stack":"Error: boom\\n    at handle (/srv/huiliu/server/src/agent/hub.ts:231:15)\\n    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)"},"msg":"agent event failed"}',
    'at 2026-11-26T11:48:10.456Z took 3.0000000000001356 ms, 1234 5678 bytes',
  ];

  it('runs no pattern at all on ordinary log lines', () => {
    for (const line of ordinary) {
      expect(piiHints(line), line).toBe(0);
      expect(maskPii(line)).toBe(line);
    }
  });

  // Every form the hardening suite (E17) decodes, applied to a whole value.
  const fullWidth = (s: string) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
  const forms: [string, (v: string) => string][] = [
    ['raw', (v) => v],
    ['percent-encoded', (v) => encodeURIComponent(v)],
    ['double percent-encoded', (v) => encodeURIComponent(encodeURIComponent(v))],
    ['every character percent-encoded', (v) => [...new TextEncoder().encode(v)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')],
    ['form-encoded (+ for a space)', (v) => encodeURIComponent(v).replace(/%20/g, '+')],
    // By UTF-16 code unit, as JSON escapes them: an astral digit is a surrogate pair of escapes.
    [
      'JSON unicode escapes',
      (v) =>
        v
          .split('')
          .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
          .join(''),
    ],
    [
      'JSON unicode escapes, escaped again',
      (v) =>
        v
          .split('')
          .map((c) => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
          .join(''),
    ],
    ['full-width', fullWidth],
    ['full-width with ideographic spaces', (v) => fullWidth(v).replace(/ /g, '\u3000')],
    // Look-alikes (review finding): Unicode spaces and dashes, other digit scripts, small `﹫`.
    ['with no-break spaces', (v) => v.replace(/ /g, '\u00a0')],
    ['with thin spaces', (v) => v.replace(/ /g, '\u2009')],
    ['with narrow no-break spaces', (v) => v.replace(/ /g, '\u202f')],
    ['with ideographic spaces', (v) => v.replace(/ /g, '\u3000')],
    ['with en dashes', (v) => v.replace(/[ -]/g, '\u2013')],
    ['with zero-width spaces between digits', (v) => v.replace(/(\d)(?=\d)/g, '$1\u200b')],
    ['in mathematical bold digits', (v) => inScript(v, 0x1d7ce)],
    ['in Arabic-Indic digits', (v) => inScript(v, 0x660)],
    ['in Persian digits', (v) => inScript(v, 0x6f0)],
    ['in Devanagari digits', (v) => inScript(v, 0x966)],
    ['with a small commercial at', (v) => v.replace(/@/g, '\ufe6b')],
    ['with a full-width commercial at', (v) => v.replace(/@/g, '\uff20')],
    ['percent-encoded with no-break spaces', (v) => encodeURIComponent(v.replace(/ /g, '\u00a0'))],
    ['percent-encoded in Arabic-Indic digits', (v) => encodeURIComponent(inScript(v, 0x660))],
  ];
  const personal = [
    ...lookalikeValues,
    ...valid('cn_mobile').map((v) => v.value),
    ...valid('cn_resident_id').map((v) => v.value),
    ...valid('payment_card_isCreditCard').map((v) => v.value),
    '+8613800138000',
    '+86 138 0013 8000',
    '+44 20 7946 0958',
    'li.lei@example.com',
    'wang_fang+cs@mail.example.cn',
  ];
  const inLine = (value: string) =>
    `{"level":30,"time":"2026-11-30T01:23:44.123Z","pid":12345,"reqId":"req-9","url":"/x?externalId=${value}&n=1","msg":"lookup ${value} done"}`;

  it.each(forms)('never skips a line holding personal data written %s', (_label, encode) => {
    for (const value of personal) {
      const line = inLine(encode(value));
      expect(piiHints(line), line).not.toBe(0);
      const masked = maskPii(line);
      expect(masked, line).toBe(maskPiiExhaustive(line));
      expect(masked, line).not.toBe(line);
    }
  });

  it('masks exactly as running every pattern on every line would, on fuzzed lines', () => {
    // A seeded generator (mulberry32), so a failure names a reproducible input.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const pieces = [
      '1',
      '3',
      '8',
      '0',
      '9',
      '4',
      ' ',
      '-',
      '.',
      '+',
      '@',
      '%2B',
      '%40',
      '%25',
      '\\u0031',
      'x',
      'X',
      'a',
      '(',
      ')',
      '１',
      '＋',
      '＠',
      '"',
      '=',
      '&',
      '?',
      '/',
      'com',
      '86',
      // Look-alikes (review finding)
      '\u00a0',
      '\u2009',
      '\u202f',
      '\u3000',
      '\u2013',
      '\u200b',
      '١',
      '۳',
      '८',
      '𝟏',
      '𝟖',
      '﹫',
      ') ',
      '138',
      '1234',
      '010',
      '0755',
    ];
    for (let n = 0; n < 5000; n++) {
      let line = '';
      const length = 1 + Math.floor(random() * 60);
      for (let i = 0; i < length; i++) line += random() < 0.05 ? pick(personal) : pick(pieces);
      expect(maskPii(line), line).toBe(maskPiiExhaustive(line));
    }
    // Digit groups and separators only, so that runs near the 11-digit threshold and every joiner
    // (space, `-`, `.`, `(`, `)`, look-alike spaces and digits) are exercised often.
    const groups = ['1', '13', '138', '0138', '1234', '5678', '010', '0755', '8000', '١٣٨', '𝟏𝟐𝟑𝟒', '१२३४'];
    const joins = [' ', '-', '.', '(', ')', ') ', ').', '\u00a0', '\u3000', '\u2013', '', 'x', '+', '..', ':'];
    for (let n = 0; n < 5000; n++) {
      let line = pick(['', '(', '+86 ', 'a', '1.']);
      const length = 1 + Math.floor(random() * 8);
      for (let i = 0; i < length; i++) line += pick(groups) + pick(joins);
      expect(maskPii(line), line).toBe(maskPiiExhaustive(line));
    }
  });
});

describe('PII masking of look-alike forms (review finding)', () => {
  it.each([
    ['a phone with no-break spaces', 'tel 138\u00a01234\u00a05678 ok', 'tel *********5678 ok'],
    ['a phone with thin spaces', 'tel 138\u20091234\u20095678 ok', 'tel *********5678 ok'],
    ['a phone with narrow no-break spaces', 'tel 138\u202f1234\u202f5678 ok', 'tel *********5678 ok'],
    ['a phone with ideographic spaces', '电话　138\u30001234\u30005678　谢谢', '电话**********5678 谢谢'],
    ['a card with thin spaces', 'card 4929\u20097226\u20095379\u20097141.', 'card ************7141.'],
    ['a phone with dots', 'tel 138.1234.5678 ok', 'tel *********5678 ok'],
    ['a phone with a parenthesised prefix', 'tel (138) 1234-5678 ok', 'tel ***********5678 ok'],
    ['a landline with a parenthesised area code', 'tel (010) 1234 5678 ok', 'tel ***********5678 ok'],
    ['a landline with a dashed area code', 'tel 0755-1234567 ok', 'tel ********4567 ok'],
    ['a landline with dots', 'tel 0755.123.4567 ok', 'tel *********4567 ok'],
    ['a phone in mathematical bold digits', 'tel 𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖 ok', 'tel *******5678 ok'],
    ['a phone in Arabic-Indic digits', 'tel ١٣٨١٢٣٤٥٦٧٨ ok', 'tel *******5678 ok'],
    ['a phone in Persian digits', 'tel ۱۳۸۱۲۳۴۵۶۷۸ ok', 'tel *******5678 ok'],
    ['a phone in Devanagari digits', 'tel १३८१२३४५६७८ ok', 'tel *******5678 ok'],
    ['a phone with en dashes', 'tel 138–1234–5678 ok', 'tel *********5678 ok'],
    ['a phone with zero-width spaces', 'tel 138\u200b1234\u200b5678 ok', 'tel *******5678 ok'],
    ['an e-mail with a small commercial at', 'mail zhang﹫example.com ok', 'mail ***@example.com ok'],
    ['an e-mail with a full-width commercial at', 'mail zhang＠example.com ok', 'mail ***@example.com ok'],
    ['a phone percent-encoded with no-break spaces', 'GET /x?q=138%C2%A01234%C2%A05678', 'GET /x?q=*********5678'],
    ['a phone percent-encoded in Arabic-Indic digits', `GET /x?q=${encodeURIComponent('١٣٨١٢٣٤٥٦٧٨')}`, 'GET /x?q=*******5678'],
  ])('masks %s, in the fast path and the reference alike', (_label, line, expected) => {
    expect(piiHints(line), line).not.toBe(0);
    expect(maskPii(line)).toBe(expected);
    expect(maskPiiExhaustive(line)).toBe(expected);
  });

  it('masks the look-alike forms of the public vectors', () => {
    const values = [...valid('cn_mobile'), ...valid('cn_resident_id'), ...valid('payment_card_isCreditCard')].map((v) => v.value);
    for (const value of values) {
      for (const form of [inScript(value, 0x660), inScript(value, 0x1d7ce), value.replace(/ /g, '\u2009'), value.replace(/ /g, '\u00a0')]) {
        const out = maskPii(`lookup ${form} done`);
        expect(out, form).toBe(maskPiiExhaustive(`lookup ${form} done`));
        expect(digitsOf(out), form).not.toContain(digitsOf(value).slice(-11));
      }
    }
  });

  it('leaves ordinary log values alone: times, decimals, versions, addresses, session ids, uuids', () => {
    for (const text of [
      'at 2026-11-30T02:48:09.123Z took 12.5 ms',
      'version 1.2.3 on node 20.20.2, client 10.4.1234.5678',
      'from 127.0.0.1:51234 via 192.168.100.200',
      'session WB202611300248090001 offer 3',
      'agent 01a217af-518a-76c9-b3e0-cc994d61d475',
      'took 1381234.5678 ms, amount 13812345.67',
      'range (12) 1234 items',
      '价格　１２元，第 ٣ 项，共 १२ 项',
    ]) {
      expect(maskPii(text), text).toBe(text);
      expect(maskPiiExhaustive(text), text).toBe(text);
    }
    for (const text of ['at 2026-11-30T02:48:09.123Z took 12.5 ms', 'version 1.2.3 from 127.0.0.1', 'session WB202611300248090001']) {
      expect(piiHints(text), text).toBe(0);
    }
  });

  it('maps every Unicode decimal digit to its value', () => {
    const table = new Map(unicodeDigits());
    // The table holds every non-ASCII \p{Nd} code point up to U+1FFFF, and nothing else.
    let count = 0;
    for (let cp = 0x80; cp < 0x20000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const nd = /\p{Nd}/u.test(String.fromCodePoint(cp));
      if (nd) count++;
      expect(table.has(cp), cp.toString(16)).toBe(nd);
    }
    expect(table.size).toBe(count);
    expect(count).toBeGreaterThan(600);
    // Each digit's value, by the Unicode names of a few: ARABIC-INDIC DIGIT SEVEN, DEVANAGARI DIGIT ONE,
    // MATHEMATICAL DOUBLE-STRUCK DIGIT ZERO, MATHEMATICAL MONOSPACE DIGIT NINE, FULLWIDTH DIGIT FIVE.
    expect([0x667, 0x967, 0x1d7d8, 0x1d7ff, 0xff15].map((cp) => table.get(cp))).toEqual([7, 1, 0, 9, 5]);
    // Where NFKC folds a digit to ASCII, the table gives the same value.
    for (const [cp, digit] of table) {
      const nfkc = String.fromCodePoint(cp).normalize('NFKC');
      if (/^\d$/.test(nfkc)) expect(Number(nfkc), cp.toString(16)).toBe(digit);
    }
  });
});

describe('PII masking when letters touch the number (review finding)', () => {
  it.each([
    ['tel13812345678', 'tel*******5678'],
    ['13812345678abc', '*******5678abc'],
    ['x13812345678y', 'x*******5678y'],
    ['card4111111111111111', 'card************1111'],
    ['id210203197503102721x', 'id**************2721x'],
    ['call tel010-12345678 now', 'call tel********5678 now'],
    ['AP13812345678', 'AP*******5678'],
    ['XAP210203197503102721', 'XAP**************2721'],
    ['ap210203197503102721', 'ap**************2721'],
    ['AP4111111111111111', 'AP************1111'],
  ])('masks %s, in the fast path and the reference alike', (line, expected) => {
    expect(maskPii(line)).toBe(expected);
    expect(maskPiiExhaustive(line)).toBe(expected);
  });

  it('still needs a digit boundary: 10 or 12 digits are not a mobile', () => {
    for (const line of ['tel1381234567', 'tel138123456789x']) expect(maskPii(line), line).toBe(line);
  });

  // 1 in 11 random 18-digit runs passes the resident-ID checksum, 1 in 10 Luhn; hex ids hold long digit runs.
  const N = 20_000;
  const randomInt = (n: number) => Math.floor(Math.random() * n);
  const contexts = (id: string) => [id, `session=${id}`, `{"id":"${id}","n":1}`, `${id}-ack`, `req ${id}.`];

  it(`leaves ${N} session ids alone, though a letter before them would not`, () => {
    let wouldMask = 0;
    for (let i = 0; i < N; i++) {
      const channel = CHANNEL_CODES[randomInt(CHANNEL_CODES.length)]!;
      const id = formatSessionId(channel, 1_500_000_000_000 + randomInt(700_000_000_000), randomInt(100_000));
      for (const line of contexts(id)) {
        expect(maskPii(line), line).toBe(line);
        expect(maskPiiExhaustive(line), line).toBe(line);
      }
      if (maskPii(`x${id}`) !== `x${id}`) wouldMask++;
    }
    expect(wouldMask).toBeGreaterThan(N / 10); // the exemption does the work, it is not luck
  });

  it(`leaves ${N} UUIDv7s and ${N} 32-hex attachment ids alone, though a letter touching them would not`, () => {
    let wouldMask = 0;
    for (let i = 0; i < N; i++) {
      for (const id of [uuidv7(), randomBytes(16).toString('hex'), randomUUID()]) {
        for (const line of contexts(id)) {
          expect(maskPii(line), line).toBe(line);
          expect(maskPiiExhaustive(line), line).toBe(line);
        }
        if (maskPii(`g${id}`) !== `g${id}`) wouldMask++;
      }
    }
    expect(wouldMask).toBeGreaterThan(0);
    // A UUID's 12-digit group and the groups before it: `8000-000000000001` is a Luhn-valid 16-digit run.
    for (const id of ['0190f000-0000-7000-8000-000000000001', '01234567-0000-7000-8000-000000000002']) {
      expect(maskPii(`id ${id}`)).toBe(`id ${id}`);
    }
  });

  it('masks a phone beside a hex id that is not one of our id shapes', () => {
    expect(maskPii('abcdef13812345678')).toBe('abcdef*******5678');
    expect(maskPii('deadbeef13812345678cafe')).toBe('deadbeef*******5678cafe');
  });
});
