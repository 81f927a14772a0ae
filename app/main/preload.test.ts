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
    expect(Object.keys(bridge).sort()).toEqual(['appInfo', 'notify', 'onFocusSession', 'openExternal', 'setBadge']);
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
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
