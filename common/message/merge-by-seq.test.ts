import { describe, expect, it } from 'vitest';
import { mergeBySeq } from './merge-by-seq';

const m = (seq: number, id = `m${seq}`, text = `text ${seq}`) => ({ id, seq, text });

describe('mergeBySeq (local history reconciled with the server by seq)', () => {
  it('shows local history then fills the gap the server sends, in seq order', () => {
    const local = [m(1), m(2), m(5), m(6)];
    const r = mergeBySeq(local, [m(3), m(4), m(7)]);
    expect(r.messages.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.added).toBe(3);
    expect(r.gaps).toEqual([]);
  });

  it('never shows a message twice when a catch-up overlaps what is held', () => {
    const r = mergeBySeq([m(1), m(2), m(3)], [m(2), m(3), m(4), m(4)]);
    expect(r.messages.map((x) => x.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(r.added).toBe(1);
    expect(r.conflicts).toEqual([]);
  });

  it('never overwrites a held seq; a different message at that seq is reported as a conflict', () => {
    const held = m(2, 'm2', 'what the agent saw');
    const r = mergeBySeq([m(1), held], [m(2, 'other', 'rewritten')]);
    expect(r.messages[1]).toBe(held);
    expect(r.conflicts).toEqual([{ seq: 2, kept: 'm2', refused: 'other' }]);
  });

  it('keeps one copy of a message that arrives under another seq', () => {
    const r = mergeBySeq([m(1), m(2)], [m(9, 'm2')]);
    expect(r.messages.map((x) => x.seq)).toEqual([1, 2]);
    expect(r.added).toBe(0);
  });

  it('names the gaps still missing so the client can page them in', () => {
    const r = mergeBySeq([m(10), m(11)], [m(3), m(7)]);
    expect(r.gaps).toEqual([
      { from: 4, to: 6 },
      { from: 8, to: 9 },
    ]);
  });

  it('leaves both inputs unchanged and handles empty ones', () => {
    const local = [m(2), m(1)];
    const frozen = JSON.stringify(local);
    expect(mergeBySeq(local, []).messages.map((x) => x.seq)).toEqual([1, 2]);
    expect(JSON.stringify(local)).toBe(frozen);
    expect(mergeBySeq([], [])).toEqual({ messages: [], added: 0, conflicts: [], gaps: [] });
  });
});
