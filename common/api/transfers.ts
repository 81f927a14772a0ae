import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';
import { ConversationSummarySchema } from '../ai/assist';

/**
 * Transfers (issue 11): an agent passes a contact they hold to another agent, to a skill group or to
 * the expert tier, with the conversation's history (the same session) and an AI summary attached.
 *
 * - `cold`: the contact leaves the agent at once and is routed to the target (the customer waits).
 * - `warm` (chat): the agent keeps the contact while the target is offered it; when the receiving
 *   agent accepts, the contact moves to them in one write. Decline, time-out and cancel leave it
 *   with the first agent.
 *
 * Shapes shared by the server and the workstation; the socket events are in `socket/agent-events.ts`.
 */

const StaffId = z.string().min(1).max(64);
const SkillGroupId = z.string().min(1).max(64);

export const TransferModeSchema = z.enum(['warm', 'cold']);
export type TransferMode = z.infer<typeof TransferModeSchema>;

/**
 * Where a transfer goes:
 * - `agent`: a named colleague. `skillGroup`: the group the contact is in once with them (one of
 *   theirs); default the contact's own group when they are in it, else their first group.
 * - `skill-group`: a skill group; the contact's group becomes this one and it is routed there.
 * - `expert`: the expert tier of `skillGroup` (default the contact's own group): the tier becomes
 *   `expert`, its priority is unchanged.
 */
export const TransferTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('agent'), agentId: StaffId, skillGroup: SkillGroupId.optional() }),
  z.strictObject({ kind: z.literal('skill-group'), skillGroup: SkillGroupId }),
  z.strictObject({ kind: z.literal('expert'), skillGroup: SkillGroupId.optional() }),
]);
export type TransferTarget = z.infer<typeof TransferTargetSchema>;

/**
 * Where a transfer stands: `pending` (warm, offered to the receiving agent), `accepted` (warm, the
 * contact moved to them), `declined`, `expired` (not accepted within the offer time-out),
 * `cancelled` (by the sender, or because the contact was closed or left the sender meanwhile),
 * `routed` (cold: the contact left the sender and was routed to the target).
 */
export const TransferStatusSchema = z.enum(['pending', 'accepted', 'declined', 'expired', 'cancelled', 'routed']);
export type TransferStatus = z.infer<typeof TransferStatusSchema>;

/** Longest transfer note, in UTF-16 code units. */
export const TRANSFER_NOTE_MAX = 500;
/** Longest reason a receiving agent gives for declining. */
export const TRANSFER_DECLINE_REASON_MAX = 200;

const Person = z.object({ id: z.string(), name: z.string() });

/** One transfer as its parties (the sender, the receiving agent, whoever handles the contact after) see it. */
export const TransferViewSchema = z.object({
  id: z.string(),
  sessionId: SessionIdSchema,
  mode: TransferModeSchema,
  status: TransferStatusSchema,
  from: Person,
  target: TransferTargetSchema,
  /** The target's name for people: the agent's display name, or the skill group's name (of its expert tier). */
  targetLabel: z.string(),
  /** Warm: the agent the contact is offered to (chosen by the router for a group or the expert tier). */
  offeredTo: Person.nullable(),
  /** The skill group the contact is in once transferred. */
  skillGroup: z.string(),
  note: z.string().nullable(),
  /** The conversation so far in a few lines (AI: extractive, or the language model's when configured). */
  summary: ConversationSummarySchema.nullable(),
  declineReason: z.string().nullable(),
  createdAt: z.string(),
  /** Warm: the receiving agent must accept before this time. */
  expiresAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
  /** Who ended it: the receiving agent (accepted/declined), the sender (cancelled), or `system`. */
  decidedBy: z.string().nullable(),
});
export type TransferView = z.infer<typeof TransferViewSchema>;

/** The name of the staff-only event message that records a transfer in the conversation. */
export const TRANSFER_EVENT_NAME = 'staff.transfer';

/** The data of that message (facts for the agents' transcript; the customer never sees it). */
export const TransferEventDataSchema = z.object({
  transferId: z.string(),
  mode: TransferModeSchema,
  status: TransferStatusSchema,
  from: Person,
  targetLabel: z.string(),
  to: Person.nullable(),
  skillGroup: z.string(),
  /**
   * Who made the transfer when it was not `from` (issue 16: a team lead reassigning the agent's contact,
   * `supervise:reassign`); absent when the agent transferred it themself.
   */
  by: Person.optional(),
});
export type TransferEventData = z.infer<typeof TransferEventDataSchema>;
