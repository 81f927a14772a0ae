import { z } from 'zod';
import type { Result } from '../errors/codes';

/**
 * The typed, narrow bridge between the workstation renderer and privileged code (DESIGN §8).
 * Electron: implemented by `app/main/preload` over IPC, handled in `app/main/bridge`.
 * Browser (tests, `/app/` in a browser): implemented in `app/renderer/bridge/browser.ts`.
 * The renderer talks to nothing else that is privileged.
 */
export { BRIDGE_GLOBAL, IPC_CHANNELS, type IpcChannel } from './channels';

export const NotifySchema = z.object({
  title: z.string().min(1).max(120),
  body: z.string().max(300),
  /** Session to focus when the notification is clicked. */
  sessionId: z.string().max(32).optional(),
});
export type NotifyRequest = z.infer<typeof NotifySchema>;

export const SetBadgeSchema = z.object({ count: z.number().int().min(0).max(9999) });
export type SetBadgeRequest = z.infer<typeof SetBadgeSchema>;

export const OpenExternalSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2048),
});
export type OpenExternalRequest = z.infer<typeof OpenExternalSchema>;

export interface AppInfo {
  runtime: 'electron' | 'browser';
  version: string;
  platform: string;
}

export interface DesktopBridge {
  appInfo(): Promise<Result<AppInfo>>;
  /** A system notification, e.g. a new offer while the window is in the background. */
  notify(request: NotifyRequest): Promise<Result<{ shown: boolean }>>;
  /** The count of waiting contacts on the dock / taskbar icon. */
  setBadge(request: SetBadgeRequest): Promise<Result<{ count: number }>>;
  /** Opens an http(s) link in the system browser, never inside the workstation. */
  openExternal(request: OpenExternalRequest): Promise<Result<{ opened: boolean }>>;
  /** Called with a session ID when the user clicks its notification; returns an unsubscribe. */
  onFocusSession(listener: (sessionId: string) => void): () => void;
}
