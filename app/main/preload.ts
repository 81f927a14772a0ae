import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL, IPC_CHANNELS } from '../../common/ipc/channels';
import type { DesktopBridge } from '../../common/ipc/desktop-bridge';

// The whole preload: a few named functions, never ipcRenderer itself (Signal-Desktop style).
const bridge: DesktopBridge = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo),
  notify: (request) => ipcRenderer.invoke(IPC_CHANNELS.notify, request),
  setBadge: (request) => ipcRenderer.invoke(IPC_CHANNELS.setBadge, request),
  openExternal: (request) => ipcRenderer.invoke(IPC_CHANNELS.openExternal, request),
  onFocusSession: (listener) => {
    // The page gets the session ID only, never the IPC event (which would expose the sender).
    const handler = (_event: unknown, sessionId: unknown) => {
      if (typeof sessionId === 'string' && /^[A-Z]{2}\d{18}$/.test(sessionId)) listener(sessionId);
    };
    ipcRenderer.on(IPC_CHANNELS.focusSession, handler);
    return () => void ipcRenderer.removeListener(IPC_CHANNELS.focusSession, handler);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge);
