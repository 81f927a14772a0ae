import type { SimulationMetrics } from '../../../../common/api/routing';
import type { ChannelKind, RoutingConfig, Tier } from '../../../../common/routing/types';
import {
  compareWaiting,
  proficiencyOf,
  ringAt,
  roomFor,
  selectAgents,
  type EngineAgent,
  type EngineContact,
  type ResolvedRing,
} from '../engine';
import { priorityOf, tierOf, valueScore, type ValueFacts } from '../score';
import { EventQueue } from './event-queue';

/**
 * The what-if simulator (DESIGN §5, issue 11): a discrete-event simulation of one workload under one
 * routing config. Every decision is the live engine's (`engine.ts`): the queue's order is
 * `compareWaiting`, the ring in force is `ringAt`, and who gets a contact is `selectAgents` (with
 * `explain: false`). See docs/what-if.md for the assumptions and the metric definitions.
 *
 * Events: arrival; the AI tier handing a contact over (it then joins the queue); completion (the agent
 * releases the contact, then after-call work, `config.afterCallWorkSeconds`, for a call or the last
 * open chat); after-call work ending; abandonment (patience ran out while waiting); a widening ring
 * opening (the contact is offered again with the wider reach); an agent's shift starting or ending.
 * An offer is accepted at once (no offer time-out, no decline).
 *
 * When is a contact assigned? On arrival, to the best agent `selectAgents` ranks; when an agent gets
 * room (a completion, the end of after-call work, a shift start), the waiting contacts that agent
 * qualifies for are taken in `compareWaiting` order, each assigned by `selectAgents`; when a ring opens,
 * the contact is offered again. Between these events no waiting contact has a qualified agent with
 * room, so this is the same as offering the whole queue in order at every event, at the cost of the
 * contacts waiting in the freed agent's skill groups only.
 */

/** One contact of the workload. Times are ms (any origin, e.g. since the epoch). */
export interface SimContact {
  /** When the contact arrived (the first message or call). */
  arrivalMs: number;
  skillGroup: string;
  channelKind: ChannelKind;
  /** The customer's value facts, re-scored under each config (`score.ts` `valueScore`); null: `valueScore` is used as is. */
  value: ValueFacts | null;
  /** The recorded value score (0..100), used when `value` is null. */
  valueScore: number;
  /** The difficulty score (0..100): it does not depend on the routing config, so the recorded one is reused. */
  difficultyScore: number;
  /** How long a person handles it once answered, ms (> 0). */
  handleMs: number;
  /** How long the customer waits for a person before leaving, ms; `Infinity`: never leaves. */
  patienceMs: number;
  /**
   * What the AI tier does with the contact when its tier is `ai` and the AI tier answers: keeps it to
   * the end (`contained`), or hands it to people after `aiMs`.
   */
  ai: { contained: boolean; aiMs: number };
  /** The recorded session, for a replay. */
  sessionId?: string;
}

/** One agent. Without `shift` the agent is signed in and available from `startMs` on, all along. */
export interface SimAgent {
  id: string;
  username: string;
  skillGroups: readonly string[];
  /** The user flag: proficiency 5 in every group. */
  expert: boolean;
  /** Signed in from `fromMs` to `toMs` (ms); outside it they take no new contact. */
  shift?: { fromMs: number; toMs: number };
}

export interface SimOptions {
  /** The measured interval [startMs, endMs): staffed time, occupancy and hourly buckets count within it. */
  startMs: number;
  endMs: number;
  /** Whether the AI tier answers `ai`-tier contacts; when not, they go to people (as the live router does). */
  aiTier: boolean;
  /**
   * Wall-clock time (ms since the epoch) after which the run stops with `SimulationBudgetExceeded`: a
   * workload whose queue never drains costs far more per contact than a staffed day. Default none.
   */
  deadline?: number;
}

/** Thrown by `simulate` when `options.deadline` passed before the workload was done. */
export class SimulationBudgetExceeded extends Error {
  constructor() {
    super('simulation budget exceeded');
    this.name = 'SimulationBudgetExceeded';
  }
}

/** What happened to a contact. */
export const OUTCOME = { answered: 0, abandoned: 1, contained: 2, unanswered: 3 } as const;
export const TIERS: readonly Tier[] = ['expert', 'assisted', 'ai'];

/** Per contact, by index in the workload. */
export interface SimOutcomes {
  /** Index in `TIERS`. */
  tier: Uint8Array;
  priority: Float64Array;
  /** Index of the agent who answered, or -1. */
  agent: Int32Array;
  /** Wait for a person, ms (answered, abandoned, unanswered); NaN when contained. */
  waitMs: Float64Array;
  /** A value of `OUTCOME`. */
  outcome: Uint8Array;
}

export interface SimRun {
  metrics: SimulationMetrics;
  outcomes: SimOutcomes;
  /** Events processed (arrivals included): the simulation's size. */
  events: number;
}

const EV_COMPLETE = 0;
const EV_ACW_END = 1;
const EV_ABANDON = 2;
const EV_RING = 3;
const EV_HANDOVER = 4;
const EV_SHIFT_START = 5;
const EV_SHIFT_END = 6;

const S_PENDING = 0;
const S_WITH_AI = 1;
const S_WAITING = 2;
const S_ANSWERED = 3;
const S_DONE = 4;
const S_ABANDONED = 5;
const S_CONTAINED = 6;

/** A contact waiting for a person (the engine's view of it) and the ring it is registered under. */
interface Waiting extends EngineContact {
  index: number;
  ring: ResolvedRing;
}

/** Agent bookkeeping beside the engine's snapshot. */
interface AgentState {
  engine: EngineAgent;
  onShift: boolean;
  acwUntil: number;
  busyFrom: number;
  busyMs: number;
  /** Available with room for a chat / a call: counted in `open` of each of their groups. */
  openChat: boolean;
  openVoice: boolean;
  /** Proficiency by skill group (`proficiencyOf`), computed once. */
  proficiency: Map<string, number>;
}

const HOUR = 3_600_000;

/**
 * Runs `contacts` (any order; sorted by arrival here) with `agents` under `config`. Deterministic:
 * the same input gives the same output. Cost: each arrival and ring opening is one `selectAgents`
 * over the agents the ring reaches; each time an agent gets room, a scan of the contacts waiting in
 * that agent's skill groups. Throws RangeError for a contact with a non-positive handle time.
 */
export function simulate(contacts: readonly SimContact[], agents: readonly SimAgent[], config: RoutingConfig, options: SimOptions): SimRun {
  const n = contacts.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => contacts[a]!.arrivalMs - contacts[b]!.arrivalMs || a - b);
  const tier = new Uint8Array(n);
  const priority = new Float64Array(n);
  const agentOf = new Int32Array(n).fill(-1);
  const waitMs = new Float64Array(n).fill(NaN);
  const state = new Uint8Array(n);
  const queuedAt = new Float64Array(n);
  const kindOf: ChannelKind[] = new Array<ChannelKind>(n);
  const waiting: (Waiting | undefined)[] = new Array<Waiting | undefined>(n);

  // Scores under this config: value from the facts (cached: many customers share facts), difficulty as recorded.
  const valueCache = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = contacts[i]!;
    if (!(c.handleMs > 0)) throw new RangeError(`contact ${i}: handleMs must be > 0, got ${c.handleMs}`);
    let value = c.valueScore;
    if (c.value) {
      const key = `${c.value.spend}|${c.value.csat}|${c.value.contacts30d}`;
      let v = valueCache.get(key);
      if (v === undefined) valueCache.set(key, (v = valueScore(c.value, config).score));
      value = v;
    }
    const p = priorityOf(value, c.difficultyScore, config);
    priority[i] = p;
    tier[i] = TIERS.indexOf(tierOf(p, config));
    kindOf[i] = c.channelKind;
  }

  // Agents, by skill group, and the union of groups a ring reaches (cached by its group list).
  const states: AgentState[] = agents.map((a) => {
    const onShift = !a.shift || (a.shift.fromMs <= options.startMs && a.shift.toMs > options.startMs);
    return {
      engine: {
        id: a.id,
        username: a.username,
        skillGroups: a.skillGroups,
        expert: a.expert,
        presence: onShift ? 'available' : 'offline',
        load: { chat: 0, voice: 0 },
        idleSince: options.startMs,
      },
      onShift,
      acwUntil: -Infinity,
      busyFrom: NaN,
      busyMs: 0,
      openChat: false,
      openVoice: false,
      proficiency: new Map(a.skillGroups.map((g) => [g, proficiencyOf(config, a, g)])),
    };
  });
  const indexOfAgent = new Map<EngineAgent, number>(states.map((s, i) => [s.engine, i]));
  const byGroup = new Map<string, EngineAgent[]>();
  for (const s of states) for (const g of s.engine.skillGroups) (byGroup.get(g) ?? byGroup.set(g, []).get(g)!).push(s.engine);
  const reachCache = new Map<string, EngineAgent[]>();
  const reachOf = (ring: ResolvedRing): EngineAgent[] => {
    if (ring.skillGroups.length === 1) return byGroup.get(ring.skillGroups[0]!) ?? [];
    const key = ring.skillGroups.join('\u0000');
    let list = reachCache.get(key);
    if (!list) {
      const set = new Set<EngineAgent>();
      for (const g of ring.skillGroups) for (const a of byGroup.get(g) ?? []) set.add(a);
      reachCache.set(key, (list = [...set]));
    }
    return list;
  };
  // The rings of each tier and group, resolved once by the engine (`ringAt` at each ring's opening).
  const ringCache = new Map<string, ResolvedRing[]>();
  const ringsOf = (t: Tier, group: string): ResolvedRing[] => {
    const key = `${t}\u0000${group}`;
    let rings = ringCache.get(key);
    if (!rings) ringCache.set(key, (rings = config.widening[t].map((r) => ringAt(config, t, group, r.afterSeconds * 1000))));
    return rings;
  };
  /** Per skill group: agents available with room for a chat / a call. No open agent in reach: nobody can be chosen. */
  const open = new Map<string, { chat: number; voice: number }>();
  for (const g of byGroup.keys()) open.set(g, { chat: 0, voice: 0 });
  const anyOpen = (ring: ResolvedRing, kind: ChannelKind) => {
    for (const g of ring.skillGroups) if ((open.get(g)?.[kind] ?? 0) > 0) return true;
    return false;
  };
  /** Waiting contacts per skill group their current ring reaches. */
  const waitingIn = new Map<string, Set<Waiting>>();
  const register = (w: Waiting) => {
    for (const g of w.ring.skillGroups) (waitingIn.get(g) ?? waitingIn.set(g, new Set()).get(g)!).add(w);
  };
  const unregister = (w: Waiting) => {
    for (const g of w.ring.skillGroups) waitingIn.get(g)?.delete(w);
  };

  const events = new EventQueue();
  for (const [i, a] of agents.entries()) {
    if (!a.shift) continue;
    if (a.shift.fromMs > options.startMs) events.push(a.shift.fromMs, EV_SHIFT_START, i);
    if (a.shift.toMs > options.startMs) events.push(a.shift.toMs, EV_SHIFT_END, i);
  }
  const { startMs, endMs } = options;
  const within = (from: number, to: number) => Math.max(0, Math.min(to, endMs) - Math.max(from, startMs));

  /** After an agent's load or presence changed: busy time and the open counts. */
  const touched = (s: AgentState, now: number) => {
    const a = s.engine;
    const busy = a.load.chat + a.load.voice > 0 || a.presence === 'after-call-work';
    if (busy && Number.isNaN(s.busyFrom)) s.busyFrom = now;
    else if (!busy && !Number.isNaN(s.busyFrom)) {
      s.busyMs += within(s.busyFrom, now);
      s.busyFrom = NaN;
    }
    const available = a.presence === 'available';
    const chat = available && roomFor(a, 'chat', config.capacity).ok;
    const voice = available && roomFor(a, 'voice', config.capacity).ok;
    if (chat !== s.openChat || voice !== s.openVoice) {
      for (const g of a.skillGroups) {
        const o = open.get(g)!;
        o.chat += Number(chat) - Number(s.openChat);
        o.voice += Number(voice) - Number(s.openVoice);
      }
      s.openChat = chat;
      s.openVoice = voice;
    }
  };
  for (const s of states) touched(s, options.startMs);

  const assign = (i: number, agent: EngineAgent, now: number) => {
    const w = waiting[i];
    if (w) {
      unregister(w);
      waiting[i] = undefined;
    }
    const a = indexOfAgent.get(agent)!;
    state[i] = S_ANSWERED;
    agentOf[i] = a;
    waitMs[i] = now - queuedAt[i]!;
    agent.load[kindOf[i]!]++;
    touched(states[a]!, now);
    events.push(now + contacts[i]!.handleMs, EV_COMPLETE, i);
  };

  /** The contact starts waiting for a person at `now`: offered at once, or queued. */
  const enqueue = (i: number, now: number) => {
    const c = contacts[i]!;
    queuedAt[i] = now;
    const t = TIERS[tier[i]!]!;
    const ring = ringsOf(t, c.skillGroup)[0]!;
    const w: Waiting = {
      id: c.sessionId ?? `#${i}`,
      skillGroup: c.skillGroup,
      channelKind: c.channelKind,
      tier: t,
      priority: priority[i]!,
      queuedAt: now,
      seq: i,
      index: i,
      ring,
    };
    if (anyOpen(ring, c.channelKind)) {
      const chosen = selectAgents(w, reachOf(ring), config, now, { explain: false }).ranked[0];
      if (chosen) return assign(i, chosen, now);
    }
    state[i] = S_WAITING;
    waiting[i] = w;
    register(w);
    if (ring.nextAtMs !== null) events.push(now + ring.nextAtMs, EV_RING, i);
    if (c.patienceMs !== Infinity) events.push(now + Math.max(0, c.patienceMs), EV_ABANDON, i);
  };

  /** The agent's best proficiency among the groups `ring` reaches, 0 when none (as `selectAgents` finds it). */
  const reachProficiency = (s: AgentState, ring: ResolvedRing) => {
    let best = 0;
    for (const g of ring.skillGroups) {
      const p = s.proficiency.get(g);
      if (p !== undefined && p > best) best = p;
    }
    return best;
  };

  /** The agent `s` may have room: offer it the waiting contacts it qualifies for, in queue order. */
  const freed = (s: AgentState, now: number) => {
    const agent = s.engine;
    for (;;) {
      if (!s.openChat && !s.openVoice) return;
      let best: Waiting | null = null;
      for (const g of agent.skillGroups) {
        const set = waitingIn.get(g);
        if (!set || set.size === 0) continue;
        for (const w of set) {
          if (w === best) continue;
          if (!(w.channelKind === 'chat' ? s.openChat : s.openVoice)) continue;
          if (reachProficiency(s, w.ring) < w.ring.minProficiency) continue;
          if (best === null || compareWaiting(w, best, now, config) < 0) best = w;
        }
      }
      if (best === null) return;
      const chosen = selectAgents(best, reachOf(best.ring), config, now, { explain: false }).ranked[0];
      // The engine always finds `agent` here; should it not, stop rather than loop.
      if (!chosen) return;
      assign(best.index, chosen, now);
    }
  };

  const complete = (i: number, now: number) => {
    state[i] = S_DONE;
    const s = states[agentOf[i]!]!;
    const agent = s.engine;
    const kind = kindOf[i]!;
    agent.load[kind]--;
    const acwSeconds =
      kind === 'voice'
        ? config.afterCallWorkSeconds.voice
        : agent.load.chat === 0 && agent.load.voice === 0
          ? config.afterCallWorkSeconds.chat
          : 0;
    if (acwSeconds > 0) {
      s.acwUntil = Math.max(s.acwUntil, now + acwSeconds * 1000);
      if (agent.presence !== 'offline') agent.presence = 'after-call-work';
      touched(s, now);
      events.push(s.acwUntil, EV_ACW_END, agentOf[i]!);
      return;
    }
    if (agent.load.chat === 0 && agent.load.voice === 0 && agent.presence === 'available') agent.idleSince = now;
    touched(s, now);
    freed(s, now);
  };

  const acwEnd = (a: number, now: number) => {
    const s = states[a]!;
    if (s.acwUntil > now || s.engine.presence !== 'after-call-work') return;
    s.engine.presence = s.onShift ? 'available' : 'offline';
    if (s.engine.load.chat === 0 && s.engine.load.voice === 0) s.engine.idleSince = now;
    touched(s, now);
    freed(s, now);
  };

  /** The contact's next widening ring opens: it is registered under the wider reach and offered again. */
  const ringOpens = (i: number, now: number) => {
    const w = waiting[i];
    if (!w) return;
    const ring = ringsOf(w.tier, w.skillGroup)[w.ring.index + 1];
    if (!ring) return;
    unregister(w);
    w.ring = ring;
    register(w);
    if (anyOpen(ring, w.channelKind)) {
      const chosen = selectAgents(w, reachOf(ring), config, now, { explain: false }).ranked[0];
      if (chosen) return assign(i, chosen, now);
    }
    if (ring.nextAtMs !== null) events.push(w.queuedAt + ring.nextAtMs, EV_RING, i);
  };

  const abandon = (i: number, now: number) => {
    const w = waiting[i];
    if (!w) return;
    unregister(w);
    waiting[i] = undefined;
    state[i] = S_ABANDONED;
    waitMs[i] = now - queuedAt[i]!;
  };

  const arrive = (i: number, now: number) => {
    const c = contacts[i]!;
    if (tier[i] === 2 && options.aiTier) {
      if (c.ai.contained) {
        state[i] = S_CONTAINED;
        return;
      }
      state[i] = S_WITH_AI;
      events.push(now + Math.max(0, c.ai.aiMs), EV_HANDOVER, i);
      return;
    }
    enqueue(i, now);
  };

  const shift = (a: number, now: number, starts: boolean) => {
    const s = states[a]!;
    s.onShift = starts;
    if (starts) {
      if (s.engine.presence === 'offline') {
        s.engine.presence = s.acwUntil > now ? 'after-call-work' : 'available';
        if (s.engine.load.chat === 0 && s.engine.load.voice === 0) s.engine.idleSince = now;
      }
      touched(s, now);
      freed(s, now);
    } else {
      if (s.engine.presence === 'available') s.engine.presence = 'offline';
      touched(s, now);
    }
  };

  const ev = { time: 0, kind: 0, subject: 0 };
  let next = 0;
  let processed = 0;
  let steps = 0;
  for (;;) {
    // The wall-clock budget, looked at every 1,024 steps (arrivals and events alike).
    if ((steps++ & 1023) === 0 && options.deadline !== undefined && Date.now() > options.deadline) throw new SimulationBudgetExceeded();
    const arrival = next < n ? contacts[order[next]!]!.arrivalMs : Infinity;
    // Events due by an arrival's time run first: an agent freed at that instant takes it.
    if (events.size > 0 && events.peekTime() <= arrival) {
      events.pop(ev);
      processed++;
      const now = ev.time;
      switch (ev.kind) {
        case EV_COMPLETE:
          complete(ev.subject, now);
          break;
        case EV_ACW_END:
          acwEnd(ev.subject, now);
          break;
        case EV_ABANDON:
          abandon(ev.subject, now);
          break;
        case EV_RING:
          ringOpens(ev.subject, now);
          break;
        case EV_HANDOVER:
          enqueue(ev.subject, now);
          break;
        case EV_SHIFT_START:
          shift(ev.subject, now, true);
          break;
        case EV_SHIFT_END:
          shift(ev.subject, now, false);
          break;
      }
      continue;
    }
    if (next >= n) break;
    processed++;
    arrive(order[next++]!, arrival);
  }

  // Still waiting when nothing more can happen (no agent will ever qualify, or infinite patience).
  const lastTime = Math.max(endMs, ev.time);
  for (const w of waiting) {
    if (!w) continue;
    state[w.index] = S_PENDING;
    waitMs[w.index] = lastTime - queuedAt[w.index]!;
  }
  for (const s of states) if (!Number.isNaN(s.busyFrom)) s.busyMs += within(s.busyFrom, lastTime);

  const outcome = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const st = state[i]!;
    outcome[i] =
      st === S_ANSWERED || st === S_DONE
        ? OUTCOME.answered
        : st === S_ABANDONED
          ? OUTCOME.abandoned
          : st === S_CONTAINED
            ? OUTCOME.contained
            : OUTCOME.unanswered;
  }
  const staffedMs = agents.reduce((sum, a) => sum + (a.shift ? within(a.shift.fromMs, a.shift.toMs) : within(startMs, endMs)), 0);
  const busyMs = states.reduce((sum, s) => sum + s.busyMs, 0);
  const outcomes: SimOutcomes = { tier, priority, agent: agentOf, waitMs, outcome };
  return { metrics: metricsOf(contacts, outcomes, config, options, staffedMs > 0 ? busyMs / staffedMs : 0), outcomes, events: processed };
}

interface Tally {
  contacts: number;
  reachedPeople: number;
  inThreshold: number;
  answered: number;
  waitSumMs: number;
  lost: number;
}
const tally = (): Tally => ({ contacts: 0, reachedPeople: 0, inThreshold: 0, answered: 0, waitSumMs: 0, lost: 0 });
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** SimulationMetrics of one run (definitions in common/api/routing.ts and docs/what-if.md). */
function metricsOf(
  contacts: readonly SimContact[],
  o: SimOutcomes,
  config: RoutingConfig,
  options: SimOptions,
  occupancy: number,
): SimulationMetrics {
  const thresholdMs = config.serviceLevel.thresholdSeconds * 1000;
  const all = tally();
  const groups = new Map<string, Tally>();
  const buckets = Math.max(1, Math.ceil((options.endMs - options.startMs) / HOUR));
  const hourly = Array.from({ length: buckets }, (_, hour) => ({ hour, ...tally() }));
  const tiers = [0, 0, 0];
  let contained = 0;
  let unanswered = 0;
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    tiers[o.tier[i]!]!++;
    const out = o.outcome[i]!;
    if (out === OUTCOME.contained) contained++;
    if (out === OUTCOME.unanswered) unanswered++;
    const g = groups.get(c.skillGroup) ?? groups.set(c.skillGroup, tally()).get(c.skillGroup)!;
    const h = hourly[Math.min(buckets - 1, Math.max(0, Math.floor((c.arrivalMs - options.startMs) / HOUR)))]!;
    for (const t of [all, g, h]) {
      t.contacts++;
      if (out === OUTCOME.contained) continue;
      t.reachedPeople++;
      if (out === OUTCOME.answered) {
        t.answered++;
        t.waitSumMs += o.waitMs[i]!;
        if (o.waitMs[i]! <= thresholdMs) t.inThreshold++;
      } else t.lost++;
    }
  }
  const sl = (t: Tally) => (t.reachedPeople > 0 ? round4(t.inThreshold / t.reachedPeople) : 1);
  const asa = (t: Tally) => (t.answered > 0 ? round2(t.waitSumMs / t.answered / 1000) : 0);
  const lostRate = (t: Tally) => (t.reachedPeople > 0 ? round4(t.lost / t.reachedPeople) : 0);
  const n = contacts.length;
  const share = (k: number) => (n > 0 ? round4(k / n) : 0);
  return {
    contacts: n,
    tierMix: { expert: share(tiers[0]!), assisted: share(tiers[1]!), ai: share(tiers[2]!) },
    serviceLevel: sl(all),
    asaSeconds: asa(all),
    abandonment: lostRate(all),
    occupancy: round4(occupancy),
    containment: share(contained),
    unanswered,
    bySkillGroup: Object.fromEntries(
      [...groups].map(([id, t]) => [id, { contacts: t.contacts, serviceLevel: sl(t), asaSeconds: asa(t), abandonment: lostRate(t) }]),
    ),
    hourly: hourly.map((h) => ({
      hour: h.hour,
      contacts: h.contacts,
      answeredInThreshold: h.inThreshold,
      abandoned: h.lost,
      meanWaitSeconds: asa(h),
    })),
  };
}
