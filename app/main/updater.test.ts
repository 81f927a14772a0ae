import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { AppUpdater } from 'electron-updater';
import { startUpdater, type AutoUpdaterLike } from './updater';

// electron-updater's real AppUpdater (what index.ts passes) fits the injected shape: a compile-time
// check that `npm run typecheck` fails if electron-updater's API drifts from what startUpdater uses.
type Fits<T extends AutoUpdaterLike> = T;
export type RealUpdaterFits = Fits<AppUpdater>;

function fakeUpdater(check: () => Promise<unknown> = async () => null) {
  const events = new EventEmitter();
  const u: AutoUpdaterLike & { feeds: unknown[]; checks: number } = {
    autoDownload: false,
    autoInstallOnAppQuit: false,
    feeds: [],
    checks: 0,
    setFeedURL: (o) => void u.feeds.push(o),
    checkForUpdates: () => (u.checks++, check()),
    on: ((e: string, l: (...a: unknown[]) => void) => events.on(e, l)) as AutoUpdaterLike['on'],
    quitAndInstall: vi.fn(),
  };
  return { u, events };
}

describe('auto-update (electron-updater, generic feed)', () => {
  it('points at the generic feed, downloads quietly, installs on quit, checks at start and on an interval', async () => {
    const { u, events } = fakeUpdater();
    let tick: () => void = () => undefined;
    const onDownloaded = vi.fn();
    const updater = startUpdater({
      autoUpdater: u,
      feedUrl: 'https://updates.example.com/huiliu/',
      channel: 'latest',
      onDownloaded,
      log: vi.fn(),
      setInterval: (fn) => ((tick = fn), 1),
      clearInterval: vi.fn(),
    });
    expect(u.feeds).toEqual([{ provider: 'generic', url: 'https://updates.example.com/huiliu/', channel: 'latest' }]);
    expect([u.autoDownload, u.autoInstallOnAppQuit]).toEqual([true, true]);
    tick();
    expect(u.checks).toBe(2);
    events.emit('update-downloaded', { version: '0.2.0' });
    expect(onDownloaded).toHaveBeenCalledWith('0.2.0');
    expect(u.quitAndInstall).not.toHaveBeenCalled();
    updater.close();
  });

  it('refuses a plain-http feed and survives a failing check', async () => {
    expect(() => startUpdater({ autoUpdater: fakeUpdater().u, feedUrl: 'http://x.example/', onDownloaded: vi.fn(), log: vi.fn() })).toThrow(
      /https only/,
    );
    const log = vi.fn();
    const { u } = fakeUpdater(async () => Promise.reject(new Error('offline')));
    const updater = startUpdater({
      autoUpdater: u,
      feedUrl: null,
      onDownloaded: vi.fn(),
      log,
      setInterval: () => 1,
      clearInterval: vi.fn(),
    });
    await updater.checkNow();
    expect(log).toHaveBeenCalledWith('updater.check-failed', { message: 'offline' });
    expect(u.feeds).toEqual([]);
  });
});
