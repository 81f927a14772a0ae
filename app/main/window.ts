import { isAllowedNavigation, isExternalLink, secureWebPreferences } from './security';

/** The slice of Electron's BrowserWindow/WebContents the window service uses (tests inject fakes). */
export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}
export interface WindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  show(): void;
}
export type WindowFactory = (options: Record<string, unknown>) => WindowLike;

export interface WorkstationWindowOptions {
  server: URL;
  preloadPath: string;
  iconPath?: string;
  openExternal: (url: string) => void;
}

/**
 * Creates the workstation window: isolated, sandboxed, no Node in the page; it shows only the
 * companion server's `/app/`, and any other link opens in the system browser.
 */
export function createWorkstationWindow(create: WindowFactory, o: WorkstationWindowOptions): WindowLike {
  const win = create({
    width: 1360,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Huiliu',
    backgroundColor: '#f4f6f8',
    ...(o.iconPath ? { icon: o.iconPath } : {}),
    webPreferences: secureWebPreferences(o.preloadPath),
  });
  const guard = (event: { preventDefault(): void }, url: string) => {
    if (isAllowedNavigation(url, o.server)) return;
    event.preventDefault();
    if (isExternalLink(url)) o.openExternal(url);
  };
  win.webContents.on('will-navigate', guard);
  win.webContents.on('will-redirect', guard);
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) o.openExternal(url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(new URL('/app/', o.server).toString());
  return win;
}
