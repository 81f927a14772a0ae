import {
  BOARD_CONTACTS_MAX,
  contactTrouble,
  type BoardAgent,
  type BoardContact,
  type BoardGroup,
  type BoardRules,
  type BoardServiceLevel,
} from '../../../common/api/board';
import type { Emotion } from '../../../common/ai/types';
import type { Tier } from '../../../common/routing/types';
import { maskPii } from '../../../common/privacy/mask';
import type { Presence } from '../../../common/socket/agent-events';
import { buildFacts, computeKpis, type KpiFacts } from '../kpis/compute';
import type { KpiEvent } from '../kpis/events';
import type { AgentState } from '../routing/agent-pool';
import type { SessionRecord } from '../sessions/store';

/** The service level's "recent" window on the board: the last 15 minutes (ms). */
export const RECENT_WINDOW_MS = 15 * 60_000;

/** What the board knows of a contact's conversation besides the store: from `message.in` / `message.out`. */
export interface ContactTrack {
  /** ms since the epoch of the oldest customer message with no answer after it; null when answered. */
  unansweredSince: number | null;
  emotion: Emotion | null;
}

/** The fields of a session the board reads. */
export type BoardSession = Pick<
  SessionRecord,
  'id' | 'customerId' | 'channel' | 'status' | 'skillGroup' | 'assignedAgentId' | 'waitingSince' | 'updatedAt'
> & { routing: { tier: Tier } | null };

/** The queue KPIs of one group, as `computeKpis` counts them (docs/kpis.md): service level now and today, abandonment today. */
export interface GroupQueueKpis {
  last15m: BoardServiceLevel;
  today: BoardServiceLevel;
  abandonment: { rate: number | null; abandoned: number; queued: number };
}

/** The event kinds the board's service level and abandonment are counted from. */
export const QUEUE_KPI_KINDS: ReadonlySet<KpiEvent['kind']> = new Set(['contact.answered', 'contact.abandoned']);

/**
 * Service level over the last 15 minutes and since `dayStart`, and abandonment since `dayStart`, of
 * `skillGroup`, from the contact event log's `contact.answered` / `contact.abandoned` facts — through
 * `computeKpis`, so the board's numbers are the KPI report's for the same range by construction.
 * `facts`: `buildFacts` of those events (build once, reuse for every group). Times in ms.
 */
export function groupQueueKpis(
  facts: KpiFacts,
  skillGroup: string,
  now: number,
  dayStart: number,
  rules: Pick<BoardRules, 'thresholds'>,
): GroupQueueKpis {
  const options = { thresholds: rules.thresholds, target: 0, now };
  const filter = { skillGroups: [skillGroup] };
  const sl = (from: number): BoardServiceLevel => {
    const k = computeKpis(facts, { from, to: now + 1 }, filter, options).serviceLevel;
    return { rate: k.rate, answeredWithin: k.answeredWithin, answered: k.answered, abandonedAfter: k.abandonedAfter };
  };
  const today = computeKpis(facts, { from: dayStart, to: now + 1 }, filter, options);
  return {
    last15m: sl(now - RECENT_WINDOW_MS),
    today: {
      rate: today.serviceLevel.rate,
      answeredWithin: today.serviceLevel.answeredWithin,
      answered: today.serviceLevel.answered,
      abandonedAfter: today.serviceLevel.abandonedAfter,
    },
    abandonment: { ...today.abandonment },
  };
}

/** `buildFacts` of the queue facts alone (the board keeps only those in memory). */
export function queueFacts(events: readonly KpiEvent[]): KpiFacts {
  return buildFacts(events.filter((e) => QUEUE_KPI_KINDS.has(e.kind)));
}

export interface GroupBoardInput {
  skillGroup: string;
  /** Open sessions (`bot`, `queued`, `offered`, `active`) of the group. */
  sessions: readonly BoardSession[];
  /** Customer names by customer id, as stored (masked here). Missing: "—". */
  names: ReadonlyMap<string, string>;
  tracks: ReadonlyMap<string, ContactTrack>;
  /** Agents signed in (any group; the group's are picked here). */
  agents: readonly Pick<AgentState, 'id' | 'displayName' | 'username' | 'skillGroups' | 'presence' | 'activeChats'>[];
  /** Chats an agent holds at once (routing config `capacity.chat`). */
  chatCapacity: number;
  kpis: GroupQueueKpis;
  /** The service-level goal (`kpis.serviceLevel.target`). */
  target: number;
  rules: BoardRules;
  /** ms since the epoch. */
  now: number;
}

const iso = (t: number) => new Date(t).toISOString();
const WAITING = new Set(['queued', 'offered']);
/** Contacts' order on the board: waiting (longest first), then with an agent, then with the AI (each oldest first). */
const RANK: Record<string, number> = { queued: 0, offered: 0, active: 1, bot: 2 };

/**
 * One skill group's live board (issue 16, docs/lead-board.md): waiting contacts by tier and channel and
 * the longest wait, contacts with the AI and with agents, the group's signed-in agents by presence
 * with their load, the queue KPIs, and the open contacts with their trouble at `now`. Pure.
 */
export function buildGroupBoard(input: GroupBoardInput): BoardGroup {
  const { skillGroup, rules, now } = input;
  const sessions = input.sessions.filter((s) => s.skillGroup === skillGroup && s.status !== 'closed');
  const byTier: BoardGroup['waiting']['byTier'] = { expert: 0, assisted: 0, ai: 0, unrouted: 0 };
  const byChannel: BoardGroup['waiting']['byChannel'] = {};
  let longest: number | null = null;
  let withAi = 0;
  let active = 0;
  for (const s of sessions) {
    if (s.status === 'bot') withAi += 1;
    else if (s.status === 'active') active += 1;
    else if (WAITING.has(s.status)) {
      byTier[s.routing?.tier ?? 'unrouted'] += 1;
      byChannel[s.channel] = (byChannel[s.channel] ?? 0) + 1;
      const since = Date.parse(s.waitingSince);
      if (longest === null || since < longest) longest = since;
    }
  }
  const agents = input.agents.filter((a) => a.skillGroups.includes(skillGroup));
  const names = new Map(agents.map((a) => [a.id, a.displayName || a.username]));
  const byPresence: Partial<Record<Presence, number>> = {};
  for (const a of agents) byPresence[a.presence] = (byPresence[a.presence] ?? 0) + 1;
  const agentList: BoardAgent[] = agents
    .map((a) => ({ id: a.id, name: a.displayName || a.username, presence: a.presence, activeChats: a.activeChats, capacity: input.chatCapacity }))
    .sort((a, b) => a.name.localeCompare(b.name));

  const sorted = [...sessions].sort(
    (a, b) => RANK[a.status]! - RANK[b.status]! || Date.parse(a.waitingSince) - Date.parse(b.waitingSince) || a.id.localeCompare(b.id),
  );
  const contacts: BoardContact[] = sorted.slice(0, BOARD_CONTACTS_MAX).map((s) => {
    const track = input.tracks.get(s.id);
    const name = input.names.get(s.customerId);
    const contact: BoardContact = {
      sessionId: s.id,
      skillGroup: s.skillGroup,
      customerName: name ? maskPii(name) : '—',
      channel: s.channel,
      status: s.status as BoardContact['status'],
      tier: s.routing?.tier ?? null,
      waitingSince: s.waitingSince,
      since: s.updatedAt,
      assignedAgentId: s.assignedAgentId,
      assignedAgentName: s.assignedAgentId ? (names.get(s.assignedAgentId) ?? null) : null,
      unansweredSince: track?.unansweredSince != null ? iso(track.unansweredSince) : null,
      emotion: track?.emotion ?? null,
      trouble: [],
    };
    contact.trouble = contactTrouble(contact, now, rules);
    return contact;
  });

  return {
    skillGroup,
    at: iso(now),
    waiting: { total: byTier.expert + byTier.assisted + byTier.ai + byTier.unrouted, byTier, byChannel, longestSince: longest === null ? null : iso(longest) },
    withAi,
    active,
    agents: { byPresence, list: agentList },
    serviceLevel: { target: input.target, last15m: input.kpis.last15m, today: input.kpis.today },
    abandonment: { today: input.kpis.abandonment },
    contacts,
    contactsTotal: sessions.length,
  };
}
