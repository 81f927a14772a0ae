import { describe, expect, it, vi } from 'vitest';
import { createBadgeSetter } from './badge';
import { mainLocale, mainStrings } from './i18n';
import { TrayService, type TrayLike } from './tray';

describe('waiting-contacts badge', () => {
  it('uses the dock / launcher count on macOS and Linux', () => {
    const apis = { platform: 'darwin', setBadgeCount: vi.fn(), setOverlay: vi.fn() };
    createBadgeSetter(apis)(4);
    expect(apis.setBadgeCount).toHaveBeenCalledWith(4);
    expect(apis.setOverlay).not.toHaveBeenCalled();
  });

  it('uses a taskbar overlay on Windows, cleared at zero', () => {
    const apis = { platform: 'win32', setBadgeCount: vi.fn(), setOverlay: vi.fn() };
    const set = createBadgeSetter(apis);
    set(3);
    set(0);
    expect(apis.setOverlay.mock.calls).toEqual([
      [true, '3 waiting'],
      [false, ''],
    ]);
    expect(apis.setBadgeCount).not.toHaveBeenCalled();
  });
});

describe('tray icon with the waiting count', () => {
  function fakeTray() {
    const state = {
      tooltip: '',
      title: '',
      menus: [] as { label: string; click: () => void }[][],
      clicks: [] as (() => void)[],
      destroyed: false,
    };
    const tray: TrayLike = {
      setToolTip: (t) => void (state.tooltip = t),
      setTitle: (t) => void (state.title = t),
      setContextMenu: (m) => void state.menus.push(m as { label: string; click: () => void }[]),
      on: (_e, l) => void state.clicks.push(l),
      destroy: () => void (state.destroyed = true),
    };
    return { tray, state };
  }
  const setup = (platform: string, locale: 'en' | 'zh' = 'en') => {
    const { tray, state } = fakeTray();
    const onShow = vi.fn();
    const onQuit = vi.fn();
    const service = new TrayService({
      platform,
      createTray: () => tray,
      buildMenu: (items) => items,
      strings: mainStrings(locale),
      onShow,
      onQuit,
    });
    return { service, state, onShow, onQuit };
  };

  it('follows the badge count in tooltip, menu and (macOS) menu-bar title', () => {
    const { service, state } = setup('darwin');
    const badge = createBadgeSetter({ platform: 'darwin', setBadgeCount: vi.fn(), setOverlay: vi.fn(), tray: service });
    badge(7);
    expect(state.tooltip).toBe('Huiliu — 7 waiting');
    expect(state.title).toBe('7');
    expect(state.menus.at(-1)!.map((i) => i.label)).toEqual(['Show Huiliu (7)', 'Quit Huiliu']);
    badge(0);
    expect(state.tooltip).toBe('Huiliu — nothing waiting');
    expect(state.title).toBe('');
  });

  it('adds pending offer notifications, speaks Chinese on a Chinese OS, and leaves the title alone on Windows', () => {
    const { service, state } = setup('win32', mainLocale('zh-CN'));
    service.setWaiting(3);
    service.setPendingOffers(2);
    expect(state.tooltip).toBe('汇流 — 3 位客户等待中 · 2 个新分配');
    expect(state.title).toBe('');
  });

  it('brings the window up on click and from the menu, and quits from the menu', () => {
    const { state, onShow, onQuit } = setup('win32');
    state.clicks[0]!();
    state.menus.at(-1)![0]!.click();
    state.menus.at(-1)![1]!.click();
    expect(onShow).toHaveBeenCalledTimes(2);
    expect(onQuit).toHaveBeenCalledTimes(1);
  });
});
