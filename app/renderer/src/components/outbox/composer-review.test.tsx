// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageView, SessionDetail } from '../../../../../common/api/sessions';
import { NOTE_EVENT_NAME } from '../../../../../common/api/supervision';
import { MAX_TEXT_LENGTH } from '../../../../../common/message/envelope';
import type { DesktopBridge, LocalStoreBridge } from '../../../../../common/ipc/desktop-bridge';
import { createBrowserLocalStore } from '../../bridge/browser-local';
import type { AgentConnection } from '../../api/agent-socket';
import { App } from '../../App';
import { StoreContext } from '../../context';
import type { Locale } from '../../locale';
import { LocaleProvider } from '../../LocaleProvider';
import { createWorkstationStore } from '../../stores/workstation';
import { offlineBridge } from '../../test-support/bridge';

/**
 * Review of issue 15, the reply box of the whole workstation (App) in jsdom: a refused reply says why
 * in the UI's language (not the desk's key for it), and the Enter that confirms a pinyin candidate
 * does not send.
 */
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const me = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const detail = {
  id: 'WB1',
  conversationId: 'c-1',
  customerId: 'cust-1',
  customerName: 'Li Lei',
  channel: 'WB',
  status: 'active',
  skillGroup: 'general',
  assignedAgentId: 'u1',
  offeredAgentId: null,
  tier: null,
  priority: null,
  lastMessagePreview: 'Where is my parcel?',
  lastMessageAt: at,
  createdAt: at,
  waitingSince: at,
  wrapUpCode: null,
  closedAt: null,
  routing: null,
  messages: [],
  hasOlderMessages: false,
  context: { customer: { id: 'cust-1', name: 'Li Lei', channels: ['WB'] }, previousSessions: [] },
} as unknown as SessionDetail;

describe('the reply box (issue 15 review)', () => {
  let root: Root;
  let host: HTMLDivElement;
  let sent: string[];
  let notes: string[];
  let store: ReturnType<typeof createWorkstationStore>;

  async function render(locale: Locale, local?: LocalStoreBridge) {
    const bridge: DesktopBridge = { ...offlineBridge(), ...(local ? { local } : {}) };
    sent = [];
    notes = [];
    const request = async (event: string, payload: Record<string, unknown>): Promise<unknown> => {
      if (event === 'message:send') sent.push(payload.text as string);
      if (event === 'note:add') notes.push(payload.text as string);
      return new Promise(() => undefined);
    };
    const socket = { on: () => undefined, off: () => undefined };
    const connection = { socket, request, close: () => undefined } as unknown as AgentConnection;
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({ token: 't', user: me, connection, queue: { WB1: detail }, queueFilter: 'mine', openSessionId: 'WB1', detail });
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

  it('says why a reply was refused in the UI language, never as the desk key for it', async () => {
    await render('zh');
    await act(async () =>
      store.setState({
        pending: [
          {
            clientMessageId: 'k1',
            sessionId: 'WB1',
            text: 'hello',
            error: 'errors:codes.VALIDATION_FAILED',
            status: 'refused',
            code: 'VALIDATION_FAILED',
          },
        ],
      }),
    );
    const bubble = host.querySelector<HTMLElement>('[data-testid="pending-reply"]');
    expect(bubble?.dataset['state']).toBe('refused');
    expect(bubble?.textContent).toContain('未送达：请求无效。');
    expect(bubble?.textContent).not.toContain('desk:');
  });

  it('does not send on the Enter that confirms an input method candidate; a plain Enter sends', async () => {
    await render('zh');
    const box = host.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    await act(async () => {
      setter.call(box, 'ni hao');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const enter = (init: KeyboardEventInit) =>
      act(async () => void box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...init })));
    await enter({ isComposing: true });
    await enter({ keyCode: 229 });
    expect(sent).toEqual([]);
    expect(box.value).toBe('ni hao');
    await enter({});
    expect(sent).toEqual(['ni hao']);
  });

  it('restores a draft typed as an internal note as a note: its Enter adds a note, never a reply to the customer', async () => {
    const kept = new Map<string, string>();
    const local = createBrowserLocalStore({
      getItem: (k) => kept.get(k) ?? null,
      setItem: (k, v) => void kept.set(k, v),
      removeItem: (k) => void kept.delete(k),
    });
    await local.open({ userId: 'u1' });
    // What the agent typed in note mode before the reload.
    await local.saveDraft({ conversationId: 'c-1', customerId: 'cust-1', text: 'refund already promised by phone', note: true });
    await render('en', local);
    const box = host.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
    await act(async () => {
      for (let i = 0; i < 20 && box.value === ''; i++) await new Promise((r) => setTimeout(r, 10));
    });
    expect(box.value).toBe('refund already promised by phone');
    expect(host.querySelector('[data-testid="mode-note"]')?.getAttribute('aria-pressed')).toBe('true');
    await act(async () => void box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })));
    expect(sent).toEqual([]);
    expect(notes).toEqual(['refund already promised by phone']);
  });

  it('says before sending that a pasted hidden direction control must go, and does not send it', async () => {
    await render('zh');
    const box = host.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    await act(async () => {
      setter.call(box, 'refund \u202Edne\u202C ok');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(host.querySelector('[data-testid="composer-bidi"]')?.textContent).toContain('文字方向控制字符');
    expect(host.querySelector<HTMLButtonElement>('[data-testid="composer-submit"]')?.disabled).toBe(true);
    await act(async () => void box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })));
    expect(sent).toEqual([]);
    await act(async () => {
      setter.call(box, 'refund done ok');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(host.querySelector('[data-testid="composer-bidi"]')).toBeNull();
  });

  it('says when the reply box is full, so a long paste cut at the limit is not lost unseen', async () => {
    // The textarea keeps at most MAX_TEXT_LENGTH characters: the browser drops the rest of a longer
    // paste without a word. The agent must be told (in the UI language, the limit in its digits).
    await render('zh');
    const box = host.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
    expect(box.maxLength).toBe(MAX_TEXT_LENGTH);
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    const type = async (text: string) =>
      act(async () => {
        setter.call(box, text);
        box.dispatchEvent(new Event('input', { bubbles: true }));
      });
    await type('长'.repeat(MAX_TEXT_LENGTH - 1));
    expect(host.querySelector('[data-testid="composer-limit"]')).toBeNull();
    await type('长'.repeat(MAX_TEXT_LENGTH));
    const hint = host.querySelector('[data-testid="composer-limit"]');
    expect(hint?.textContent).toContain('8,000');
    expect(hint?.textContent).toContain('字');
    // Still sendable: the limit is the server's too.
    expect(host.querySelector<HTMLButtonElement>('[data-testid="composer-submit"]')?.disabled).toBe(false);
    await type('short again');
    expect(host.querySelector('[data-testid="composer-limit"]')).toBeNull();
  });

  it("dates an internal note and the local history preview in the UI's language, not the browser's", async () => {
    await render('zh');
    const earlier = '2026-03-04T14:05:00.000Z';
    const note = {
      id: 'n1',
      sessionId: 'WB1',
      conversationId: 'c-1',
      seq: 2,
      direction: 'out',
      channel: 'WB',
      author: 'agent',
      authorId: 'u1',
      sentAt: earlier,
      receivedAt: earlier,
      kind: 'event',
      body: { name: NOTE_EVENT_NAME, data: { text: '内部', author: { id: 'u1', name: 'Agent One' }, whisper: false, to: null } },
    } as unknown as MessageView;
    await act(async () => store.setState({ detail: { ...detail, messages: [note] } }));
    const time = host.querySelector<HTMLElement>('[data-testid="internal-note"] time');
    // The browser here speaks English ("Mar 4"); the desk is in Chinese.
    expect(time?.textContent).toContain('3月4日');
    expect(time?.title).toContain('2026');
    expect(time?.title).not.toMatch(/[AP]M|Mar/);
    const line = { ...note, id: 'm1', seq: 1, kind: 'text', direction: 'in', body: { text: 'hello' } } as unknown as MessageView;
    await act(async () => store.setState({ localPreview: { sessionId: 'WB1', messages: [line] } }));
    expect(host.querySelector('[data-testid="local-history"] .bubble__meta')?.textContent).toContain('3月4日');
  });
});
