import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL, IPC_CHANNELS } from '../../common/ipc/channels';
import type { DesktopBridge, ReconnectReason } from '../../common/ipc/desktop-bridge';

const RECONNECT_REASONS: readonly string[] = ['resume', 'unlock', 'online', 'network-change'] satisfies ReconnectReason[];

/** Subscribes to a main → renderer channel, passing on only values `accept` lets through, never the IPC event. */
function subscribe<T>(channel: string, accept: (value: unknown) => value is T, listener: (value: T) => void): () => void {
  // The page gets the value only, never the IPC event (which would expose the sender).
  const handler = (_event: unknown, value: unknown) => {
    if (accept(value)) listener(value);
  };
  ipcRenderer.on(channel, handler);
  return () => void ipcRenderer.removeListener(channel, handler);
}

// The whole preload: a few named functions, never ipcRenderer itself (Signal-Desktop style). Main
// validates every payload again; the preload only forwards.
const bridge: Required<DesktopBridge> = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo),
  notify: (request) => ipcRenderer.invoke(IPC_CHANNELS.notify, request),
  setBadge: (request) => ipcRenderer.invoke(IPC_CHANNELS.setBadge, request),
  openExternal: (request) => ipcRenderer.invoke(IPC_CHANNELS.openExternal, request),
  onFocusSession: (listener) =>
    subscribe(IPC_CHANNELS.focusSession, (v): v is string => typeof v === 'string' && /^[A-Z]{2}\d{18}$/.test(v), listener),
  onReconnectNow: (listener) =>
    subscribe(IPC_CHANNELS.reconnectNow, (v): v is ReconnectReason => typeof v === 'string' && RECONNECT_REASONS.includes(v), listener),
  notifyOffer: (request) => ipcRenderer.invoke(IPC_CHANNELS.offerNotify, request),
  acknowledgeOffer: (request) => ipcRenderer.invoke(IPC_CHANNELS.offerAcknowledge, request),
  setHotkey: (request) => ipcRenderer.invoke(IPC_CHANNELS.setHotkey, request),
  local: {
    open: (request) => ipcRenderer.invoke(IPC_CHANNELS.localOpen, request),
    history: (request) => ipcRenderer.invoke(IPC_CHANNELS.localHistory, request),
    saveHistory: (request) => ipcRenderer.invoke(IPC_CHANNELS.localSaveHistory, request),
    draft: (request) => ipcRenderer.invoke(IPC_CHANNELS.localDraft, request),
    saveDraft: (request) => ipcRenderer.invoke(IPC_CHANNELS.localSaveDraft, request),
    enqueue: (request) => ipcRenderer.invoke(IPC_CHANNELS.outboxEnqueue, request),
    pending: () => ipcRenderer.invoke(IPC_CHANNELS.outboxPending),
    settle: (request) => ipcRenderer.invoke(IPC_CHANNELS.outboxSettle, request),
    eraseCustomers: (request) => ipcRenderer.invoke(IPC_CHANNELS.localEraseCustomers, request),
    eraseAll: () => ipcRenderer.invoke(IPC_CHANNELS.localEraseAll),
  },
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge);
