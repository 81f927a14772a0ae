import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BRIDGE_GLOBAL, IPC_CHANNELS } from '../../common/ipc/channels';
import type { DesktopBridge } from '../../common/ipc/desktop-bridge';

const exposed: Record<string, unknown> = {};
const listeners = new Map<string, (event: unknown, ...args: unknown[]) => void>();
const ipcRenderer = {
  invoke: vi.fn(async (channel: string, payload?: unknown) => ({ ok: true, data: { channel, payload } })),
  on: vi.fn((channel: string, l: (event: unknown, ...args: unknown[]) => void) => void listeners.set(channel, l)),
  removeListener: vi.fn((channel: string) => void listeners.delete(channel)),
};
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api) },
  ipcRenderer,
}));

describe('preload (the whole surface the page gets)', () => {
  let bridge: DesktopBridge;
  beforeAll(async () => {
    await import('./preload');
    bridge = exposed[BRIDGE_GLOBAL] as DesktopBridge;
  });

  it('exposes exactly the DesktopBridge functions under one global, never ipcRenderer', () => {
    expect(Object.keys(exposed)).toEqual([BRIDGE_GLOBAL]);
    expect(Object.keys(bridge).sort()).toEqual([
      'acknowledgeOffer',
      'appInfo',
      'local',
      'notify',
      'notifyOffer',
      'onFocusSession',
      'onReconnectNow',
      'openExternal',
      'setBadge',
      'setHotkey',
    ]);
    const { local, ...top } = bridge;
    expect(Object.values(top).every((v) => typeof v === 'function')).toBe(true);
    expect(Object.keys(local!).sort()).toEqual([
      'draft',
      'enqueue',
      'eraseAll',
      'eraseCustomers',
      'history',
      'open',
      'pending',
      'saveDraft',
      'saveHistory',
      'settle',
    ]);
    expect(Object.values(local!).every((v) => typeof v === 'function')).toBe(true);
  });

  it('sends every function on its own invoke channel, and only on channels main handles', async () => {
    ipcRenderer.invoke.mockClear();
    await bridge.local!.history({ conversationId: 'conv-1' });
    await bridge.local!.pending();
    await bridge.local!.eraseAll();
    await bridge.notifyOffer!({ title: 't', body: 'b', sessionId: 'WB169208100012348213', expiresAt: '2026-11-30T10:00:00Z' });
    expect(ipcRenderer.invoke.mock.calls.map((c) => c[0])).toEqual([
      IPC_CHANNELS.localHistory,
      IPC_CHANNELS.outboxPending,
      IPC_CHANNELS.localEraseAll,
      IPC_CHANNELS.offerNotify,
    ]);
  });

  it('passes on only known reconnect reasons', () => {
    const got: string[] = [];
    const off = bridge.onReconnectNow!((r) => got.push(r));
    const fire = listeners.get(IPC_CHANNELS.reconnectNow)!;
    fire({}, 'resume');
    fire({}, 'network-change');
    fire({}, 'reboot');
    fire({}, { reason: 'resume' });
    expect(got).toEqual(['resume', 'network-change']);
    off();
    expect(listeners.has(IPC_CHANNELS.reconnectNow)).toBe(false);
  });

  it('invokes the typed channels', async () => {
    await bridge.setBadge({ count: 2 });
    expect(ipcRenderer.invoke).toHaveBeenCalledWith(IPC_CHANNELS.setBadge, { count: 2 });
  });

  it('passes on only well-formed session IDs, without the IPC event, and unsubscribes', () => {
    const got: string[] = [];
    const off = bridge.onFocusSession((id) => got.push(id));
    const fire = listeners.get(IPC_CHANNELS.focusSession)!;
    fire({ sender: 'secret' }, 'WB169208100012348213');
    fire({}, '<img src=x>');
    fire({}, 42);
    expect(got).toEqual(['WB169208100012348213']);
    off();
    expect(listeners.has(IPC_CHANNELS.focusSession)).toBe(false);
  });
});
