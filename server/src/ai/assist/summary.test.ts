import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handover } from '../../../../common/ai/assist';
import { demoCore } from '../../../test/support/demo-core';
import type { LanguageCore } from '../core';
import { sentences, summarize, WANTS_MAX, type SummaryMessage } from './summary';

const handover: Handover = {
  at: '2026-11-30T08:00:00.000Z',
  reason: 'customer-asked',
  by: 'customer',
  intent: 'order_status',
  confidence: 0.8,
  noAgentOnline: false,
};

describe('the extractive conversation summary', () => {
  let core: LanguageCore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ core, close } = await demoCore());
  });
  afterAll(async () => close());
  const deps = () => ({ analyze: (t: string) => core.analyze(t), now: () => Date.parse('2026-11-30T08:00:00Z') });

  it('names the intent, quotes what the customer wants and counts what was done, in English', () => {
    const messages: SummaryMessage[] = [
      { author: 'customer', text: 'Hi there' },
      { author: 'customer', text: 'I ordered headphones last week. My order 2024112900123 still says processing, where is it? Thanks' },
      { author: 'ai', text: 'You can see the live status under "Me > My Orders".' },
      { author: 'customer', text: 'I want to talk to a real person' },
      { author: 'agent', text: 'Let me check that for you.' },
    ];
    const s = summarize({ messages, handover }, { ...deps(), intentOfAnswer: (t) => (t.includes('My Orders') ? 'order_status' : null) });
    expect(s).toMatchObject({
      intent: 'order_status',
      wants: 'My order 2024112900123 still says processing, where is it?',
      done: 'AI answered 1× (order_status); handed over: the customer asked for a person; agent replied 1×',
      by: 'extractive',
      at: '2026-11-30T08:00:00.000Z',
    });
    expect(s.lines).toEqual([
      'Intent: order_status',
      'Customer wants: My order 2024112900123 still says processing, where is it?',
      'Done: AI answered 1× (order_status); handed over: the customer asked for a person; agent replied 1×',
      'Details: order 2024112900123',
    ]);
  });

  it('summarizes a Chinese conversation in Chinese, with the short request after the informative sentence', () => {
    const messages: SummaryMessage[] = [
      { author: 'customer', text: '在吗' },
      { author: 'customer', text: '我上周买的耳机，订单号2024112900123，到现在还显示待发货。能不能帮我催一下？' },
      { author: 'agent', text: '好的，我帮您查一下。' },
    ];
    const s = summarize({ messages }, deps());
    expect(s.intent).toBe('order_status');
    expect(s.wants).toBe('我上周买的耳机，订单号2024112900123，到现在还显示待发货。能不能帮我催一下？');
    expect(s.done).toBe('客服已回复 1 次');
    expect(s.lines).toEqual(['意图：order_status', `客户诉求：${s.wants}`, '已处理：客服已回复 1 次', '关键信息：订单 2024112900123']);
  });

  it('says so when nothing is recognised or done, and keeps between two and four lines', () => {
    const s = summarize({ messages: [{ author: 'customer', text: 'hello' }] }, deps());
    expect(s.intent).toBeNull();
    expect(s.lines).toEqual(['Intent: not recognised', 'Customer wants: hello', 'Done: nothing yet']);
    const empty = summarize({ messages: [] }, deps());
    expect(empty.lines).toEqual(['Intent: not recognised', 'Done: nothing yet']);
  });

  it('cuts what the customer wants by grapheme, never inside an emoji', () => {
    const long = `My parcel 2024112900123 has not arrived ${'👍🏽'.repeat(200)} where is it?`;
    const s = summarize({ messages: [{ author: 'customer', text: long }] }, deps());
    expect(s.wants.length).toBeLessThanOrEqual(WANTS_MAX);
    expect(s.wants.endsWith('…')).toBe(true);
    expect(s.wants.slice(0, -1).endsWith('👍🏽')).toBe(true);
  });

  it('splits sentences at Chinese and English ends but not inside numbers or after abbreviations', () => {
    expect(sentences('价格3.5元。还有吗？ Order no. 12 arrived. Where is the rest?\nok')).toEqual([
      '价格3.5元。',
      '还有吗？',
      'Order no. 12 arrived.',
      'Where is the rest?',
      'ok',
    ]);
  });
});
