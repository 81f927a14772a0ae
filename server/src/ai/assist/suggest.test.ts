import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KbEntry, Lang } from '../../../../common/ai/types';
import { demoCore } from '../../../test/support/demo-core';
import type { LanguageCore } from '../core';
import { PastReplyMemory } from './replies';
import { suggestReplies } from './suggest';

describe('suggested replies', () => {
  let core: LanguageCore;
  let entries: KbEntry[];
  let close: () => Promise<void>;
  beforeAll(async () => {
    const demo = await demoCore();
    ({ core, close } = demo);
    entries = await demo.kb.list();
  });
  afterAll(async () => close());
  const entryFor = (intent: string, lang: Lang) => entries.find((e) => e.intent === intent && e.lang === lang) ?? null;

  it('offers the KB answers of the likely intents and similar past replies, best first, with their source, at most 3', () => {
    const memory = new PastReplyMemory(undefined, 1);
    memory.add({
      id: 'p1',
      skillGroup: 'general',
      question: 'I want a refund for order {{order}}, the item arrived broken',
      reply: 'Sorry {{name}}! Please send a photo of the damage and I will refund {{order}} at once.',
      sessionId: 'AP169208100012348213',
      customerId: 'c0',
      at: '2026-11-01T00:00:00.000Z',
    });
    const text = 'I want a refund for order 2024112900123, the item arrived broken';
    const out = suggestReplies({
      analysis: core.analyze(text),
      entryFor,
      pastReplies: memory.search(text, 'general', 5),
      to: { name: 'Li Na', details: { orders: ['2024112900123'], tracking: [] }, lang: 'en' },
    });
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(out.length).toBeLessThanOrEqual(3);
    const past = out.find((s) => s.source.kind === 'past-reply');
    expect(past?.text).toBe('Sorry Li Na! Please send a photo of the damage and I will refund 2024112900123 at once.');
    const kb = out.filter((s) => s.source.kind === 'kb');
    expect(kb[0]?.source).toMatchObject({ kind: 'kb', intent: 'damaged_item' });
    // Inserted at the cursor, a suggestion carries no greeting: the KB answer as written.
    expect(kb[0]?.text).toBe(entryFor('damaged_item', 'en')?.answer);
    // Ranked by score: each source's score is its confidence or similarity.
    const scores = out.map((s) => (s.source.kind === 'kb' ? s.source.confidence : s.source.similarity));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('answers in the customer language, and suggests nothing for a greeting', () => {
    const zh = suggestReplies({
      analysis: core.analyze('退款什么时候到账'),
      entryFor,
      pastReplies: [],
      to: { name: null, details: { orders: [], tracking: [] }, lang: 'zh' },
    });
    expect(zh[0]?.source).toMatchObject({ kind: 'kb', intent: 'refund_status' });
    expect(zh[0]?.text).toBe(entryFor('refund_status', 'zh')?.answer);
    expect(zh.every((s) => /\p{Script=Han}/u.test(s.text))).toBe(true);
    const none = suggestReplies({
      analysis: { intent: { label: 'oos', confidence: 0.2, outOfScope: true, candidates: [{ label: 'oos', p: 0.9 }] } },
      entryFor,
      pastReplies: [],
      to: { name: null, details: { orders: [], tracking: [] }, lang: 'en' },
    });
    expect(none).toEqual([]);
  });

  it("fills free slots with the best intent's related intents, and leaves out the draft already in the composer", () => {
    const text = 'Where is my order 2024112900123?';
    const analysis = core.analyze(text);
    expect(analysis.intent.label).toBe('order_status');
    const to = { name: 'Zhang Wei', details: { orders: ['2024112900123'], tracking: [] }, lang: 'en' as const };
    const order = entryFor('order_status', 'en')!;
    const out = suggestReplies({
      analysis,
      entryFor,
      pastReplies: [],
      to,
      draft: {
        text: `Hi Zhang Wei, about order 2024112900123:\n${order.answer}`,
        source: { kind: 'kb', entryId: order.id, intent: 'order_status', confidence: 0.9 },
      },
    });
    expect(out.map((s) => s.source.kind === 'kb' && s.source.intent)).toEqual(order.related.slice(0, 3));
  });

  it('leaves out what the AI or an agent already said in the conversation', () => {
    const text = 'How long does delivery take to Chengdu?';
    const analysis = core.analyze(text);
    const answer = entryFor(analysis.intent.label, 'en')!.answer;
    const to = { name: null, details: { orders: [], tracking: [] }, lang: 'en' as const };
    expect(suggestReplies({ analysis, entryFor, pastReplies: [], to }).map((s) => s.text)).toContain(answer);
    expect(suggestReplies({ analysis, entryFor, pastReplies: [], to, alreadySaid: [` ${answer}\n`] }).map((s) => s.text)).not.toContain(
      answer,
    );
  });

  it('drops a suggestion that repeats another', () => {
    const text = 'where is my order';
    const answer = entryFor('order_status', 'en')!.answer;
    const memory = new PastReplyMemory(undefined, 1);
    memory.add({
      id: 'p1',
      skillGroup: 'general',
      question: text,
      reply: answer,
      sessionId: 'x',
      customerId: 'c',
      at: '2026-11-01T00:00:00.000Z',
    });
    const out = suggestReplies({
      analysis: core.analyze(text),
      entryFor,
      pastReplies: memory.search(text, 'general'),
      to: { name: null, details: { orders: [], tracking: [] }, lang: 'en' },
    });
    expect(out.filter((s) => s.text === answer)).toHaveLength(1);
  });
});
