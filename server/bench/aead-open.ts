/**
 * Micro-benchmark behind issue 14's sealed page blocks (docs/benchmarks.md "Issue 14 (first reads: sealed
 * page blocks)"): what one AES-256-GCM open of a message record costs in Node, against the plaintext
 * parses of the same record, and what the alternatives cost — a KeyObject, WebCrypto, one block of 50
 * payloads, SHA-256 digests. Prints µs per page of 50 records and per record.
 *
 *   npx tsx server/bench/aead-open.ts
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hash, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { TEXT } from './jobs';

const N = 50;
const key = randomBytes(32);
const keyObject = createSecretKey(key);

function sealWith(k: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.from([1]), nonce, c.getAuthTag(), body]);
}
function openWith(k: Buffer | KeyObject, sealed: Buffer, aad: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', k, sealed.subarray(1, 13), { authTagLength: 16 });
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(sealed.subarray(13, 29));
  return Buffer.concat([d.update(sealed.subarray(29)), d.final()]);
}

const at = new Date().toISOString();
const header = JSON.stringify({
  id: '0190a3b4-1111-7000-8000-000000000000',
  s: 'AP-1701234567890-12345',
  c: '0190a3b4-2222-7000-8000-000000000000',
  ch: 'AP',
  d: 'in',
  k: 'text',
  cr: 1,
  m: 'b-0',
  st: at,
  rt: at,
  key: 'customer:0190a3b4-3333-7000-8000-000000000000',
});
const payload = JSON.stringify({ body: { text: TEXT }, meta: {} });
const records = Array.from({ length: N }, (_, i) => ({ aad: `msg:m${i}`, ct: sealWith(key, Buffer.from(payload), `msg:m${i}`) }));
const plains = records.map(() => Buffer.from(header + payload));
const full = records.map((r) => Buffer.concat([Buffer.from(header), r.ct]));
const headerLength = Buffer.byteLength(header);

function bench(label: string, fn: () => void, rounds = 4000): void {
  for (let i = 0; i < 300; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / rounds;
  process.stdout.write(`${label.padEnd(52)} ${us.toFixed(1).padStart(8)} µs/page ${(us / N).toFixed(2).padStart(7)} µs/record\n`);
}

bench('plaintext: header + payload JSON.parse', () => {
  for (const p of plains) {
    JSON.parse(p.toString('utf8', 0, headerLength));
    JSON.parse(p.toString('utf8', headerLength));
  }
});
bench('createDecipheriv alone', () => {
  for (const r of records) createDecipheriv('aes-256-gcm', key, r.ct.subarray(1, 13), { authTagLength: 16 });
});
bench('createDecipheriv + setAAD + setAuthTag', () => {
  for (const r of records) {
    const d = createDecipheriv('aes-256-gcm', key, r.ct.subarray(1, 13), { authTagLength: 16 });
    d.setAAD(Buffer.from(r.aad));
    d.setAuthTag(r.ct.subarray(13, 29));
  }
});
bench('open (Buffer key)', () => {
  for (const r of records) openWith(key, r.ct, r.aad);
});
bench('open (KeyObject made once)', () => {
  for (const r of records) openWith(keyObject, r.ct, r.aad);
});
const block = sealWith(key, Buffer.from(JSON.stringify(records.map(() => payload))), 'blk:c:1:50');
bench('one block of 50 payloads, opened', () => {
  openWith(key, block, 'blk:c:1:50');
});
bench('SHA-256 per record (createHash)', () => {
  for (const f of full) createHash('sha256').update(f).digest();
});
bench('SHA-256 per record (crypto.hash one-shot)', () => {
  for (const f of full) hash('sha256', f, 'buffer');
});
bench('SHA-256 of the page (one hash, 50 updates)', () => {
  const h = createHash('sha256');
  for (const f of full) h.update(f);
  h.digest();
});
bench('record byte comparison (Buffer.equals)', () => {
  for (const f of full) f.equals(f);
});

const webKey = await webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
const webRecords = records.map((r) => ({
  iv: r.ct.subarray(1, 13),
  data: Buffer.concat([r.ct.subarray(29), r.ct.subarray(13, 29)]),
  aad: Buffer.from(r.aad),
}));
const webPage = () =>
  Promise.all(webRecords.map((w) => webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: w.iv, additionalData: w.aad }, webKey, w.data)));
for (let i = 0; i < 50; i++) await webPage();
const rounds = 400;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
for (let i = 0; i < rounds; i++) await webPage();
const c = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e3 / rounds;
process.stdout.write(
  `${'WebCrypto subtle.decrypt, 50 at once'.padEnd(52)} ${wall.toFixed(1).padStart(8)} µs/page wall, ${((c.user + c.system) / rounds).toFixed(1)} µs/page CPU (all threads)\n`,
);
