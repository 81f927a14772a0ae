import { z } from 'zod';
import type { Result } from '../errors/codes';
import { SessionIdSchema } from '../message/session-id';
import type { LocalStoreBridge } from './local-store';

/**
 * The typed, narrow bridge between the workstation renderer and privileged code (DESIGN §8).
 * Electron: implemented by `app/main/preload` over IPC, handled in `app/main/bridge`.
 * Browser (tests, `/app/` in a browser): implemented in `app/renderer/bridge/browser.ts`.
 * The renderer talks to nothing else that is privileged.
 */
export { BRIDGE_GLOBAL, IPC_CHANNELS, MAIN_TO_RENDERER_CHANNELS, type IpcChannel } from './channels';
export * from './local-store';

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

/**
 * A new offer's OS notification (issue 15: "never lost"): main keeps it until the renderer
 * acknowledges the offer (accepted, declined, revoked or expired), shows it again after sleep, and
 * drops it once `expiresAt` passed.
 */
export const OfferNotifySchema = NotifySchema.extend({
  sessionId: SessionIdSchema,
  /** When the offer lapses (ISO 8601, the server's `OfferView.expiresAt`). */
  expiresAt: z.iso.datetime({ offset: true }),
});
export type OfferNotifyRequest = z.infer<typeof OfferNotifySchema>;
export const OfferAcknowledgeSchema = z.object({ sessionId: SessionIdSchema });
export type OfferAcknowledgeRequest = z.infer<typeof OfferAcknowledgeSchema>;

/**
 * An Electron accelerator for the focus-the-app hotkey: one or more modifiers and one key
 * (https://www.electronjs.org/docs/latest/api/accelerator). A bare key would steal it from every app.
 */
export const AcceleratorSchema = z
  .string()
  .max(64)
  .regex(
    /^(?:(?:CommandOrControl|CmdOrCtrl|Command|Cmd|Control|Ctrl|Alt|Option|AltGr|Shift|Super|Meta)\+)+(?:[A-Z0-9]|F(?:[1-9]|1[0-9]|2[0-4])|Space|Tab|Up|Down|Left|Right|Home|End|PageUp|PageDown|Insert|Delete|[`\-=[\];',./])$/,
    'an accelerator is modifiers and one key, e.g. CommandOrControl+Shift+H',
  );
export const SetHotkeySchema = z.object({ accelerator: AcceleratorSchema });
export type SetHotkeyRequest = z.infer<typeof SetHotkeySchema>;

/** Why main asks the renderer to reconnect now: the machine woke or was unlocked, or the network changed. */
export type ReconnectReason = 'resume' | 'unlock' | 'online' | 'network-change';

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
  /**
   * Called when the socket should reconnect at once instead of waiting for its backoff or heartbeat
   * (DESIGN §7): after sleep / screen unlock, when the network comes back or changes. Returns an unsubscribe.
   */
  onReconnectNow?(listener: (reason: ReconnectReason) => void): () => void;
  /** The offer notification kept until acknowledged (Electron; the browser bridge uses `notify`). */
  notifyOffer?(request: OfferNotifyRequest): Promise<Result<{ shown: boolean; pending: number }>>;
  acknowledgeOffer?(request: OfferAcknowledgeRequest): Promise<Result<{ pending: number }>>;
  /** Changes the global focus-the-app hotkey (remembered); `registered` is false when another app holds it. */
  setHotkey?(request: SetHotkeyRequest): Promise<Result<{ accelerator: string; registered: boolean }>>;
  /** The encrypted local store in Electron main (absent in a browser). */
  local?: LocalStoreBridge;
}
