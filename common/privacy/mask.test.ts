import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isChineseResidentId, luhnValid, maskDeep, maskPii, maskPiiExhaustive, piiHints } from './mask';

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
    ['every character percent-encoded', (v) => [...v].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')],
    ['form-encoded (+ for a space)', (v) => encodeURIComponent(v).replace(/%20/g, '+')],
    ['JSON unicode escapes', (v) => [...v].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')],
    ['JSON unicode escapes, escaped again', (v) => [...v].map((c) => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')],
    ['full-width', fullWidth],
    ['full-width with ideographic spaces', (v) => fullWidth(v).replace(/ /g, '\u3000')],
  ];
  const personal = [
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
    ];
    for (let n = 0; n < 5000; n++) {
      let line = '';
      const length = 1 + Math.floor(random() * 60);
      for (let i = 0; i < length; i++) line += random() < 0.05 ? pick(personal) : pick(pieces);
      expect(maskPii(line), line).toBe(maskPiiExhaustive(line));
    }
  });
});
