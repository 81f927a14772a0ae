import { createStore } from 'zustand/vanilla';
import type { UserView } from '../../../../common/api/auth';
import type { RoutingConfigVersionView, SimulationResult } from '../../../../common/api/routing';
import type { SessionDetail } from '../../../../common/api/sessions';
import { HuiliuError } from '../../../../common/errors/codes';
import type { RoutingConfig } from '../../../../common/routing/types';
import { fieldIssues, type FieldIssue, type RoutingApi, type SimulateBody } from '../api/routing';
import { setIn, type FieldPath } from '../routing-form';

/** A failed call as the page shows it: the server's code and words (the page translates the codes it knows). */
export interface PageError {
  code: string;
  message: string;
  network?: boolean;
}

const asPageError = (error: unknown): PageError =>
  error instanceof HuiliuError
    ? { code: error.code, message: error.message, ...((error.details as { network?: boolean })?.network ? { network: true } : {}) }
    : { code: 'INTERNAL', message: String(error) };

/** What the what-if comparison replays or generates (SimulateRequestSchema); times as `datetime-local` text. */
export interface SimulationParams {
  from: string;
  to: string;
  source: 'auto' | 'generated';
  contactsPerHour: number;
  hours: number;
  meanHandleSeconds: number;
  meanPatienceSeconds: number;
  seed: number;
}

export const DEFAULT_SIMULATION_PARAMS: SimulationParams = {
  from: '',
  to: '',
  source: 'auto',
  contactsPerHour: 120,
  hours: 8,
  meanHandleSeconds: 300,
  meanPatienceSeconds: 180,
  seed: 1,
};

/** What the page says happened last (translated by the page). */
export type Notice = { kind: 'published'; version: number } | { kind: 'rolled-back'; from: number; version: number };

export interface RoutingAdmin {
  status: 'loading' | 'ready' | 'failed';
  loadError: PageError | null;
  current: RoutingConfigVersionView | null;
  /** Every version, oldest first. */
  versions: RoutingConfigVersionView[];
  /** The staff directory (names for ids); empty when it could not be read. */
  staff: UserView[];
  /** The config being edited; starts as the current one. */
  draft: RoutingConfig | null;
  /** The fields the server's last VALIDATION_FAILED named (paths inside the config), until the next edit. */
  serverIssues: FieldIssue[];
  comment: string;
  publishing: boolean;
  publishError: PageError | null;
  notice: Notice | null;
  simulationParams: SimulationParams;
  simulating: boolean;
  simulationError: PageError | null;
  /** The last comparison, and the draft it compared (to tell when it is stale). */
  simulation: { result: SimulationResult; draftKey: string } | null;
  /** The version shown in the versions list's detail, if any. */
  viewing: number | null;
  lookup: { sessionId: string; loading: boolean; error: PageError | null; detail: SessionDetail | null };

  load(): Promise<void>;
  /** Sets one field of the draft (`undefined` removes it) and forgets the server's issues. */
  edit(path: FieldPath, value: unknown): void;
  /** Starts the draft again from `config` (default: the version in force). */
  resetDraft(config?: RoutingConfig): void;
  setComment(comment: string): void;
  publish(): Promise<void>;
  rollback(version: number, comment?: string): Promise<void>;
  setSimulationParams(patch: Partial<SimulationParams>): void;
  compare(): Promise<void>;
  view(version: number | null): void;
  lookupSession(sessionId: string): Promise<void>;
}

/** A `datetime-local` value as ISO 8601, or null when empty or not a time. */
const isoOf = (local: string): string | null => {
  if (!local) return null;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
};

/** The simulate body for a draft and the page's parameters. */
export function simulateBody(draft: RoutingConfig, p: SimulationParams): SimulateBody {
  const from = isoOf(p.from);
  const to = isoOf(p.to);
  return {
    config: draft as unknown as Record<string, unknown>,
    ...(from && to ? { window: { from, to } } : {}),
    workload: {
      source: p.source,
      contactsPerHour: p.contactsPerHour,
      hours: p.hours,
      meanHandleSeconds: p.meanHandleSeconds,
      meanPatienceSeconds: p.meanPatienceSeconds,
      seed: p.seed,
    },
  };
}

export const draftKey = (draft: RoutingConfig | null): string => JSON.stringify(draft);

/**
 * The routing admin page's state (issue 11): the version in force, the versions, the draft being
 * edited, the what-if comparison and the decision lookup. One store per page visit; `token` is the
 * signed-in user's. Publishing and rolling back are the server's to refuse (FORBIDDEN for non-admins).
 */
export function createRoutingAdminStore(deps: { api: RoutingApi; token: string }) {
  const { api, token } = deps;
  return createStore<RoutingAdmin>()((set, get) => {
    async function refresh(): Promise<void> {
      const [current, versions] = await Promise.all([api.current(token), api.versions(token)]);
      set({ current, versions });
    }
    return {
      status: 'loading',
      loadError: null,
      current: null,
      versions: [],
      staff: [],
      draft: null,
      serverIssues: [],
      comment: '',
      publishing: false,
      publishError: null,
      notice: null,
      simulationParams: DEFAULT_SIMULATION_PARAMS,
      simulating: false,
      simulationError: null,
      simulation: null,
      viewing: null,
      lookup: { sessionId: '', loading: false, error: null, detail: null },

      async load() {
        set({ status: 'loading', loadError: null });
        try {
          const staff = api.staff(token).catch(() => [] as UserView[]);
          await refresh();
          set({ status: 'ready', draft: get().current!.config, staff: await staff });
        } catch (error) {
          set({ status: 'failed', loadError: asPageError(error) });
        }
      },
      edit(path, value) {
        const draft = get().draft;
        if (!draft) return;
        set({ draft: setIn(draft, path, value), serverIssues: [], notice: null });
      },
      resetDraft(config) {
        const base = config ?? get().current?.config ?? null;
        set({ draft: base, serverIssues: [], publishError: null });
      },
      setComment(comment) {
        set({ comment });
      },
      async publish() {
        const { draft, comment, publishing } = get();
        if (!draft || publishing) return;
        set({ publishing: true, publishError: null, serverIssues: [], notice: null });
        try {
          const published = await api.publish(token, draft, comment);
          await refresh().catch(() => set({ current: published }));
          // The comparison was of the old version in force: it no longer says anything about the new one.
          set({
            publishing: false,
            draft: published.config,
            comment: '',
            simulation: null,
            notice: { kind: 'published', version: published.version },
          });
        } catch (error) {
          const issues = fieldIssues(error).map((i) => ({ ...i, path: i.path.replace(/^config\./, '') }));
          set({ publishing: false, publishError: asPageError(error), serverIssues: issues });
        }
      },
      async rollback(version, comment) {
        set({ publishing: true, publishError: null, notice: null });
        try {
          const published = await api.rollback(token, version, comment);
          await refresh().catch(() => set({ current: published }));
          set({
            publishing: false,
            draft: published.config,
            serverIssues: [],
            viewing: null,
            simulation: null,
            notice: { kind: 'rolled-back', from: version, version: published.version },
          });
        } catch (error) {
          set({ publishing: false, publishError: asPageError(error) });
        }
      },
      setSimulationParams(patch) {
        set((s) => ({ simulationParams: { ...s.simulationParams, ...patch } }));
      },
      async compare() {
        const { draft, simulationParams, simulating } = get();
        if (!draft || simulating) return;
        set({ simulating: true, simulationError: null });
        try {
          const result = await api.simulate(token, simulateBody(draft, simulationParams));
          set({ simulating: false, simulation: { result, draftKey: draftKey(draft) } });
        } catch (error) {
          const issues = fieldIssues(error)
            .filter((i) => i.path.startsWith('config.'))
            .map((i) => ({ ...i, path: i.path.replace(/^config\./, '') }));
          set({ simulating: false, simulationError: asPageError(error), ...(issues.length ? { serverIssues: issues } : {}) });
        }
      },
      view(version) {
        set({ viewing: version });
      },
      async lookupSession(sessionId) {
        const id = sessionId.trim();
        if (!id) return;
        set({ lookup: { sessionId: id, loading: true, error: null, detail: null } });
        try {
          const detail = await api.session(token, id);
          if (get().lookup.sessionId === id) set({ lookup: { sessionId: id, loading: false, error: null, detail } });
        } catch (error) {
          if (get().lookup.sessionId === id) set({ lookup: { sessionId: id, loading: false, error: asPageError(error), detail: null } });
        }
      },
    };
  });
}

export type RoutingAdminStore = ReturnType<typeof createRoutingAdminStore>;
