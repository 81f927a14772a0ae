import type { MessageView } from '../../../../common/api/sessions';
import { fail, ok, type Result } from '../../../../common/errors/codes';
import {
  ConversationRefSchema,
  DraftSaveSchema,
  EraseCustomersSchema,
  HistorySaveSchema,
  LOCAL_HISTORY_SIZE,
  LocalOpenSchema,
  OutboxEnqueueSchema,
  OutboxSettleSchema,
  type LocalDraft,
  type LocalStoreBridge,
  type OutboxEntry,
} from '../../../../common/ipc/local-store';
import { mergeBySeq } from '../../../../common/message/merge-by-seq';

/** Where the browser keeps drafts and the outbox across a reload: the tab's sessionStorage. */
export type TabStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const KEY = 'huiliu.local';
/** Conversations whose history is held in memory at most (least recently touched go first). */
const MAX_CONVERSATIONS = 500;

interface Persisted {
  userId: string;
  drafts: Record<string, LocalDraft & { customerId: string }>;
  outbox: OutboxEntry[];
  nextId: number;
}

/**
 * The desktop's `local` contract (`common/ipc/local-store.ts`) for a plain browser (issue 15), so one
 * code path (`LocalSync`) serves both. Same validation (the shared zod schemas, `VALIDATION_FAILED`),
 * same `UNAUTHENTICATED` before `open`, same outbox semantics (enqueue order, one entry per key,
 * `settle`), same erasure.
 *
 * Where it keeps things — and what it does NOT promise:
 * - **history** (last `LOCAL_HISTORY_SIZE` per conversation): in memory only; a reload reads the server;
 * - **drafts and the outbox**: JSON in the tab's `sessionStorage`, so they survive a reload or a crashed
 *   renderer of the same tab, and go when the tab is closed. They are NOT encrypted at rest (unlike the
 *   desktop's SQLite store with its safeStorage-wrapped key): the browser build is for a managed
 *   machine; the desktop app is the one for "nothing readable on disk". Sign-out (`eraseAll`) and
 *   another agent signing in remove them.
 */
export function createBrowserLocalStore(storage: TabStorage | null, now: () => number = Date.now): LocalStoreBridge {
  let state: Persisted | null = null;
  const history = new Map<string, { customerId: string; messages: MessageView[] }>();

  const read = (): Persisted | null => {
    try {
      const raw = storage?.getItem(KEY);
      return raw ? (JSON.parse(raw) as Persisted) : null;
    } catch {
      return null;
    }
  };
  const write = () => {
    if (!state) return;
    try {
      storage?.setItem(KEY, JSON.stringify(state));
    } catch {
      /* storage full or refused: kept in memory for this page's life */
    }
  };
  const wipe = () => {
    history.clear();
    try {
      storage?.removeItem(KEY);
    } catch {
      /* nothing stored */
    }
  };
  const bad = (error: { issues: { path: PropertyKey[] }[] }) =>
    fail('VALIDATION_FAILED', undefined, { fields: error.issues.map((i) => i.path.map(String).join('.')) });
  const opened = <T>(run: (s: Persisted) => Result<T>): Result<T> => (state ? run(state) : fail('UNAUTHENTICATED'));

  return {
    async open(request) {
      const parsed = LocalOpenSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      const saved = state ?? read();
      const erasedPrevious = saved !== null && saved.userId !== parsed.data.userId;
      if (erasedPrevious) wipe();
      state = saved && !erasedPrevious ? saved : { userId: parsed.data.userId, drafts: {}, outbox: [], nextId: 1 };
      write();
      return ok({ erasedPrevious });
    },
    async history(request) {
      const parsed = ConversationRefSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened(() => ok([...(history.get(parsed.data.conversationId)?.messages ?? [])]));
    },
    async saveHistory(request) {
      const parsed = HistorySaveSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened(() => {
        const { conversationId, customerId, messages } = parsed.data;
        const held = history.get(conversationId)?.messages ?? [];
        // A newer copy of a seq (e.g. with its OCR text) replaces the older, as the desktop store does.
        const fresh = new Map(messages.map((m) => [m.seq, m]));
        const merged = mergeBySeq(
          held.filter((m) => !fresh.has(m.seq)),
          messages,
        ).messages.slice(-LOCAL_HISTORY_SIZE);
        history.delete(conversationId);
        history.set(conversationId, { customerId, messages: merged });
        while (history.size > MAX_CONVERSATIONS) history.delete(history.keys().next().value!);
        return ok({ kept: merged.length });
      });
    },
    async draft(request) {
      const parsed = ConversationRefSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened((s) => {
        const d = s.drafts[parsed.data.conversationId];
        return ok(d ? { text: d.text, note: d.note === true, updatedAt: d.updatedAt } : null);
      });
    },
    async saveDraft(request) {
      const parsed = DraftSaveSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened((s) => {
        const { conversationId, customerId, text, note = false } = parsed.data;
        if (text === '') delete s.drafts[conversationId];
        else s.drafts[conversationId] = { customerId, text, note, updatedAt: now() };
        write();
        return ok({ saved: text !== '' });
      });
    },
    async enqueue(request) {
      const parsed = OutboxEnqueueSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened<{ id: number; duplicate: boolean }>((s) => {
        const same = s.outbox.find((e) => e.clientMessageId === parsed.data.clientMessageId);
        if (same) return ok({ id: same.id, duplicate: true });
        const entry = { ...parsed.data, id: s.nextId++, enqueuedAt: now(), attempts: 0 } as OutboxEntry;
        s.outbox.push(entry);
        write();
        return ok({ id: entry.id, duplicate: false });
      });
    },
    async pending() {
      return opened((s) => ok(s.outbox.map((e) => ({ ...e }))));
    },
    async settle(request) {
      const parsed = OutboxSettleSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      return opened<{ removed: boolean }>((s) => {
        const at = s.outbox.findIndex((e) => e.id === parsed.data.id);
        if (at < 0) return ok({ removed: false });
        if (parsed.data.outcome === 'failed') {
          s.outbox[at] = { ...s.outbox[at]!, attempts: s.outbox[at]!.attempts + 1 };
          write();
          return ok({ removed: false });
        }
        s.outbox.splice(at, 1);
        write();
        return ok({ removed: true });
      });
    },
    async eraseCustomers(request) {
      const parsed = EraseCustomersSchema.safeParse(request);
      if (!parsed.success) return bad(parsed.error);
      // An erasure does not wait for sign-in: what this tab stored is read and cleaned now.
      const s = state ?? read();
      const gone = new Set(parsed.data.customerIds);
      const conversations = new Set<string>();
      for (const [id, h] of history) {
        if (!gone.has(h.customerId)) continue;
        conversations.add(id);
        history.delete(id);
      }
      let outboxDropped = 0;
      if (s) {
        for (const [id, d] of Object.entries(s.drafts)) {
          if (!gone.has(d.customerId)) continue;
          conversations.add(id);
          delete s.drafts[id];
        }
        const kept = s.outbox.filter((e) => !gone.has(e.customerId));
        outboxDropped = s.outbox.length - kept.length;
        s.outbox = kept;
        if (state) write();
        else
          try {
            storage?.setItem(KEY, JSON.stringify(s));
          } catch {
            /* left as it was: nothing more to do without storage */
          }
      }
      return ok({ conversations: conversations.size, outboxDropped });
    },
    async eraseAll() {
      state = null;
      wipe();
      return ok({ erased: true as const });
    },
  };
}
