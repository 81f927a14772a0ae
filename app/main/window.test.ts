import { describe, expect, it, vi } from 'vitest';
import { createWorkstationWindow, type WindowLike } from './window';

function fakeWindow() {
  const listeners: Record<string, (event: { preventDefault(): void }, url: string) => void> = {};
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  let options: Record<string, unknown> = {};
  const win: WindowLike & { loaded: string[] } = {
    loaded: [],
    webContents: {
      on: (event, l) => void (listeners[event] = l),
      setWindowOpenHandler: (h) => void (openHandler = h),
    },
    loadURL: async (url) => void win.loaded.push(url),
    once: (_e, l) => l(),
    show: vi.fn(),
  };
  return {
    factory: (o: Record<string, unknown>) => ((options = o), win),
    win,
    listeners,
    open: (url: string) => openHandler!({ url }),
    options: () => options,
  };
}

describe('workstation window', () => {
  const server = new URL('https://127.0.0.1:8443');

  it('loads the server /app/ with secure web preferences and shows when ready', () => {
    const f = fakeWindow();
    createWorkstationWindow(f.factory, { server, preloadPath: '/x/preload.cjs', openExternal: vi.fn() });
    expect(f.win.loaded).toEqual(['https://127.0.0.1:8443/app/']);
    expect(f.options().webPreferences).toMatchObject({
      preload: '/x/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    expect(f.win.show).toHaveBeenCalled();
  });

  it('blocks navigation away from the workstation and opens web links outside', () => {
    const f = fakeWindow();
    const openExternal = vi.fn();
    createWorkstationWindow(f.factory, { server, preloadPath: '/p', openExternal });
    const stay = { preventDefault: vi.fn() };
    f.listeners['will-navigate']!(stay, 'https://127.0.0.1:8443/app/');
    expect(stay.preventDefault).not.toHaveBeenCalled();
    const away = { preventDefault: vi.fn() };
    f.listeners['will-navigate']!(away, 'https://phish.example/login');
    expect(away.preventDefault).toHaveBeenCalled();
    expect(openExternal).toHaveBeenCalledWith('https://phish.example/login');
    const file = { preventDefault: vi.fn() };
    f.listeners['will-redirect']!(file, 'file:///etc/passwd');
    expect(file.preventDefault).toHaveBeenCalled();
    expect(openExternal).toHaveBeenCalledTimes(1);
  });

  it('never opens a second window', () => {
    const f = fakeWindow();
    const openExternal = vi.fn();
    createWorkstationWindow(f.factory, { server, preloadPath: '/p', openExternal });
    expect(f.open('https://docs.example/help')).toEqual({ action: 'deny' });
    expect(f.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
  });
});
