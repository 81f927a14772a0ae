import { type z } from 'zod';
import { fail, HuiliuError, ok, zodDetails, type Result } from '../../common/errors/codes';
import {
  ConversationRefSchema,
  DraftSaveSchema,
  EraseCustomersSchema,
  HistorySaveSchema,
  IPC_CHANNELS,
  LocalOpenSchema,
  NotifySchema,
  OfferAcknowledgeSchema,
  OfferNotifySchema,
  OpenExternalSchema,
  OutboxEnqueueSchema,
  OutboxSettleSchema,
  SetBadgeSchema,
  SetHotkeySchema,
  type AppInfo,
} from '../../common/ipc/desktop-bridge';
import type { LocalStore } from './local-store';
import type { OfferNotifications } from './offer-notifications';

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
  /** The encrypted local store (null when it could not open: its calls answer NOT_READY). */
  localStore?: LocalStore | null;
  offers?: OfferNotifications | null;
  /** Moves the focus hotkey and remembers it. */
  setHotkey?: ((accelerator: string) => { accelerator: string; registered: boolean }) | null;
  /** Sign-out, after the local store was erased (pending offer notifications go too). */
  onSignedOut?: () => void;
}

type Handler = (payload: unknown) => Promise<Result<unknown>>;

function validated<S extends z.ZodType, T>(schema: S, fn: (input: z.infer<S>) => Promise<T> | T): Handler {
  return async (payload) => {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) return fail('VALIDATION_FAILED', undefined, zodDetails(parsed.error));
    return ok(await fn(parsed.data));
  };
}

/** A handler that needs an optional service: NOT_READY while it is absent. */
function needs<T>(service: T | null | undefined, handler: (service: T) => Handler): Handler {
  return service ? handler(service) : async () => fail('NOT_READY', 'This part of the desktop app is not available.');
}

/**
 * Registers the DesktopBridge handlers (common/ipc). Each validates its input with zod, checks the
 * caller, and answers `{ok,data}|{ok:false,error}`; nothing privileged is reachable any other way.
 */
export function registerBridgeHandlers(s: BridgeServices): Record<string, Handler> {
  // focusSession and reconnectNow flow main → renderer (webContents.send), so they have no handler here.
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
    [IPC_CHANNELS.offerNotify]: needs(s.offers, (offers) => validated(OfferNotifySchema, (o) => offers.notify(o))),
    [IPC_CHANNELS.offerAcknowledge]: needs(s.offers, (offers) => validated(OfferAcknowledgeSchema, (o) => offers.acknowledge(o.sessionId))),
    [IPC_CHANNELS.setHotkey]: needs(s.setHotkey, (setHotkey) => validated(SetHotkeySchema, (h) => setHotkey(h.accelerator))),
    // The local store (issue 15). Every input is parsed again here, whatever the preload let through.
    [IPC_CHANNELS.localOpen]: needs(s.localStore, (store) => validated(LocalOpenSchema, (r) => store.bindUser(r.userId))),
    [IPC_CHANNELS.localHistory]: needs(s.localStore, (store) => validated(ConversationRefSchema, (r) => store.history(r.conversationId))),
    [IPC_CHANNELS.localSaveHistory]: needs(s.localStore, (store) =>
      validated(HistorySaveSchema, (r) => store.saveHistory(r.conversationId, r.customerId, r.messages)),
    ),
    [IPC_CHANNELS.localDraft]: needs(s.localStore, (store) => validated(ConversationRefSchema, (r) => store.draft(r.conversationId))),
    [IPC_CHANNELS.localSaveDraft]: needs(s.localStore, (store) =>
      validated(DraftSaveSchema, (r) => store.saveDraft(r.conversationId, r.customerId, r.text, r.note ?? false)),
    ),
    [IPC_CHANNELS.outboxEnqueue]: needs(s.localStore, (store) => validated(OutboxEnqueueSchema, (r) => store.enqueue(r))),
    [IPC_CHANNELS.outboxPending]: needs(s.localStore, (store) => async () => ok(store.pending())),
    [IPC_CHANNELS.outboxSettle]: needs(s.localStore, (store) => validated(OutboxSettleSchema, (r) => store.settle(r))),
    [IPC_CHANNELS.localEraseCustomers]: needs(s.localStore, (store) =>
      validated(EraseCustomersSchema, (r) => store.eraseCustomers(r.customerIds)),
    ),
    [IPC_CHANNELS.localEraseAll]: async () => {
      try {
        s.localStore?.eraseAll();
      } finally {
        s.onSignedOut?.();
      }
      return ok({ erased: true as const });
    },
  };
  for (const [channel, handler] of Object.entries(handlers)) {
    s.ipcMain.handle(channel, async (event, payload) => {
      if (!event.senderFrame || !s.isTrustedSender(event.senderFrame.url)) return fail('FORBIDDEN');
      try {
        return await handler(payload);
      } catch (error) {
        // A coded refusal (UNAUTHENTICATED before sign-in, VALIDATION_FAILED) keeps its code; anything else is INTERNAL.
        return error instanceof HuiliuError ? { ok: false, error: error.toInfo() } : fail('INTERNAL');
      }
    });
  }
  return handlers;
}
