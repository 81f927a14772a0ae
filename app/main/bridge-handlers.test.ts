import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { IPC_CHANNELS, MAIN_TO_RENDERER_CHANNELS } from '../../common/ipc/desktop-bridge';
import { registerBridgeHandlers, type BridgeServices } from './bridge-handlers';
import { LocalStore } from './local-store';
import { createTestSafeStorage } from './local-store/fake-safe-storage';
import { FIXTURE_SESSION, messageView } from './local-store/fixtures';
import { OfferNotifications } from './offer-notifications';

function setup(overrides: Partial<BridgeServices> = {}) {
  const registered = new Map<string, (event: { senderFrame: { url: string } | null }, payload: unknown) => unknown>();
  const services: BridgeServices = {
    ipcMain: { handle: (channel, listener) => void registered.set(channel, listener) },
    appVersion: '0.1.0',
    platform: 'win32',
    showNotification: vi.fn(() => true),
    setBadgeCount: vi.fn(),
    openExternal: vi.fn(async () => undefined),
    focusSession: vi.fn(),
    isTrustedSender: (url) => url.startsWith('https://127.0.0.1:8443/app/'),
    ...overrides,
  };
  registerBridgeHandlers(services);
  const trusted = { senderFrame: { url: 'https://127.0.0.1:8443/app/' } };
  const call = (channel: string, payload?: unknown, event: { senderFrame: { url: string } | null } = trusted) =>
    registered.get(channel)!(event, payload);
  return { services, registered, call };
}

describe('desktop bridge handlers (app/main)', () => {
  it('registers exactly the channels of the typed bridge', () => {
    const invokable = Object.values(IPC_CHANNELS).filter((c) => !MAIN_TO_RENDERER_CHANNELS.includes(c));
    expect([...setup().registered.keys()].sort()).toEqual(invokable.sort());
  });

  it('answers appInfo', async () => {
    expect(await setup().call(IPC_CHANNELS.appInfo)).toEqual({
      ok: true,
      data: { runtime: 'electron', version: '0.1.0', platform: 'win32' },
    });
  });

  it('shows a notification and focuses the session when it is clicked', async () => {
    let click: () => void = () => undefined;
    const { services, call } = setup({
      showNotification: vi.fn((_t: string, _b: string, onClick: () => void) => ((click = onClick), true)),
    });
    expect(await call(IPC_CHANNELS.notify, { title: 'New contact', body: 'hi', sessionId: 'WB169208100012348213' })).toEqual({
      ok: true,
      data: { shown: true },
    });
    click();
    expect(services.focusSession).toHaveBeenCalledWith('WB169208100012348213');
  });

  it('validates input with the shared schemas and answers with a coded error', async () => {
    const { services, call } = setup();
    const bad = (await call(IPC_CHANNELS.setBadge, { count: -1 })) as { ok: boolean; error: { code: string } };
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(services.setBadgeCount).not.toHaveBeenCalled();
    expect(await call(IPC_CHANNELS.setBadge, { count: 3 })).toEqual({ ok: true, data: { count: 3 } });
    expect(services.setBadgeCount).toHaveBeenCalledWith(3);
  });

  it('opens only http(s) links externally', async () => {
    const { services, call } = setup();
    expect(await call(IPC_CHANNELS.openExternal, { url: 'file:///etc/passwd' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await call(IPC_CHANNELS.openExternal, { url: 'https://help.example.com' })).toEqual({ ok: true, data: { opened: true } });
    expect(services.openExternal).toHaveBeenCalledTimes(1);
  });

  it('refuses callers that are not the workstation page', async () => {
    const { services, call } = setup();
    expect(await call(IPC_CHANNELS.setBadge, { count: 1 }, { senderFrame: { url: 'https://evil.example/app/' } })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await call(IPC_CHANNELS.setBadge, { count: 1 }, { senderFrame: null })).toMatchObject({ ok: false });
    expect(services.setBadgeCount).not.toHaveBeenCalled();
  });

  it('turns a failing Electron API into INTERNAL instead of throwing into the renderer', async () => {
    const { call } = setup({ openExternal: vi.fn(async () => Promise.reject(new Error('no shell'))) });
    expect(await call(IPC_CHANNELS.openExternal, { url: 'https://x.example' })).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});

describe('desktop bridge handlers: local store, offers, hotkey (issue 15)', () => {
  type Answer = { ok: boolean; data?: unknown; error?: { code: string; details?: unknown } };
  function withStore() {
    const store = new LocalStore({
      file: join(mkdtempSync(join(tmpdir(), 'huiliu-bridge-')), 'local.db'),
      safeStorage: createTestSafeStorage(),
    });
    const offers = new OfferNotifications({
      isSupported: () => true,
      create: () => ({ show: vi.fn(), close: vi.fn(), on: vi.fn() }),
      focusSession: vi.fn(),
    });
    const onSignedOut = vi.fn(() => offers.clear());
    const setHotkey = vi.fn((accelerator: string) => ({ accelerator, registered: true }));
    const s = setup({ localStore: store, offers, onSignedOut, setHotkey });
    return { ...s, store, offers, onSignedOut, setHotkey, invoke: async (c: string, p?: unknown) => (await s.call(c, p)) as Answer };
  }
  const reply = {
    kind: 'reply',
    clientMessageId: 'cmid-0001',
    conversationId: 'conv-1',
    customerId: 'cust-1',
    payload: { sessionId: FIXTURE_SESSION, clientMessageId: 'cmid-0001', text: 'Your parcel ships today.' },
  };

  it('opens local history at once after sign-in, and refuses before it with UNAUTHENTICATED', async () => {
    const { invoke } = withStore();
    expect(await invoke(IPC_CHANNELS.localHistory, { conversationId: 'conv-1' })).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' },
    });
    expect(await invoke(IPC_CHANNELS.localOpen, { userId: 'agent1' })).toEqual({ ok: true, data: { erasedPrevious: false } });
    const messages = [1, 2].map((seq) => messageView('conv-1', seq));
    expect(await invoke(IPC_CHANNELS.localSaveHistory, { conversationId: 'conv-1', customerId: 'cust-1', messages })).toEqual({
      ok: true,
      data: { kept: 2 },
    });
    expect(await invoke(IPC_CHANNELS.localHistory, { conversationId: 'conv-1' })).toEqual({ ok: true, data: messages });
  });

  it('rejects bad input on every local-store channel with VALIDATION_FAILED and touches nothing', async () => {
    const { invoke, store } = withStore();
    await invoke(IPC_CHANNELS.localOpen, { userId: 'agent1' });
    const bad: [string, unknown][] = [
      [IPC_CHANNELS.localOpen, { userId: '' }],
      [IPC_CHANNELS.localHistory, { conversationId: 'x'.repeat(65) }],
      [
        IPC_CHANNELS.localSaveHistory,
        { conversationId: 'conv-1', customerId: 'cust-1', messages: [{ seq: 1, text: 'not a MessageView' }] },
      ],
      [
        IPC_CHANNELS.localSaveHistory,
        { conversationId: 'conv-1', customerId: 'cust-1', messages: Array(51).fill(messageView('conv-1', 1)) },
      ],
      [IPC_CHANNELS.localDraft, null],
      [IPC_CHANNELS.localSaveDraft, { conversationId: 'conv-1', customerId: 'cust-1', text: 'x'.repeat(8001) }],
      [IPC_CHANNELS.outboxEnqueue, { ...reply, kind: 'typing' }],
      [IPC_CHANNELS.outboxEnqueue, { ...reply, payload: { ...reply.payload, text: '   ' } }],
      [IPC_CHANNELS.outboxEnqueue, { ...reply, payload: { ...reply.payload, sessionId: '../../etc' } }],
      [IPC_CHANNELS.outboxSettle, { id: 0, outcome: 'sent' }],
      [IPC_CHANNELS.outboxSettle, { id: 1, outcome: 'gone' }],
      [IPC_CHANNELS.localEraseCustomers, { customerIds: [] }],
      [IPC_CHANNELS.offerNotify, { title: 'New', body: 'x', sessionId: FIXTURE_SESSION }],
      [IPC_CHANNELS.offerAcknowledge, { sessionId: 'nope' }],
      [IPC_CHANNELS.setHotkey, { accelerator: 'H' }],
    ];
    for (const [channel, payload] of bad) {
      const answer = await invoke(channel, payload);
      expect(answer, channel).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect(JSON.stringify(answer.error?.details)).not.toContain('not a MessageView');
    }
    expect(store.counts()).toEqual({ history: 0, draft: 0, outbox: 0, conversation: 0 });
  });

  it('queues, lists and settles outbox entries; a repeat of the same key is one entry', async () => {
    const { invoke } = withStore();
    await invoke(IPC_CHANNELS.localOpen, { userId: 'agent1' });
    expect(await invoke(IPC_CHANNELS.outboxEnqueue, reply)).toEqual({ ok: true, data: { id: 1, duplicate: false } });
    expect(await invoke(IPC_CHANNELS.outboxEnqueue, reply)).toEqual({ ok: true, data: { id: 1, duplicate: true } });
    const pending = (await invoke(IPC_CHANNELS.outboxPending)) as { ok: true; data: { clientMessageId: string }[] };
    expect(pending.data.map((e) => e.clientMessageId)).toEqual(['cmid-0001']);
    expect(await invoke(IPC_CHANNELS.outboxSettle, { id: 1, outcome: 'sent' })).toEqual({ ok: true, data: { removed: true } });
  });

  it("erases a customer on the server's order and everything on sign-out (offer notifications too)", async () => {
    const { invoke, store, offers, onSignedOut } = withStore();
    await invoke(IPC_CHANNELS.localOpen, { userId: 'agent1' });
    await invoke(IPC_CHANNELS.localSaveDraft, { conversationId: 'conv-1', customerId: 'cust-1', text: 'draft' });
    await invoke(IPC_CHANNELS.outboxEnqueue, reply);
    expect(await invoke(IPC_CHANNELS.localEraseCustomers, { customerIds: ['cust-1'] })).toEqual({
      ok: true,
      data: { conversations: 1, outboxDropped: 1 },
    });
    expect(await invoke(IPC_CHANNELS.localDraft, { conversationId: 'conv-1' })).toEqual({ ok: true, data: null });
    await invoke(IPC_CHANNELS.offerNotify, {
      title: 'New contact',
      body: 'hi',
      sessionId: FIXTURE_SESSION,
      expiresAt: new Date(Date.now() + 20_000).toISOString(),
    });
    expect(offers.pending()).toEqual([FIXTURE_SESSION]);
    expect(await invoke(IPC_CHANNELS.localEraseAll)).toEqual({ ok: true, data: { erased: true } });
    expect(onSignedOut).toHaveBeenCalled();
    expect(offers.pending()).toEqual([]);
    expect(() => store.pending()).toThrow();
  });

  it('moves the hotkey through the bridge', async () => {
    const { invoke, setHotkey } = withStore();
    expect(await invoke(IPC_CHANNELS.setHotkey, { accelerator: 'Alt+Shift+J' })).toEqual({
      ok: true,
      data: { accelerator: 'Alt+Shift+J', registered: true },
    });
    expect(setHotkey).toHaveBeenCalledWith('Alt+Shift+J');
  });

  it('answers NOT_READY when the local store could not open, never throwing into the page', async () => {
    const { call } = setup({ localStore: null });
    expect(await call(IPC_CHANNELS.localHistory, { conversationId: 'conv-1' })).toMatchObject({ ok: false, error: { code: 'NOT_READY' } });
    expect(await call(IPC_CHANNELS.localEraseAll)).toEqual({ ok: true, data: { erased: true } });
  });

  it('refuses the local store to callers that are not the workstation page', async () => {
    const { call, store } = withStore();
    store.bindUser('agent1');
    store.saveDraft('conv-1', 'cust-1', 'secret');
    expect(
      await call(IPC_CHANNELS.localDraft, { conversationId: 'conv-1' }, { senderFrame: { url: 'https://127.0.0.1:8443/widget' } }),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });
});
