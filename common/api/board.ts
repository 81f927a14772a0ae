import { z } from 'zod';
import type { Emotion } from '../ai/types';
import { NEGATIVE_EMOTIONS } from '../ai/types';
import type { ChannelCode } from '../message/session-id';
import type { SlaKind } from './sla';
import type { Tier } from '../routing/types';
import type { SessionStatus } from './sessions';
import type { Presence } from '../socket/agent-events';

/**
 * The team lead's live board (issue 16, docs/lead-board.md): one snapshot per skill group, pushed
 * over the `/agent` socket (`board:subscribe` → `board:update`). Times are ISO 8601 instants; the
 * workstation ticks waits from them, so the server pushes only when something happened.
 * No customer content: names are masked (`maskPii`), messages are never carried.
 */

/** How many contacts a group's list carries at most (the longest-waiting first). */
export const BOARD_CONTACTS_MAX = 300;

/** `board:subscribe`: the groups to watch; absent = every group in the caller's scope. */
export const BoardSubscribeSchema = z.strictObject({
  skillGroups: z.array(z.string().min(1).max(64)).min(1).max(50).optional(),
});
export type BoardSubscribe = z.infer<typeof BoardSubscribeSchema>;
export const BoardUnsubscribeSchema = z.strictObject({});

/** Why a contact is highlighted. */
export type BoardTrouble =
  /**
   * About to breach: the contact's SLA clock (docs/sla.md) has less than `1 − slaWarnShare` of its target
   * left; with no SLA clock, a waiting contact past `slaWarnShare` of its channel's service-level threshold.
   */
  | 'sla-risk'
  /** The SLA clock is breached (the tracker says so or its due time passed); with no clock, waiting past the service-level threshold. */
  | 'sla-breached'
  /** An agent's contact whose customer's newest message has had no answer for `silenceSeconds` or longer. */
  | 'customer-waiting'
  /** The customer's newest message reads as negative (anger, disgust, fear, sadness). */
  | 'negative-emotion';

/** The rules that make a contact "in trouble"; the server sends them with each snapshot. */
export interface BoardRules {
  /** Service-level thresholds in seconds: voice (`SP`) and chat (every other channel), docs/kpis.md. */
  thresholds: { voice: number; chat: number };
  /** Share of the SLA target (or, with no SLA clock, of the threshold) after which a contact is about to breach (default 0.8). */
  slaWarnShare: number;
  /** Seconds a customer message may stay unanswered before the contact is flagged (default 120). */
  silenceSeconds: number;
}

/** A contact's running SLA clock (docs/sla.md): `dueAt` null = no business time ahead (never due). */
export interface BoardSla {
  kind: SlaKind;
  dueAt: string | null;
  breached: boolean;
  /** The policy's target for this response in seconds (absent: unknown, then only the breach is flagged). */
  targetSeconds?: number;
}

/** One open contact on the board. */
export interface BoardContact {
  sessionId: string;
  skillGroup: string;
  /** The customer's display name, masked (phone numbers, ids, e-mails); never any message text. */
  customerName: string;
  channel: ChannelCode;
  status: Exclude<SessionStatus, 'closed'>;
  /** Routing tier; null before the first routing decision. */
  tier: Tier | null;
  /** When the contact started waiting for a person (`queued`/`offered`) or for its current stage. */
  waitingSince: string;
  /** When the session was last updated (status change): an active contact's handling started around then. */
  since: string;
  assignedAgentId: string | null;
  assignedAgentName: string | null;
  /** The oldest customer message with no answer after it; null when the last word was staff's or the AI's. */
  unansweredSince: string | null;
  /** The emotion of the customer's newest message, when read. */
  emotion: Emotion | null;
  /** The SLA clock of the response the contact waits for (the SLA tracker's); null when none runs (e.g. with the AI). */
  sla: BoardSla | null;
  /** Trouble as of the snapshot's `at`; the workstation re-evaluates the time-based ones with `contactTrouble`. */
  trouble: BoardTrouble[];
}

/** One signed-in agent of the group. */
export interface BoardAgent {
  id: string;
  name: string;
  presence: Presence;
  activeChats: number;
  /** Chats the agent may hold at once (routing config `capacity.chat`). */
  capacity: number;
}

/** A rate and what it was counted from (null rate: nothing to count yet). */
export interface BoardServiceLevel {
  rate: number | null;
  answeredWithin: number;
  answered: number;
  abandonedAfter: number;
}

/** One skill group's live board. */
export interface BoardGroup {
  skillGroup: string;
  /** When the server computed it (ISO 8601). */
  at: string;
  waiting: {
    total: number;
    byTier: Record<Tier | 'unrouted', number>;
    byChannel: Partial<Record<ChannelCode, number>>;
    /** `waitingSince` of the longest-waiting contact; null when nobody waits. */
    longestSince: string | null;
  };
  /** Contacts the AI handles now (status `bot`). */
  withAi: number;
  /** Contacts with an agent (status `active`). */
  active: number;
  agents: { byPresence: Partial<Record<Presence, number>>; list: BoardAgent[] };
  serviceLevel: { target: number; last15m: BoardServiceLevel; today: BoardServiceLevel };
  abandonment: { today: { rate: number | null; abandoned: number; queued: number } };
  /** Open contacts: waiting first (longest first), then the AI's and the agents', at most BOARD_CONTACTS_MAX. */
  contacts: BoardContact[];
  /** Open contacts in all, more than `contacts` holds when the list was cut. */
  contactsTotal: number;
}

/** What `board:subscribe` answers and `board:update` pushes: the groups that changed. */
export interface BoardSnapshot {
  rules: BoardRules;
  groups: BoardGroup[];
}

const WAITING: readonly string[] = ['queued', 'offered'];

/** The service-level threshold of a channel in ms (voice for `SP`, chat for the others; kpis/compute.ts). */
export function boardThresholdMs(channel: ChannelCode, rules: Pick<BoardRules, 'thresholds'>): number {
  return (channel === 'SP' ? rules.thresholds.voice : rules.thresholds.chat) * 1000;
}

/**
 * Why a contact is in trouble at `now` (ms since the epoch), under `rules`. Pure: the server flags
 * rows with it, the workstation re-runs it each second so a wait crossing the line turns red without
 * a push. Order: the most urgent first.
 */
export function contactTrouble(
  c: Pick<BoardContact, 'status' | 'channel' | 'waitingSince' | 'unansweredSince' | 'emotion'> & { sla?: BoardSla | null },
  now: number,
  rules: BoardRules,
): BoardTrouble[] {
  const out: BoardTrouble[] = [];
  const sla = slaTrouble(c.sla ?? null, now, rules);
  if (sla) out.push(sla);
  else if (!c.sla && WAITING.includes(c.status)) {
    // No SLA clock: the fixed service-level threshold of the channel.
    const waited = now - Date.parse(c.waitingSince);
    const threshold = boardThresholdMs(c.channel, rules);
    if (waited > threshold) out.push('sla-breached');
    else if (waited >= threshold * rules.slaWarnShare) out.push('sla-risk');
  }
  if (c.unansweredSince !== null && c.status === 'active' && now - Date.parse(c.unansweredSince) >= rules.silenceSeconds * 1000)
    out.push('customer-waiting');
  if (c.emotion !== null && NEGATIVE_EMOTIONS.includes(c.emotion)) out.push('negative-emotion');
  return out;
}

/**
 * The SLA flag of a running clock at `now` (ms): `sla-breached` when the tracker recorded the breach or
 * `now ≥ dueAt`; `sla-risk` when the wall time left is at or below `(1 − slaWarnShare) × targetSeconds` (a
 * clock paused outside business hours has its due time far ahead, so it is not at risk); else null.
 */
export function slaTrouble(sla: BoardSla | null, now: number, rules: Pick<BoardRules, 'slaWarnShare'>): BoardTrouble | null {
  if (!sla) return null;
  if (sla.breached) return 'sla-breached';
  if (sla.dueAt === null) return null;
  const left = Date.parse(sla.dueAt) - now;
  if (left <= 0) return 'sla-breached';
  if (sla.targetSeconds !== undefined && left <= slaWarnWindowMs(sla.targetSeconds, rules)) return 'sla-risk';
  return null;
}

/**
 * When a running clock turns `sla-risk` (ms since the epoch), or null when it never will (no target,
 * never due, already breached). The board's server sets one timer at the earliest so the push is timely.
 */
export function slaWarnAt(sla: BoardSla | null, rules: Pick<BoardRules, 'slaWarnShare'>): number | null {
  if (!sla || sla.breached || sla.dueAt === null || sla.targetSeconds === undefined) return null;
  return Date.parse(sla.dueAt) - slaWarnWindowMs(sla.targetSeconds, rules);
}

/** The last part of a target that is "about to breach", in whole ms (rounded: 0.2 × 300 s is 60 000 ms, not 59 999.99…). */
function slaWarnWindowMs(targetSeconds: number, rules: Pick<BoardRules, 'slaWarnShare'>): number {
  return Math.round((1 - rules.slaWarnShare) * targetSeconds * 1000);
}
