import type { UserView } from '../../../../common/api/auth';
import type { SimulateRequest, SimulationResult } from '../../../../common/api/routing';
import { HuiliuError, zodDetails } from '../../../../common/errors/codes';
import { RoutingConfigSchema, type RoutingConfig } from '../../../../common/routing/types';
import type { SessionStore } from '../../sessions/store';
import type { RoutingConfigStore } from '../config-store';
import { generateWorkload } from './generate';
import { buildReplay, LOCAL_ONLY_NOTE, SimulationNotes } from './replay';
import type { SimAgent } from './simulate';
import { pack, WHAT_IF_BUDGET_MS, type PackedWhatIfInput, type WhatIfOutput, type Workload } from './what-if';

/** The longest window a replay reads. */
export const MAX_WINDOW_DAYS = 31;
/** The most contacts one simulation takes, replayed or generated. */
export const MAX_CONTACTS = 200_000;
/** The most agents one simulation takes. */
export const MAX_AGENTS = 20_000;
const DAY = 86_400_000;

export interface WhatIfDeps {
  configs: Pick<RoutingConfigStore, 'current'>;
  store: Pick<SessionStore, 'replayContacts' | 'offersBetween'>;
  /** Staff accounts: by id (replay), and every enabled one (a generated workload's default agents). */
  staff: { userById(id: string): UserView | null; list(): UserView[] };
  /** The deployment's skill group ids (a generated workload's default mix). */
  skillGroups: () => readonly string[];
  /** Whether the AI tier answers now (`ai.autoAnswer` on and a model loaded): a generated workload uses it. */
  aiTierAnswers: () => boolean;
  /** Runs the simulations of a packed input (`what-if.ts pack`): in the what-if worker thread in the server. */
  run: (input: PackedWhatIfInput) => Promise<WhatIfOutput | { budgetExceeded: true }>;
  now?: () => number;
}

/**
 * `POST /api/v1/routing/simulate` (DESIGN §6, issue 11): checks the draft like a publish
 * (VALIDATION_FAILED with the field's path inside the config, as `PUT /api/v1/routing/config` names
 * it), reads the window (default the last 24 hours; longer than 31 days: SIMULATION_TOO_LARGE) or
 * generates a workload (`workload.source: 'generated'`, or `'auto'` when the window holds no contact),
 * then simulates it under the config in force and under the draft. More than 200,000 contacts or
 * 20,000 agents: SIMULATION_TOO_LARGE. See docs/what-if.md.
 */
/** Simulations this server runs or prepares at once; more are refused (OVERLOADED) before any work. */
const MAX_IN_FLIGHT = 2;
let inFlight = 0;

export async function simulateWhatIf(deps: WhatIfDeps, request: SimulateRequest): Promise<SimulationResult> {
  // Refused before reading a window or generating a workload: both are work on this thread.
  if (inFlight >= MAX_IN_FLIGHT) throw new HuiliuError('OVERLOADED', 'Another what-if is running; try again when it is done.');
  inFlight++;
  try {
    return await simulateOnce(deps, request);
  } finally {
    inFlight--;
  }
}

async function simulateOnce(deps: WhatIfDeps, request: SimulateRequest): Promise<SimulationResult> {
  const started = performance.now();
  const now = deps.now?.() ?? Date.now();
  const current = await deps.configs.current();
  const draft = parseDraft(request.config);

  const fromMs = request.window ? Date.parse(request.window.from) : now - DAY;
  const toMs = request.window ? Date.parse(request.window.to) : now;
  if (!(toMs > fromMs))
    throw new HuiliuError('VALIDATION_FAILED', 'The window must end after it starts.', [
      { path: 'window.to', message: 'must be after window.from' },
    ]);
  if (toMs - fromMs > MAX_WINDOW_DAYS * DAY)
    throw new HuiliuError('SIMULATION_TOO_LARGE', `A window is at most ${MAX_WINDOW_DAYS} days long.`, {
      path: 'window',
      maxDays: MAX_WINDOW_DAYS,
    });

  const wl = request.workload;
  let workload: Workload | null = null;
  let notes: Pick<SimulationNotes, 'notes' | 'noteDetails'> = { notes: [], noteDetails: [] };
  let source: SimulationResult['source'] = 'window';
  let partial = false;
  if (wl?.source !== 'generated') {
    const replay = await buildReplay(
      { store: deps.store, userById: (id) => deps.staff.userById(id) },
      { fromMs, toMs, seed: wl?.seed ?? 1, maxContacts: MAX_CONTACTS },
    );
    if (replay.kind === 'tooMany')
      throw new HuiliuError('SIMULATION_TOO_LARGE', `The window holds more than ${replay.limit} contacts: shorten it.`, {
        path: 'window',
        maxContacts: replay.limit,
      });
    partial = replay.partial;
    if (replay.kind === 'ok') {
      workload = replay.workload;
      notes = replay;
    }
  }
  if (!workload) {
    source = 'generated';
    const hours = request.workload?.hours ?? GENERATED_DEFAULTS.hours;
    // Generated contacts arrive from the window's start when one was given, else over the last `hours`.
    const generated = generatedWorkload(deps, request, request.window ? fromMs : now - hours * 3_600_000);
    // An empty window read from this node only may not be empty on the cluster: say so beside the generated one.
    if (partial) generated.notes.add(LOCAL_ONLY_NOTE.code, LOCAL_ONLY_NOTE.text);
    workload = generated.workload;
    notes = generated.notes;
  }
  if (workload.agents.length > MAX_AGENTS)
    throw new HuiliuError('SIMULATION_TOO_LARGE', `A simulation takes at most ${MAX_AGENTS} agents.`, { maxAgents: MAX_AGENTS });

  const out = await deps.run(pack({ workload, current, draft }));
  if ('budgetExceeded' in out)
    throw new HuiliuError(
      'SIMULATION_TOO_LARGE',
      `The simulation ran over its ${WHAT_IF_BUDGET_MS / 1000} s budget (a queue that never drains costs far more than a staffed day): shorten the window, lower the load or add agents.`,
      { budgetSeconds: WHAT_IF_BUDGET_MS / 1000 },
    );
  return {
    source,
    window: { from: new Date(workload.startMs).toISOString(), to: new Date(workload.endMs).toISOString() },
    contacts: workload.contacts.length,
    current: { configVersion: current.version, metrics: out.current },
    draft: { metrics: out.draft },
    changes: out.changes,
    tookMs: Math.round(performance.now() - started),
    agents: workload.agents.length,
    aiTier: workload.aiTier,
    notes: notes.notes,
    noteDetails: notes.noteDetails,
    ...(partial ? { partial: true as const } : {}),
  };
}

/** The draft, validated as `PUT /api/v1/routing/config` validates it (its `version` ignored). */
function parseDraft(config: Record<string, unknown>): RoutingConfig {
  const parsed = RoutingConfigSchema.safeParse({ ...config, version: 1 });
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', 'The draft routing config is not valid.', zodDetails(parsed.error));
  return parsed.data;
}

const GENERATED_DEFAULTS = {
  contactsPerHour: 120,
  hours: 8,
  meanHandleSeconds: 300,
  meanPatienceSeconds: 180,
  seed: 1,
  voiceShare: 0,
  expertShare: 0.2,
  aiContainment: 0.5,
  meanAiSeconds: 90,
};

function generatedWorkload(deps: WhatIfDeps, request: SimulateRequest, startMs: number): { workload: Workload; notes: SimulationNotes } {
  const w = { ...GENERATED_DEFAULTS, ...request.workload };
  if (w.contactsPerHour * w.hours > MAX_CONTACTS)
    throw new HuiliuError('SIMULATION_TOO_LARGE', `A generated workload is at most ${MAX_CONTACTS} contacts (contactsPerHour × hours).`, {
      path: 'workload',
      maxContacts: MAX_CONTACTS,
    });
  const notes = new SimulationNotes();
  notes.add('generated', 'Generated workload: Poisson arrivals, exponential handle time, patience and AI time (docs/what-if.md).');
  const groups = w.mix ? Object.keys(w.mix) : w.agents ? Object.keys(w.agents) : [...deps.skillGroups()];
  const mix = w.mix ?? Object.fromEntries(groups.map((g) => [g, 1]));
  if (!Object.values(mix).some((v) => v > 0))
    throw new HuiliuError('VALIDATION_FAILED', 'The mix needs a skill group with a positive share.', [
      { path: 'workload.mix', message: 'needs a positive share' },
    ]);
  let agents: Record<string, number> | SimAgent[];
  if (w.agents) {
    agents = w.agents;
    if (Object.values(w.agents).reduce((s, n) => s + n, 0) > MAX_AGENTS)
      throw new HuiliuError('SIMULATION_TOO_LARGE', `A simulation takes at most ${MAX_AGENTS} agents.`, {
        path: 'workload.agents',
        maxAgents: MAX_AGENTS,
      });
  } else {
    // The groups' members on record: every enabled user with the agent role in one of the groups.
    const wanted = new Set(groups);
    agents = deps.staff
      .list()
      .filter((u) => u.roles.includes('agent') && u.skillGroups.some((g) => wanted.has(g)))
      .map((u) => ({ id: u.id, username: u.username, skillGroups: [...u.skillGroups], expert: u.expert }));
    notes.add('agents-on-record', `Agents: the ${agents.length} agents on record in ${groups.join(', ')}, signed in the whole time.`, {
      count: agents.length,
      groups: groups.join(', '),
    });
  }
  const aiTier = deps.aiTierAnswers();
  if (!aiTier) notes.add('ai-tier-off', 'The AI tier is not answering on this server: ai-tier contacts go to people.');
  const { contacts, agents: simAgents } = generateWorkload({ ...w, startMs, mix, agents });
  return { workload: { contacts, agents: simAgents, startMs, endMs: startMs + w.hours * 3_600_000, aiTier }, notes };
}
