import type { UserView } from '../../../../common/api/auth';
import type { ReasonText } from '../../../../common/routing/types';
import type { ReplayContact, SessionStore } from '../../sessions/store';
import { channelKindOf } from '../engine';
import { hashUniform } from './prng';
import type { SimAgent, SimContact } from './simulate';
import type { Workload } from './what-if';

/**
 * Builds a what-if workload from the recorded decision log of a window (DESIGN §5 replay, issue 11).
 *
 * A contact of the window is a session whose first decision (trigger `new`) was logged in [from, to)
 * (`SessionStore.replayContacts`: a few fields of each, not whole decisions). From it and its session:
 * - arrival: the session's `createdAt`; skill group and channel: as recorded; value facts: the first
 *   decision's `facts.value` (re-scored under each config), or its value score as is when the
 *   decision predates facts; difficulty: the recorded score (it does not depend on the config);
 * - the AI tier: a session that was with the AI (`status: bot`, or a hand-over recorded) was
 *   contained if still `bot`, else handed over after `handover.at − createdAt`;
 * - answered: the session's agent, at the last logged offer to that agent (the accept itself is not
 *   logged: the error is at most one offer time-out), or at the hand-over when that agent took it over
 *   from the AI; handle time: to `closedAt` (or the last message, while still open);
 * - abandonment is not recorded by the store: a contact a person answered never abandons in the
 *   replay; one closed unanswered leaves after the wait it had; one still waiting waits on.
 * Gaps are filled with the window's own means (per skill group, else overall, else defaults) and
 * said in `notes`. Agents: everyone the window's decisions name (offered to, a candidate) or whose
 * session it is, with their user record's groups and expert flag, signed in the whole window.
 */
export interface ReplaySource {
  store: Pick<SessionStore, 'replayContacts' | 'offersBetween'>;
  /** An enabled staff user by id, or null. */
  userById(id: string): UserView | null;
}

export interface ReplayOptions {
  fromMs: number;
  toMs: number;
  /** Draws for contacts the AI tier never saw (containment at the window's rate) are fixed by this seed. */
  seed: number;
  /** More contacts than this: stop reading and answer `tooMany` (the caller refuses the request). */
  maxContacts: number;
  /** Offers logged this long after `toMs` still count (a contact of the window answered after it); default 24 h. */
  trailingMs?: number;
  /** Called between pages of reads, so a long read gives the event loop its turns (default `setImmediate`). */
  yieldTurn?: () => Promise<void>;
}

/**
 * What a simulation had to assume, in English (`notes`) and, in the same order, as codes with
 * numbers (`noteDetails`, issue 15: worded by the desk from `routing:whatIfNotes.<code>`).
 */
export class SimulationNotes {
  readonly notes: string[] = [];
  readonly noteDetails: ReasonText[] = [];
  add(code: string, text: string, params?: ReasonText['params']): void {
    this.notes.push(text);
    this.noteDetails.push(params ? { code, params } : { code });
  }
}

/**
 * `partial` (issue 14, redis mode): a read of the window was answered from this node's SQLite only (the
 * cluster's shared log did not answer, `LogRead.partial`), so other nodes' contacts are missing.
 */
export type ReplayResult =
  | { kind: 'ok'; workload: Workload; notes: string[]; noteDetails: ReasonText[]; partial: boolean }
  | { kind: 'empty'; partial: boolean }
  | { kind: 'tooMany'; limit: number };

/** The note of a replay read from this node's SQLite only (`ReplayResult.partial`). */
export const LOCAL_ONLY_NOTE = {
  code: 'decisions-local-only',
  text: "The cluster's shared decision log did not answer: the window was read from this server's own log only, without other servers' contacts.",
} as const;

/** Used when the window has no answered contact to measure: a handle time, and an AI time (seconds). */
export const DEFAULT_HANDLE_SECONDS = 300;
export const DEFAULT_AI_SECONDS = 90;

// Rows per read: each page is one synchronous SQLite read on the server's thread (~25 ms for 500 on the 2-core machine).
const PAGE = 500;
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Reads the window's contacts and agents (see the module comment). */
export async function buildReplay(source: ReplaySource, options: ReplayOptions): Promise<ReplayResult> {
  const yieldTurn = options.yieldTurn ?? immediate;
  const fromIso = new Date(options.fromMs).toISOString();
  const toIso = new Date(options.toMs).toISOString();
  const byId = new Map<string, { c: ReplayContact; offers: { atMs: number; agentId: string }[] }>();
  let partial = false;
  for (let after: { at: string; seq: number } | undefined; ;) {
    const page = await source.store.replayContacts(fromIso, toIso, { ...(after ? { after } : {}), limit: PAGE });
    if (page.partial) partial = true;
    for (const c of page) {
      // A decision logged before triggers were kept counts as `new`: only a first scoring in the window is a contact of it.
      const decided = Date.parse(c.decidedAt);
      if (!(decided >= options.fromMs && decided < options.toMs) || byId.has(c.sessionId)) continue;
      if (byId.size >= options.maxContacts) return { kind: 'tooMany', limit: options.maxContacts };
      byId.set(c.sessionId, { c, offers: [] });
    }
    if (page.length < PAGE) break;
    after = { at: page.at(-1)!.at, seq: page.at(-1)!.seq };
    await yieldTurn();
  }
  if (byId.size === 0) return { kind: 'empty', partial };

  // Offers (answered at the last one to the session's agent), also those made after the window.
  const agentIds = new Set<string>();
  const readTo = new Date(options.toMs + (options.trailingMs ?? 86_400_000)).toISOString();
  for (let after: { at: string; seq: number } | undefined; ;) {
    const page = await source.store.offersBetween(fromIso, readTo, { ...(after ? { after } : {}), limit: PAGE });
    if (page.partial) partial = true;
    for (const o of page) {
      const atMs = Date.parse(o.at);
      if (atMs < options.toMs) agentIds.add(o.agentId);
      byId.get(o.sessionId)?.offers.push({ atMs, agentId: o.agentId });
    }
    if (page.length < PAGE) break;
    after = { at: page.at(-1)!.at, seq: page.at(-1)!.seq };
    await yieldTurn();
  }
  const rows = [...byId.values()];
  for (const { c } of rows) {
    if (c.assignedAgentId) agentIds.add(c.assignedAgentId);
    for (const id of c.candidateIds) agentIds.add(id);
  }
  rows.sort((a, b) => Date.parse(a.c.createdAt) - Date.parse(b.c.createdAt) || (a.c.sessionId < b.c.sessionId ? -1 : 1));

  // First pass: what each contact did, and the window's means to fill gaps with.
  interface Facts {
    arrivalMs: number;
    withAi: boolean;
    contained: boolean;
    aiMs: number | null;
    handleMs: number | null;
    answered: boolean;
    patienceMs: number;
  }
  const facts: Facts[] = [];
  const handleSum = new Map<string, { sum: number; n: number }>();
  const aiSum = new Map<string, { sum: number; n: number; contained: number; total: number }>();
  const add = <T extends { sum: number; n: number }>(m: Map<string, T>, key: string, fresh: () => T, value: number) => {
    const e = m.get(key) ?? m.set(key, fresh()).get(key)!;
    e.sum += value;
    e.n++;
    return e;
  };
  let noFacts = 0;
  let answeredWithoutOffer = 0;
  let stillWaiting = 0;
  let closedUnanswered = 0;
  for (const { c: s, offers } of rows) {
    const arrivalMs = Date.parse(s.createdAt);
    const h = s.handover;
    const withAi = s.status === 'bot' || h !== null;
    const contained = s.status === 'bot';
    const aiMs = h ? Math.max(0, Date.parse(h.at) - arrivalMs) : null;
    const agent = s.assignedAgentId;
    let answeredAtMs: number | null = null;
    if (agent) {
      if (h && h.by === agent) answeredAtMs = Date.parse(h.at);
      for (const o of offers) if (o.agentId === agent && (answeredAtMs === null || o.atMs > answeredAtMs)) answeredAtMs = o.atMs;
    }
    const endMs = Date.parse(s.closedAt ?? s.lastMessageAt);
    const handleMs = answeredAtMs !== null ? Math.max(1000, endMs - answeredAtMs) : null;
    if (agent && answeredAtMs === null) answeredWithoutOffer++;
    const queuedMs = h ? Date.parse(h.at) : arrivalMs;
    let patienceMs = Infinity;
    if (!agent && !contained) {
      if (s.closedAt) {
        patienceMs = Math.max(0, Date.parse(s.closedAt) - queuedMs);
        closedUnanswered++;
      } else stillWaiting++;
    }
    if (!s.valueFacts) noFacts++;
    const group = s.skillGroup;
    if (handleMs !== null) {
      add(handleSum, group, () => ({ sum: 0, n: 0 }), handleMs);
      add(handleSum, '', () => ({ sum: 0, n: 0 }), handleMs);
    }
    if (withAi) {
      for (const key of [group, '']) {
        const e = aiSum.get(key) ?? aiSum.set(key, { sum: 0, n: 0, contained: 0, total: 0 }).get(key)!;
        e.total++;
        if (contained) e.contained++;
        if (aiMs !== null) {
          e.sum += aiMs;
          e.n++;
        }
      }
    }
    facts.push({ arrivalMs, withAi, contained, aiMs, handleMs, answered: agent !== null, patienceMs });
  }
  const meanOf = (m: Map<string, { sum: number; n: number }>, group: string, fallback: number) => {
    const e = m.get(group)?.n ? m.get(group)! : m.get('');
    return e && e.n > 0 ? e.sum / e.n : fallback;
  };
  const aiTier = facts.some((f) => f.withAi);

  let filledHandle = 0;
  const contacts: SimContact[] = rows.map(({ c: s }, i) => {
    const f = facts[i]!;
    const group = s.skillGroup;
    if (f.handleMs === null) filledHandle++;
    let ai: SimContact['ai'];
    if (f.withAi) ai = { contained: f.contained, aiMs: f.aiMs ?? meanOf(aiSum, group, DEFAULT_AI_SECONDS * 1000) };
    else {
      // Never with the AI: should a config send it there, it is kept at the window's containment rate.
      const e = aiSum.get(group)?.total ? aiSum.get(group)! : aiSum.get('');
      const rate = e && e.total > 0 ? e.contained / e.total : 0;
      ai = { contained: hashUniform(options.seed, i) < rate, aiMs: meanOf(aiSum, group, DEFAULT_AI_SECONDS * 1000) };
    }
    return {
      arrivalMs: f.arrivalMs,
      skillGroup: group,
      channelKind: channelKindOf(s.channel),
      value: s.valueFacts ? { ...s.valueFacts } : null,
      valueScore: s.valueScore,
      difficultyScore: s.difficultyScore,
      handleMs: Math.round(f.handleMs ?? meanOf(handleSum, group, DEFAULT_HANDLE_SECONDS * 1000)),
      patienceMs: f.patienceMs,
      ai,
      sessionId: s.sessionId,
    };
  });

  const agents: SimAgent[] = [];
  let unknownAgents = 0;
  for (const id of [...agentIds].sort()) {
    const u = source.userById(id);
    if (!u) {
      unknownAgents++;
      continue;
    }
    agents.push({ id: u.id, username: u.username, skillGroups: [...u.skillGroups], expert: u.expert });
  }

  const notes = new SimulationNotes();
  notes.add('agents-available', 'Agents are taken as signed in and available for the whole window; offers are accepted at once.');
  notes.add('no-abandonment', 'The store does not record abandonment: contacts a person answered never abandon in the replay.');
  if (noFacts)
    notes.add('no-value-facts', `${noFacts} contacts were logged without value facts: their recorded value score was kept.`, {
      count: noFacts,
    });
  if (answeredWithoutOffer)
    notes.add(
      'answered-without-offer',
      `${answeredWithoutOffer} answered contacts had no logged offer to their agent (taken from the queue): handle time is the mean.`,
      { count: answeredWithoutOffer },
    );
  if (filledHandle - answeredWithoutOffer > 0)
    notes.add(
      'never-reached-person',
      `${filledHandle - answeredWithoutOffer} contacts never reached a person: if a config sends them to one, handle time is the mean.`,
      { count: filledHandle - answeredWithoutOffer },
    );
  if (stillWaiting)
    notes.add('still-waiting', `${stillWaiting} contacts were still waiting when read: they wait without a patience limit.`, {
      count: stillWaiting,
    });
  if (closedUnanswered)
    notes.add('closed-unanswered', `${closedUnanswered} contacts closed unanswered: they leave after the wait they had.`, {
      count: closedUnanswered,
    });
  if (unknownAgents)
    notes.add('unknown-agents', `${unknownAgents} agents named in the log are no longer enabled users and were left out.`, {
      count: unknownAgents,
    });
  if (!aiTier) notes.add('no-ai-in-window', 'No contact of the window was with the AI tier: ai-tier contacts go to people, as they did.');
  if (partial) notes.add(LOCAL_ONLY_NOTE.code, LOCAL_ONLY_NOTE.text);
  return {
    kind: 'ok',
    workload: { contacts, agents, startMs: options.fromMs, endMs: options.toMs, aiTier },
    notes: notes.notes,
    noteDetails: notes.noteDetails,
    partial,
  };
}
