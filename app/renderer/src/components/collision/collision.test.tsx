// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionViewers, TakeoverView } from '../../../../../common/api/collision';
import type { SessionDetail } from '../../../../../common/api/sessions';
import { offlineBridge } from '../../test-support/bridge';
import type { OfferView } from '../../../../../common/socket/agent-events';
import type { AgentConnection } from '../../api/agent-socket';
import { App } from '../../App';
import { StoreContext } from '../../context';
import type { Locale } from '../../locale';
import { LocaleProvider } from '../../LocaleProvider';
import { createWorkstationStore } from '../../stores/workstation';
import { initialCollision, othersViewing, withTakeover, withViewers } from './collision-store';
import { SHORTCUTS, shortcutFor } from '../shortcuts/shortcuts';
import { en as shortcutStrings } from '../../locales/shortcuts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const me = { id: 'u2', username: 'agent2', displayName: 'Agent Two', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const detail = (over: Partial<SessionDetail> = {}): SessionDetail =>
  ({
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
    ...over,
  }) as SessionDetail;
const viewers: SessionViewers = {
  sessionId: 'WB1',
  assignedAgentId: 'u1',
  viewers: [
    { id: 'u1', name: 'Agent One', via: 'workstation', assigned: true },
    { id: 'u2', name: 'Agent Two', via: 'workstation', assigned: false },
  ],
};
const takeover = (over: Partial<TakeoverView> = {}): TakeoverView => ({
  id: '01900000-0000-7000-8000-0000000000bb',
  sessionId: 'WB1',
  requester: { id: 'u2', name: 'Agent Two' },
  holder: { id: 'u1', name: 'Agent One' },
  status: 'pending',
  expiresAt: new Date(Date.now() + 30_000).toISOString(),
  decidedAt: null,
  transferId: null,
  error: null,
  ...over,
});

describe('collision store', () => {
  it('keeps the newest viewer list, my request while pending, requests asked of me, and the outcome', () => {
    let s = withViewers(initialCollision(), viewers);
    expect(othersViewing(s.viewers['WB1'], 'u2').map((v) => v.name)).toEqual(['Agent One']);
    s = withTakeover(s, takeover(), 'u2');
    expect(s.mine['WB1']?.status).toBe('pending');
    expect(s.asked).toEqual([]);
    expect(withTakeover(initialCollision(), takeover(), 'u1').asked).toHaveLength(1);
    s = withTakeover(s, takeover({ status: 'declined' }), 'u2');
    expect(s.mine['WB1']).toBeUndefined();
    expect(s.outcome?.status).toBe('declined');
  });
});

describe('shortcut table', () => {
  const key = (k: string, target: EventTarget | null, mods: Partial<KeyboardEvent> = {}) =>
    shortcutFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, defaultPrevented: false, target, ...mods });
  it('gives every shortcut a label in both languages and distinct keys', () => {
    for (const s of SHORTCUTS) expect(shortcutStrings.actions[s.action]).toBeTruthy();
    expect(new Set(SHORTCUTS.map((s) => s.keys.join('+'))).size).toBe(SHORTCUTS.length);
  });
  it('fires global shortcuts outside fields only, and the composer ones in the reply box only', () => {
    const body = document.body;
    const input = document.createElement('input');
    const composer = document.createElement('textarea');
    composer.dataset['testid'] = 'composer';
    expect(key('?', body, { shiftKey: true })?.action).toBe('help');
    expect(key('a', body)?.action).toBe('acceptOffer');
    expect(key('a', input)).toBeNull();
    expect(key('a', composer)).toBeNull();
    expect(key('a', body, { ctrlKey: true })).toBeNull();
    expect(key('Enter', composer, { ctrlKey: true })?.action).toBe('send');
    expect(key('Enter', input, { ctrlKey: true })).toBeNull();
    expect(key('Enter', body, { ctrlKey: true })).toBeNull();
    // A key another handler already took (the canned picker's Enter) is no shortcut.
    expect(
      shortcutFor({
        key: 'Enter',
        ctrlKey: true,
        metaKey: false,
        altKey: false,
        shiftKey: false,
        defaultPrevented: true,
        target: composer,
      }),
    ).toBeNull();
  });
});

describe('collision control and shortcuts in the workstation', () => {
  let root: Root;
  let host: HTMLDivElement;
  let requests: { event: string; payload: Record<string, unknown> }[];
  let handlers: Map<string, ((payload: unknown) => void)[]>;
  let store: ReturnType<typeof createWorkstationStore>;

  async function render(options: {
    open?: SessionDetail;
    locale?: Locale;
    answers?: Record<string, unknown>;
    offers?: Record<string, OfferView>;
  }) {
    const bridge = offlineBridge();
    requests = [];
    handlers = new Map();
    const request = async (event: string, payload: Record<string, unknown>): Promise<unknown> => {
      requests.push({ event, payload });
      if (options.answers && event in options.answers) return options.answers[event];
      return new Promise(() => undefined);
    };
    const socket = {
      on: (event: string, fn: (p: unknown) => void) => void handlers.set(event, [...(handlers.get(event) ?? []), fn]),
      off: (event: string, fn: (p: unknown) => void) =>
        void handlers.set(
          event,
          (handlers.get(event) ?? []).filter((f) => f !== fn),
        ),
    };
    const connection = { socket, request, close: () => undefined } as unknown as AgentConnection;
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    const open = options.open ?? detail();
    store.setState({
      token: 't',
      user: me,
      connection,
      queue: { [open.id]: open },
      offers: options.offers ?? {},
      queueFilter: 'waiting',
      openSessionId: open.id,
      detail: open,
    });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root.render(
        <LocaleProvider locale={options.locale ?? 'en'}>
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

  const $ = (testId: string) => host.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  const push = async (event: string, payload: unknown) => act(async () => handlers.get(event)?.forEach((fn) => fn(payload)));
  const press = async (key: string, target: EventTarget = document.body, mods: KeyboardEventInit = {}) =>
    act(async () => void target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...mods })));

  it('says it views the open conversation, shows who else views it, and asks the holder to take over', async () => {
    await render({ answers: { 'session:view': viewers, 'takeover:request': takeover() } });
    expect(requests.find((r) => r.event === 'session:view')?.payload).toEqual({ sessionId: 'WB1' });
    expect($('viewers')?.textContent).toContain('Also viewing:');
    expect([...host.querySelectorAll('[data-testid="viewer"]')].map((v) => v.textContent)).toEqual(['AOAgent One · handling']);
    expect($('readonly-composer')?.textContent).toContain('Agent One is handling this conversation');
    expect($('composer')).toBeNull();
    await act(async () => $('ask-takeover')!.click());
    expect(requests.find((r) => r.event === 'takeover:request')?.payload).toEqual({ sessionId: 'WB1' });
    expect($('takeover-asking')?.textContent).toContain('Asking Agent One');
    // Declined: the requester is told and may ask again.
    await push('takeover:updated', takeover({ status: 'declined' }));
    expect($('takeover-outcome')?.textContent).toContain('Agent One declined');
    expect($('ask-takeover')).not.toBeNull();
    // A viewer who leaves is gone from the bar at once.
    await push('session:viewers', { ...viewers, viewers: [viewers.viewers[1]] });
    expect($('viewers')).toBeNull();
  });

  it('sends one take-over request for a double click: the button waits for the answer', async () => {
    // No answer yet (the request stays in flight): a second click must not ask again, or the server
    // answers TAKEOVER_PENDING and the asker sees "already asked for" under their own pending request.
    await render({ answers: { 'session:view': viewers } });
    await act(async () => {
      $('ask-takeover')!.click();
      $('ask-takeover')!.click();
    });
    expect(requests.filter((r) => r.event === 'takeover:request')).toHaveLength(1);
    expect(($('ask-takeover') as HTMLButtonElement).disabled).toBe(true);
    expect($('takeover-error')).toBeNull();
  });

  it('keeps Ask to take over disabled, saying why, while I am not available (the hand-over needs me available)', async () => {
    await render({ answers: { 'session:view': viewers } });
    // Presence as the connection store keeps it (hello / presence:changed / the presence menu).
    await act(async () => store.setState({ presence: 'busy' }));
    expect(($('ask-takeover') as HTMLButtonElement).disabled).toBe(true);
    expect($('takeover-needs-available')?.textContent).toBe('Set yourself Available to take a chat over.');
    await act(async () => $('ask-takeover')!.click());
    expect(requests.filter((r) => r.event === 'takeover:request')).toHaveLength(0);
    await act(async () => store.setState({ presence: 'available' }));
    expect(($('ask-takeover') as HTMLButtonElement).disabled).toBe(false);
    expect($('takeover-needs-available')).toBeNull();
  });

  it('lists colleagues’ chats of my groups in the Team tab (zh), opens one read-only, and moves it to my chats once handed over', async () => {
    const waiting = detail({ id: 'WB9', conversationId: 'c-9', status: 'queued', assignedAgentId: null, lastMessagePreview: 'hello' });
    await render({
      open: waiting,
      locale: 'zh',
      answers: { 'takeover:list': [{ summary: detail(), holder: { id: 'u1', name: 'Agent One' } }], 'session:open': detail() },
    });
    expect($('team-list')).toBeNull();
    await act(async () => $('tab-team')!.click());
    expect(requests.find((r) => r.event === 'takeover:list')?.payload).toEqual({});
    const item = host.querySelector<HTMLElement>('[data-testid="team-item"]');
    expect(item?.dataset['sessionId']).toBe('WB1');
    expect(item?.querySelector('[data-testid="team-holder"]')?.textContent).toBe('Agent One 处理中');
    expect($('tab-team')?.textContent).toBe('同事');
    // Opened from the list: read, viewed, read-only with the holder's name (from the list until the viewers arrive).
    await act(async () => item!.querySelector<HTMLElement>('.qitem__main')!.click());
    expect(requests.filter((r) => r.event === 'session:open').at(-1)?.payload).toEqual({ sessionId: 'WB1' });
    expect(requests.filter((r) => r.event === 'session:view').at(-1)?.payload).toEqual({ sessionId: 'WB1' });
    expect($('readonly-composer')?.textContent).toContain('Agent One 正在处理此会话');
    expect($('ask-takeover')?.textContent).toBe('申请接管');
    // Handed over: read again (writable) among my chats, and gone from the team list.
    const opens = requests.filter((r) => r.event === 'session:open').length;
    await push('takeover:updated', takeover({ status: 'accepted', requester: { id: 'u2', name: 'Agent Two' } }));
    expect(store.getState().queueFilter).toBe('mine');
    expect(requests.filter((r) => r.event === 'session:open').length).toBe(opens + 1);
    expect($('takeover-outcome')?.textContent).toContain('Agent One 已将会话移交给你');
  });

  it('keeps the Team tab live from the server’s pushes, and reads it again after a reconnect', async () => {
    const waiting = detail({ id: 'WB9', conversationId: 'c-9', status: 'queued', assignedAgentId: null, lastMessagePreview: 'hello' });
    const older = new Date(Date.now() - 60_000).toISOString();
    await render({
      open: waiting,
      locale: 'zh',
      answers: { 'takeover:list': [{ summary: detail({ lastMessageAt: older }), holder: { id: 'u1', name: 'Agent One' } }] },
    });
    const rows = () => [...host.querySelectorAll<HTMLElement>('[data-testid="team-item"]')].map((r) => r.dataset['sessionId']);
    const holders = () => [...host.querySelectorAll('[data-testid="team-holder"]')].map((h) => h.textContent);
    // A push before the list was read is left to the read.
    await push('takeover:held', { sessionId: 'WB7', held: { summary: detail({ id: 'WB7' }), holder: { id: 'u3', name: 'Agent Three' } } });
    await act(async () => $('tab-team')!.click());
    expect(rows()).toEqual(['WB1']);
    expect(requests.filter((r) => r.event === 'takeover:list')).toHaveLength(1);
    // A colleague takes a chat: it comes first (newest activity), named in Chinese (a placeholder name too).
    await push('takeover:held', {
      sessionId: 'WB2',
      held: { summary: detail({ id: 'WB2', customerName: 'Web visitor' }), holder: { id: 'u3', name: 'Agent Three' } },
    });
    expect(rows()).toEqual(['WB2', 'WB1']);
    expect(holders()).toEqual(['Agent Three 处理中', 'Agent One 处理中']);
    expect(host.querySelector('[data-session-id="WB2"] .qitem__name')?.textContent).not.toBe('Web visitor');
    // WB1 changes hands (replaced in place, no duplicate), then WB2 closes (dropped).
    await push('takeover:held', {
      sessionId: 'WB1',
      held: { summary: detail({ lastMessageAt: older }), holder: { id: 'u3', name: 'Agent Three' } },
    });
    expect(rows()).toEqual(['WB2', 'WB1']);
    expect(holders()).toEqual(['Agent Three 处理中', 'Agent Three 处理中']);
    await push('takeover:held', { sessionId: 'WB2', held: null });
    expect(rows()).toEqual(['WB1']);
    // No timer reads it: only a reconnect's greeting does.
    expect(requests.filter((r) => r.event === 'takeover:list')).toHaveLength(1);
    await push('hello', {});
    expect(requests.filter((r) => r.event === 'takeover:list')).toHaveLength(2);
  });

  it('shows a lead supervising a colleague’s chat the same "Ask to take over"', async () => {
    const lead = { ...me, id: 'u9', username: 'lead', displayName: 'Team Lead', roles: ['lead' as const] };
    await render({ answers: { 'supervise:agents': [], 'takeover:request': takeover({ requester: { id: 'u9', name: 'Team Lead' } }) } });
    await act(async () => store.setState({ user: lead, supervisedId: 'WB1', supervised: detail() }));
    // The supervision page is loaded lazily.
    for (let i = 0; i < 100 && !$('supervision-takeover'); i++) await act(async () => new Promise((r) => setTimeout(r, 20)));
    expect($('supervision-takeover')).not.toBeNull();
    await act(async () => $('supervision-takeover')!.querySelector<HTMLElement>('[data-testid="ask-takeover"]')!.click());
    expect(requests.find((r) => r.event === 'takeover:request')?.payload).toEqual({ sessionId: 'WB1' });
    expect($('takeover-asking')?.textContent).toContain('Asking Agent One');
  });

  it('prompts the holder to hand over, in Chinese, and answers accept', async () => {
    await render({
      open: detail({ assignedAgentId: 'u2' }),
      locale: 'zh',
      answers: { 'takeover:answer': takeover({ status: 'accepted' }) },
    });
    await push('takeover:requested', takeover({ requester: { id: 'u3', name: '王芳' }, holder: { id: 'u2', name: 'Agent Two' } }));
    expect($('takeover-prompt')?.textContent).toContain('王芳 申请接管你与该客户的会话');
    await act(async () => $('takeover-accept')!.click());
    expect(requests.find((r) => r.event === 'takeover:answer')?.payload).toEqual({ takeoverId: takeover().id, accept: true });
    expect($('takeover-prompt')).toBeNull();
  });

  it('counts the prompt down from the time it arrives, not from when the desk was opened', async () => {
    await render({ open: detail({ assignedAgentId: 'u2' }) });
    // Ten minutes of work later a colleague asks: 30 s to answer, never "630 s".
    const later = Date.now() + 600_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      await push(
        'takeover:requested',
        takeover({
          requester: { id: 'u3', name: 'Wang Fang' },
          holder: { id: 'u2', name: 'Agent Two' },
          expiresAt: new Date(later + 30_000).toISOString(),
        }),
      );
      expect($('takeover-prompt')?.textContent).toContain('Answer within 30 s');
    } finally {
      clock.mockRestore();
    }
  });

  it('shows presence with load against capacity, live', async () => {
    await render({});
    expect($('presence-load')).toBeNull();
    await push('agent:load', { presence: 'available', activeChats: 2, capacity: 4 });
    expect($('presence-load')?.textContent).toBe('Available · 2/4 chats');
    await push('agent:load', { presence: 'available', activeChats: 4, capacity: 4 });
    expect($('presence-load')?.className).toContain('presence-load--full');
  });

  it('opens the ? overlay from the one table, closes it with Esc, and accepts an offer with A but not while typing', async () => {
    const offer: OfferView = { sessionId: 'WB1', expiresAt: at, summary: detail({ status: 'offered', offeredAgentId: 'u2' }) };
    await render({ open: detail({ status: 'offered', assignedAgentId: null, offeredAgentId: 'u2' }), offers: { WB1: offer } });
    await press('?', document.body, { shiftKey: true });
    const rows = host.querySelectorAll('[data-testid^="shortcut-"]');
    expect(rows).toHaveLength(SHORTCUTS.length);
    expect($('shortcut-acceptOffer')?.textContent).toContain('Accept the offered contact');
    await press('Escape');
    expect($('shortcuts-overlay')).toBeNull();
    const field = document.createElement('input');
    document.body.append(field);
    await press('a', field);
    expect(requests.some((r) => r.event === 'offer:accept')).toBe(false);
    field.remove();
    await press('a');
    expect(requests.find((r) => r.event === 'offer:accept')?.payload).toEqual({ sessionId: 'WB1' });
  });
});
