import { HuiliuError, fail, ok } from '../../../../common/errors/codes';
import {
  NotifySchema,
  OfferAcknowledgeSchema,
  OfferNotifySchema,
  OpenExternalSchema,
  SetBadgeSchema,
  type DesktopBridge,
} from '../../../../common/ipc/desktop-bridge';
import { createBrowserLocalStore } from './browser-local';

/**
 * The DesktopBridge for a plain browser (tests, `/app/` in any browser): the same contract as the
 * Electron preload, implemented with web APIs, validating input the same way.
 */
export function createBrowserBridge(win: Window = window): DesktopBridge {
  const baseTitle = win.document.title;
  /** Offer notifications shown and not yet answered (issue 15), by session: closed on acknowledge or expiry. */
  const offers = new Map<string, { note: Notification; timer: ReturnType<typeof setTimeout> }>();
  const withdraw = (sessionId: string) => {
    const held = offers.get(sessionId);
    if (!held) return;
    clearTimeout(held.timer);
    held.note.close();
    offers.delete(sessionId);
  };
  let storage: Storage | null = null;
  try {
    storage = win.sessionStorage;
  } catch {
    /* storage disabled: drafts and the outbox live for this page only */
  }
  return {
    // Issue 15: the same local contract as the desktop's store; see browser-local.ts for what it keeps where.
    local: createBrowserLocalStore(storage),
    async notifyOffer(request) {
      const parsed = OfferNotifySchema.safeParse(request);
      if (!parsed.success) return fail('VALIDATION_FAILED');
      const { title, body, sessionId, expiresAt } = parsed.data;
      const N = (win as unknown as { Notification?: typeof Notification }).Notification;
      if (!N || N.permission !== 'granted') return ok({ shown: false, pending: offers.size });
      withdraw(sessionId);
      // requireInteraction: it stays on screen until answered; the tag replaces rather than stacks.
      const note = new N(title, { body, tag: `offer-${sessionId}`, requireInteraction: true });
      note.onclick = () => {
        win.focus();
        win.postMessage({ huiliuFocusSession: sessionId }, win.location.origin);
      };
      const timer = setTimeout(() => withdraw(sessionId), Math.max(0, Date.parse(expiresAt) - Date.now()));
      offers.set(sessionId, { note, timer });
      return ok({ shown: true, pending: offers.size });
    },
    async acknowledgeOffer(request) {
      const parsed = OfferAcknowledgeSchema.safeParse(request);
      if (!parsed.success) return fail('VALIDATION_FAILED');
      withdraw(parsed.data.sessionId);
      return ok({ pending: offers.size });
    },
    async appInfo() {
      return ok({ runtime: 'browser' as const, version: '0.1.0', platform: win.navigator.platform || 'web' });
    },
    async notify(request) {
      const parsed = NotifySchema.safeParse(request);
      if (!parsed.success) return fail('VALIDATION_FAILED');
      const N = (win as unknown as { Notification?: typeof Notification }).Notification;
      if (!N || N.permission !== 'granted') return ok({ shown: false });
      const n = new N(parsed.data.title, { body: parsed.data.body });
      const sessionId = parsed.data.sessionId;
      n.onclick = () => {
        win.focus();
        if (sessionId) win.postMessage({ huiliuFocusSession: sessionId }, win.location.origin);
      };
      return ok({ shown: true });
    },
    async setBadge(request) {
      const parsed = SetBadgeSchema.safeParse(request);
      if (!parsed.success) return fail('VALIDATION_FAILED');
      win.document.title = parsed.data.count > 0 ? `(${parsed.data.count}) ${baseTitle}` : baseTitle;
      return ok({ count: parsed.data.count });
    },
    async openExternal(request) {
      const parsed = OpenExternalSchema.safeParse(request);
      if (!parsed.success) return { ok: false, error: new HuiliuError('VALIDATION_FAILED').toInfo() };
      win.open(parsed.data.url, '_blank', 'noopener,noreferrer');
      return ok({ opened: true });
    },
    onFocusSession(listener) {
      // A browser notification click focuses the tab; the page then opens the session.
      const onMessage = (event: MessageEvent) => {
        if (event.origin === win.location.origin && typeof event.data?.huiliuFocusSession === 'string')
          listener(event.data.huiliuFocusSession);
      };
      win.addEventListener('message', onMessage);
      return () => win.removeEventListener('message', onMessage);
    },
    onReconnectNow(listener) {
      // A browser tells the page when the network comes back; sleep/resume it does not (Electron does).
      const onOnline = () => listener('online');
      win.addEventListener('online', onOnline);
      return () => win.removeEventListener('online', onOnline);
    },
  };
}
