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
} as const;
export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];
