import { type z } from 'zod';
import { fail, ok, zodDetails, type Result } from '../../common/errors/codes';
import { IPC_CHANNELS, NotifySchema, OpenExternalSchema, SetBadgeSchema, type AppInfo } from '../../common/ipc/desktop-bridge';

/** The Electron APIs the bridge uses, injected so Node tests cover the handlers without Electron. */
export interface BridgeServices {
  ipcMain: { handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, payload: unknown) => unknown): void };
  appVersion: string;
  platform: string;
  showNotification(title: string, body: string, onClick: () => void): boolean;
  setBadgeCount(count: number): void;
  openExternal(url: string): Promise<void>;
  focusSession(sessionId: string): void;
  /** Only frames of the companion server's /app/ may call the bridge. */
  isTrustedSender(url: string): boolean;
}

type Handler = (payload: unknown) => Promise<Result<unknown>>;

function validated<S extends z.ZodType, T>(schema: S, fn: (input: z.infer<S>) => Promise<T> | T): Handler {
  return async (payload) => {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) return fail('VALIDATION_FAILED', undefined, zodDetails(parsed.error));
    return ok(await fn(parsed.data));
  };
}

/**
 * Registers the DesktopBridge handlers (common/ipc). Each validates its input with zod, checks the
 * caller, and answers `{ok,data}|{ok:false,error}`; nothing privileged is reachable any other way.
 */
export function registerBridgeHandlers(s: BridgeServices): Record<string, Handler> {
  // focusSession flows main → renderer (webContents.send), so it has no handler here.
  const handlers: Record<string, Handler> = {
    [IPC_CHANNELS.appInfo]: async () => ok<AppInfo>({ runtime: 'electron', version: s.appVersion, platform: s.platform }),
    [IPC_CHANNELS.notify]: validated(NotifySchema, (n) => ({
      shown: s.showNotification(n.title, n.body, () => {
        if (n.sessionId) s.focusSession(n.sessionId);
      }),
    })),
    [IPC_CHANNELS.setBadge]: validated(SetBadgeSchema, ({ count }) => {
      s.setBadgeCount(count);
      return { count };
    }),
    [IPC_CHANNELS.openExternal]: validated(OpenExternalSchema, async ({ url }) => {
      await s.openExternal(url);
      return { opened: true };
    }),
  };
  for (const [channel, handler] of Object.entries(handlers)) {
    s.ipcMain.handle(channel, async (event, payload) => {
      if (!event.senderFrame || !s.isTrustedSender(event.senderFrame.url)) return fail('FORBIDDEN');
      try {
        return await handler(payload);
      } catch {
        return fail('INTERNAL');
      }
    });
  }
  return handlers;
}
