// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageEmotion, MessageView, SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import { detectLocale, type Locale } from '../locale';
import { createWorkstationStore, type WorkstationStore } from '../stores/workstation';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();

const row = (id: string, priority: number, emotion?: MessageEmotion): SessionSummary => ({
  id,
  conversationId: `c-${id}`,
  customerId: `cust-${id}`,
  customerName: `Customer ${id}`,
  channel: 'WB',
  status: 'queued',
  skillGroup: 'general',
  assignedAgentId: null,
  offeredAgentId: null,
  tier: 'assisted',
  priority,
  lastMessagePreview: `preview ${id}`,
  lastMessageAt: at,
  createdAt: at,
  waitingSince: at,
  ...(emotion ? { emotion } : {}),
});

const message = (seq: number, over: Partial<MessageView>): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'WB1',
    conversationId: 'c-WB1',
    seq,
    direction: 'in',
    channel: 'WB',
    authorId: null,
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: `text ${seq}` },
    ...over,
  }) as MessageView;

const ANGRY: MessageEmotion = { label: 'anger', intensity: 0.82 };

const detail: SessionDetail = {
  ...row('WB1', 90, ANGRY),
  wrapUpCode: null,
  closedAt: null,
  routing: null,
  hasOlderMessages: false,
  messages: [
    message(1, { emotion: ANGRY, body: { text: '气死我了！！你们这什么破服务' } }),
    message(2, { emotion: { label: 'neutral', intensity: 0 } }),
    message(3, { emotion: { label: 'sadness', intensity: 0.55 } }),
    // An agent's message never shows one, whatever it carries.
    message(4, { direction: 'out', authorId: 'u1', emotion: ANGRY }),
  ],
  context: { customer: { id: 'cust-WB1', name: 'Customer WB1', channels: ['WB'] }, previousSessions: [] },
};

function workstation(): WorkstationStore {
  const bridge = offlineBridge();
  const store = createWorkstationStore({
    api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
    bridge,
    connect: () =>
      ({
        socket: { on: () => undefined },
        request: () => new Promise(() => undefined),
        close: () => undefined,
      }) as unknown as AgentConnection,
    storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
  });
  store.setState({
    token: 't',
    user: { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'], expert: false },
    queue: {
      WB1: detail,
      WB2: row('WB2', 80, { label: 'happiness', intensity: 0.9 }),
      WB3: row('WB3', 70, { label: 'fear', intensity: 0.59 }),
      WB4: row('WB4', 60, { label: 'neutral', intensity: 0 }),
      WB5: row('WB5', 50),
      WB6: row('WB6', 40, { label: 'disgust', intensity: 0.6 }),
      WB7: row('WB7', 30, { label: 'surprise', intensity: 0.44 }),
    },
    queueFilter: 'waiting',
    openSessionId: 'WB1',
    detail,
  });
  return store;
}

describe('emotion badges on queue items and customer messages (issue 9)', () => {
  let root: Root | null = null;
  let host: HTMLDivElement;
  let store: WorkstationStore;
  afterEach(() => {
    act(() => root?.unmount());
    host.remove();
  });

  async function show(locale: Locale) {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    store = workstation();
    await act(async () => {
      root!.render(
        <LocaleProvider locale={locale}>
          <StoreContext.Provider value={store}>
            <App />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  }

  const item = (id: string) => host.querySelector<HTMLElement>(`[data-testid="queue-item"][data-session-id="${id}"]`)!;
  const badge = (el: Element) => el.querySelector<HTMLElement>('[data-testid="emotion"]');

  it('names the emotion and its intensity for screen readers and in the tooltip', async () => {
    await show('en');
    const angry = badge(item('WB1'))!;
    expect(angry.getAttribute('role')).toBe('img');
    expect(angry.getAttribute('aria-label')).toBe('anger 82%');
    expect(angry.title).toBe('anger 82%');
    expect(angry.textContent).toContain('😠');
    expect(angry.querySelector<HTMLElement>('.emo__fill')!.style.width).toBe('82%');
    expect(badge(item('WB2'))!.getAttribute('aria-label')).toBe('happiness 90%');
    expect(badge(item('WB3'))!.getAttribute('aria-label')).toBe('fear 59%');
  });

  it('shows nothing for a neutral customer, a weak reading (below 0.5) or one whose emotion was not read', async () => {
    await show('en');
    expect(badge(item('WB4'))).toBeNull();
    expect(badge(item('WB5'))).toBeNull();
    expect(badge(item('WB7'))).toBeNull();
  });

  it('marks a strongly negative customer for attention, from 0.6 on, and no one else', async () => {
    await show('en');
    const marked = [...host.querySelectorAll('[data-testid="queue-item"]')]
      .filter((el) => el.getAttribute('data-attention') === 'true')
      .map((el) => el.getAttribute('data-session-id'));
    expect(marked).toEqual(['WB1', 'WB6']);
    expect(item('WB1').className).toContain('qitem--attention');
    expect(item('WB2').className).not.toContain('qitem--attention');
    expect(item('WB3').className).not.toContain('qitem--attention');
  });

  it("badges the customer's messages but not neutral ones nor the agent's", async () => {
    await show('en');
    const customer = [...host.querySelectorAll('[data-testid="customer-message"]')];
    expect(customer.map((m) => badge(m)?.getAttribute('aria-label') ?? null)).toEqual(['anger 82%', null, 'sadness 55%']);
    const agent = host.querySelector('[data-testid="agent-message"]')!;
    expect(badge(agent)).toBeNull();
  });

  it('speaks Chinese to a Chinese-speaking agent', async () => {
    await show('zh');
    expect(badge(item('WB1'))!.getAttribute('aria-label')).toBe('愤怒 82%');
    expect(badge(item('WB1'))!.textContent).toContain('愤怒');
    expect(badge(item('WB2'))!.getAttribute('aria-label')).toBe('高兴 90%');
    expect(badge(item('WB6'))!.getAttribute('aria-label')).toBe('厌恶 60%');
    const customer = [...host.querySelectorAll('[data-testid="customer-message"]')];
    expect(badge(customer[2]!)!.getAttribute('aria-label')).toBe('悲伤 55%');
  });

  it('shows the badge on a customer message pushed while the conversation is open', async () => {
    await show('en');
    await act(async () => {
      store.getState().receiveMessage(message(5, { emotion: { label: 'surprise', intensity: 0.7 }, body: { text: 'what?' } }));
    });
    const customer = [...host.querySelectorAll('[data-testid="customer-message"]')];
    expect(badge(customer.at(-1)!)!.getAttribute('aria-label')).toBe('surprise 70%');
  });
});

describe('the UI language', () => {
  it("follows the user's first Chinese or English preference, English otherwise", () => {
    expect(detectLocale(['zh-CN', 'en-US'])).toBe('zh');
    expect(detectLocale(['zh-Hant-TW'])).toBe('zh');
    expect(detectLocale(['fr-FR', 'en-GB', 'zh'])).toBe('en');
    expect(detectLocale(['de-DE'])).toBe('en');
    expect(detectLocale([])).toBe('en');
  });
});
