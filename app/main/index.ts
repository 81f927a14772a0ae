import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, nativeImage, Notification, session, shell } from 'electron';
import { IPC_CHANNELS } from '../../common/ipc/channels';
import { createBadgeSetter } from './badge';
import { registerBridgeHandlers } from './bridge-handlers';
import { createCertificateVerifier, isAllowedNavigation } from './security';
import { resolveSettings } from './settings';
import { createWorkstationWindow, type WindowFactory } from './window';

// Composition root of the desktop app: the only file that touches Electron's globals. Everything it
// wires is a plain service with Electron APIs passed in, covered by Node tests.
const settings = resolveSettings(process.env, process.cwd());
let mainWindow: BrowserWindow | null = null;

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

app.on('second-instance', () => mainWindow?.focus());

app.whenReady().then(() => {
  const verify = createCertificateVerifier(settings.serverUrl, settings.caFingerprint);
  session.defaultSession.setCertificateVerifyProc((request, callback) => callback(verify(request)));
  // The page gets no device permissions (camera and microphone arrive with the softphone, gated here).
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'notifications'));

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
        mainWindow?.setOverlayIcon(
          withBadge ? nativeImage.createFromPath(join(__dirname, '..', 'assets', 'badge.png')) : null,
          description,
        ),
    }),
    openExternal: (url) => shell.openExternal(url),
    focusSession: (sessionId) => {
      mainWindow?.focus();
      mainWindow?.webContents.send(IPC_CHANNELS.focusSession, sessionId);
    },
    isTrustedSender: (url) => isAllowedNavigation(url, settings.serverUrl),
  });

  mainWindow = createWorkstationWindow((options) => new BrowserWindow(options) as unknown as ReturnType<WindowFactory>, {
    server: settings.serverUrl,
    preloadPath: join(__dirname, 'preload.cjs'),
    openExternal: (url) => void shell.openExternal(url),
  }) as unknown as BrowserWindow;
});

app.on('web-contents-created', (_event, contents) => {
  // No window may attach a <webview> or open another window (DESIGN §8).
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
