import { describe, expect, it, vi } from 'vitest';
import { IPC_CHANNELS } from '../../common/ipc/desktop-bridge';
import { registerBridgeHandlers, type BridgeServices } from './bridge-handlers';

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
    const invokable = Object.values(IPC_CHANNELS).filter((c) => c !== IPC_CHANNELS.focusSession);
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
