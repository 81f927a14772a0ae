import type { Kpis } from '../../../common/api/kpis';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';
import type { AgentKpiState, KpiEvent } from './events';

/**
 * The KPIs of issue 16 as pure functions over the contact event log (docs/kpis.md has the formulas
 * and the industry definitions they follow). `buildFacts` folds the events into one record per
 * contact (session) and one state timeline per agent; `computeKpis` counts them over a range and
 * filters. Nothing here reads a clock or a store: `now` is given.
 */

/** FCR: a repeat contact within this many ms of the close breaks first contact resolution (7 days). */
export const FCR_WINDOW_MS = 7 * 86_400_000;
/** After-call work that starts this soon after an agent closes a contact belongs to that contact (ms). */
export const WRAP_UP_LINK_MS = 5_000;

/** A fact of a contact and the skill group the contact was in when it happened. */
interface At {
  at: number;
  skillGroup: string | null;
}

/** One contact (session) as the log tells it. Times in ms since the epoch. */
export interface ContactFacts {
  sessionId: string;
  conversationId: string | null;
  customerId: string | null;
  channel: ChannelCode | null;
  /** The first routing tier seen on the contact. */
  tier: Tier | null;
  /** The skill group of the newest fact. */
  skillGroup: string | null;
  created: At | null;
  /** The session it carries on from (a channel switch): not a new contact. */
  movedFrom: string | null;
  /** The first answer only: a transfer's accept is not a second answer (docs/kpis.md, ASA). */
  answered: (At & { waitMs: number; agentId: string | null }) | null;
  abandoned: (At & { waitMs: number }) | null;
  closed: (At & { agentId: string | null; moved: boolean }) | null;
  wrappedUp: { disposition: string; resolved: boolean } | null;
  handedOver: At | null;
  transfers: number;
  csatAsked: At | null;
  csatScore: number | null;
  /** SLA policy breaches (issue 16, server/src/sla/), oldest first. */
  slaBreaches: (At & { kind: 'first' | 'next'; agentId: string | null })[];
}

/** One span of an agent's state: from `from` until `to` (null: still in it). */
export interface AgentSpan {
  agentId: string;
  state: AgentKpiState;
  groups: readonly string[];
  from: number;
  to: number | null;
}

export interface KpiFacts {
  contacts: ContactFacts[];
  /** Per agent, oldest first. */
  agents: Map<string, AgentSpan[]>;
}

/** Folds the log (any order) into contacts and agent timelines. */
export function buildFacts(events: readonly KpiEvent[]): KpiFacts {
  const sorted = [...events].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  const contacts = new Map<string, ContactFacts>();
  const agents = new Map<string, AgentSpan[]>();
  for (const e of sorted) {
    if (e.kind === 'agent.state') {
      if (!e.agentId || !e.data.state) continue;
      const spans = agents.get(e.agentId) ?? [];
      const last = spans.at(-1);
      if (last && last.to === null) last.to = e.at;
      spans.push({ agentId: e.agentId, state: e.data.state, groups: e.data.groups ?? [], from: e.at, to: null });
      agents.set(e.agentId, spans);
      continue;
    }
    if (!e.sessionId) continue;
    let c = contacts.get(e.sessionId);
    if (!c) {
      c = {
        sessionId: e.sessionId,
        conversationId: null,
        customerId: null,
        channel: null,
        tier: null,
        skillGroup: null,
        created: null,
        movedFrom: null,
        answered: null,
        abandoned: null,
        closed: null,
        wrappedUp: null,
        handedOver: null,
        transfers: 0,
        csatAsked: null,
        csatScore: null,
        slaBreaches: [],
      };
      contacts.set(e.sessionId, c);
    }
    c.conversationId ??= e.conversationId;
    c.customerId ??= e.customerId;
    c.channel ??= e.channel;
    c.tier ??= e.tier;
    if (e.skillGroup) c.skillGroup = e.skillGroup;
    const at: At = { at: e.at, skillGroup: e.skillGroup ?? c.skillGroup };
    switch (e.kind) {
      case 'contact.created':
        c.created ??= at;
        if (e.data.movedFrom) c.movedFrom = e.data.movedFrom;
        break;
      case 'contact.answered':
        c.answered ??= { ...at, waitMs: e.data.waitMs ?? 0, agentId: e.agentId };
        break;
      case 'contact.abandoned':
        if (!c.answered) c.abandoned ??= { ...at, waitMs: e.data.waitMs ?? 0 };
        break;
      case 'contact.closed':
        c.closed ??= { ...at, agentId: e.agentId, moved: e.data.moved === true };
        break;
      case 'contact.wrapped-up':
        c.wrappedUp ??= { disposition: e.data.disposition ?? '', resolved: e.data.resolvedOnFirstContact === true };
        break;
      case 'ai.handed-over':
        c.handedOver ??= at;
        break;
      case 'contact.transferred':
        c.transfers += 1;
        break;
      case 'csat.asked':
        c.csatAsked ??= at;
        break;
      case 'sla.breached':
        if (e.data.slaKind) c.slaBreaches.push({ ...at, kind: e.data.slaKind, agentId: e.agentId });
        break;
      case 'csat.answered':
        if (e.data.score !== undefined) c.csatScore ??= e.data.score;
        break;
      default:
        break;
    }
  }
  return { contacts: [...contacts.values()], agents };
}

export interface KpiRange {
  /** ms, inclusive */
  from: number;
  /** ms, exclusive */
  to: number;
}

export interface KpiFilter {
  /** The groups counted; null = all. */
  skillGroups: readonly string[] | null;
  agent?: string | undefined;
  channel?: ChannelCode | undefined;
  tier?: Tier | undefined;
}

export interface KpiOptions {
  /** Service-level thresholds in seconds: voice (channel SP) and chat (the other channels). */
  thresholds: { voice: number; chat: number };
  /** The service-level goal (share), reported beside the rate. */
  target: number;
  /** The time of evaluation (ms): open agent states end here; FCR windows not over by then are `pending`. */
  now: number;
}

export const DEFAULT_KPI_OPTIONS: Omit<KpiOptions, 'now'> = { thresholds: { voice: 20, chat: 60 }, target: 0.8 };

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);
const mean = (xs: readonly number[]): number | null => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const inRange = (t: number, r: KpiRange) => t >= r.from && t < r.to;

/** The threshold (ms) of a contact's channel: voice for SIP (`SP`), chat for every other channel. */
export function thresholdMs(channel: ChannelCode | null, thresholds: KpiOptions['thresholds']): number {
  return (channel === 'SP' ? thresholds.voice : thresholds.chat) * 1000;
}

/**
 * The after-call work (ms) of the agent who closed a contact: the agent's `wrap-up` span that began
 * within WRAP_UP_LINK_MS of the close, until it ended (or `now`). 0 when there was none.
 */
export function wrapUpMs(agents: KpiFacts['agents'], agentId: string | null, closedAt: number, now: number): number {
  if (!agentId) return 0;
  const span = (agents.get(agentId) ?? []).find((s) => s.state === 'wrap-up' && s.from >= closedAt && s.from - closedAt <= WRAP_UP_LINK_MS);
  return span ? Math.max(0, (span.to ?? now) - span.from) : 0;
}

/**
 * The KPIs of the contacts and agents in `facts` over `range` (docs/kpis.md):
 * - a fact counts when it happened in [from, to) and the contact was then in a counted skill group;
 * - `agent` keeps the facts that agent did (answered, closed, their own time); abandoned and AI-tier
 *   contacts belong to no agent, so with `agent` their counts are 0 and their rates null;
 * - `channel` and `tier` keep contacts of that channel / first routing tier (occupancy ignores them);
 * - a KPI with nothing to count is null, never NaN or 0.
 */
export function computeKpis(facts: KpiFacts, range: KpiRange, filter: KpiFilter, options: KpiOptions): Kpis {
  const groupOk = (g: string | null) => filter.skillGroups === null || (g !== null && filter.skillGroups.includes(g));
  const contactOk = (c: ContactFacts) => (!filter.channel || c.channel === filter.channel) && (!filter.tier || c.tier === filter.tier);
  const agentOk = (id: string | null) => !filter.agent || id === filter.agent;
  const contacts = facts.contacts.filter(contactOk);

  // Queue: ASA, service level, abandonment.
  const answered = contacts.filter(
    (c) => c.answered && inRange(c.answered.at, range) && groupOk(c.answered.skillGroup) && agentOk(c.answered.agentId),
  );
  const abandoned = filter.agent
    ? []
    : contacts.filter((c) => c.abandoned && inRange(c.abandoned.at, range) && groupOk(c.abandoned.skillGroup));
  const waits = answered.map((c) => c.answered!.waitMs);
  const within = answered.filter((c) => c.answered!.waitMs <= thresholdMs(c.channel, options.thresholds)).length;
  const abandonedAfter = abandoned.filter((c) => c.abandoned!.waitMs > thresholdMs(c.channel, options.thresholds)).length;

  // Handled contacts: answered by a person and closed (not moved elsewhere) in the range.
  const handled = contacts.filter(
    (c) =>
      c.answered && c.closed && !c.closed.moved && inRange(c.closed.at, range) && groupOk(c.closed.skillGroup) && agentOk(c.closed.agentId),
  );
  const talk = handled.map((c) => c.closed!.at - c.answered!.at);
  const wrap = handled.map((c) => wrapUpMs(facts.agents, c.closed!.agentId, c.closed!.at, options.now));

  // SLA policy breaches in the range (by when they ran out); with an agent, those of their contacts.
  const breaches = contacts.flatMap((c) =>
    c.slaBreaches.filter((b) => inRange(b.at, range) && groupOk(b.skillGroup) && agentOk(b.agentId)),
  );

  // FCR.
  const byCustomer = new Map<string, ContactFacts[]>();
  for (const c of facts.contacts) {
    if (!c.customerId) continue;
    const list = byCustomer.get(c.customerId) ?? [];
    list.push(c);
    byCustomer.set(c.customerId, list);
  }
  let resolvedFirstTime = 0;
  let pending = 0;
  for (const c of handled) {
    const closedAt = c.closed!.at;
    if (closedAt + FCR_WINDOW_MS > options.now) pending += 1;
    if (!c.wrappedUp?.resolved) continue;
    if (isRepeat(c, byCustomer) || repeatedAfter(c, byCustomer)) continue;
    resolvedFirstTime += 1;
  }

  // CSAT: surveys offered on close in the range, and the answers to them.
  const asked = contacts.filter(
    (c) => c.csatAsked && inRange(c.csatAsked.at, range) && groupOk(c.csatAsked.skillGroup) && agentOk(c.closed?.agentId ?? null),
  );
  const scores = asked.filter((c) => c.csatScore !== null).map((c) => c.csatScore!);

  // AI tier: contacts whose AI part ended in the range (handed over, or closed without a hand-over).
  // One a person answered without a hand-over was never with the AI (the AI tier was off or had no
  // answer to give): it is neither contained nor handed over.
  const aiEnded = filter.agent
    ? []
    : contacts
        .filter((c) => c.tier === 'ai' && (c.handedOver !== null || c.answered === null))
        .map((c) => ({ c, end: c.handedOver ?? (c.closed && !c.closed.moved ? c.closed : null) }))
        .filter(({ end }) => end !== null && inRange(end.at, range) && groupOk(end.skillGroup));
  const handedOver = aiEnded.filter(({ c }) => c.handedOver !== null).length;

  // Occupancy: staffed time split into handling (a contact or after-call work) and available idle time.
  let handlingMs = 0;
  let availableMs = 0;
  for (const [agentId, spans] of facts.agents) {
    if (!agentOk(agentId)) continue;
    for (const s of spans) {
      if (filter.skillGroups !== null && !s.groups.some((g) => filter.skillGroups!.includes(g))) continue;
      const ms = Math.max(0, Math.min(s.to ?? options.now, range.to, options.now) - Math.max(s.from, range.from));
      if (s.state === 'handling' || s.state === 'wrap-up') handlingMs += ms;
      else if (s.state === 'idle') availableMs += ms;
    }
  }

  const sec = (ms: number | null) => (ms === null ? null : ms / 1000);
  const talkMean = mean(talk);
  const wrapMean = mean(wrap);
  return {
    csat: {
      mean: mean(scores),
      satisfied: ratio(scores.filter((s) => s >= 4).length, scores.length),
      responseRate: ratio(scores.length, asked.length),
      asked: asked.length,
      answered: scores.length,
    },
    fcr: { rate: ratio(resolvedFirstTime, handled.length), resolvedFirstTime, handled: handled.length, pending },
    aht: {
      seconds: talkMean === null || wrapMean === null ? null : sec(talkMean + wrapMean),
      talkSeconds: sec(talkMean),
      wrapUpSeconds: sec(wrapMean),
      handled: handled.length,
    },
    asa: { seconds: sec(mean(waits)), answered: answered.length },
    serviceLevel: {
      rate: ratio(within, answered.length + abandonedAfter),
      target: options.target,
      answeredWithin: within,
      answered: answered.length,
      abandonedAfter,
      thresholds: { ...options.thresholds },
    },
    abandonment: {
      rate: filter.agent ? null : ratio(abandoned.length, answered.length + abandoned.length),
      abandoned: abandoned.length,
      queued: filter.agent ? 0 : answered.length + abandoned.length,
    },
    occupancy: {
      rate: ratio(handlingMs, handlingMs + availableMs),
      handlingSeconds: handlingMs / 1000,
      availableSeconds: availableMs / 1000,
    },
    aiContainment: {
      rate: ratio(aiEnded.length - handedOver, aiEnded.length),
      contained: aiEnded.length - handedOver,
      aiContacts: aiEnded.length,
    },
    handoverRate: { rate: ratio(handedOver, aiEnded.length), handedOver, aiContacts: aiEnded.length },
    slaBreaches: {
      total: breaches.length,
      first: breaches.filter((b) => b.kind === 'first').length,
      next: breaches.filter((b) => b.kind === 'next').length,
    },
  };
}

/** The same issue, by proxy: the same customer in the same skill group (docs/kpis.md, FCR). */
const sameIssue = (a: ContactFacts, b: ContactFacts) =>
  (a.conversationId !== null && a.conversationId === b.conversationId) || (a.skillGroup !== null && a.skillGroup === b.skillGroup);
/** `b` only carries `a` on to another channel (or the reverse): one contact, not a repeat. */
const sameContact = (a: ContactFacts, b: ContactFacts) =>
  a.sessionId === b.sessionId || b.movedFrom === a.sessionId || a.movedFrom === b.sessionId;
const startOf = (c: ContactFacts) => c.created?.at ?? c.answered?.at ?? c.closed?.at ?? null;

/** `c` came within FCR_WINDOW_MS after an earlier contact of the customer about the same issue: it is not a first contact. */
function isRepeat(c: ContactFacts, byCustomer: Map<string, ContactFacts[]>): boolean {
  const start = startOf(c);
  if (start === null || !c.customerId) return false;
  return (byCustomer.get(c.customerId) ?? []).some((d) => {
    if (sameContact(c, d) || !sameIssue(c, d)) return false;
    const dStart = startOf(d);
    if (dStart === null || dStart >= start) return false;
    const dEnd = d.closed?.at ?? dStart;
    return start - dEnd <= FCR_WINDOW_MS;
  });
}

/** The customer came back about the same issue (any channel, a reopen included) within FCR_WINDOW_MS of `c`'s close. */
function repeatedAfter(c: ContactFacts, byCustomer: Map<string, ContactFacts[]>): boolean {
  const closedAt = c.closed!.at;
  if (!c.customerId) return false;
  return (byCustomer.get(c.customerId) ?? []).some((d) => {
    if (sameContact(c, d) || !sameIssue(c, d)) return false;
    const dStart = startOf(d);
    return dStart !== null && dStart > closedAt && dStart - closedAt <= FCR_WINDOW_MS;
  });
}

/** Bucket bounds (UTC hours or days) covering [from, to), the first and last clipped to the range. */
export function buckets(range: KpiRange, bucket: 'hour' | 'day'): KpiRange[] {
  const size = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const out: KpiRange[] = [];
  for (let start = Math.floor(range.from / size) * size; start < range.to; start += size) {
    out.push({ from: Math.max(start, range.from), to: Math.min(start + size, range.to) });
  }
  return out;
}
