import { createStore } from 'zustand/vanilla';
import type { AuditEntryView } from '../../../../common/api/audit';
import { HuiliuError } from '../../../../common/errors/codes';
import type { AuditApi } from '../api/audit';

/** How many entries a page asks for. */
export const AUDIT_PAGE_SIZE = 50;

/** The form as typed: `from`/`to` are `datetime-local` text in the auditor's own time zone. */
export interface AuditForm {
  userId: string;
  from: string;
  to: string;
}

export interface AuditView {
  form: AuditForm;
  /** Entries shown so far, newest first (pages appended). */
  entries: AuditEntryView[];
  /** The cursor of the next page, when there is one. */
  next: string | null;
  status: 'idle' | 'searching' | 'ready';
  /** An error code the view translates (`range`, `network`, or the server's code). */
  error: string | null;
  /** The query the shown entries answer (ISO 8601), so "next page" continues that one, not the edited form. */
  query: { userId?: string; from: string; to: string } | null;
  setForm(patch: Partial<AuditForm>): void;
  search(): Promise<void>;
  more(): Promise<void>;
}
export type AuditStore = ReturnType<typeof createAuditStore>;

/** `datetime-local` text of a Date, in the local time zone (what the picker shows). */
export function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** ISO 8601 (UTC) of `datetime-local` text read in the local time zone; null when it is not a time. */
export function isoOfLocal(text: string): string | null {
  const t = new Date(text).getTime();
  return text && Number.isFinite(t) ? new Date(t).toISOString() : null;
}

const codeOf = (error: unknown): string =>
  error instanceof HuiliuError ? ((error.details as { network?: boolean } | undefined)?.network ? 'network' : error.code) : 'fallback';

/**
 * The auditor's view state (issue 17): the search form (user, local time range, default the last 24
 * hours), the entries found, and paging by the server's cursor.
 */
export function createAuditStore(api: AuditApi, token: () => string, now: () => Date = () => new Date()) {
  const end = now();
  return createStore<AuditView>((set, get) => ({
    form: { userId: '', from: localInput(new Date(end.getTime() - 86_400_000)), to: localInput(new Date(end.getTime() + 60_000)) },
    entries: [],
    next: null,
    status: 'idle',
    error: null,
    query: null,
    setForm: (patch) => set({ form: { ...get().form, ...patch } }),
    async search() {
      const { form } = get();
      const from = isoOfLocal(form.from);
      const to = isoOfLocal(form.to);
      if (!from || !to || from >= to) return set({ error: 'range' });
      const query = { ...(form.userId.trim() ? { userId: form.userId.trim() } : {}), from, to };
      set({ status: 'searching', error: null });
      try {
        const page = await api.search(token(), { ...query, limit: AUDIT_PAGE_SIZE });
        set({ entries: page.entries, next: page.next ?? null, status: 'ready', query });
      } catch (error) {
        set({ status: 'ready', error: codeOf(error) });
      }
    },
    async more() {
      const { query, next, entries } = get();
      if (!query || !next) return;
      set({ status: 'searching', error: null });
      try {
        const page = await api.search(token(), { ...query, limit: AUDIT_PAGE_SIZE, cursor: next });
        set({ entries: [...entries, ...page.entries], next: page.next ?? null, status: 'ready' });
      } catch (error) {
        set({ status: 'ready', error: codeOf(error) });
      }
    },
  }));
}
