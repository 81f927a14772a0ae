import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  globalShortcut,
  ipcMain,
  Menu,
  nativeImage,
  net,
  Notification,
  powerMonitor,
  safeStorage,
  session,
  shell,
  Tray,
  type MenuItemConstructorOptions,
} from 'electron';
import { autoUpdater } from 'electron-updater';
import { IPC_CHANNELS } from '../../common/ipc/channels';
import type { ReconnectReason } from '../../common/ipc/desktop-bridge';
import { createBadgeSetter } from './badge';
import { registerBridgeHandlers } from './bridge-handlers';
import { registerFocusHotkey, type FocusHotkey } from './hotkey';
import { mainLocale, mainStrings } from './i18n';
import { LocalStore } from './local-store';
import { OfferNotifications } from './offer-notifications';
import { networkFingerprint, watchReconnectTriggers } from './reconnect';
import { createCertificateVerifier, isAllowedNavigation } from './security';
import { PreferenceStore, resolveSettings } from './settings';
import { claimSingleInstance, focusWindow } from './single-instance';
import { TrayService } from './tray';
import { startUpdater } from './updater';
import { createWorkstationWindow, type WindowFactory } from './window';
import { rememberZoom } from './zoom';

// Composition root of the desktop app: the only file that touches Electron's globals. Everything it
// wires is a plain service with Electron APIs passed in, covered by Node tests.
const settings = resolveSettings(process.env, process.cwd());
let mainWindow: BrowserWindow | null = null;
let quitting = false;
const closers: (() => void)[] = [];

app.enableSandbox();
// A second launch focuses this one and quits (issue 15); nothing below runs in it.
const primary = claimSingleInstance(app, () => mainWindow);

const assets = join(__dirname, '..', 'assets');
const send = (channel: string, value: unknown) => mainWindow?.webContents.send(channel, value);

/** Main's log: one JSON line per event on stderr, with counts and codes only (DESIGN §8: no personal data). */
const log = (event: string, fields: Record<string, number | string> = {}) =>
  void process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), event, ...fields })}\n`);

function openLocalStore(): LocalStore | null {
  try {
    return new LocalStore({
      file: join(app.getPath('userData'), 'local-store.db'),
      safeStorage,
      log,
    });
  } catch (error) {
    log('local-store.open-failed', { error: error instanceof Error ? error.name : 'unknown' });
    return null;
  }
}

if (primary)
  void app.whenReady().then(() => {
    const strings = mainStrings(mainLocale(app.getLocale()));
    const prefs = new PreferenceStore(join(app.getPath('userData'), 'preferences.json'));
    const verify = createCertificateVerifier(settings.serverUrl, settings.caFingerprint);
    session.defaultSession.setCertificateVerifyProc((request, callback) => callback(verify(request)));
    // The page gets no device permissions (camera and microphone arrive with the softphone, gated here).
    session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'notifications'));

    const show = () => void focusWindow(mainWindow);
    const tray = new TrayService({
      platform: process.platform,
      createTray: () => new Tray(nativeImage.createFromPath(join(assets, process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png'))),
      buildMenu: (items) => Menu.buildFromTemplate(items),
      strings,
      onShow: show,
      onQuit: () => app.quit(),
    });
    closers.push(() => tray.destroy());
    const focusSession = (sessionId: string) => {
      show();
      send(IPC_CHANNELS.focusSession, sessionId);
    };
    const offers = new OfferNotifications({
      isSupported: () => Notification.isSupported(),
      create: (o) => new Notification(o),
      focusSession,
      onPendingChange: (n) => tray.setPendingOffers(n),
    });
    closers.push(() => offers.clear());
    const localStore = openLocalStore();
    if (localStore) closers.push(() => localStore.close());

    const hotkey: FocusHotkey = registerFocusHotkey(globalShortcut, prefs.get().focusHotkey, show);
    closers.push(() => hotkey.dispose());

    registerBridgeHandlers({
      ipcMain,
      appVersion: app.getVersion(),
      platform: process.platform,
      showNotification(title, body, onClick) {
        if (!Notification.isSupported()) return false;
        const n = new Notification({ title, body });
        n.on('click', onClick);
        n.show();
        return true;
      },
      setBadgeCount: createBadgeSetter({
        platform: process.platform,
        setBadgeCount: (count) => void app.setBadgeCount(count),
        setOverlay: (withBadge, description) =>
          mainWindow?.setOverlayIcon(withBadge ? nativeImage.createFromPath(join(assets, 'badge.png')) : null, description),
        describe: strings.waitingBadge,
        tray,
      }),
      openExternal: (url) => shell.openExternal(url),
      focusSession,
      isTrustedSender: (url) => isAllowedNavigation(url, settings.serverUrl),
      localStore,
      offers,
      setHotkey: (accelerator) => {
        const registered = hotkey.change(accelerator);
        if (registered) prefs.set({ focusHotkey: accelerator });
        return { accelerator: hotkey.accelerator, registered };
      },
      onSignedOut: () => offers.clear(),
    });

    const reconnect = watchReconnectTriggers({
      powerMonitor,
      isOnline: () => net.isOnline(),
      networkFingerprint: () => networkFingerprint(networkInterfaces()),
      signal: (reason: ReconnectReason) => {
        send(IPC_CHANNELS.reconnectNow, reason);
        if (reason === 'resume' || reason === 'unlock') offers.reshow();
      },
    });
    closers.push(() => reconnect.close());

    mainWindow = createWorkstationWindow((options) => new BrowserWindow(options) as unknown as ReturnType<WindowFactory>, {
      server: settings.serverUrl,
      preloadPath: join(__dirname, 'preload.cjs'),
      openExternal: (url) => void shell.openExternal(url),
    }) as unknown as BrowserWindow;
    const zoom = rememberZoom(mainWindow.webContents, prefs);
    // Auto-update (docs/desktop.md): the generic feed built into app-update.yml; a packaged app only
    // (electron-updater has no feed in a development run). Installs on quit, never mid-contact.
    if (app.isPackaged) {
      const updater = startUpdater({
        autoUpdater,
        feedUrl: null,
        onDownloaded: (version) => {
          if (Notification.isSupported()) new Notification({ title: strings.updateReady, body: strings.updateReadyBody(version) }).show();
        },
        log,
      });
      closers.push(() => updater.close());
    }
    // Closing the window keeps the app in the tray (offers still notify); Quit in the tray menu ends it.
    mainWindow.on('close', (event) => {
      if (quitting) return;
      event.preventDefault();
      mainWindow?.hide();
    });

    const zoomItems: MenuItemConstructorOptions[] = [
      { label: strings.zoomIn, accelerator: 'CommandOrControl+=', click: () => zoom.zoomIn() },
      { label: strings.zoomOut, accelerator: 'CommandOrControl+-', click: () => zoom.zoomOut() },
      { label: strings.zoomReset, accelerator: 'CommandOrControl+0', click: () => zoom.reset() },
    ];
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
        { role: 'editMenu' },
        { label: strings.view, submenu: zoomItems },
        { role: 'windowMenu' },
      ]),
    );
  });

app.on('web-contents-created', (_event, contents) => {
  // No window may attach a <webview> or open another window (DESIGN §8).
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.on('activate', () => void focusWindow(mainWindow));
app.on('before-quit', () => {
  quitting = true;
});
// Global shortcuts, timers and the store's file handle go with the app (Electron requires
// unregistering shortcuts before quit).
app.on('will-quit', () => {
  for (const close of closers.splice(0).reverse()) close();
});
