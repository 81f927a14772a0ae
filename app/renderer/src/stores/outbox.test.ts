import { createI18n } from '../locale';
import { errorText } from '../error-text';
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { MessageView, SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import { HuiliuError } from '../../../../common/errors/codes';
import type { DesktopBridge } from '../../../../common/ipc/desktop-bridge';
import type { AgentConnection } from '../api/agent-socket';
import { createBrowserLocalStore, type TabStorage } from '../bridge/browser-local';
import { createWorkstationStore } from './workstation';

/**
 * Issue 15: the workstation's outbox, history, drafts, erasure and offer alerts over the real browser
 * implementation of the local contract (`browser-local.ts`, the one the Chromium build uses) and a fake
 * agent server that dedupes by clientMessageId like the real one.
 */
const user = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };

const summary = (id: string, over: Partial<SessionSummary> = {}): SessionSummary => ({
  id,
  conversationId: `c-${id}`,
  customerId: `cust-${id}`,
  customerName: 'Li',
  channel: 'WB',
  status: 'active',
  skillGroup: 'general',
  assignedAgentId: 'u1',
  offeredAgentId: null,
  tier: 'ai',
  priority: 20,
  lastMessagePreview: 'hi',
  lastMessageAt: '2026-11-26T10:00:00Z',
  createdAt: '2026-11-26T10:00:00Z',
  waitingSince: '2026-11-26T10:00:00Z',
  ...over,
});

const message = (sessionId: string, seq: number, text: string, direction: 'in' | 'out' = 'out'): MessageView =>
  ({
    id: `m-${sessionId}-${seq}`,
    sessionId,
    conversationId: `c-${sessionId}`,
    seq,
    direction,
    channel: 'WB',
    authorId: direction === 'out' ? 'u1' : null,
    author: direction === 'out' ? 'agent' : 'customer',
    sentAt: '2026-11-26T10:00:00Z',
    receivedAt: '2026-11-26T10:00:00Z',
    kind: 'text',
    body: { text },
  }) as unknown as MessageView;

function memoryStorage(): TabStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

/** The server's side: stores each clientMessageId once (the customer sees `delivered`), refuses on demand. */
function fakeServer() {
  const delivered: string[] = [];
  const seen = new Map<string, MessageView>();
  const server = {
    delivered,
    /** Every message:send the server got, duplicates included. */
    received: [] as string[],
    refuse: new Map<string, HuiliuError>(),
    /** The next sends are stored but their ack is lost (a timeout on the agent's side). */
    loseAcks: 0,
    history: [message('WB176454720000000001', 1, 'hello, my parcel?', 'in')] as MessageView[],
    accepted: [] as string[],
    closed: [] as string[],
  };
  const request = vi.fn(async (event: string, payload: Record<string, unknown>) => {
    if (event === 'session:open') {
      const id = payload.sessionId as string;
      return { ...summary(id), messages: [...server.history], hasOlderMessages: false } as unknown as SessionDetail;
    }
    if (event === 'offer:accept') {
      server.accepted.push(payload.sessionId as string);
      return { ...summary(payload.sessionId as string), messages: [], hasOlderMessages: false };
    }
    if (event === 'session:close') {
      server.closed.push(payload.sessionId as string);
      return summary(payload.sessionId as string, { status: 'closed' });
    }
    if (event === 'message:send') {
      const key = payload.clientMessageId as string;
      const text = payload.text as string;
      server.received.push(text);
      const refusal = server.refuse.get(text);
      if (refusal) throw refusal;
      let stored = seen.get(key);
      if (!stored) {
        stored = message(payload.sessionId as string, server.history.length + 1, text);
        seen.set(key, stored);
        server.history.push(stored);
        delivered.push(text);
      }
      if (server.loseAcks > 0) {
        server.loseAcks--;
        throw new Error('operation has timed out');
      }
      return stored;
    }
    throw new Error(`unexpected ${event}`);
  });
  return { server, request };
}

function setup(storage = memoryStorage(), fake = fakeServer(), i18n?: ReturnType<typeof createI18n>) {
  const socket = Object.assign(new EventEmitter(), { connected: false, connect: vi.fn() });
  const connection = { socket, request: fake.request, close: vi.fn() } as unknown as AgentConnection;
  const notifyOffer = vi.fn(async () => ({ ok: true as const, data: { shown: true, pending: 1 } }));
  const acknowledgeOffer = vi.fn(async () => ({ ok: true as const, data: { pending: 0 } }));
  let reconnectNow: (() => void) | null = null;
  const bridge: DesktopBridge = {
    appInfo: vi.fn(),
    notify: vi.fn(async () => ({ ok: true as const, data: { shown: true } })),
    setBadge: vi.fn(async (r) => ({ ok: true as const, data: r })),
    openExternal: vi.fn(),
    onFocusSession: vi.fn(() => () => undefined),
    onReconnectNow: (listener) => {
      reconnectNow = () => listener('online');
      return () => (reconnectNow = null);
    },
    notifyOffer,
    acknowledgeOffer,
    // The real browser implementation, not a mock.
    local: createBrowserLocalStore(storage),
  };
  const store = createWorkstationStore({
    api: { login: vi.fn(async () => ({ token: 't1', expiresAt: '', user })), logout: vi.fn(async () => undefined) },
    bridge,
    connect: () => connection,
    storage: memoryStorage(),
    ...(i18n ? { i18n } : {}),
  });
  const online = async () => {
    socket.connected = true;
    socket.emit('connect');
    socket.emit('hello', { user, queue: [summary('WB176454720000000001')], presence: 'available', waitingTotal: 0 });
    // The greeting binds the local store to the agent, then drains it: wait for both.
    await vi.waitFor(async () => expect(await bridge.local!.pending()).toEqual({ ok: true, data: [] }));
  };
  const drop = () => {
    socket.connected = false;
    socket.emit('disconnect', 'transport close');
  };
  return { store, socket, storage, bridge, fake, online, drop, notifyOffer, acknowledgeOffer, reconnect: () => reconnectNow?.() };
}

const signedIn = async (s: ReturnType<typeof setup>) => {
  await s.store.getState().login('agent1', 'pw');
  await s.online();
  await s.store.getState().openSession('WB176454720000000001');
};

describe('workstation outbox over the browser local store (issue 15)', () => {
  it('queues replies typed while offline and, on reconnect, delivers each once and in order', async () => {
    const s = setup();
    await signedIn(s);
    s.drop();
    for (const text of ['one', 'two', 'three']) await s.store.getState().send(text);
    expect(s.store.getState().pending.map((p) => [p.text, p.status])).toEqual([
      ['one', 'queued'],
      ['two', 'queued'],
      ['three', 'queued'],
    ]);
    expect(s.fake.server.received).toEqual([]);
    await s.online();
    expect(s.fake.server.delivered).toEqual(['one', 'two', 'three']);
    expect(s.store.getState().pending).toEqual([]);
    expect(s.store.getState().detail!.messages.map((m) => textOfView(m))).toEqual(['hello, my parcel?', 'one', 'two', 'three']);
  });

  it('sends a reply whose ack was lost again with the same key, and the customer still gets it once', async () => {
    const s = setup();
    await signedIn(s);
    s.fake.server.loseAcks = 1;
    await s.store.getState().send('are you there?');
    expect(s.store.getState().pending).toMatchObject([{ text: 'are you there?', status: 'queued' }]);
    await s.store.getState().send('second');
    // The drain stopped at the unacked one: nothing went ahead of it.
    expect(s.fake.server.received).toEqual(['are you there?', 'are you there?', 'second']);
    expect(s.fake.server.delivered).toEqual(['are you there?', 'second']);
    expect(s.store.getState().pending).toEqual([]);
  });

  it('shows a refused reply clearly and goes on with the next ones', async () => {
    const s = setup();
    await signedIn(s);
    s.drop();
    s.fake.server.refuse.set('bad', new HuiliuError('SESSION_CLOSED'));
    for (const text of ['before', 'bad', 'after']) await s.store.getState().send(text);
    await s.online();
    expect(s.fake.server.delivered).toEqual(['before', 'after']);
    expect(s.store.getState().pending).toMatchObject([{ text: 'bad', status: 'refused', code: 'SESSION_CLOSED' }]);
    // Kept as the desk's key for the code, so the bubble says why in the UI's language (not the server's English).
    expect(errorText(createI18n('zh'), s.store.getState().pending[0]!.error!)).toBe('会话已结束。');
  });

  it('keeps the outbox across a reload of the tab and sends it after the next greeting', async () => {
    const storage = memoryStorage();
    const fake = fakeServer();
    const first = setup(storage, fake);
    await signedIn(first);
    first.drop();
    await first.store.getState().send('typed before the crash');
    // The page reloads: a new store over the same tab storage.
    const second = setup(storage, fake);
    await second.store.getState().login('agent1', 'pw');
    second.socket.connected = true;
    second.socket.emit('connect');
    second.socket.emit('hello', { user, queue: [summary('WB176454720000000001')], presence: 'available', waitingTotal: 0 });
    await vi.waitFor(() => expect(fake.server.delivered).toEqual(['typed before the crash']));
    await vi.waitFor(() => expect(second.store.getState().pending).toEqual([]));
  });

  it('queues a wrap-up and an accept with keys of their own and sends them on reconnect', async () => {
    const s = setup();
    await signedIn(s);
    s.drop();
    await s.store.getState().closeSession('resolved');
    expect(s.fake.server.closed).toEqual([]);
    await s.online();
    expect(s.fake.server.closed).toEqual(['WB176454720000000001']);
    expect(s.store.getState().detail).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' });
    s.socket.emit('offer:new', {
      sessionId: 'WB176454720000000002',
      expiresAt: '2026-11-26T10:01:00Z',
      summary: summary('WB176454720000000002', { status: 'offered' }),
    });
    await s.store.getState().accept('WB176454720000000002');
    expect(s.fake.server.accepted).toEqual(['WB176454720000000002']);
    // The agent clicked Accept with the closed chat still on screen: the accepted one opens.
    await vi.waitFor(() => expect(s.store.getState().openSessionId).toBe('WB176454720000000002'));
    expect(s.store.getState().detail?.id).toBe('WB176454720000000002');
  });

  it('shows the local last interactions at once when a conversation is opened again, merged by seq', async () => {
    const s = setup();
    await signedIn(s);
    await s.store.getState().send('kept locally');
    const conversation = s.store.getState().detail!.conversationId;
    expect((await s.store.getState().local.openConversation(conversation)).map((m) => m.seq)).toEqual([1, 2]);
    // Opening it again: the preview is the local copy until the server's answer, then one merged list.
    let resolveOpen: (() => void) | null = null;
    const gate = new Promise<void>((r) => (resolveOpen = r));
    const original = s.fake.request.getMockImplementation()!;
    s.fake.request.mockImplementation(async (event, payload) => {
      if (event === 'session:open') await gate;
      return original(event, payload);
    });
    s.store.setState({ detail: null });
    const opening = s.store.getState().openSession('WB176454720000000001');
    await vi.waitFor(() => expect(s.store.getState().localPreview?.messages.map((m) => m.seq)).toEqual([1, 2]));
    resolveOpen!();
    await opening;
    expect(s.store.getState().localPreview).toBeNull();
    expect(s.store.getState().detail!.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('erases everything local on an explicit sign-out, and keeps it when the token lapsed', async () => {
    const storage = memoryStorage();
    const s = setup(storage);
    await signedIn(s);
    await s.store.getState().local.saveDraft('c-WB176454720000000001', 'cust-WB176454720000000001', 'half a reply');
    s.drop();
    await s.store.getState().send('unsent');
    await s.store.getState().logout({ keepLocal: true });
    expect(storage.map.get('huiliu.local')).toContain('half a reply');
    await s.store.getState().login('agent1', 'pw');
    await s.store.getState().logout();
    expect(storage.map.has('huiliu.local')).toBe(false);
    expect(await s.store.getState().local.pendingEntries()).toEqual([]);
  });

  it("drops an erased customer's drafts and unsent replies (customer:erased)", async () => {
    const s = setup();
    await signedIn(s);
    await s.store.getState().local.saveDraft('c-WB176454720000000001', 'cust-WB176454720000000001', 'draft');
    s.drop();
    await s.store.getState().send('never to be sent');
    s.socket.emit('customer:erased', { customerIds: ['cust-WB176454720000000001'] });
    await vi.waitFor(async () => expect(await s.store.getState().local.pendingEntries()).toEqual([]));
    expect(await s.store.getState().local.loadDraft('c-WB176454720000000001')).toBeNull();
    await s.online();
    expect(s.fake.server.received).toEqual([]);
  });

  it('alerts a new offer with a kept notification and withdraws it when the offer is answered or revoked', async () => {
    const s = setup();
    await signedIn(s);
    const offer = (id: string) => ({ sessionId: id, expiresAt: '2026-11-26T10:01:00Z', summary: summary(id, { status: 'offered' }) });
    s.socket.emit('offer:new', offer('WB176454720000000003'));
    s.socket.emit('offer:new', offer('WB176454720000000004'));
    expect(s.notifyOffer).toHaveBeenCalledWith(
      expect.objectContaining({ sessionId: 'WB176454720000000003', expiresAt: '2026-11-26T10:01:00Z' }),
    );
    expect(s.store.getState().offers.WB176454720000000003).toBeDefined();
    s.socket.emit('offer:revoked', { sessionId: 'WB176454720000000003' });
    expect(s.acknowledgeOffer).toHaveBeenCalledWith({ sessionId: 'WB176454720000000003' });
    expect(s.acknowledgeOffer).not.toHaveBeenCalledWith({ sessionId: 'WB176454720000000004' });
    await s.store.getState().accept('WB176454720000000004');
    expect(s.acknowledgeOffer).toHaveBeenCalledWith({ sessionId: 'WB176454720000000004' });
  });

  it('announces each offer once, however often the server updates it, in the UI language', async () => {
    const i18n = createI18n('zh');
    const s = setup(memoryStorage(), fakeServer(), i18n);
    await signedIn(s);
    const offer = (id: string, preview: string) => ({
      sessionId: id,
      expiresAt: '2026-11-26T10:01:00Z',
      summary: summary(id, { status: 'offered', lastMessagePreview: preview }),
    });
    // Two offers at once, each updated twice (a new message, the AI's notice): two announcements.
    for (const preview of ['a', 'b', 'c']) {
      s.socket.emit('offer:new', offer('WB176454720000000005', preview));
      s.socket.emit('offer:new', offer('WB176454720000000006', preview));
    }
    expect(s.notifyOffer).toHaveBeenCalledTimes(2);
    expect(s.store.getState().queue.WB176454720000000005?.lastMessagePreview).toBe('c');
    expect((s.notifyOffer.mock.calls as unknown as [{ title: string }][])[0]![0]).toMatchObject({
      title: expect.stringMatching(/^新联系人：/),
    });
    // Answered and offered again later: a new offer, announced again, now in English.
    s.socket.emit('offer:revoked', { sessionId: 'WB176454720000000005' });
    await i18n.changeLanguage('en');
    s.socket.emit('offer:new', offer('WB176454720000000005', 'd'));
    expect(s.notifyOffer).toHaveBeenCalledTimes(3);
    expect((s.notifyOffer.mock.calls as unknown as [{ title: string }][])[2]![0]).toMatchObject({
      title: expect.stringMatching(/^New contact: /),
    });
  });

  it('reconnects the socket at once when the bridge says the network is back', async () => {
    const s = setup();
    await signedIn(s);
    s.drop();
    s.reconnect();
    expect(s.socket.connect).toHaveBeenCalledTimes(1);
  });
});

const textOfView = (m: MessageView) => (m as unknown as { body: { text: string } }).body.text;
