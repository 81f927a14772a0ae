/** The slice of Electron's `app` the single-instance lock uses. */
export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: () => void): void;
}

/** The slice of BrowserWindow that bringing the workstation to the front uses. */
export interface FocusableWindow {
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

/** Brings the window to the front: restored if minimized, shown if hidden (tray), focused. */
export function focusWindow(win: FocusableWindow | null): boolean {
  if (!win) return false;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
  return true;
}

/**
 * One workstation per OS user: a second launch quits at once and the first one comes to the front
 * (two instances would share the local store's file and race on the outbox). Returns whether this
 * process holds the lock and should go on starting.
 */
export function claimSingleInstance(app: SingleInstanceApp, window: () => FocusableWindow | null): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => void focusWindow(window()));
  return true;
}
