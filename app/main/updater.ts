/**
 * The part of electron-updater's `autoUpdater` (AppUpdater, electron-updater 6.x) this service uses, so
 * it is tested without Electron. index.ts passes `autoUpdater` from 'electron-updater' (bundled into
 * main.cjs by esbuild); updater.test.ts checks at the type level that AppUpdater fits this shape.
 */
export interface AutoUpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  /** electron-updater's generic provider: `{ provider: 'generic', url, channel? }`. */
  setFeedURL(options: { provider: 'generic'; url: string; channel?: string }): void;
  checkForUpdates(): Promise<unknown>;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
}

export interface UpdaterDeps {
  autoUpdater: AutoUpdaterLike;
  /** The generic feed (an https directory holding latest.yml / latest-mac.yml); null: the one built into app-update.yml. */
  feedUrl: string | null;
  channel?: string;
  /** Between checks, ms (default 4 h). */
  intervalMs?: number;
  /** An update is downloaded: tell the agent; it installs on quit (never mid-conversation). */
  onDownloaded(version: string): void;
  /** Counts and codes only. */
  log(event: string, fields?: Record<string, string>): void;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

/**
 * Background updates from a generic feed (electron-updater): checked at start and every few hours,
 * downloaded quietly, installed when the app quits, so an agent is never restarted during a contact.
 * Only https feeds; a failed check is logged and tried at the next interval.
 */
export function startUpdater(d: UpdaterDeps): { checkNow(): Promise<void>; close(): void } {
  if (d.feedUrl !== null) {
    if (new URL(d.feedUrl).protocol !== 'https:') throw new Error('update feed: https only');
    d.autoUpdater.setFeedURL({ provider: 'generic', url: d.feedUrl, ...(d.channel ? { channel: d.channel } : {}) });
  }
  d.autoUpdater.autoDownload = true;
  d.autoUpdater.autoInstallOnAppQuit = true;
  d.autoUpdater.on('update-downloaded', (info) => {
    d.log('updater.downloaded', { version: info.version });
    d.onDownloaded(info.version);
  });
  d.autoUpdater.on('error', (error) => d.log('updater.error', { message: error.message.slice(0, 200) }));
  const checkNow = async () => {
    try {
      await d.autoUpdater.checkForUpdates();
    } catch (error) {
      d.log('updater.check-failed', { message: error instanceof Error ? error.message.slice(0, 200) : 'unknown' });
    }
  };
  void checkNow();
  const setI = d.setInterval ?? ((fn, ms) => setInterval(fn, ms));
  const clearI = d.clearInterval ?? ((h) => clearInterval(h as ReturnType<typeof setInterval>));
  const timer = setI(() => void checkNow(), d.intervalMs ?? 4 * 3600_000);
  return { checkNow, close: () => clearI(timer) };
}
