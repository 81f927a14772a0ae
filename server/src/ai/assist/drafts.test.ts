import { describe, expect, it } from 'vitest';
import type { KbEntry, Lang } from '../../../../common/ai/types';
import { chooseDraft, classifyOutcome, editDistance } from './drafts';
import type { PastReplyHit } from './replies';

const entry = (intent: string, lang: Lang, answer: string): KbEntry => ({
  id: `${intent}-${lang}`,
  intent,
  lang,
  questions: ['q'],
  answer,
  tags: [],
  skillGroup: null,
  related: [],
  version: 1,
  updatedAt: '2026-11-30T00:00:00.000Z',
  updatedBy: 't',
});
const KB = [
  entry('order_status', 'en', 'Orders ship within 48 hours of payment.'),
  entry('order_status', 'zh', '订单一般在付款后48小时内发货。'),
  entry('refund_status', 'en', 'Hi {{name}}, the refund for {{order}} leaves us within 3 business days.'),
];
const entryFor = (intent: string, lang: Lang) => KB.find((e) => e.intent === intent && e.lang === lang) ?? null;
const intent = (label: string, confidence: number, outOfScope = false) => ({ intent: { label, confidence, outOfScope } });
const past = (reply: string, similarity: number): PastReplyHit => ({
  reply: {
    id: 'p1',
    skillGroup: 'general',
    question: 'q',
    reply,
    sessionId: 'WB169208100012348213',
    customerId: 'c',
    at: '2026-11-30T00:00:00.000Z',
  },
  similarity,
});

describe('the assisted tier draft', () => {
  it("fills the KB answer of a confident intent with the customer's name and order number", () => {
    const draft = chooseDraft({
      analysis: intent('order_status', 0.93),
      entryFor,
      pastReplies: [],
      to: { name: 'Zhang Wei', details: { orders: ['2024112900123'], tracking: [] }, lang: 'en' },
    });
    expect(draft).toEqual({
      text: 'Hi Zhang Wei, about order 2024112900123:\nOrders ship within 48 hours of payment.',
      source: { kind: 'kb', entryId: 'order_status-en', intent: 'order_status', confidence: 0.93 },
    });
  });

  it("fills an answer's placeholders, in the customer's language", () => {
    const en = chooseDraft({
      analysis: intent('refund_status', 0.8),
      entryFor,
      pastReplies: [],
      to: { name: 'Li Na', details: { orders: ['HL-2024-00077'], tracking: [] }, lang: 'en' },
    });
    expect(en?.text).toBe('Hi Li Na, the refund for HL-2024-00077 leaves us within 3 business days.');
    const zh = chooseDraft({
      analysis: intent('order_status', 0.9),
      entryFor,
      pastReplies: [],
      to: { name: '王芳', details: { orders: ['2024112900123'], tracking: ['SF1234567890123'] }, lang: 'zh' },
    });
    expect(zh?.text).toBe('王芳，您好！关于订单 2024112900123（运单号 SF1234567890123）：\n订单一般在付款后48小时内发货。');
  });

  it('uses the best past reply when the intent is unsure or out of scope, and nothing when neither will do', () => {
    const to = { name: 'Zhang Wei', details: { orders: ['2024112900123'], tracking: [] }, lang: 'en' as const };
    const reply = past('Sorry {{name}}, I have asked the courier about {{order}}.', 0.62);
    expect(chooseDraft({ analysis: intent('order_status', 0.3), entryFor, pastReplies: [reply], to })).toEqual({
      text: 'Sorry Zhang Wei, I have asked the courier about 2024112900123.',
      source: { kind: 'past-reply', similarity: 0.62, sessionId: 'WB169208100012348213' },
    });
    expect(chooseDraft({ analysis: intent('oos', 0.9, true), entryFor, pastReplies: [past('x', 0.2)], to })).toBeNull();
    expect(chooseDraft({ analysis: null, entryFor, pastReplies: [], to })).toBeNull();
  });
});

describe('what the agent did with a draft', () => {
  it('calls a draft sent as drafted accepted, white space aside', () => {
    expect(classifyOutcome('Hi Zhang Wei,\nit ships today.', '  Hi Zhang Wei, it ships today.\n')).toEqual({
      outcome: 'accepted',
      editDistance: 0,
      editRatio: 0,
    });
  });

  it('calls any other change edited, with the grapheme edit distance and ratio', () => {
    const m = classifyOutcome('It ships today.', 'It ships tomorrow.');
    expect(m.outcome).toBe('edited');
    expect(m.editDistance).toBe(editDistance('It ships today.', 'It ships tomorrow.'));
    // to|day → to|morrow: three letters replaced, three added.
    expect(m.editDistance).toBe(6);
    expect(m.editRatio).toBeCloseTo(6 / 18, 3);
    // One emoji with a skin tone, or a Chinese character, is one grapheme.
    expect(editDistance('好的👍🏽', '好的👍')).toBe(1);
    expect(editDistance('今天发货', '明天发货')).toBe(1);
    // A changed accent or family member is one grapheme, however the common start is cut.
    expect(editDistance('caf\u00e9 e\u0301x', 'caf\u00e9 e\u0302x')).toBe(1);
    expect(editDistance('👨‍👩‍👧 ok', '👨‍👩‍👦 ok')).toBe(1);
    expect(editDistance('ab', 'abab')).toBe(2);
  });

  it('bounds the work on a long rewrite and still counts it as a big edit', () => {
    const x = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    const y = Array.from({ length: 2500 }, (_, i) => String.fromCharCode(97 + ((i * 11) % 26))).join('');
    const d = editDistance(x, y);
    // At least the length difference, at most the longer text.
    expect(d).toBeGreaterThanOrEqual(500);
    expect(d).toBeLessThanOrEqual(3000);
    expect(classifyOutcome(x, y).editRatio).toBeGreaterThan(0.3);
  });
});
