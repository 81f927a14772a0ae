import { describe, expect, it, vi } from 'vitest';
import type { MessageView } from '../../../../common/api/sessions';
import { fail, ok } from '../../../../common/errors/codes';
import type { DesktopBridge, LocalStoreBridge, OutboxEntry } from '../../../../common/ipc/desktop-bridge';
import { LocalSync } from './local-sync';

const SESSION = 'WB169208100012348213';
const view = (seq: number): MessageView => ({
  id: `m${seq}`,
  sessionId: SESSION,
  conversationId: 'conv-1',
  seq,
  direction: 'in',
  channel: 'WB',
  authorId: null,
  author: 'customer',
  sentAt: '2026-11-30T09:00:00.000Z',
  receivedAt: '2026-11-30T09:00:01.000Z',
  kind: 'text',
  body: { text: `message ${seq}` },
});
const entry = (id: number): OutboxEntry => ({
  id,
  kind: 'reply',
  clientMessageId: `cmid-000${id}`,
  conversationId: 'conv-1',
  customerId: 'cust-1',
  payload: { sessionId: SESSION, clientMessageId: `cmid-000${id}`, text: `reply ${id}` },
  enqueuedAt: id,
  attempts: 0,
});
const browserOnly = {
  appInfo: vi.fn(),
  notify: vi.fn(),
  setBadge: vi.fn(),
  openExternal: vi.fn(),
  onFocusSession: vi.fn(),
} as unknown as DesktopBridge;

function fakeLocal(entries: OutboxEntry[]): LocalStoreBridge & { settled: unknown[] } {
  const rows = [...entries];
  const settled: unknown[] = [];
  return {
    settled,
    open: vi.fn(async () => ok({ erasedPrevious: false })),
    history: vi.fn(async () => ok([view(1), view(2)])),
    saveHistory: vi.fn(async ({ messages }) => ok({ kept: Math.min(10, messages.length) })),
    draft: vi.fn(async () => ok(null)),
    saveDraft: vi.fn(async () => ok({ saved: true })),
    enqueue: vi.fn(async () => ok({ id: 1, duplicate: false })),
    pending: vi.fn(async () => ok([...rows])),
    settle: vi.fn(async (s) => {
      settled.push(s);
      if (s.outcome !== 'failed')
        rows.splice(
          rows.findIndex((r) => r.id === s.id),
          1,
        );
      return ok({ removed: s.outcome !== 'failed' });
    }),
    eraseCustomers: vi.fn(async () => ok({ conversations: 1, outboxDropped: 0 })),
    eraseAll: vi.fn(async () => ok({ erased: true as const })),
  };
}

describe('LocalSync (the renderer side of the desktop local store)', () => {
  it('shows local history at once, then reconciles with the server by seq', async () => {
    const sync = new LocalSync({ ...browserOnly, local: fakeLocal([]) });
    const local = await sync.openConversation('conv-1');
    expect(local.map((m) => m.seq)).toEqual([1, 2]);
    const merged = sync.reconcile(local, [view(2), view(3)]);
    expect(merged.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(merged.added).toBe(1);
  });

  it('runs one drain at a time, oldest first, stopping at a retryable failure', async () => {
    const local = fakeLocal([entry(1), entry(2)]);
    const sync = new LocalSync({ ...browserOnly, local });
    const send = vi.fn(async (e: OutboxEntry) => (e.id === 1 ? ok({}) : fail('OVERLOADED')));
    const [a, b] = [sync.drain(send), sync.drain(send)];
    expect(a).toBe(b);
    const report = await a;
    expect(report).toMatchObject({ sent: [1], stoppedAt: { entry: { id: 2 }, code: 'OVERLOADED' } });
    expect(send).toHaveBeenCalledTimes(2);
    // The next reconnect drains again.
    await sync.drain(async () => ok({}));
    expect(local.settled.at(-1)).toEqual({ id: 2, outcome: 'sent' });
  });

  it('is a quiet no-op in a browser', async () => {
    const sync = new LocalSync(browserOnly);
    expect(sync.available).toBe(false);
    expect(await sync.openConversation('conv-1')).toEqual([]);
    expect(await sync.drain(async () => ok({}))).toBeNull();
    await expect(sync.signOut()).resolves.toBeUndefined();
  });

  it('passes erasures and sign-out on to main', async () => {
    const local = fakeLocal([]);
    const sync = new LocalSync({ ...browserOnly, local });
    await sync.eraseCustomers(['cust-1']);
    await sync.signOut();
    expect(local.eraseCustomers).toHaveBeenCalledWith({ customerIds: ['cust-1'] });
    expect(local.eraseAll).toHaveBeenCalled();
  });
});
