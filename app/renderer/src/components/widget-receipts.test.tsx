// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageView, SessionDetail } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { createWorkstationStore, type WorkstationStore } from '../stores/workstation';
import { createTypingSignal, TYPING_EVERY_MS, TYPING_IDLE_MS } from './agent-receipts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

describe('the composer typing signal (issue 13)', () => {
  it('says true at most every 3 s while keys come, false after 5 s idle or on stop', () => {
    vi.useFakeTimers();
    try {
      const said: boolean[] = [];
      const signal = createTypingSignal(
        (t) => said.push(t),
        () => Date.now(),
      );
      signal.keyed();
      signal.keyed();
      vi.advanceTimersByTime(TYPING_EVERY_MS - 1);
      signal.keyed();
      expect(said).toEqual([true]);
      vi.advanceTimersByTime(1);
      signal.keyed();
      expect(said).toEqual([true, true]);
      vi.advanceTimersByTime(TYPING_IDLE_MS);
      expect(said).toEqual([true, true, false]);
      // Stopping when not typing says nothing; sending right after typing says false once.
      signal.stop();
      signal.keyed();
      signal.stop();
      signal.stop();
      expect(said).toEqual([true, true, false, true, false]);
    } finally {
      vi.useRealTimers();
    }
  });
});

const at = new Date().toISOString();
const message = (seq: number, over: Partial<MessageView>): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'WB1',
    conversationId: 'c-WB1',
    seq,
    direction: 'in',
    channel: 'WB',
    authorId: null,
    author: 'customer',
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: `text ${seq}` },
    ...over,
  }) as MessageView;

const detail: SessionDetail = {
  id: 'WB1',
  conversationId: 'c-WB1',
  customerId: 'cust-1',
  customerName: 'Mei Lin',
  channel: 'WB',
  status: 'active',
  skillGroup: 'general',
  assignedAgentId: 'u1',
  offeredAgentId: null,
  tier: 'assisted',
  priority: 50,
  lastMessagePreview: 'x',
  lastMessageAt: at,
  createdAt: at,
  waitingSince: at,
  wrapUpCode: null,
  closedAt: null,
  routing: null,
  hasOlderMessages: false,
  messages: [
    message(1, {}),
    message(2, { direction: 'out', authorId: 'u1', author: 'agent' } as Partial<MessageView>),
    message(3, {
      kind: 'file',
      body: { attachmentId: 'a'.repeat(32), name: 'invoice.pdf', mime: 'application/pdf', size: 2048 },
    } as Partial<MessageView>),
  ],
  context: { customer: { id: 'cust-1', name: 'Mei Lin', channels: ['WB'] }, previousSessions: [] },
} as SessionDetail;

describe('receipts and files in the conversation (issue 13)', () => {
  let root: Root | null = null;
  let host: HTMLDivElement;
  afterEach(() => {
    act(() => root?.unmount());
    host.remove();
  });

  async function show(locale: Locale, userId = 'u1'): Promise<{ store: WorkstationStore; calls: [string, unknown][] }> {
    const calls: [string, unknown][] = [];
    const bridge = offlineBridge();
    const connection = {
      socket: { on: () => undefined },
      request: (event: string, payload: unknown) => {
        calls.push([event, payload]);
        return new Promise(() => undefined);
      },
      close: () => undefined,
    } as unknown as AgentConnection;
    const store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({
      token: 't',
      connection,
      user: { id: userId, username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'], expert: false },
      queue: { WB1: detail },
      openSessionId: 'WB1',
      detail,
    });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root!.render(
        <LocaleProvider locale={locale}>
          <StoreContext.Provider value={store}>
            <App />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
    return { store, calls };
  }

  it('reports the newest customer message as read, and typing in the composer', async () => {
    const { calls } = await show('en');
    expect(calls).toContainEqual(['session:read', { sessionId: 'WB1', upToSeq: 3 }]);
    const composer = host.querySelector<HTMLTextAreaElement>('textarea[aria-label="Reply"]')!;
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      setter.call(composer, 'Hel');
      composer.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(calls).toContainEqual(['agent:typing', { sessionId: 'WB1', typing: true }]);
  });

  it('reports nothing read nor typed for a chat someone else holds (the server would answer NOT_ASSIGNED)', async () => {
    const { calls } = await show('en', 'u2');
    expect(host.querySelector('[data-testid="file-message"]')).not.toBeNull();
    expect(calls.filter(([event]) => event === 'session:read' || event === 'agent:typing')).toEqual([]);
  });

  it('shows a visitor’s file as a download link, in English and Chinese', async () => {
    await show('en');
    expect(host.querySelector('[data-testid="file-message"]')?.textContent).toBe('Download invoice.pdf (2.0 KB)');
    act(() => root?.unmount());
    host.remove();
    await show('zh');
    expect(host.querySelector('[data-testid="file-message"]')?.textContent).toBe('下载 invoice.pdf（2.0 KB）');
  });
});
