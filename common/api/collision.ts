import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';
import type { SessionSummary } from './sessions';

/**
 * Collision control (issue 15, docs/collision.md): who else is viewing a conversation, and asking the
 * agent who holds it to hand it over (a take-over).
 *
 * A **viewer** is a staff user who has the conversation open: an agent or lead in the workstation
 * (`session:view` … `session:unview`) or a lead or admin supervising it (`supervise:open` …
 * `supervise:leave`). A socket's end (disconnect, sign-out, token expiry) drops every view it held.
 * Only the assigned agent may reply (`message:send` answers NOT_ASSIGNED to anyone else).
 */

/** `session:view` / `session:unview`: you opened (closed) this conversation in your workstation. */
export const SessionViewSchema = z.strictObject({ sessionId: SessionIdSchema });
export type SessionViewInput = z.infer<typeof SessionViewSchema>;

/** One person viewing a conversation; a person on several sockets is listed once. */
export interface SessionViewer {
  id: string;
  name: string;
  /** `supervising`: a lead's or admin's read-only supervision view; `workstation`: an agent's open conversation. */
  via: 'workstation' | 'supervising';
  /** Holds the contact now (the only one who may reply). */
  assigned: boolean;
}

/** `session:viewers`: the live list of a conversation's viewers, pushed to each of them on every change. */
export interface SessionViewers {
  sessionId: string;
  /** Who holds the contact now, or null (waiting, with the AI, closed). */
  assignedAgentId: string | null;
  /** Sorted by name; includes the receiving viewer themself. */
  viewers: SessionViewer[];
}

/**
 * `takeover:list`: the contacts colleagues hold in your skill groups, the ones you may open read-only
 * and ask to take over. `skillGroup`: only that group (FORBIDDEN when it is not one you handle, known
 * or not: no oracle); absent: every group you handle.
 */
export const TakeoverListSchema = z.strictObject({ skillGroup: z.string().min(1).max(64).optional() });
export type TakeoverListInput = z.infer<typeof TakeoverListSchema>;
/** How many held contacts `takeover:list` answers at most (the most recently active first). */
export const TAKEOVER_LIST_MAX = 200;

/** One contact a colleague holds (`takeover:list`): its queue row and who holds it. */
export interface HeldContact {
  summary: SessionSummary;
  holder: { id: string; name: string };
}

/**
 * `takeover:held` (issue 15, pushed): a contact of the Team tab changed. `held` is its new row (a
 * colleague holds it: upsert by `summary.id`), or null (nobody else holds it any more, or it left my
 * groups: drop it). Sent to the agents and leads of the contact's group, never to its holder.
 */
export interface HeldContactChange {
  sessionId: string;
  held: HeldContact | null;
}

/**
 * The note of the transfer a take-over makes (stored with the transfer, in English, for logs and API
 * clients): `Take-over asked by <requester's name>`. The desk words it in its language from this
 * stable prefix (issue 15; the transfer record has no code field yet).
 */
export const TAKEOVER_NOTE_PREFIX = 'Take-over asked by ';
/** The take-over transfer's note for a requester named `name`. */
export const takeoverNote = (name: string): string => `${TAKEOVER_NOTE_PREFIX}${name}`;

/** `takeover:request`: ask the agent who holds a conversation you are viewing to hand it to you. */
export const TakeoverRequestSchema = z.strictObject({ sessionId: SessionIdSchema });
/** `takeover:answer`: the holder accepts (the contact moves to the requester) or declines. */
export const TakeoverAnswerSchema = z.strictObject({ takeoverId: z.uuid(), accept: z.boolean() });
export type TakeoverAnswer = z.infer<typeof TakeoverAnswerSchema>;

/**
 * Where a take-over request stands: `pending` (the holder is asked), `accepted` (the contact moved
 * to the requester through a transfer), `declined` (by the holder), `expired` (the holder did not
 * answer in time: declined), `cancelled` (the contact closed or changed hands meanwhile), `failed`
 * (accepted but the hand-over was refused, e.g. the requester is away: `error` says why).
 */
export const TAKEOVER_STATUSES = ['pending', 'accepted', 'declined', 'expired', 'cancelled', 'failed'] as const;
export type TakeoverStatus = (typeof TAKEOVER_STATUSES)[number];

/** A take-over request as both parties see it (`takeover:requested`, `takeover:updated`, the acks). */
export interface TakeoverView {
  id: string;
  sessionId: string;
  /** The agent asking to take the contact over. */
  requester: { id: string; name: string };
  /** The agent who held the contact when asked. */
  holder: { id: string; name: string };
  status: TakeoverStatus;
  /** When an unanswered request counts as declined (ISO 8601). */
  expiresAt: string;
  decidedAt: string | null;
  /** The transfer that moved the contact, when accepted. */
  transferId: string | null;
  /** Why an accepted take-over could not move the contact (`failed`): a stable error code. */
  error: string | null;
}

/** `agent:load`: your presence and how many chats you hold against your chat capacity (pushed on change). */
export interface AgentLoad {
  presence: 'available' | 'busy' | 'after-call-work' | 'away' | 'offline';
  activeChats: number;
  /** Chats the router gives you at most at once (routing config `capacity.chat`). */
  capacity: number;
}
