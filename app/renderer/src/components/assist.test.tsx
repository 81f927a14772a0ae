// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationSummary, Suggestion } from '../../../../common/ai/assist';
import type { MessageView, SessionDetail } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { createWorkstationStore } from '../stores/workstation';
import { insertAt } from './Assist';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const msg = (seq: number, over: Partial<MessageView> & { text: string }): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'AP1',
    conversationId: 'c-1',
    seq,
    direction: 'in',
    channel: 'AP',
    authorId: null,
    author: 'customer',
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: over.text },
    ...over,
  }) as MessageView;

const DRAFT_TEXT = 'Hi Zhang Wei, about order 2024112900123:\nOrders ship within 48 hours.';
const detail = (over: Partial<SessionDetail> = {}): SessionDetail =>
  ({
    id: 'AP1',
    conversationId: 'c-1',
    customerId: 'cust-1',
    customerName: 'Zhang Wei',
    channel: 'AP',
    status: 'active',
    skillGroup: 'general',
    assignedAgentId: 'u1',
    offeredAgentId: null,
    tier: 'assisted',
    priority: 60,
    lastMessagePreview: '',
    lastMessageAt: at,
    createdAt: at,
    waitingSince: at,
    wrapUpCode: null,
    closedAt: null,
    routing: null,
    messages: [
      msg(1, { text: 'hi' }),
      msg(2, { text: 'Orders ship within 48 hours.', direction: 'out', author: 'ai' }),
      msg(3, { text: 'Handed over to a person', direction: 'out', author: 'system' }),
      msg(4, { text: 'Where is my order 2024112900123?' }),
    ],
    hasOlderMessages: false,
    context: { customer: { id: 'cust-1', name: 'Zhang Wei', channels: ['AP'] }, previousSessions: [] },
    draft: {
      id: 'd-1',
      text: DRAFT_TEXT,
      source: { kind: 'kb', entryId: 'e1', intent: 'order_status', confidence: 0.9 },
      forMessageId: 'm-4',
      createdAt: at,
    },
    ...over,
  }) as SessionDetail;

const SUGGESTIONS: Suggestion[] = [
  { text: 'Orders ship within 48 hours.', source: { kind: 'kb', entryId: 'e1', intent: 'order_status', confidence: 0.9 } },
  { text: 'I have asked the courier about 2024112900123.', source: { kind: 'past-reply', similarity: 0.6 } },
];
const SUMMARY: ConversationSummary = {
  intent: 'order_status',
  wants: 'Where is my order 2024112900123?',
  done: 'AI answered 1×; handed over: the customer asked for a person',
  lines: ['Intent: order_status', 'Customer wants: Where is my order 2024112900123?', 'Done: AI answered 1×'],
  by: 'extractive',
  at,
};

describe('AI assistance in the conversation view', () => {
  let root: Root;
  let host: HTMLDivElement;
  let requests: { event: string; payload: Record<string, unknown> }[];
  let store: ReturnType<typeof createWorkstationStore>;

  async function render(d: SessionDetail, locale: Locale = 'en') {
    const bridge = offlineBridge();
    requests = [];
    const request = async (event: string, payload: Record<string, unknown>): Promise<unknown> => {
      requests.push({ event, payload });
      if (event === 'ai:suggest') return SUGGESTIONS;
      if (event === 'draft:discard') return { discarded: true };
      if (event === 'session:summary') return SUMMARY;
      if (event === 'message:send') return msg(5, { text: payload.text as string, direction: 'out', author: 'agent', authorId: 'u1' });
      return new Promise(() => undefined);
    };
    const connection = { socket: { on: () => undefined }, request, close: () => undefined } as unknown as AgentConnection;
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({
      token: 't',
      user: { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'], expert: false },
      connection,
      queue: { AP1: d },
      queueFilter: 'mine',
      openSessionId: 'AP1',
      detail: d,
    });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root.render(
        <LocaleProvider locale={locale}>
          <StoreContext.Provider value={store}>
            <App />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  }
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const composer = () => host.querySelector<HTMLTextAreaElement>('textarea[aria-label="Reply"]')!;
  const type = async (value: string) =>
    act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      setter.call(composer(), value);
      composer().dispatchEvent(new Event('input', { bubbles: true }));
    });
  const click = async (el: Element | null) => act(async () => (el as HTMLElement).click());

  it('pre-fills the composer with the AI draft, marked for review, and sends the edited text with its draft id', async () => {
    await render(detail());
    expect(composer().value).toBe(DRAFT_TEXT);
    const banner = host.querySelector('[data-testid="ai-draft-banner"]');
    expect(banner?.textContent).toContain('AI draft — review before sending');
    expect(banner?.textContent).toContain('from the knowledge base: order_status');
    await type(`${DRAFT_TEXT} Thanks for waiting!`);
    await click(host.querySelector('form.composer button[type="submit"]'));
    const sent = requests.filter((r) => r.event === 'message:send');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.payload).toMatchObject({ sessionId: 'AP1', text: `${DRAFT_TEXT} Thanks for waiting!`, draftId: 'd-1' });
    expect(host.querySelector('[data-testid="ai-draft-banner"]')).toBeNull();
    expect(composer().value).toBe('');
  });

  it('discards the draft: the composer empties and the server is told', async () => {
    await render(detail());
    await click(host.querySelector('[data-testid="discard-draft"]'));
    expect(composer().value).toBe('');
    expect(host.querySelector('[data-testid="ai-draft-banner"]')).toBeNull();
    expect(requests.find((r) => r.event === 'draft:discard')?.payload).toEqual({ sessionId: 'AP1', draftId: 'd-1' });
    // A reply written after a discard names no draft.
    await type('Let me check.');
    await click(host.querySelector('form.composer button[type="submit"]'));
    expect(requests.find((r) => r.event === 'message:send')?.payload.draftId).toBeUndefined();
  });

  it('shows suggested replies with their source; a click inserts, never sends', async () => {
    await render(detail({ draft: undefined }));
    expect(requests.find((r) => r.event === 'ai:suggest')?.payload).toEqual({ sessionId: 'AP1' });
    const chips = [...host.querySelectorAll('[data-testid="suggestion"]')];
    expect(chips.map((c) => c.querySelector('.chip__source')?.textContent)).toEqual(['KB: order_status', 'Past reply']);
    await type('Hello!');
    await click(chips[1]!);
    expect(composer().value).toBe('Hello!\nI have asked the courier about 2024112900123.');
    expect(requests.some((r) => r.event === 'message:send')).toBe(false);
  });

  it('marks AI messages and centres system notices', async () => {
    await render(detail());
    const ai = host.querySelector('[data-author="ai"]');
    expect(ai?.className).toContain('bubble--ai');
    expect(ai?.querySelector('[data-testid="ai-mark"]')?.textContent).toBe('AI');
    expect(host.querySelector('[data-author="system"]')?.className).toContain('bubble--system');
    expect(host.querySelector('[data-author="customer"] [data-testid="ai-mark"]')).toBeNull();
  });

  it('shows the hand-over summary at the top and starts the wrap-up note with a summary', async () => {
    await render(detail({ summary: SUMMARY, draft: undefined }));
    expect(host.querySelector('[data-testid="handover-summary"]')?.textContent).toContain(
      'Customer wants: Where is my order 2024112900123?',
    );
    const wrap = [...host.querySelectorAll('button')].find((b) => b.textContent === 'Wrap up…')!;
    await click(wrap);
    expect(requests.some((r) => r.event === 'session:summary')).toBe(true);
    expect(host.querySelector<HTMLTextAreaElement>('[data-testid="wrapup-note"]')?.value).toBe(SUMMARY.lines.join('\n'));
  });

  it('speaks Chinese to a Chinese-speaking agent', async () => {
    await render(detail({ summary: SUMMARY }), 'zh');
    expect(host.querySelector('[data-testid="ai-draft-banner"]')?.textContent).toContain('AI 草稿——发送前请审核');
    expect(host.querySelector('[data-testid="handover-summary"]')?.textContent).toContain('会话摘要');
    expect([...host.querySelectorAll('.chip__source')].map((c) => c.textContent)).toEqual(['知识库：order_status', '历史回复']);
  });

  it('never leaves a draft written for one customer in the composer of another', async () => {
    await render(detail());
    expect(composer().value).toBe(DRAFT_TEXT);
    const other = detail({ id: 'AP2', conversationId: 'c-2', customerName: 'Li Na', draft: undefined });
    await act(async () => store.setState({ openSessionId: 'AP2', detail: other, queue: { AP1: detail(), AP2: other } }));
    expect(composer().value).toBe('');
  });
});

describe('inserting a suggestion at the cursor', () => {
  it('puts it on its own line where the cursor is', () => {
    expect(insertAt('', 'B', null)).toEqual({ value: 'B', cursor: 1 });
    expect(insertAt('A', 'B', null)).toEqual({ value: 'A\nB', cursor: 3 });
    expect(insertAt('AC', 'B', 1)).toEqual({ value: 'A\nB\nC', cursor: 3 });
  });
});
