import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import type { DesktopBridge } from '../../../../common/ipc/desktop-bridge';
import type { AgentConnection } from '../api/agent-socket';
import { createBrowserLocalStore } from '../bridge/browser-local';
import { createWorkstationStore } from './workstation';

/**
 * Review of issue 15: while a second conversation is being opened (`openSessionId` already names it,
 * the server has not answered yet), the first one — its composer, wrap-up, note and transfer dialog —
 * is still on screen. What the agent does there must go to that first customer, never to the one
 * being opened.
 */
const user = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const A = 'WB176454720000000001';
const B = 'WB176454720000000002';

const summary = (id: string): SessionSummary => ({
  id,
  conversationId: `c-${id}`,
  customerId: `cust-${id}`,
  customerName: id === A ? 'Alice' : 'Bob',
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
});

function setup(withLocal: boolean) {
  const calls: { event: string; sessionId: unknown }[] = [];
  /** B's `session:open` waits until the test lets it answer (a slow link). */
  let answerB: (() => void) | null = null;
  const request = vi.fn(async (event: string, payload: Record<string, unknown>) => {
    calls.push({ event, sessionId: payload.sessionId });
    const id = payload.sessionId as string;
    if (event === 'session:open') {
      if (id === B) await new Promise<void>((resolve) => (answerB = resolve));
      return { ...summary(id), messages: [], hasOlderMessages: false } as unknown as SessionDetail;
    }
    if (event === 'message:send' || event === 'note:add') {
      return {
        id: `m-${id}-${calls.length}`,
        sessionId: id,
        conversationId: `c-${id}`,
        seq: calls.length,
        direction: 'out',
        channel: 'WB',
        author: 'agent',
        authorId: 'u1',
        sentAt: '2026-11-26T10:00:00Z',
        receivedAt: '2026-11-26T10:00:00Z',
        kind: 'text',
        body: { text: payload.text },
      };
    }
    if (event === 'session:close') return { ...summary(id), status: 'closed' };
    if (event === 'session:transfer') return { id: 't1', sessionId: id, status: 'pending' };
    if (event === 'session:summary') return { lines: [] };
    throw new Error(`unexpected ${event}`);
  });
  const socket = Object.assign(new EventEmitter(), { connected: true, connect: vi.fn() });
  const connection = { socket, request, close: vi.fn() } as unknown as AgentConnection;
  const bridge: DesktopBridge = {
    appInfo: vi.fn(),
    notify: vi.fn(async () => ({ ok: true as const, data: { shown: true } })),
    setBadge: vi.fn(async (r) => ({ ok: true as const, data: r })),
    openExternal: vi.fn(),
    onFocusSession: vi.fn(() => () => undefined),
    ...(withLocal
      ? {
          local: createBrowserLocalStore(
            (() => {
              const map = new Map<string, string>();
              return {
                getItem: (k: string) => map.get(k) ?? null,
                setItem: (k: string, v: string) => void map.set(k, v),
                removeItem: (k: string) => void map.delete(k),
              };
            })(),
          ),
        }
      : {}),
  };
  const memory = new Map<string, string>();
  const store = createWorkstationStore({
    api: { login: vi.fn(async () => ({ token: 't1', expiresAt: '', user })), logout: vi.fn(async () => undefined) },
    bridge,
    connect: () => connection,
    storage: { getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => void memory.set(k, v), removeItem: (k) => void memory.delete(k) },
  });
  const start = async () => {
    await store.getState().login('agent1', 'huiliu-demo');
    socket.emit('connect');
    socket.emit('hello', { user, queue: [summary(A), summary(B)], presence: 'available', waitingTotal: 0 });
    await store.getState().openSession(A);
    expect(store.getState().detail?.id).toBe(A);
    // The agent clicks B; the server is slow to answer, so A is still on screen.
    void store.getState().openSession(B);
    await vi.waitFor(() => expect(calls.some((c) => c.event === 'session:open' && c.sessionId === B)).toBe(true));
    expect(store.getState().openSessionId).toBe(B);
    expect(store.getState().detail?.id).toBe(A);
  };
  const sent = (event: string) => calls.filter((c) => c.event === event).map((c) => c.sessionId);
  return { store, start, sent, finish: () => answerB?.() };
}

describe('acts on the conversation on screen while another one opens (issue 15 review)', () => {
  for (const withLocal of [false, true]) {
    const where = withLocal ? 'with the local outbox' : 'without a local store';
    it(`sends a reply typed in the shown conversation to that customer, not to the one being opened (${where})`, async () => {
      const s = setup(withLocal);
      await s.start();
      await s.store.getState().send('your refund of 420 yuan is on its way, Alice');
      await vi.waitFor(() => expect(s.sent('message:send')).toEqual([A]));
      s.finish();
    });

    it(`wraps up, notes and transfers the shown conversation, not the one being opened (${where})`, async () => {
      const s = setup(withLocal);
      await s.start();
      await s.store.getState().addNote('Alice asked for a refund');
      await s.store.getState().requestTransfer({ to: { kind: 'skill-group', skillGroup: 'general' }, mode: 'cold' });
      await s.store.getState().summarize();
      await s.store.getState().closeSession('resolved');
      await vi.waitFor(() => expect(s.sent('session:close')).toEqual([A]));
      expect(s.sent('note:add')).toEqual([A]);
      expect(s.sent('session:transfer')).toEqual([A]);
      expect(s.sent('session:summary')).toEqual([A]);
      s.finish();
    });
  }
});
