import type { MessageView } from '../../../../common/api/sessions';
import type { Result } from '../../../../common/errors/codes';
import {
  drainOutbox,
  type DesktopBridge,
  type DrainReport,
  type LocalStoreBridge,
  type OutboxEnqueue,
  type OutboxEntry,
} from '../../../../common/ipc/desktop-bridge';
import { mergeBySeq, type MergeResult } from '../../../../common/message/merge-by-seq';

/**
 * The renderer's side of the desktop local store (issue 15), over the DesktopBridge only. In a browser
 * (no `bridge.local`) every call is a no-op answering "nothing local", so callers need no branches.
 *
 * Hook points for the workstation stores: `open(user.id)` after `hello`; `openConversation` before
 * `session:open` (show it at once) then `reconcile` with the server's page and `remember` the result;
 * `queue` before emitting a reply / wrap-up / accept; `drain(send)` on every socket `connect`;
 * `eraseCustomers` on `customer:erased`; `signOut()` on logout; `bridge.onReconnectNow` → `socket.connect()`.
 */
export class LocalSync {
  readonly #bridge: DesktopBridge;
  #draining: Promise<DrainReport | null> | null = null;

  constructor(bridge: DesktopBridge) {
    this.#bridge = bridge;
  }

  /** Read on each call: the bridge's `local` is the preload's (or the browser's) and may be swapped in tests. */
  get #local(): LocalStoreBridge | null {
    return this.#bridge.local ?? null;
  }

  get available(): boolean {
    return this.#local !== null;
  }

  /** Binds the local store to the signed-in agent (another agent's local data is erased first). */
  async open(userId: string): Promise<boolean> {
    if (!this.#local) return false;
    return (await this.#local.open({ userId })).ok;
  }

  /** The conversation's local history (oldest first), at once; [] when none or unavailable. */
  async openConversation(conversationId: string): Promise<MessageView[]> {
    if (!this.#local) return [];
    const r = await this.#local.history({ conversationId });
    return r.ok ? r.data : [];
  }

  /** What the screen holds merged with what the server sent, by seq (no duplicate, no overwrite). */
  reconcile(held: readonly MessageView[], fromServer: readonly MessageView[]): MergeResult<MessageView> {
    return mergeBySeq(held, fromServer);
  }

  /** Keeps the newest interactions locally (main keeps the last 10). */
  async remember(conversationId: string, customerId: string, messages: readonly MessageView[]): Promise<void> {
    if (!this.#local || messages.length === 0) return;
    await this.#local.saveHistory({ conversationId, customerId, messages: messages.slice(-50) });
  }

  /** Queues a critical message before it is sent, so it survives a crash or a dead link. */
  async queue(entry: OutboxEnqueue): Promise<boolean> {
    if (!this.#local) return false;
    return (await this.#local.enqueue(entry)).ok;
  }

  /**
   * Sends the outbox in order with the same idempotency keys (drainOutbox); one drain at a time — a
   * second call while one runs gets the running one. null when there is no local store.
   */
  drain(send: (entry: OutboxEntry) => Promise<Result<unknown>>): Promise<DrainReport | null> {
    const local = this.#local;
    if (!local) return Promise.resolve(null);
    this.#draining ??= drainOutbox(
      {
        pending: async () => {
          const r = await local.pending();
          if (!r.ok) throw new Error(r.error.code);
          return r.data;
        },
        settle: async (s) => void (await local.settle(s)),
      },
      send,
    ).finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  /** The unsent outbox entries, oldest first ([] when unavailable): replies to show as queued after a reload. */
  async pendingEntries(): Promise<OutboxEntry[]> {
    if (!this.#local) return [];
    const r = await this.#local.pending();
    return r.ok ? r.data : [];
  }

  /** The idempotency keys still in the outbox. */
  async pendingKeys(): Promise<Set<string>> {
    return new Set((await this.pendingEntries()).map((e) => e.clientMessageId));
  }

  /** The conversation's saved draft (its text, and whether it was typed as a note), or null (none, or unavailable). */
  async loadDraft(conversationId: string): Promise<{ text: string; note: boolean } | null> {
    if (!this.#local) return null;
    const r = await this.#local.draft({ conversationId });
    return r.ok && r.data ? { text: r.data.text, note: r.data.note === true } : null;
  }

  /** Saves the draft as typed, a reply or a `note` (empty text removes it); false when unavailable or refused. */
  async saveDraft(conversationId: string, customerId: string, text: string, note = false): Promise<boolean> {
    if (!this.#local) return false;
    return (await this.#local.saveDraft({ conversationId, customerId, text, note })).ok;
  }

  async eraseCustomers(customerIds: string[]): Promise<void> {
    if (this.#local && customerIds.length > 0) await this.#local.eraseCustomers({ customerIds });
  }

  /** Sign-out: the local store and its key are destroyed in main. */
  async signOut(): Promise<void> {
    await this.#local?.eraseAll();
  }
}
