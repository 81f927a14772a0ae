// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageView, SessionDetail } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { stamp } from '../format';
import { createWorkstationStore, type WorkstationStore } from '../stores/workstation';
import { LocaleProvider } from '../LocaleProvider';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
// jsdom does no layout, so it has no scrolling; the conversation scrolls to its newest message.
Element.prototype.scrollTo ??= () => undefined;

// Right-to-left customer and agent text (D15) and a device clock set to 2001 (C12).
const NAME = 'ليلى حسن';
const CUSTOMER_TEXT = 'שלום, ההזמנה שלי לא הגיעה';
const AGENT_TEXT = 'مرحبا، سأتحقق من طلبك';
const PENDING_TEXT = 'לבדוק עכשיו';
const PREVIEW = 'הזמנה 88990011 לא הגיעה';
const DEVICE_CLOCK = '2001-01-01T00:00:00.000Z';

const now = new Date();
const todayAt = (h: number) => new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, 7).toISOString();
const lastYear = new Date(now.getFullYear() - 1, 2, 14, 9, 30).toISOString();

const message = (seq: number, over: Partial<MessageView>): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'WB1',
    conversationId: 'c-1',
    seq,
    direction: 'in',
    channel: 'WB',
    authorId: null,
    sentAt: DEVICE_CLOCK,
    receivedAt: todayAt(10),
    kind: 'text',
    body: { text: CUSTOMER_TEXT },
    ...over,
  }) as MessageView;

const detail: SessionDetail = {
  id: 'WB1',
  conversationId: 'c-1',
  customerId: 'cust-1',
  customerName: NAME,
  channel: 'WB',
  status: 'active',
  skillGroup: 'general',
  assignedAgentId: 'u1',
  offeredAgentId: null,
  tier: 'assisted',
  priority: 50,
  lastMessagePreview: PREVIEW,
  lastMessageAt: todayAt(10),
  createdAt: todayAt(9),
  waitingSince: todayAt(9),
  wrapUpCode: null,
  closedAt: null,
  routing: null,
  messages: [
    message(1, { receivedAt: lastYear, sentAt: DEVICE_CLOCK }),
    message(2, { receivedAt: todayAt(10), sentAt: DEVICE_CLOCK }),
    message(3, { direction: 'out', authorId: 'u1', body: { text: AGENT_TEXT }, sentAt: todayAt(11), receivedAt: todayAt(11) }),
  ],
  context: { customer: { id: 'cust-1', name: NAME, channels: ['WB'] }, previousSessions: [] },
} as unknown as SessionDetail;

function workstation(): WorkstationStore {
  const bridge = offlineBridge();
  const store = createWorkstationStore({
    api: {
      login: () => Promise.reject(new Error('not used')),
      logout: async () => undefined,
    },
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
    user: { id: 'u1', username: 'agent1', displayName: 'وكيل واحد', roles: ['agent'], skillGroups: ['general'], expert: false },
    queue: { WB1: detail },
    queueFilter: 'mine',
    openSessionId: 'WB1',
    detail,
    pending: [{ clientMessageId: 'p-1', text: PENDING_TEXT, error: null }],
  });
  return store;
}

describe('workstation user text', () => {
  let root: Root;
  let host: HTMLDivElement;
  beforeEach(async () => {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    const store = workstation();
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

  /** Every element whose own text contains `text`. */
  const holders = (text: string) =>
    [...host.querySelectorAll<HTMLElement>('*')].filter((el) =>
      [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').includes(text)),
    );

  it.each([
    ['the customer name in the queue, the header and the context panel', NAME, 3],
    ['the queue preview', PREVIEW, 1],
    ["the customer's bubbles", CUSTOMER_TEXT, 2],
    ["the agent's bubble", AGENT_TEXT, 1],
    ['the pending bubble', PENDING_TEXT, 1],
    ["the agent's own name", 'وكيل واحد', 1],
  ])('lays out %s with dir="auto"', (_label, text, count) => {
    const found = holders(text);
    expect(found).toHaveLength(count);
    for (const el of found) expect(el.getAttribute('dir'), el.outerHTML).toBe('auto');
  });

  it('gives the reply box dir="auto"', () => {
    expect(host.querySelector('textarea[aria-label="Reply"]')?.getAttribute('dir')).toBe('auto');
  });

  it('keeps Send disabled while the reply has no visible character', async () => {
    const box = host.querySelector<HTMLTextAreaElement>('textarea[aria-label="Reply"]')!;
    const send = host.querySelector<HTMLButtonElement>('.composer button[type="submit"]')!;
    const type = async (value: string) => {
      const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      await act(async () => {
        setter.call(box, value);
        box.dispatchEvent(new Event('input', { bubbles: true }));
      });
    };
    await type('\u200B\u3164');
    expect(send.disabled).toBe(true);
    await type('\u200Bok');
    expect(send.disabled).toBe(false);
  });

  it("shows each message's server receivedAt, never the device's sentAt, with the date for other days", () => {
    const times = [...host.querySelectorAll<HTMLTimeElement>('[data-testid="messages"] time')];
    expect(times.map((t) => t.dateTime)).toEqual([lastYear, todayAt(10), todayAt(11)]);
    expect(host.textContent).not.toContain('2001');
    expect(times[0]!.textContent).toBe(stamp(lastYear, Date.now(), 'en'));
    expect(times[0]!.textContent).toContain(String(new Date(lastYear).getFullYear()));
    expect(times[1]!.textContent).toBe(new Date(todayAt(10)).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' }));
  });
});
