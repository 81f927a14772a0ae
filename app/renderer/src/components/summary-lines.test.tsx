// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../../../common/ai/assist';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { SummaryCard } from './Assist';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** An English conversation's extractive summary, as the server sends it (lines in the customer's language). */
const summary: ConversationSummary = {
  intent: 'order-status',
  wants: 'Where is my parcel? It was due on Monday.',
  done: 'AI answered 2× (order-status); handed over: customer asked',
  lines: [
    'Intent: order-status',
    'Customer wants: Where is my parcel? It was due on Monday.',
    'Done: AI answered 2× (order-status); handed over: customer asked',
    'Details: order 2024112900123',
  ],
  facts: {
    aiAnswers: 2,
    aiIntents: ['order-status'],
    handover: { reason: 'customer-asked', noAgentOnline: true },
    agentReplies: 0,
    orders: ['2024112900123'],
    tracking: [],
  },
  by: 'extractive',
  at: new Date().toISOString(),
};

describe('the summary card speaks the desk language (issue 15)', () => {
  let root: Root;
  let host: HTMLDivElement;
  async function show(locale: Locale, s: ConversationSummary) {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () =>
      root.render(
        <LocaleProvider locale={locale}>
          <SummaryCard summary={s} />
        </LocaleProvider>,
      ),
    );
    return [...host.querySelectorAll('[data-testid="handover-summary"] p')].map((p) => p.textContent);
  }
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  it('words an English conversation’s summary in Chinese on a Chinese desk; the customer’s words stay theirs', async () => {
    expect(await show('zh', summary)).toEqual([
      '意图：order-status',
      '客户诉求：Where is my parcel? It was due on Monday.',
      '已处理：AI 已回答 2 次（order-status）；已转人工：客户要求（当时无客服在线）',
      '关键信息：订单 2024112900123',
    ]);
  });

  it('reads naturally in English, and an AI that did nothing yet says so', async () => {
    const lines = await show('en', { ...summary, facts: { ...summary.facts!, aiAnswers: 0, aiIntents: [], handover: null, orders: [] } });
    expect(lines).toEqual(['Intent: order-status', 'Customer wants: Where is my parcel? It was due on Monday.', 'Done: nothing yet']);
  });

  it("shows the server's lines for a summary without facts (the language model's)", async () => {
    const { facts: _facts, ...llm } = summary;
    expect(await show('zh', { ...llm, by: 'llm' })).toEqual(summary.lines);
  });
});
