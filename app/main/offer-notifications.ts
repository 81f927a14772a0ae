import type { OfferNotifyRequest } from '../../common/ipc/desktop-bridge';

/** The slice of Electron's Notification used here. */
export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click' | 'close' | 'failed', listener: () => void): unknown;
}

export interface OfferNotificationDeps {
  /** `Notification.isSupported()`. */
  isSupported(): boolean;
  create(options: { title: string; body: string }): NotificationLike;
  /** The user clicked an offer's notification: bring the workstation up on that contact. */
  focusSession(sessionId: string): void;
  /** The number of pending offer notifications changed (tray tooltip). */
  onPendingChange?(count: number): void;
  /** Delay before showing a notification the OS failed to show again, ms (default 3,000; 3 tries). */
  retryMs?: number;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

interface Pending {
  request: OfferNotifyRequest;
  expiresAt: number;
  notification: NotificationLike | null;
  tries: number;
  timers: unknown[];
}

const MAX_TRIES = 3;

/**
 * OS notifications for new offers that are never lost (issue 15): each is kept (and referenced, so
 * Electron does not garbage-collect it with its click handler) until the renderer acknowledges the
 * offer — accepted, declined or revoked — or it expires. One the OS failed to show is tried again;
 * after sleep (`reshow`) the still-open ones are shown again. A click focuses the contact but does not
 * acknowledge: the offer stays visible in the queue until answered.
 */
export class OfferNotifications {
  readonly #d: OfferNotificationDeps;
  readonly #pending = new Map<string, Pending>();
  readonly #now: () => number;
  readonly #setTimeout: NonNullable<OfferNotificationDeps['setTimeout']>;
  readonly #clearTimeout: NonNullable<OfferNotificationDeps['clearTimeout']>;

  constructor(d: OfferNotificationDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
    this.#setTimeout = d.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimeout = d.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Shows the offer's notification (once per session: a repeat replaces it) and keeps it pending. */
  notify(request: OfferNotifyRequest): { shown: boolean; pending: number } {
    const expiresAt = Date.parse(request.expiresAt);
    if (!(expiresAt > this.#now())) return { shown: false, pending: this.#pending.size };
    this.#drop(request.sessionId);
    const entry: Pending = { request, expiresAt, notification: null, tries: 0, timers: [] };
    this.#pending.set(request.sessionId, entry);
    entry.timers.push(this.#setTimeout(() => this.acknowledge(request.sessionId), expiresAt - this.#now()));
    const shown = this.#show(entry);
    this.#changed();
    return { shown, pending: this.#pending.size };
  }

  #show(entry: Pending): boolean {
    if (!this.#d.isSupported()) return false;
    entry.notification?.close();
    entry.tries++;
    const n = this.#d.create({ title: entry.request.title, body: entry.request.body });
    entry.notification = n;
    const sessionId = entry.request.sessionId;
    n.on('click', () => this.#d.focusSession(sessionId));
    n.on('failed', () => {
      // Windows without an AppUserModelID, Focus Assist, a busy notification daemon: try again.
      if (this.#pending.get(sessionId) !== entry || entry.tries >= MAX_TRIES) return;
      entry.timers.push(
        this.#setTimeout(() => {
          if (this.#pending.get(sessionId) === entry) this.#show(entry);
        }, this.#d.retryMs ?? 3000),
      );
    });
    n.show();
    return true;
  }

  /** The renderer answered the offer (or it was revoked): its notification goes. */
  acknowledge(sessionId: string): { pending: number } {
    if (this.#drop(sessionId)) this.#changed();
    return { pending: this.#pending.size };
  }

  /** After sleep or unlock: expired offers go, the others are shown again. Returns how many were. */
  reshow(): number {
    let shown = 0;
    for (const [sessionId, entry] of [...this.#pending]) {
      if (entry.expiresAt <= this.#now()) this.#drop(sessionId);
      else if (this.#show(entry)) shown++;
    }
    this.#changed();
    return shown;
  }

  /** Session IDs of the offers still waiting for an answer. */
  pending(): string[] {
    return [...this.#pending.keys()];
  }

  /** Sign-out and quit: every notification goes. */
  clear(): void {
    for (const sessionId of [...this.#pending.keys()]) this.#drop(sessionId);
    this.#changed();
  }

  #drop(sessionId: string): boolean {
    const entry = this.#pending.get(sessionId);
    if (!entry) return false;
    this.#pending.delete(sessionId);
    for (const t of entry.timers) this.#clearTimeout(t);
    entry.notification?.close();
    return true;
  }

  #changed(): void {
    this.#d.onPendingChange?.(this.#pending.size);
  }
}
