import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { HuiliuError } from '../../../../common/errors/codes';
import { NotifySchema, type DesktopBridge } from '../../../../common/ipc/desktop-bridge';
import { isWellFormed } from '../../../../common/text/text';
import type { SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import type { AgentConnection } from '../api/agent-socket';
import { visibleQueue } from './queue';
import { createWorkstationStore } from './workstation';
import { errorText } from '../error-text';
import { createI18n } from '../locale';

const user = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };

const summary = (id: string, over: Partial<SessionSummary> = {}): SessionSummary => ({
  id,
  conversationId: `c-${id}`,
  customerId: 'cust',
  customerName: 'Li',
  channel: 'WB',
  status: 'queued',
  skillGroup: 'general',
  assignedAgentId: null,
  offeredAgentId: null,
  tier: 'ai',
  priority: 20,
  lastMessagePreview: 'hi',
  lastMessageAt: '2026-11-26T10:00:00Z',
  createdAt: '2026-11-26T10:00:00Z',
  waitingSince: '2026-11-26T10:00:00Z',
  ...over,
});

function setup(request: AgentConnection['request'] = vi.fn(), storage = new Map<string, string>()) {
  const socket = new EventEmitter();
  const connection = { socket, request, close: vi.fn() } as unknown as AgentConnection;
  const bridge: DesktopBridge = {
    appInfo: vi.fn(),
    notify: vi.fn(async () => ({ ok: true as const, data: { shown: true } })),
    setBadge: vi.fn(async (r) => ({ ok: true as const, data: r })),
    openExternal: vi.fn(),
    onFocusSession: vi.fn(() => () => undefined),
  };
  const connects = { n: 0 };
  const store = createWorkstationStore({
    api: {
      login: vi.fn(async (u: string, p: string) => {
        if (p !== 'huiliu-demo') throw new HuiliuError('INVALID_CREDENTIALS');
        const roles = u === 'auditor' ? ['auditor' as const] : u === 'privacy' ? ['privacy-officer' as const] : user.roles;
        return { token: 't1', expiresAt: '', user: { ...user, username: u, roles } };
      }),
      logout: vi.fn(async () => undefined),
    },
    bridge,
    connect: () => {
      connects.n++;
      return connection;
    },
    storage: {
      getItem: (k) => storage.get(k) ?? null,
      setItem: (k, v) => void storage.set(k, v),
      removeItem: (k) => void storage.delete(k),
    },
  });
  return { store, socket, bridge, storage, connects };
}

describe('workstation store', () => {
  it('signs in, keeps the token for this tab, and shows a clear error on a wrong password', async () => {
    const { store, storage } = setup();
    await store.getState().login('agent1', 'nope');
    // Kept as the desk's key for the code; shown in the UI's language (error-text.ts).
    expect(store.getState().loginError).toBe('errors:codes.INVALID_CREDENTIALS');
    expect(errorText(createI18n('en'), store.getState().loginError!)).toBe('Wrong username or password.');
    expect(errorText(createI18n('zh'), store.getState().loginError!)).toBe('用户名或密码错误。');
    expect(store.getState().token).toBeNull();
    await store.getState().login('agent1', 'huiliu-demo');
    expect(store.getState().token).toBe('t1');
    expect(JSON.parse(storage.get('huiliu.token')!).token).toBe('t1');
    await store.getState().logout();
    expect(store.getState().token).toBeNull();
    expect(storage.has('huiliu.token')).toBe(false);
  });

  it('opens again, after a reload, the conversation the tab had open, and forgets it at sign-out', async () => {
    const OPEN = 'WB179612216601069549';
    const request = vi.fn(async (event: string, payload: { sessionId?: string }) =>
      event === 'session:open' ? { ...summary(payload.sessionId!), customerId: 'cust', messages: [] } : [],
    ) as unknown as AgentConnection['request'];
    const tab = new Map<string, string>();
    const first = setup(request, tab);
    await first.store.getState().login('agent1', 'huiliu-demo');
    first.socket.emit('hello', { user, presence: 'available', queue: [summary(OPEN)] });
    await first.store.getState().openSession(OPEN);
    expect(tab.get('huiliu.openSession')).toBe(OPEN);
    // The reload: a new store on the same tab's storage, signed in from it; the socket greets it.
    const second = setup(request, tab);
    second.store.getState().restore();
    expect(second.store.getState().openSessionId).toBe(OPEN);
    vi.mocked(request).mockClear();
    second.socket.emit('hello', { user, presence: 'available', queue: [summary(OPEN)] });
    await vi.waitFor(() => expect(second.store.getState().detail?.id).toBe(OPEN));
    expect(
      vi
        .mocked(request)
        .mock.calls.filter(([e]) => e === 'session:open')
        .map(([, p]) => p),
    ).toEqual([{ sessionId: OPEN }]);
    // Something that is not a session id in the storage is not opened.
    tab.set('huiliu.openSession', '<script>');
    const third = setup(request, tab);
    third.store.getState().restore();
    expect(third.store.getState().openSessionId).toBeNull();
    await second.store.getState().logout();
    expect(tab.has('huiliu.openSession')).toBe(false);
  });

  it('fills the queue from hello, sorts by priority then waiting time, and keeps the badge in sync', async () => {
    const { store, socket, bridge } = setup();
    await store.getState().login('agent1', 'huiliu-demo');
    socket.emit('hello', {
      user,
      presence: 'available',
      queue: [
        summary('WB1', { priority: 30, waitingSince: '2026-11-26T10:00:05Z' }),
        summary('WB2', { priority: 90 }),
        summary('WB3', { priority: 30, waitingSince: '2026-11-26T10:00:01Z' }),
        summary('WB4', { status: 'active', assignedAgentId: 'u1' }),
      ],
    });
    const s = store.getState();
    expect(visibleQueue(s, 'u1').map((x) => x.id)).toEqual(['WB2', 'WB3', 'WB1']);
    expect(visibleQueue({ ...s, queueFilter: 'mine' }, 'u1').map((x) => x.id)).toEqual(['WB4']);
    expect(bridge.setBadge).toHaveBeenLastCalledWith({ count: 3 });
    socket.emit('queue:remove', { sessionId: 'WB2' });
    expect(bridge.setBadge).toHaveBeenLastCalledWith({ count: 2 });
  });

  it('notifies the desktop of a new offer', async () => {
    const { store, socket, bridge } = setup();
    await store.getState().login('agent1', 'huiliu-demo');
    socket.emit('offer:new', { sessionId: 'WB9', expiresAt: '', summary: summary('WB9', { status: 'offered', offeredAgentId: 'u1' }) });
    expect(store.getState().offers.WB9).toBeDefined();
    expect(bridge.notify).toHaveBeenCalledWith(expect.objectContaining({ sessionId: 'WB9' }));
  });

  it('notifies of an offer from a customer with a 128-character emoji name, cut by grapheme within the bridge limits', async () => {
    const { store, socket, bridge } = setup();
    await store.getState().login('agent1', 'huiliu-demo');
    const name = `${'a'.repeat(105)}${'😀'.repeat(11)}`;
    const preview = `${'b'.repeat(119)}…`;
    socket.emit('offer:new', {
      sessionId: 'WB8',
      expiresAt: '',
      summary: summary('WB8', { status: 'offered', offeredAgentId: 'u1', customerName: name, lastMessagePreview: preview }),
    });
    const request = vi.mocked(bridge.notify).mock.calls.at(-1)![0];
    // The real bridge handler's schema must accept it (a refused one is a lost notification).
    expect(NotifySchema.safeParse(request).success).toBe(true);
    expect(isWellFormed(request.title)).toBe(true);
    expect(request.title.startsWith(`New contact: ${'a'.repeat(105)}`)).toBe(true);
    expect(request.title.endsWith('…')).toBe(true);
    expect(request.body).toBe(preview);
  });

  it('shows a reply as pending until acked, keeps it with an error when it fails, and retries with the same id', async () => {
    const detail = { ...summary('WB5', { status: 'active', assignedAgentId: 'u1' }), messages: [] } as unknown as SessionDetail;
    const sentIds: string[] = [];
    let fail = true;
    const request = vi.fn(async (event: string, payload: { clientMessageId?: string; text?: string }) => {
      if (event === 'offer:accept') return detail;
      if (event === 'message:send') {
        sentIds.push(payload.clientMessageId!);
        if (fail) throw new HuiliuError('INTERNAL', 'down');
        return {
          id: 'm1',
          sessionId: 'WB5',
          conversationId: 'c-WB5',
          seq: 2,
          direction: 'out',
          kind: 'text',
          body: { text: payload.text },
        };
      }
      throw new Error(event);
    }) as unknown as AgentConnection['request'];
    const { store } = setup(request);
    await store.getState().login('agent1', 'huiliu-demo');
    await store.getState().accept('WB5');
    expect(store.getState().openSessionId).toBe('WB5');
    await store.getState().send('hello');
    expect(store.getState().pending).toMatchObject([{ text: 'hello', error: 'errors:codes.INTERNAL' }]);
    expect(errorText(createI18n('zh'), store.getState().pending[0]!.error!)).toBe('服务器出错了。');
    fail = false;
    await store.getState().retry(store.getState().pending[0]!.clientMessageId);
    expect(store.getState().pending).toEqual([]);
    expect(store.getState().detail!.messages.map((m) => m.id)).toEqual(['m1']);
    expect(new Set(sentIds).size).toBe(1); // the retry reused the idempotency key
  });

  it('shows each incoming message once in the open conversation, and counts unread elsewhere', async () => {
    const detail = { ...summary('WB6', { status: 'active', assignedAgentId: 'u1' }), messages: [] } as unknown as SessionDetail;
    const { store, socket } = setup(vi.fn(async () => detail) as unknown as AgentConnection['request']);
    await store.getState().login('agent1', 'huiliu-demo');
    await store.getState().openSession('WB6');
    const m = { id: 'x', sessionId: 'WB6', conversationId: 'c-WB6', seq: 3, direction: 'in', kind: 'text', body: { text: 'again' } };
    socket.emit('message:new', m);
    socket.emit('message:new', m);
    socket.emit('message:new', { ...m, id: 'y', sessionId: 'WB7', conversationId: 'c-WB7' });
    expect(store.getState().detail!.messages).toHaveLength(1);
    expect(store.getState().unread.WB7).toBe(1);
  });

  it('reads the open conversation again when it leaves the list (closed by the server, whenever that is)', async () => {
    const active = { ...summary('WB6', { status: 'active', assignedAgentId: 'u1' }), messages: [] } as unknown as SessionDetail;
    let current = active;
    const request = vi.fn(async () => current) as unknown as AgentConnection['request'];
    const { store, socket } = setup(request);
    await store.getState().login('agent1', 'huiliu-demo');
    await store.getState().openSession('WB6');
    expect(store.getState().detail).toMatchObject({ status: 'active' });
    current = { ...active, status: 'closed', wrapUpCode: 'resolved' } as SessionDetail;
    vi.mocked(request).mockClear();
    // Another session leaving the list does not touch the open one.
    socket.emit('queue:remove', { sessionId: 'WB7' });
    expect(vi.mocked(request).mock.calls.filter(([e]) => e === 'session:open')).toEqual([]);
    socket.emit('queue:remove', { sessionId: 'WB6' });
    await vi.waitFor(() => expect(store.getState().detail).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' }));
    expect(
      vi
        .mocked(request)
        .mock.calls.filter(([e]) => e === 'session:open')
        .map(([, p]) => p),
    ).toEqual([{ sessionId: 'WB6' }]);
  });

  it('opens the agent socket for staff who work the queue only: not for auditors or privacy officers', async () => {
    for (const [username, n] of [
      ['agent1', 1],
      ['auditor', 0],
      ['privacy', 0],
    ] as const) {
      const { store, connects } = setup();
      await store.getState().login(username, 'huiliu-demo');
      expect(store.getState().token, username).toBe('t1');
      expect(connects.n, username).toBe(n);
    }
  });

  it("drops the open conversation of an erased customer, and keeps another customer's", async () => {
    const detail = { ...summary('WB6', { status: 'active', assignedAgentId: 'u1' }), messages: [] } as unknown as SessionDetail;
    const { store, socket } = setup(vi.fn(async () => detail) as unknown as AgentConnection['request']);
    await store.getState().login('agent1', 'huiliu-demo');
    await store.getState().openSession('WB6');
    socket.emit('message:new', {
      id: 'x',
      sessionId: 'WB6',
      conversationId: 'c-WB6',
      seq: 1,
      direction: 'in',
      kind: 'text',
      body: { text: 'mine' },
    });
    socket.emit('customer:erased', { customerIds: ['someone-else'] });
    expect(store.getState().detail!.messages).toHaveLength(1);
    socket.emit('customer:erased', { customerIds: ['someone-else', 'cust'] });
    expect(store.getState().detail).toBeNull();
    expect(store.getState().openSessionId).toBeNull();
    expect(JSON.stringify(store.getState())).not.toContain('mine');
  });

  it("passes a customer's erasure on to the desktop's local store (issue 15)", async () => {
    const { store, socket, bridge } = setup();
    const eraseCustomers = vi.fn(async () => ({ ok: true as const, data: { conversations: 1, outboxDropped: 0 } }));
    bridge.local = { eraseCustomers } as unknown as NonNullable<DesktopBridge['local']>;
    await store.getState().login('agent1', 'huiliu-demo');
    socket.emit('customer:erased', { customerIds: ['cust'] });
    expect(eraseCustomers).toHaveBeenCalledWith({ customerIds: ['cust'] });
  });

  it("shows the customer's typing for that session until they stop or their message arrives", async () => {
    const { store, socket } = setup();
    await store.getState().login('agent1', 'huiliu-demo');
    socket.emit('customer:typing', { sessionId: 'XM1', typing: true });
    expect(store.getState().customerTyping).toEqual({ XM1: true });
    socket.emit('customer:typing', { sessionId: 'XM1', typing: false });
    expect(store.getState().customerTyping).toEqual({});
    socket.emit('customer:typing', { sessionId: 'XM1', typing: true });
    socket.emit('message:new', {
      id: 'z',
      sessionId: 'XM1',
      conversationId: 'c-XM1',
      seq: 1,
      direction: 'in',
      kind: 'text',
      body: { text: 'hi' },
    });
    expect(store.getState().customerTyping).toEqual({});
  });

  it('pages back through a long conversation, keeping what is shown and the seq order', async () => {
    const msg = (seq: number) => ({
      id: `m${seq}`,
      sessionId: 'WB8',
      conversationId: 'c-WB8',
      seq,
      direction: 'in',
      kind: 'text',
      body: { text: `#${seq}` },
    });
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
    const detail = {
      ...summary('WB8', { status: 'active', assignedAgentId: 'u1' }),
      messages: range(952, 1051),
      hasOlderMessages: true,
    } as unknown as SessionDetail;
    const asked: unknown[] = [];
    const request = vi.fn(async (event: string, payload: { beforeSeq?: number }) => {
      if (event === 'session:history') {
        asked.push(payload.beforeSeq);
        return payload.beforeSeq === 952 ? { messages: range(752, 951), hasOlder: true } : { messages: range(1, 751), hasOlder: false };
      }
      return detail;
    });
    const { store } = setup(request as unknown as AgentConnection['request']);
    await store.getState().login('agent1', 'huiliu-demo');
    await store.getState().openSession('WB8');
    await store.getState().loadOlder();
    await store.getState().loadOlder();
    await store.getState().loadOlder(); // nothing older: no request
    expect(asked).toEqual([952, 752]);
    const seqs = store.getState().detail!.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 1051 }, (_, i) => i + 1));
    expect(store.getState().detail!.hasOlderMessages).toBe(false);
  });

  it('remembers how many contacts wait in all when the greeting list was cut, and forgets it otherwise', () => {
    const { store } = setup();
    store.getState().replaceQueue([summary('WB1'), summary('WB2')], 563);
    expect(store.getState().waitingTotal).toBe(563);
    store.getState().replaceQueue([summary('WB1'), summary('WB2')], 2);
    expect(store.getState().waitingTotal).toBeNull();
  });

  it("drops a row's SLA countdown when an agent replies in it, and keeps it for a customer message (issue 16)", () => {
    const { store } = setup();
    const sla = { kind: 'first' as const, dueAt: '2026-11-26T10:01:00.000Z', breached: false };
    store.getState().replaceQueue([summary('WB1', { status: 'active', assignedAgentId: 'u1', sla })], 1);
    const message = (direction: 'in' | 'out', author: 'customer' | 'agent') =>
      ({ id: `m-${direction}`, sessionId: 'WB1', conversationId: 'c-WB1', seq: 2, direction, author, authorId: null }) as never;
    store.getState().receiveMessage(message('in', 'customer'));
    expect(store.getState().queue['WB1']?.sla).toEqual(sla);
    store.getState().receiveMessage(message('out', 'agent'));
    expect(store.getState().queue['WB1']?.sla).toBeUndefined();
  });
});
