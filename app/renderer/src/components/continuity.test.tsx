// @vitest-environment jsdom
import { EventEmitter } from 'node:events';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CustomerIdentitiesView, CustomerMergeView } from '../../../../common/api/customers';
import type { MessageView, SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { CustomersApiContext, createCustomersApi } from '../api/customers';
import { App } from '../App';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { visibleQueue } from '../stores/queue';
import { createWorkstationStore } from '../stores/workstation';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const me = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const WX = 'WX1764400000000' + '11111';
const AP = 'AP1764400100000' + '22222';
const CUST = '01900000-0000-7000-8000-000000000001';
const OTHER = '01900000-0000-7000-8000-000000000002';
const MERGE = '01900000-0000-7000-8000-0000000000a1';

const msg = (seq: number, over: Partial<MessageView>): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: WX,
    conversationId: 'c-1',
    seq,
    direction: 'in',
    channel: 'WX',
    authorId: null,
    author: 'customer',
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: `message ${seq}` },
    ...over,
  }) as MessageView;
const detail = (over: Partial<SessionDetail> = {}): SessionDetail =>
  ({
    id: WX,
    conversationId: 'c-1',
    customerId: CUST,
    customerName: 'Wang Fang',
    channel: 'WX',
    status: 'active',
    skillGroup: 'general',
    assignedAgentId: 'u1',
    offeredAgentId: null,
    tier: 'assisted',
    priority: 40,
    lastMessagePreview: 'message 1',
    lastMessageAt: at,
    createdAt: at,
    waitingSince: at,
    wrapUpCode: null,
    closedAt: null,
    routing: null,
    messages: [msg(1, {})],
    hasOlderMessages: false,
    context: { customer: { id: CUST, name: 'Wang Fang', channels: ['WX'], groupId: CUST }, previousSessions: [] },
    ...over,
  }) as SessionDetail;
const row = (d: SessionDetail): SessionSummary => {
  const { messages: _m, hasOlderMessages: _h, context: _c, routing: _r, wrapUpCode: _w, closedAt: _cl, movedTo: _mt, ...summary } = d;
  return summary;
};
const identities = (over: Partial<CustomerIdentitiesView> = {}): CustomerIdentitiesView => ({
  customerId: CUST,
  groupId: CUST,
  name: 'Wang Fang',
  members: [{ id: CUST, name: 'Wang Fang', channels: ['WX'] }],
  identities: [{ customerId: CUST, channel: 'WX', externalId: 'oWang****', createdAt: at }],
  links: [],
  merges: [],
  ...over,
});
const mergeView = (over: Partial<CustomerMergeView> = {}): CustomerMergeView => ({
  id: MERGE,
  survivorId: CUST,
  mergedId: OTHER,
  by: 'u1',
  reason: 'agent',
  at,
  undoneAt: null,
  undoneBy: null,
  ...over,
});

/** A fake of the customer routes: answers by "METHOD path", records every call. */
function fakeHttp(answers: Record<string, (body: unknown) => { status: number; body: unknown }>) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET';
    const body = init?.body ? (JSON.parse(init.body as string) as unknown) : undefined;
    calls.push({ method, url, body });
    const path = url.split('?')[0]!;
    const answer = answers[`${method} ${url}`] ?? answers[`${method} ${path}`];
    if (!answer) return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found.' } }), { status: 404 });
    const { status, body: out } = answer(body);
    return new Response(JSON.stringify(out), { status, headers: { 'content-type': 'application/json' } });
  };
  return { calls, api: createCustomersApi({ fetch }) };
}

describe('one person across channels in the workstation', () => {
  let root: Root;
  let host: HTMLDivElement;
  let store: ReturnType<typeof createWorkstationStore>;
  let socket: EventEmitter;
  let requests: { event: string; payload: Record<string, unknown> }[];

  async function render(options: {
    open?: SessionDetail;
    locale?: Locale;
    sessions?: Record<string, SessionDetail>;
    http?: ReturnType<typeof fakeHttp>;
  }) {
    const bridge = offlineBridge();
    requests = [];
    const request = async (event: string, payload: Record<string, unknown>): Promise<unknown> => {
      requests.push({ event, payload });
      if (event === 'session:open') {
        const found = options.sessions?.[payload.sessionId as string];
        if (found) return found;
      }
      return new Promise(() => undefined);
    };
    socket = new EventEmitter();
    const connection = { socket, request, close: () => undefined } as unknown as AgentConnection;
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.getState().goOnline('t');
    const open = options.open ?? detail();
    store.setState({ token: 't', user: me, queue: { [open.id]: row(open) }, queueFilter: 'mine', openSessionId: open.id, detail: open });
    const http = options.http ?? fakeHttp({ [`GET /api/v1/customers/${CUST}/identities`]: () => ({ status: 200, body: identities() }) });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root.render(
        <LocaleProvider locale={options.locale ?? 'en'}>
          <CustomersApiContext.Provider value={http.api}>
            <StoreContext.Provider value={store}>
              <App />
            </StoreContext.Provider>
          </CustomersApiContext.Provider>
        </LocaleProvider>,
      );
    });
    return http;
  }
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const $ = (testId: string) => host.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  const $$ = (testId: string) => [...host.querySelectorAll<HTMLElement>(`[data-testid="${testId}"]`)];
  const click = async (el: Element | null) => act(async () => (el as HTMLElement).click());
  const change = async (el: HTMLSelectElement | HTMLTextAreaElement | HTMLInputElement | null, value: string) =>
    act(async () => {
      const proto =
        el instanceof HTMLSelectElement ? HTMLSelectElement : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement : HTMLInputElement;
      Object.getOwnPropertyDescriptor(proto.prototype, 'value')!.set!.call(el, value);
      el!.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
    });
  const messageBadges = () =>
    [...host.querySelectorAll('[data-testid="messages"] .bubble [data-testid="channel-badge"]')].map((b) => b.textContent);

  it('shows no per-message badge or divider while the conversation is on one channel', async () => {
    await render({ open: detail({ messages: [msg(1, {}), msg(2, { direction: 'out', author: 'agent', authorId: 'u1' })] }) });
    expect(messageBadges()).toEqual([]);
    expect($('channel-switch')).toBeNull();
    // The header still names the session's channel.
    expect(host.querySelector('.conversation__head [data-testid="channel-badge"]')?.textContent).toBe('WeChat');
  });

  it('badges every message and marks where the customer switched channel, in English and Chinese', async () => {
    const moved = detail({
      id: AP,
      channel: 'AP',
      movedFrom: WX,
      messages: [
        msg(1, {}),
        msg(2, { direction: 'out', author: 'agent', authorId: 'u1' }),
        msg(3, { channel: 'AP', sessionId: AP }),
        msg(4, { channel: 'AP', sessionId: AP, direction: 'out', author: 'agent', authorId: 'u1' }),
      ],
    });
    await render({ open: moved });
    expect(messageBadges()).toEqual(['WeChat', 'WeChat', 'App', 'App']);
    expect($$('channel-switch')).toHaveLength(1);
    expect($('channel-switch')?.textContent).toContain('Customer continued on the App — from WeChat');
    // The divider sits right before the first message on the new channel.
    expect($('channel-switch')?.nextElementSibling?.textContent).toContain('message 3');
    act(() => root.unmount());
    host.remove();
    await render({ open: moved, locale: 'zh' });
    expect(messageBadges()).toEqual(['微信', '微信', 'App', 'App']);
    expect($('channel-switch')?.textContent).toContain('客户转到 App 继续沟通（此前在微信）');
  });

  it('follows the customer to the new session, keeps the typed reply, and shows one chat in the queue', async () => {
    const next = detail({
      id: AP,
      channel: 'AP',
      movedFrom: WX,
      messages: [msg(1, {}), msg(2, { channel: 'AP', sessionId: AP })],
      context: { customer: { id: CUST, name: 'Wang Fang', channels: ['AP', 'WX'], groupId: CUST }, previousSessions: [] },
    });
    await render({ sessions: { [AP]: next } });
    await change(host.querySelector<HTMLTextAreaElement>('textarea[aria-label="Reply"]'), 'Your parcel ships today');
    // The server closes the WeChat session and pushes the App one that carries the conversation on.
    await act(async () => {
      socket.emit('queue:remove', { sessionId: WX });
      socket.emit('queue:upsert', row(next));
    });
    expect(requests.filter((r) => r.event === 'session:open').map((r) => r.payload.sessionId)).toEqual([AP]);
    expect(store.getState().openSessionId).toBe(AP);
    expect(store.getState().detail?.id).toBe(AP);
    expect(host.querySelector<HTMLTextAreaElement>('textarea[aria-label="Reply"]')?.value).toBe('Your parcel ships today');
    expect($('followed-notice')?.textContent).toBe('The customer went on from WeChat to the App; this chat followed them.');
    expect(visibleQueue(store.getState(), 'u1').map((s) => s.id)).toEqual([AP]);
    expect($$('queue-item')).toHaveLength(1);
    // Opening another chat by hand drops the notice.
    await act(async () => store.getState().openSession(AP));
    expect($('followed-notice')).toBeNull();
  });

  it('keeps one row even when the closed session is pushed after the new one', async () => {
    await render({ sessions: {} });
    // A colleague's view: the open session is someone else's, the new row arrives first.
    await act(async () => {
      store.setState({ openSessionId: null, detail: null });
      socket.emit('queue:upsert', row(detail({ id: AP, channel: 'AP', movedFrom: WX })));
    });
    expect(Object.keys(store.getState().queue)).toEqual([AP]);
    expect(requests.filter((r) => r.event === 'session:open')).toEqual([]);
  });

  it('opens where the customer went when an opened session was closed with movedTo', async () => {
    const next = detail({ id: AP, channel: 'AP', movedFrom: WX, messages: [msg(1, {}), msg(2, { channel: 'AP', sessionId: AP })] });
    await render({
      open: detail({ id: 'WB1764400000000' + '33333', channel: 'WB' }),
      sessions: { [WX]: detail({ status: 'closed', movedTo: AP }), [AP]: next },
    });
    await act(async () => store.getState().openSession(WX));
    expect(requests.filter((r) => r.event === 'session:open').map((r) => r.payload.sessionId)).toEqual([WX, AP]);
    expect(store.getState().detail?.id).toBe(AP);
    expect($('followed-notice')?.textContent).toContain('from WeChat to the App');
  });

  it('lists channels, verified links and merges, and undoes a merge, then reads the panel again', async () => {
    let undone = false;
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({
        status: 200,
        body: identities({
          members: [
            { id: CUST, name: 'Wang Fang', channels: ['WX'] },
            { id: OTHER, name: 'fang.w', channels: ['AP'] },
          ],
          identities: [
            { customerId: CUST, channel: 'WX', externalId: 'oWang****', createdAt: at },
            { customerId: OTHER, channel: 'AP', externalId: 'shop:u-****', createdAt: at },
          ],
          links: [
            { customerId: CUST, kind: 'phone', value: '+86 138****8000', source: 'agent:u1', createdAt: at },
            { customerId: OTHER, kind: 'wechat-unionid', value: 'union-****', source: 'AP', createdAt: at },
          ],
          merges: [mergeView(undone ? { undoneAt: at, undoneBy: 'u1' } : {})],
        }),
      }),
      [`POST /api/v1/customers/merges/${MERGE}/undo`]: () => {
        undone = true;
        return { status: 200, body: mergeView({ undoneAt: at, undoneBy: 'u1' }) };
      },
    });
    await render({ http });
    expect($$('identity').map((i) => i.textContent)).toEqual(['WeChat oWang****', 'App shop:u-****']);
    expect($$('identity-link').map((i) => i.textContent)).toEqual([
      'Phone +86 138****8000 · by you',
      'WeChat unionid union-**** · from App',
    ]);
    expect($('identities-members')?.textContent).toBe('One person: Wang Fang · fang.w');
    expect($('merge')?.textContent).toContain('by hand · merged by you');
    await click($('undo-merge'));
    expect(http.calls.at(-2)).toMatchObject({ method: 'POST', url: `/api/v1/customers/merges/${MERGE}/undo` });
    expect($('identities-notice')?.textContent).toBe('Merge undone.');
    expect($('undo-merge')).toBeNull();
    expect($('merge-undone')?.textContent).toContain('undone by you');
    // The open chat's context is read again too (its channels may have changed).
    expect(requests.filter((r) => r.event === 'session:open').map((r) => r.payload.sessionId)).toEqual([WX]);
  });

  it('finds another customer by phone, shows who it is, and merges after the agent confirms', async () => {
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({ status: 200, body: identities() }),
      'GET /api/v1/customers/lookup?kind=phone&value=%2B8613800138000': () => ({
        status: 200,
        body: { customerId: OTHER, groupId: OTHER, name: 'fang.w', channels: ['AP'] },
      }),
      'POST /api/v1/customers/merges': () => ({ status: 201, body: mergeView() }),
    });
    await render({ http });
    await click($('merge-open'));
    await change(host.querySelector('[data-testid="merge-value"]'), ' +8613800138000 ');
    await click($('merge-find'));
    expect($('merge-found')?.textContent).toContain('fang.w');
    expect($('merge-found')?.textContent).toContain('App');
    expect($('merge-found')?.textContent).toContain('Merge fang.w into Wang Fang?');
    // Nothing is merged before the agent confirms.
    expect(http.calls.some((c) => c.method === 'POST')).toBe(false);
    await click($('merge-confirm'));
    expect(http.calls.find((c) => c.method === 'POST')).toEqual({
      method: 'POST',
      url: '/api/v1/customers/merges',
      body: { survivorId: CUST, mergedId: OTHER },
    });
    expect($('merge-dialog')).toBeNull();
    expect($('identities-notice')?.textContent).toBe('Customers merged.');
  });

  it('names a customer no channel named in the viewer’s language', async () => {
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({
        status: 200,
        body: identities({
          members: [
            { id: CUST, name: 'WeChat user', channels: ['WX'] },
            { id: OTHER, name: 'Wang Fang', channels: ['AP'] },
          ],
        }),
      }),
    });
    await render({ http, locale: 'zh' });
    expect($('identities-members')?.textContent).toBe('同一人：微信用户 · Wang Fang');
  });

  it('says in words when nobody has it, or when it is the same person already, in Chinese too', async () => {
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({ status: 200, body: identities() }),
      'GET /api/v1/customers/lookup?channel=WX&externalId=oSame': () => ({
        status: 200,
        body: { customerId: CUST, groupId: CUST, name: 'Wang Fang', channels: ['WX'] },
      }),
    });
    await render({ http, locale: 'zh' });
    await click($('merge-open'));
    await change(host.querySelector('[data-testid="merge-value"]'), 'nobody@example.com');
    await change(host.querySelector('[data-testid="merge-by"]'), 'email');
    await click($('merge-find'));
    expect($('merge-error')?.textContent).toBe('在你的技能组中没有找到这位客户。');
    expect($('merge-error')?.textContent).not.toContain('{');
    await change(host.querySelector('[data-testid="merge-by"]'), 'channel');
    await change(host.querySelector('[data-testid="merge-channel"]'), 'WX');
    await change(host.querySelector('[data-testid="merge-external-id"]'), 'oSame');
    await click($('merge-find'));
    expect($('merge-error')?.textContent).toBe('这已经是同一个人。');
    expect($('merge-confirm')).toBeNull();
  });

  it('adds a verified phone, and on LINK_CONFLICT offers the merge with the customer who has it', async () => {
    let taken = false;
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({ status: 200, body: identities() }),
      [`POST /api/v1/customers/${CUST}/links`]: (body) =>
        taken
          ? { status: 409, body: { error: { code: 'LINK_CONFLICT', message: 'Another customer…', details: { customerId: OTHER } } } }
          : { status: 201, body: { customerId: CUST, ...(body as object), value: '+86 139****1111', source: 'agent:u1', createdAt: at } },
      'GET /api/v1/customers/lookup?kind=phone&value=%2B8613900002222': () => ({
        status: 200,
        body: { customerId: OTHER, groupId: OTHER, name: 'Li Na', channels: ['AP'] },
      }),
    });
    await render({ http });
    await click($('link-open'));
    await change(host.querySelector('[data-testid="link-value"]'), '+86 139 0000 1111');
    await click($('link-add'));
    expect(http.calls.find((c) => c.method === 'POST')).toMatchObject({ body: { kind: 'phone', value: '+86 139 0000 1111' } });
    expect($('identities-notice')?.textContent).toBe('Added.');
    expect($('link-form')).toBeNull();

    taken = true;
    await click($('link-open'));
    await change(host.querySelector('[data-testid="link-value"]'), '+8613900002222');
    await click($('link-add'));
    expect($('link-conflict')?.textContent).toContain('Another customer already has this.');
    await click($('link-merge-holder'));
    // The merge dialog opens on that phone number, the holder already found.
    expect(host.querySelector<HTMLInputElement>('[data-testid="merge-value"]')?.value).toBe('+8613900002222');
    expect($('merge-found-name')?.textContent).toBe('Li Na');
  });

  it('shows the full history newest first with channel badges, and loads older pages', async () => {
    const page1 = [msg(5, { channel: 'AP', body: { text: 'newest' } }), msg(4, { channel: 'AP' })];
    const page2 = [msg(3, { channel: 'WX', body: { text: 'oldest' } })];
    const http = fakeHttp({
      [`GET /api/v1/customers/${CUST}/identities`]: () => ({ status: 200, body: identities() }),
      [`GET /api/v1/customers/${CUST}/timeline`]: () => ({
        status: 200,
        body: { customerId: CUST, groupId: CUST, messages: page1, hasOlder: true },
      }),
      [`GET /api/v1/customers/${CUST}/timeline?before=m-4`]: () => ({
        status: 200,
        body: { customerId: CUST, groupId: CUST, messages: page2, hasOlder: false },
      }),
    });
    await render({ http });
    // Nothing is read until the agent opens it.
    expect(http.calls.some((c) => c.url.includes('timeline'))).toBe(false);
    const fold = host.querySelector<HTMLDetailsElement>('[data-testid="full-history"] details')!;
    await act(async () => {
      fold.open = true;
      fold.dispatchEvent(new Event('toggle'));
    });
    const items = () => $$('timeline-message').map((m) => [m.dataset.channel, m.querySelector('.timeline__text')?.textContent]);
    expect(items()).toEqual([
      ['AP', 'newest'],
      ['AP', 'message 4'],
    ]);
    expect($$('timeline-message')[0]?.querySelector('[data-testid="channel-badge"]')?.textContent).toBe('App');
    await click($('timeline-older'));
    expect(items()).toEqual([
      ['AP', 'newest'],
      ['AP', 'message 4'],
      ['WX', 'oldest'],
    ]);
    expect($('timeline-older')).toBeNull();
  });
});
