import { createStore } from 'zustand/vanilla';
import type { PrivacyRequestKind, PrivacyRequestView } from '../../../../common/api/privacy';
import { HuiliuError } from '../../../../common/errors/codes';
import type { DownloadedExport, PrivacyApi } from '../api/privacy';

/** A refusal the view shows: `code` it translates (`network`, `reason`, or the server's), and the server's own message. */
export interface PrivacyError {
  code: string;
  message: string | null;
  /** The request the refusal was about, when it was about one. */
  requestId?: string;
}

const errorOf = (error: unknown, requestId?: string): PrivacyError => {
  const base =
    error instanceof HuiliuError
      ? (error.details as { network?: boolean } | undefined)?.network
        ? { code: 'network', message: null }
        : { code: error.code, message: error.message }
      : { code: 'fallback', message: null };
  return requestId ? { ...base, requestId } : base;
};

/** The shortest reason the server takes (`common/api/privacy.ts`: 3..500 characters, trimmed). */
export const REASON_MIN = 3;
export const REASON_MAX = 500;

export interface PrivacyQueueView {
  /** Export and erasure requests together, newest first. */
  requests: PrivacyRequestView[];
  status: 'idle' | 'loading' | 'ready';
  /** The request an action is running on. */
  busy: string | null;
  error: PrivacyError | null;
  /** Exports this window downloaded (their bundle is gone from the server now). */
  downloaded: string[];
  load(): Promise<void>;
  approve(r: PrivacyRequestView): Promise<void>;
  reject(r: PrivacyRequestView, note: string): Promise<void>;
  /** Downloads an approved export once and hands it to `save`; the list is read again after. */
  download(r: PrivacyRequestView): Promise<void>;
}
export type PrivacyQueueStore = ReturnType<typeof createPrivacyQueueStore>;

const newestFirst = (a: PrivacyRequestView, b: PrivacyRequestView) =>
  a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : 0;

/**
 * The privacy officer's queue (issue 17, docs/privacy.md): both kinds of request from
 * `GET /api/v1/privacy/exports|erasures`, approve, reject with a note, download an approved export
 * once (`save` gets the JSON and the file name: the browser saves it as a file). A refusal keeps the
 * server's message (PRIVACY_SELF_APPROVAL, PRIVACY_REQUEST_NOT_PENDING, EXPORT_GONE, …); after any
 * answered action the list is read again, so it shows the server's state.
 */
export function createPrivacyQueueStore(api: PrivacyApi, token: () => string, save: (file: DownloadedExport) => void) {
  return createStore<PrivacyQueueView>((set, get) => {
    const reload = async () => {
      const [exports, erasures] = await Promise.all([api.list(token(), 'export'), api.list(token(), 'erasure')]);
      set({ requests: [...exports, ...erasures].sort(newestFirst) });
    };
    const act = async (r: PrivacyRequestView, run: () => Promise<unknown>) => {
      set({ busy: r.id, error: null });
      try {
        await run();
      } catch (error) {
        set({ error: errorOf(error, r.id) });
      }
      try {
        await reload();
      } catch {
        // The refusal (if any) says more than a failed refresh.
      }
      set({ busy: null });
    };
    return {
      requests: [],
      status: 'idle',
      busy: null,
      error: null,
      downloaded: [],
      async load() {
        set({ status: 'loading', error: null });
        try {
          await reload();
        } catch (error) {
          set({ error: errorOf(error) });
        }
        set({ status: 'ready' });
      },
      approve: (r) => act(r, () => api.approve(token(), r.kind, r.id)),
      reject: (r, note) => act(r, () => api.reject(token(), r.kind, r.id, note)),
      download: (r) =>
        act(r, async () => {
          const file = await api.download(token(), r.id);
          set({ downloaded: [...get().downloaded, r.id] });
          save(file);
        }),
    };
  });
}

export interface PrivacyFilingView {
  /** The form shown: which kind is being filed, or none. */
  kind: PrivacyRequestKind | null;
  reason: string;
  status: 'idle' | 'sending';
  error: PrivacyError | null;
  /** The request just filed (its id and due date are the confirmation). */
  filed: PrivacyRequestView | null;
  open(kind: PrivacyRequestKind): void;
  cancel(): void;
  setReason(reason: string): void;
  /** Files the request for `customerId` with the typed reason (3..500 characters, else error `reason`). */
  submit(customerId: string): Promise<void>;
}
export type PrivacyFilingStore = ReturnType<typeof createPrivacyFilingStore>;

/**
 * Filing a data-subject request from the agent's customer panel (issue 17): pick export or erasure,
 * give a reason, post it (`POST /api/v1/privacy/exports|erasures`); the confirmation is the pending
 * request (id, due date). A privacy officer then approves it.
 */
export function createPrivacyFilingStore(api: PrivacyApi, token: () => string) {
  return createStore<PrivacyFilingView>((set, get) => ({
    kind: null,
    reason: '',
    status: 'idle',
    error: null,
    filed: null,
    open: (kind) => set({ kind, reason: '', error: null, filed: null }),
    cancel: () => set({ kind: null, reason: '', error: null }),
    setReason: (reason) => set({ reason }),
    async submit(customerId) {
      const { kind, reason, status } = get();
      if (!kind || status === 'sending') return;
      const text = reason.trim();
      if (text.length < REASON_MIN || text.length > REASON_MAX) return set({ error: { code: 'reason', message: null } });
      set({ status: 'sending', error: null });
      try {
        const filed = await api.file(token(), kind, customerId, text);
        set({ status: 'idle', filed, kind: null, reason: '' });
      } catch (error) {
        set({ status: 'idle', error: errorOf(error) });
      }
    },
  }));
}
