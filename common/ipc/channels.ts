/**
 * IPC channel names and the bridge's global name, kept free of any dependency so the Electron
 * preload bundles to a few hundred bytes.
 */
export const BRIDGE_GLOBAL = 'huiliuDesktop';

export const IPC_CHANNELS = {
  appInfo: 'huiliu:app-info',
  notify: 'huiliu:notify',
  setBadge: 'huiliu:set-badge',
  openExternal: 'huiliu:open-external',
  /** main → renderer: the user clicked a notification for this session. */
  focusSession: 'huiliu:focus-session',
  /** main → renderer: the machine woke up or the network came back; reconnect the socket now. */
  reconnectNow: 'huiliu:reconnect-now',
  offerNotify: 'huiliu:offer-notify',
  offerAcknowledge: 'huiliu:offer-ack',
  setHotkey: 'huiliu:set-hotkey',
  // The local store (issue 15): history, drafts, outbox, erasure.
  localOpen: 'huiliu:local-open',
  localHistory: 'huiliu:local-history',
  localSaveHistory: 'huiliu:local-save-history',
  localDraft: 'huiliu:local-draft',
  localSaveDraft: 'huiliu:local-save-draft',
  outboxEnqueue: 'huiliu:outbox-enqueue',
  outboxPending: 'huiliu:outbox-pending',
  outboxSettle: 'huiliu:outbox-settle',
  localEraseCustomers: 'huiliu:local-erase-customers',
  localEraseAll: 'huiliu:local-erase-all',
} as const;
/** Channels main sends on (webContents.send); every other one is a renderer → main invoke. */
export const MAIN_TO_RENDERER_CHANNELS: readonly IpcChannel[] = [IPC_CHANNELS.focusSession, IPC_CHANNELS.reconnectNow];
export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];
