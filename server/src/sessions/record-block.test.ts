import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockEntry, blockHead, BLOCK_RECORDS, openBlock, pageOf, pageStart, sealBlock } from './record-block';

describe('sealed page blocks (record-block.ts)', () => {
  const key = randomBytes(32);
  const records = [Buffer.from('record one'), Buffer.from('record two, longer'), Buffer.alloc(0, 0)];
  const payloads = [Buffer.from('{"body":{"text":"您好"},"meta":{}}'), Buffer.from('{"body":{"text":"two"},"meta":{}}'), Buffer.from('{}')];
  const entries = records.map((r, i) => blockEntry(r, payloads[i]!));
  const head = { firstSeq: 51, count: 3, owner: 'customer:0190a3b4-3333-7000-8000-000000000000' };

  it('numbers pages of 50 seqs from seq 1', () => {
    expect(BLOCK_RECORDS).toBe(50);
    expect([1, 50, 51, 100, 101].map(pageOf)).toEqual([0, 0, 1, 1, 2]);
    expect([0, 1, 2].map(pageStart)).toEqual([1, 51, 101]);
  });

  it('opens what it sealed: head in the clear, records and payloads byte for byte, no plaintext in the block', () => {
    const block = sealBlock(key, 'conv-1', head, entries);
    expect(blockHead(block)).toEqual(head);
    const opened = openBlock(key, 'conv-1', block, blockHead(block)!);
    expect(opened.records.map((r) => r.toString())).toEqual(records.map((r) => r.toString()));
    expect(opened.payloads.map((p) => p.toString())).toEqual(payloads.map((p) => p.toString()));
    expect(block.includes(Buffer.from('您好'))).toBe(false);
    expect(block.includes(Buffer.from('record one'))).toBe(false);
  });

  it('refuses a changed byte anywhere, another conversation, another key, or a head that lies', () => {
    const block = sealBlock(key, 'conv-1', head, entries);
    for (let at = 0; at < block.length; at += 7) {
      const bad = Buffer.from(block);
      bad[at]! ^= 0x01;
      const h = blockHead(bad);
      // A changed version byte makes it a block of another version (left aside by readers).
      if (h === null) continue;
      expect(() => openBlock(key, 'conv-1', bad, h)).toThrow(expect.objectContaining({ name: 'TamperError' }));
    }
    expect(() => openBlock(key, 'conv-2', block, head)).toThrow(expect.objectContaining({ name: 'TamperError' }));
    expect(() => openBlock(randomBytes(32), 'conv-1', block, head)).toThrow(expect.objectContaining({ name: 'TamperError' }));
    expect(() => openBlock(key, 'conv-1', block, { ...head, count: 2 })).toThrow(expect.objectContaining({ name: 'TamperError' }));
    expect(() => blockHead(block.subarray(0, 5))).toThrow(expect.objectContaining({ name: 'TamperError' }));
  });

  it('seals only whole-page heads with 1..50 entries', () => {
    expect(() => sealBlock(key, 'c', { ...head, firstSeq: 52 }, entries)).toThrow(RangeError);
    expect(() => sealBlock(key, 'c', { ...head, count: 2 }, entries)).toThrow(RangeError);
    expect(() => sealBlock(key, 'c', { ...head, count: 0 }, [])).toThrow(RangeError);
    const full = Array.from({ length: 51 }, () => entries[0]!);
    expect(() => sealBlock(key, 'c', { ...head, firstSeq: 1, count: 51 }, full)).toThrow(RangeError);
  });
});
