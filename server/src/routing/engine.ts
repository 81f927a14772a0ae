import type { ChannelCode } from '../../../common/message/session-id';
import type {
  CandidateCode,
  ChannelKind,
  ReasonText,
  RoutingCandidate,
  RoutingConfig,
  Tier,
  WideningRing,
} from '../../../common/routing/types';
import type { Presence } from '../../../common/socket/agent-events';

/**
 * The assignment engine (DESIGN §5, issue 11): pure, synchronous functions that decide the queue's
 * order and which agent a contact is offered to. The live router (`router.ts`) and the what-if
 * simulator (`sim/`) both call these, so a replay decides exactly as production would.
 *
 * Rules, in order:
 * - Queue order: `priority + min(maxBoost, minutes waited × pointsPerMinute)` (aging), then first come
 *   first served (`queuedAt`, then `seq`).
 * - The widening ring in force is the last ring of `widening[tier]` whose `afterSeconds` the contact
 *   has waited; it sets the minimum proficiency and the skill groups whose agents may take it.
 * - An agent qualifies when signed in, `available`, a member of a reachable group, at or above the
 *   ring's proficiency, under capacity for the contact's channel kind (mixed-load rule included),
 *   and did not decline or let an offer of this contact lapse within one offer time-out (a cool-down,
 *   never a ban: `coolingEndsAt` says when such an agent qualifies again).
 * - Among qualified agents: highest proficiency, then longest idle, then id (deterministic).
 */

/** An agent as the engine sees them: a snapshot, never a live object it may change. */
export interface EngineAgent {
  id: string;
  username: string;
  skillGroups: readonly string[];
  /** The user flag: an expert counts as proficiency 5 in every group they belong to. */
  expert: boolean;
  presence: Presence;
  /** Contacts held (active) or offered, by channel kind. */
  load: { chat: number; voice: number };
  /** When the agent last became free of work, ms since the epoch. */
  idleSince: number;
}

/** A contact waiting for a person. */
export interface EngineContact {
  id: string;
  skillGroup: string;
  channelKind: ChannelKind;
  tier: Tier;
  /** 0..100, from the scores (`score.ts`). */
  priority: number;
  /** When it started waiting for a person, ms since the epoch (the aging and the rings count from here). */
  queuedAt: number;
  /** Arrival order, the last tie-breaker; optional. */
  seq?: number;
}

/**
 * A stored waiting session as the engine sees it: waiting for a person since `waitingSince` (its first
 * message, its hand-over from the AI or its return to the queue), in its decided tier and priority.
 */
export function waitingContact(
  session: { id: string; skillGroup: string; channel: ChannelCode; waitingSince: string },
  decision: { tier: Tier; priority: number },
): EngineContact {
  return {
    id: session.id,
    skillGroup: session.skillGroup,
    channelKind: channelKindOf(session.channel),
    tier: decision.tier,
    priority: decision.priority,
    queuedAt: Date.parse(session.waitingSince),
  };
}

/** The channel kind a channel's load counts against (capacity per channel kind). */
export function channelKindOf(channel: ChannelCode): ChannelKind {
  return channel === 'SP' ? 'voice' : 'chat';
}

/**
 * The queue's ordering key: priority (0..100) plus aging points for the time waited, capped at
 * `aging.maxBoost`. Rounded to 0.01.
 */
export function effectivePriority(priority: number, waitedMs: number, aging: RoutingConfig['aging']): number {
  const boost = Math.min(aging.maxBoost, (Math.max(0, waitedMs) / 60_000) * aging.pointsPerMinute);
  return Math.round((priority + boost) * 100) / 100;
}

/**
 * Queue order at `now`: negative when `a` goes before `b` (higher effective priority first, then the
 * earlier `queuedAt`, then the lower `seq`, then id).
 */
export function compareWaiting(a: EngineContact, b: EngineContact, now: number, config: RoutingConfig): number {
  const pa = effectivePriority(a.priority, now - a.queuedAt, config.aging);
  const pb = effectivePriority(b.priority, now - b.queuedAt, config.aging);
  return pb - pa || a.queuedAt - b.queuedAt || (a.seq ?? 0) - (b.seq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The widening ring in force for a contact, resolved to the skill groups it reaches. */
export interface ResolvedRing {
  /** Index in `widening[tier]`. */
  index: number;
  ring: WideningRing;
  minProficiency: number;
  /** The contact's own group first, then the groups the rings so far added, without duplicates. */
  skillGroups: string[];
  /** The wait (ms since `queuedAt`) at which the next ring opens, or null when this is the last. */
  nextAtMs: number | null;
}

/**
 * The ring in force after `waitedMs` of waiting: the last ring of `widening[tier]` already open. Skill
 * groups added by earlier rings stay added (rings widen, never narrow the reach).
 */
export function ringAt(config: RoutingConfig, tier: Tier, skillGroup: string, waitedMs: number): ResolvedRing {
  const rings = config.widening[tier];
  let index = 0;
  for (let i = 1; i < rings.length; i++) if (waitedMs >= rings[i]!.afterSeconds * 1000) index = i;
  const groups = [skillGroup];
  for (let i = 0; i <= index; i++) {
    const r = rings[i]!;
    const fallback = config.skillGroups[skillGroup]?.fallback;
    for (const g of [...r.addSkillGroups, ...(r.addFallback && fallback ? [fallback] : [])]) if (!groups.includes(g)) groups.push(g);
  }
  const ring = rings[index]!;
  const next = rings[index + 1];
  return { index, ring, minProficiency: ring.minProficiency, skillGroups: groups, nextAtMs: next ? next.afterSeconds * 1000 : null };
}

/**
 * The skill groups whose contacts an agent of `agentGroups` may be offered at some ring: their own,
 * and every configured group whose fallback is one of them. Null when a ring adds one of their groups
 * explicitly: rings apply to every group's contacts, so such an agent may be offered any contact.
 */
export function groupsReaching(config: RoutingConfig, agentGroups: readonly string[]): string[] | null {
  const rings = Object.values(config.widening).flat();
  if (rings.some((r) => r.addSkillGroups.some((g) => agentGroups.includes(g)))) return null;
  const out = new Set(agentGroups);
  if (rings.some((r) => r.addFallback))
    for (const [group, g] of Object.entries(config.skillGroups))
      if (g.fallback !== null && agentGroups.includes(g.fallback)) out.add(group);
  return [...out];
}

/** An agent's proficiency (1..5) in `skillGroup`: 5 for experts, else the config's entry, else the default. */
export function proficiencyOf(config: RoutingConfig, agent: Pick<EngineAgent, 'username' | 'expert'>, skillGroup: string): number {
  if (agent.expert) return 5;
  return config.skillGroups[skillGroup]?.proficiency[agent.username] ?? config.defaultProficiency;
}

/**
 * Whether the agent has room for one more contact of `kind` (capacity per channel kind and the
 * mixed-load rule), and if not, why.
 */
export function roomFor(
  agent: Pick<EngineAgent, 'load'>,
  kind: ChannelKind,
  capacity: RoutingConfig['capacity'],
): { ok: true } | { ok: false; code: 'at-capacity' | 'mixed-load'; note: string; detail: ReasonText } {
  const { chat, voice } = agent.load;
  if (kind === 'voice') {
    if (voice >= capacity.voice)
      return {
        ok: false,
        code: 'at-capacity',
        note: `at capacity: ${voice}/${capacity.voice} calls`,
        detail: { code: 'at-capacity-calls', params: { n: voice, max: capacity.voice } },
      };
    if (chat > capacity.chatsDuringVoice)
      return {
        ok: false,
        code: 'mixed-load',
        note: `${chat} chats open; a call needs at most ${capacity.chatsDuringVoice}`,
        detail: { code: 'mixed-load-chats-open', params: { n: chat, max: capacity.chatsDuringVoice } },
      };
    return { ok: true };
  }
  if (chat >= capacity.chat)
    return {
      ok: false,
      code: 'at-capacity',
      note: `at capacity: ${chat}/${capacity.chat} chats`,
      detail: { code: 'at-capacity-chats', params: { n: chat, max: capacity.chat } },
    };
  if (voice > 0 && chat >= capacity.chatsDuringVoice)
    return {
      ok: false,
      code: 'mixed-load',
      note: `on a call: at most ${capacity.chatsDuringVoice} chats during a call`,
      detail: { code: 'mixed-load-on-call', params: { max: capacity.chatsDuringVoice } },
    };
  return { ok: true };
}

export interface SelectOptions {
  /** Agents who declined or let this contact's offer lapse, and when (ms). */
  declined?: ReadonlyMap<string, number>;
  /** Agents never to offer it to (the agent transferring it away). */
  exclude?: ReadonlySet<string>;
  /** Build the per-candidate explanation (the live router does; the simulator does not). Default true. */
  explain?: boolean;
  /**
   * List agents of unreachable groups as `not-in-skill-group` only when at most this many agents are
   * signed in (a 500-agent floor would make every decision a page long). Default 50.
   */
  listOthersUpTo?: number;
}

export interface Selection {
  /** The agents who qualify, best first; the router offers to `ranked[0]` and falls back to the next. */
  ranked: EngineAgent[];
  ring: ResolvedRing;
  waitedMs: number;
  effectivePriority: number;
  /** Why each agent looked at was or was not chosen, assuming `ranked[0]` is offered it. */
  candidates: RoutingCandidate[];
  /**
   * When nobody qualifies but an agent who declined would once their cool-down ends: the earliest such
   * end (ms since the epoch), so the caller can offer again then. Null otherwise.
   */
  coolingEndsAt: number | null;
}

const fmtSeconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Ranks the agents who may be offered `contact` at `now` (see the module rules). `candidates`
 * explains each agent looked at as if `ranked[0]` gets the offer; when the store refuses that agent
 * (another server filled them first) the router selects again with their load updated.
 */
export function selectAgents(
  contact: EngineContact,
  agents: Iterable<EngineAgent>,
  config: RoutingConfig,
  now: number,
  options: SelectOptions = {},
): Selection {
  const waitedMs = Math.max(0, now - contact.queuedAt);
  const ring = ringAt(config, contact.tier, contact.skillGroup, waitedMs);
  const explain = options.explain ?? true;
  const declined = options.declined;
  const cooling = (id: string) => {
    const at = declined?.get(id);
    return at !== undefined && now - at < config.offerTimeoutMs;
  };
  interface Scored {
    agent: EngineAgent;
    group: string;
    proficiency: number;
  }
  const qualified: Scored[] = [];
  const cooled: Scored[] = [];
  const rejected: RoutingCandidate[] = [];
  const others: EngineAgent[] = [];
  let signedIn = 0;
  for (const agent of agents) {
    signedIn++;
    // The best reachable group for this agent: the one where their proficiency is highest.
    let group: string | null = null;
    let proficiency = 0;
    for (const g of ring.skillGroups) {
      if (!agent.skillGroups.includes(g)) continue;
      const p = proficiencyOf(config, agent, g);
      if (p > proficiency) {
        proficiency = p;
        group = g;
      }
    }
    if (group === null) {
      if (explain) others.push(agent);
      continue;
    }
    const codes: CandidateCode[] = [];
    const reasons: string[] = [];
    const details: ReasonText[] = [];
    if (options.exclude?.has(agent.id)) {
      codes.push('transfer-source');
      reasons.push('transferring this contact away');
      details.push({ code: 'transfer-source' });
    }
    if (agent.presence !== 'available') {
      codes.push('presence');
      reasons.push(agent.presence === 'after-call-work' ? 'in after-call work' : `presence ${agent.presence}`);
      details.push({ code: `presence-${agent.presence}` });
    }
    const room = roomFor(agent, contact.channelKind, config.capacity);
    if (!room.ok) {
      codes.push(room.code);
      reasons.push(room.note);
      details.push(room.detail);
    }
    if (proficiency < ring.minProficiency) {
      codes.push('below-ring-proficiency');
      reasons.push(
        `proficiency ${proficiency} in ${group} below ${ring.minProficiency} (ring ${ring.index + 1}; widens ${ring.nextAtMs === null ? 'no further' : `after ${fmtSeconds(ring.nextAtMs)}`})`,
      );
      const params = { proficiency, group, min: ring.minProficiency, ring: ring.index + 1 };
      details.push(
        ring.nextAtMs === null
          ? { code: 'below-ring-last', params }
          : { code: 'below-ring-widens', params: { ...params, widensMs: ring.nextAtMs } },
      );
    }
    if (codes.length > 0) {
      if (explain) rejected.push({ agentId: agent.id, chosen: false, reasons, details, codes, proficiency, skillGroup: group });
      continue;
    }
    (cooling(agent.id) ? cooled : qualified).push({ agent, group, proficiency });
  }
  const byRank = (x: Scored, y: Scored) =>
    y.proficiency - x.proficiency || x.agent.idleSince - y.agent.idleSince || (x.agent.id < y.agent.id ? -1 : 1);
  qualified.sort(byRank);
  const ranked = qualified.map((s) => s.agent);
  const coolingEndsAt =
    ranked.length === 0 && cooled.length > 0
      ? cooled.reduce((min, s) => Math.min(min, (declined?.get(s.agent.id) ?? now) + config.offerTimeoutMs), Infinity)
      : null;
  const selection: Selection = {
    ranked,
    ring,
    waitedMs,
    effectivePriority: effectivePriority(contact.priority, waitedMs, config.aging),
    candidates: [],
    coolingEndsAt,
  };
  if (!explain) return selection;

  const candidates: RoutingCandidate[] = [];
  const chosen = qualified[0];
  for (const s of qualified) candidates.push(rankedCandidate(s, chosen, now));
  for (const s of cooled) {
    const at = declined?.get(s.agent.id) ?? now;
    candidates.push({
      agentId: s.agent.id,
      chosen: false,
      reasons: [`declined or missed this contact ${fmtSeconds(now - at)} ago`],
      details: [{ code: 'declined-recently', params: { agoMs: now - at } }],
      codes: ['declined-recently'],
      proficiency: s.proficiency,
      skillGroup: s.group,
    });
  }
  candidates.push(...rejected);
  const listOthers = signedIn <= (options.listOthersUpTo ?? 50);
  if (listOthers)
    for (const a of others)
      candidates.push({
        agentId: a.id,
        chosen: false,
        reasons: [`not in skill group ${ring.skillGroups.join(' / ')}`],
        details: [{ code: 'not-in-skill-group', params: { groups: ring.skillGroups.join(' / ') } }],
        codes: ['not-in-skill-group'],
      });
  selection.candidates = candidates;
  return selection;

  function rankedCandidate(s: Scored, best: Scored | undefined, at: number): RoutingCandidate {
    const base = { agentId: s.agent.id, proficiency: s.proficiency, skillGroup: s.group };
    const idleMs = at - s.agent.idleSince;
    const idle = `idle ${fmtSeconds(idleMs)}`;
    if (s === best)
      return {
        ...base,
        chosen: true,
        reasons: [
          [
            `proficiency ${s.proficiency} in ${s.group}`,
            idle,
            `${s.agent.load.chat}/${config.capacity.chat} chats, ${s.agent.load.voice}/${config.capacity.voice} calls`,
          ].join('; '),
        ],
        details: [
          { code: 'proficiency-in', params: { proficiency: s.proficiency, group: s.group } },
          { code: 'idle', params: { idleMs } },
          {
            code: 'load',
            params: { chat: s.agent.load.chat, chatMax: config.capacity.chat, voice: s.agent.load.voice, voiceMax: config.capacity.voice },
          },
        ],
        codes: ['chosen'],
      };
    if (best && s.proficiency < best.proficiency)
      return {
        ...base,
        chosen: false,
        reasons: [`lower proficiency: ${s.proficiency} < ${best.proficiency} (${best.agent.id})`],
        details: [{ code: 'lower-proficiency', params: { proficiency: s.proficiency, best: best.proficiency } }],
        codes: ['lower-proficiency'],
      };
    return {
      ...base,
      chosen: false,
      reasons: [`same proficiency ${s.proficiency}, but ${best?.agent.id ?? 'another agent'} idle longer (${idle})`],
      details: [{ code: 'shorter-idle', params: { proficiency: s.proficiency, idleMs } }],
      codes: ['shorter-idle'],
    };
  }
}
