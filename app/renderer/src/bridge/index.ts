import { BRIDGE_GLOBAL, type DesktopBridge } from '../../../../common/ipc/desktop-bridge';
import { createBrowserBridge } from './browser';

/** The Electron preload's bridge when running in the desktop app, otherwise the browser one. */
export function resolveBridge(win: Window = window): DesktopBridge {
  const injected = (win as unknown as Record<string, unknown>)[BRIDGE_GLOBAL] as DesktopBridge | undefined;
  return injected ?? createBrowserBridge(win);
}
