// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessagePageView, MessageView, SessionDetail } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { createWorkstationStore } from '../stores/workstation';
import { LocaleProvider } from '../LocaleProvider';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const message = (seq: number): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'AP1',
    conversationId: 'c-1',
    seq,
    direction: 'in',
    channel: 'AP',
    authorId: null,
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: `message ${seq}` },
  }) as MessageView;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));

const detail = {
  id: 'AP1',
  conversationId: 'c-1',
  customerId: 'cust-1',
  customerName: 'Long Talker',
  channel: 'AP',
  status: 'active',
  skillGroup: 'general',
  assignedAgentId: 'u1',
  offeredAgentId: null,
  tier: 'ai',
  priority: 20,
  lastMessagePreview: 'message 1051',
  lastMessageAt: at,
  createdAt: at,
  waitingSince: at,
  wrapUpCode: null,
  closedAt: null,
  routing: null,
  messages: [...range(952, 1051), { ...message(1052), direction: 'out', authorId: 'u1', body: { text: 'on it' } }],
  hasOlderMessages: true,
  context: { customer: { id: 'cust-1', name: 'Long Talker', channels: ['AP'] }, previousSessions: [] },
} as unknown as SessionDetail;

/** C8: the agent sees the newest messages first and pages back with one button. */
describe('a long conversation in the workstation', () => {
  let root: Root;
  let host: HTMLDivElement;
  const asked: number[] = [];
  let store: ReturnType<typeof createWorkstationStore>;
  beforeEach(async () => {
    const bridge = offlineBridge();
    const request = async (event: string, payload: { beforeSeq: number }): Promise<MessagePageView> => {
      if (event !== 'session:history') return new Promise(() => undefined);
      asked.push(payload.beforeSeq);
      return payload.beforeSeq === 952 ? { messages: range(752, 951), hasOlder: true } : { messages: range(1, 751), hasOlder: false };
    };
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => ({ socket: { on: () => undefined }, request, close: () => undefined }) as unknown as AgentConnection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({
      token: 't',
      user: { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'], expert: false },
      connection: { socket: { on: () => undefined }, request, close: () => undefined } as unknown as AgentConnection,
      queue: { AP1: detail },
      queueFilter: 'mine',
      openSessionId: 'AP1',
      detail,
    });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root.render(
        <LocaleProvider locale="en">
          <StoreContext.Provider value={store}>
            <App />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  });
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const bubbles = () => [...host.querySelectorAll('[data-testid="customer-message"]')].map((b) => b.textContent ?? '');

  it('shows the newest 100 messages and pages back to the first with "Show earlier messages"', async () => {
    expect(bubbles()).toHaveLength(100);
    expect(bubbles().at(-1)).toContain('message 1051');
    for (const expected of [300, 1051]) {
      const button = host.querySelector<HTMLButtonElement>('[data-testid="load-older"]')!;
      await act(async () => button.click());
      expect(bubbles()).toHaveLength(expected);
    }
    expect(asked).toEqual([952, 752]);
    expect(bubbles()[0]).toContain('message 1');
    expect(host.querySelector('[data-testid="load-older"]')).toBeNull();
  });

  it("shows how far the agent's reply got on the customer's channel", async () => {
    const mark = () => host.querySelector('[data-testid="agent-message"] [data-testid="delivery"]');
    expect(mark()).toBeNull();
    await act(async () => store.getState().receiveDelivery({ messageId: 'm-1052', sessionId: 'AP1', state: 'sent' }));
    expect(mark()?.textContent).toContain('✓');
    await act(async () =>
      store.getState().receiveDelivery({
        messageId: 'm-1052',
        sessionId: 'AP1',
        state: 'failed',
        error: { code: 'UNSUPPORTED_KIND', message: 'The widget cannot show this kind of message.' },
      }),
    );
    expect(mark()?.textContent).toContain('not delivered: the channel cannot carry this kind of message');
  });
});
