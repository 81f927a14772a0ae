import {
  BOARD_CONTACTS_MAX,
  contactTrouble,
  type BoardAgent,
  type BoardContact,
  type BoardGroup,
  type BoardRules,
  type BoardServiceLevel,
  type BoardSla,
} from '../../../common/api/board';
import type { Emotion } from '../../../common/ai/types';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';
import { maskPii } from '../../../common/privacy/mask';
import type { Presence } from '../../../common/socket/agent-events';
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

interface Outcome {
  at: number;
  waitMs: number;
  skillGroup: string | null;
  channel: ChannelCode | null;
}

/**
 * How each contact's wait for a person ended, from the KPI log's `contact.answered` and
 * `contact.abandoned` facts: the first answer (a transfer's accept is not a second one) and an
 * abandonment not preceded by an answer — the same facts `buildFacts` keeps (kpis/compute.ts). Kept
 * incrementally: adding a fact again changes nothing, so overlapping reads of the log are harmless.
 * Why not `computeKpis` on each push: it sorts and folds the whole log (≈ 1.5 s for 20,000 facts
 * here; docs/lead-board.md), this counts the same in ≈ 1 ms.
 */
export class QueueOutcomes {
  private readonly contacts = new Map<string, { answered: Outcome | null; abandoned: Outcome | null; last: number }>();

  /** Adds a fact of the log (other kinds and facts without a session are ignored). */
  add(e: KpiEvent): void {
    if (!QUEUE_KPI_KINDS.has(e.kind) || !e.sessionId) return;
    const c = this.contacts.get(e.sessionId) ?? { answered: null, abandoned: null, last: e.at };
    const o: Outcome = { at: e.at, waitMs: e.data.waitMs ?? 0, skillGroup: e.skillGroup, channel: e.channel };
    if (e.kind === 'contact.answered') {
      if (!c.answered || e.at < c.answered.at) c.answered = o;
    } else if (!c.abandoned || e.at < c.abandoned.at) c.abandoned = o;
    c.last = Math.max(c.last, e.at);
    this.contacts.set(e.sessionId, c);
  }

  /** Forgets contacts whose newest fact is older than `before` (ms). */
  prune(before: number): void {
    for (const [id, c] of this.contacts) if (c.last < before) this.contacts.delete(id);
  }

  get size(): number {
    return this.contacts.size;
  }

  /**
   * The queue KPIs of `skillGroup` over [from, to) (docs/kpis.md): service level = answered within the
   * threshold / (answered + abandoned after it); abandonment = abandoned / (answered + abandoned).
   */
  count(skillGroup: string, from: number, to: number, rules: Pick<BoardRules, 'thresholds'>) {
    const threshold = (channel: ChannelCode | null) => (channel === 'SP' ? rules.thresholds.voice : rules.thresholds.chat) * 1000;
    const inRange = (o: Outcome | null): o is Outcome => o !== null && o.at >= from && o.at < to && o.skillGroup === skillGroup;
    let answered = 0;
    let within = 0;
    let abandoned = 0;
    let abandonedAfter = 0;
    for (const c of this.contacts.values()) {
      if (inRange(c.answered)) {
        answered += 1;
        if (c.answered.waitMs <= threshold(c.answered.channel)) within += 1;
      }
      // Abandoned, unless a person had answered it before (compute.ts `buildFacts`).
      if (inRange(c.abandoned) && !(c.answered && c.answered.at <= c.abandoned.at)) {
        abandoned += 1;
        if (c.abandoned.waitMs > threshold(c.abandoned.channel)) abandonedAfter += 1;
      }
    }
    const ratio = (n: number, d: number) => (d > 0 ? n / d : null);
    return {
      serviceLevel: { rate: ratio(within, answered + abandonedAfter), answeredWithin: within, answered, abandonedAfter },
      abandonment: { rate: ratio(abandoned, answered + abandoned), abandoned, queued: answered + abandoned },
    };
  }
}

/**
 * Service level over the last 15 minutes and since `dayStart`, and abandonment since `dayStart`, of
 * `skillGroup` (times in ms), by the KPI definitions of docs/kpis.md (checked against `computeKpis`).
 */
export function groupQueueKpis(
  outcomes: QueueOutcomes,
  skillGroup: string,
  now: number,
  dayStart: number,
  rules: Pick<BoardRules, 'thresholds'>,
): GroupQueueKpis {
  const today = outcomes.count(skillGroup, dayStart, now + 1, rules);
  return {
    last15m: outcomes.count(skillGroup, now - RECENT_WINDOW_MS, now + 1, rules).serviceLevel,
    today: today.serviceLevel,
    abandonment: today.abandonment,
  };
}

/** The outcomes of these facts (any kinds; the queue ones are kept). */
export function queueOutcomes(events: readonly KpiEvent[]): QueueOutcomes {
  const outcomes = new QueueOutcomes();
  for (const e of events) outcomes.add(e);
  return outcomes;
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
  /** A contact's running SLA clock (the SLA tracker's); absent or null: the service-level threshold rule. */
  slaOf?: (sessionId: string) => BoardSla | null;
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
    .map((a) => ({
      id: a.id,
      name: a.displayName || a.username,
      presence: a.presence,
      activeChats: a.activeChats,
      capacity: input.chatCapacity,
    }))
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
      sla: input.slaOf?.(s.id) ?? null,
      trouble: [],
    };
    contact.trouble = contactTrouble(contact, now, rules);
    return contact;
  });

  return {
    skillGroup,
    at: iso(now),
    waiting: {
      total: byTier.expert + byTier.assisted + byTier.ai + byTier.unrouted,
      byTier,
      byChannel,
      longestSince: longest === null ? null : iso(longest),
    },
    withAi,
    active,
    agents: { byPresence, list: agentList },
    serviceLevel: { target: input.target, last15m: input.kpis.last15m, today: input.kpis.today },
    abandonment: { today: input.kpis.abandonment },
    contacts,
    contactsTotal: sessions.length,
  };
}
