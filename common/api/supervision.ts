import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { idTokenSchema, staffTextSchema, visibleTextSchema } from '../text/text';

/**
 * Internal notes and supervision (issues 15 and 16; docs/supervision.md).
 *
 * An **internal note** is a staff-only message in a conversation: stored encrypted with the
 * conversation like every message, as an event message named `staff.note` (the `staff.` prefix of
 * `isStaffOnly` in message/envelope.ts), so no channel adapter, widget replay, app-channel GET or AI
 * context that answers customers ever carries it. A **whisper** is a note from a team lead to the
 * agent who holds the contact: the same message with `whisper: true` and the agent it was meant for;
 * only that agent and people who supervise (leads, admins, auditors) see it.
 */
export const NOTE_EVENT_NAME = 'staff.note';

/** Longest note or whisper (UTF-16 code units): as long as a message. */
export const NOTE_TEXT_MAX = MAX_TEXT_LENGTH;

const StaffId = z.string().min(1).max(64);
const Person = z.object({ id: StaffId, name: z.string().max(128) });

/** The `data` of a `staff.note` event message. */
export const NoteEventDataSchema = z.object({
  text: z.string().min(1).max(NOTE_TEXT_MAX),
  author: Person,
  /** A lead's whisper to the agent who held the contact (`to`); false: a note every staff viewer sees. */
  whisper: z.boolean(),
  to: Person.nullable(),
});
export type NoteEventData = z.infer<typeof NoteEventDataSchema>;

/** Roles that see every whisper of a conversation they may open (they supervise, or audit those who do). */
export const WHISPER_READER_ROLES = ['lead', 'admin', 'auditor'] as const;

/**
 * Whether `viewer` may see a stored message: every message but a whisper, which is for the agent it
 * was meant for and for leads, admins and auditors. A message that is not a note is always visible.
 */
export function noteVisibleTo(
  m: { kind: string; body: unknown; direction: string },
  viewer: { id: string; roles: readonly string[] },
): boolean {
  if (m.kind !== 'event' || m.direction !== 'out') return true;
  const body = m.body as { name?: unknown; data?: unknown };
  if (body.name !== NOTE_EVENT_NAME) return true;
  const data = NoteEventDataSchema.safeParse(body.data);
  // A note that does not read as one is shown to supervisors only (fail closed).
  if (!data.success) return viewer.roles.some((r) => (WHISPER_READER_ROLES as readonly string[]).includes(r));
  if (!data.data.whisper) return true;
  return data.data.to?.id === viewer.id || viewer.roles.some((r) => (WHISPER_READER_ROLES as readonly string[]).includes(r));
}

/** `note:add`: an internal note in a conversation you may handle (never sent to the customer). */
export const AddNoteSchema = z.object({
  sessionId: SessionIdSchema,
  clientMessageId: idTokenSchema(8, 128),
  text: staffTextSchema(NOTE_TEXT_MAX),
});
export type AddNote = z.infer<typeof AddNoteSchema>;

/** `supervise:open` / `supervise:leave`: watch a conversation of your groups read-only (live), or stop. */
export const SuperviseSessionSchema = z.object({ sessionId: SessionIdSchema });
export type SuperviseSession = z.infer<typeof SuperviseSessionSchema>;

/** `supervise:whisper`: a note only the contact's agent (and supervisors) see, pushed to them live. */
export const WhisperSchema = AddNoteSchema;
export type Whisper = z.infer<typeof WhisperSchema>;

/** `supervise:barge`: the lead writes to the customer on the customer's channel (author: the lead). */
export const BargeSchema = z.object({
  sessionId: SessionIdSchema,
  clientMessageId: idTokenSchema(8, 128),
  text: visibleTextSchema(MAX_TEXT_LENGTH),
});
export type Barge = z.infer<typeof BargeSchema>;

/**
 * `supervise:reassign`: move a contact to another agent of its group (`agent`) or back to its
 * group's queue (`queue`). A contact an agent holds is moved with the transfer machinery (a cold
 * transfer on the holder's behalf, audited as the lead's act). Only a held (`active`) contact can be
 * reassigned: a waiting one (or one with the AI) is refused with NO_AGENT_ASSIGNED — offering it is the
 * router's job (docs/supervision.md).
 */
export const ReassignTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('agent'), agentId: StaffId }),
  z.object({ kind: z.literal('queue') }),
]);
export type ReassignTarget = z.infer<typeof ReassignTargetSchema>;
export const ReassignSchema = z.strictObject({
  sessionId: SessionIdSchema,
  to: ReassignTargetSchema,
  note: z.string().trim().max(500).optional(),
});
export type Reassign = z.infer<typeof ReassignSchema>;

/** `supervise:presence`: set an agent of your groups available, busy or away. */
export const SupervisePresenceSchema = z.object({
  agentId: StaffId,
  presence: z.enum(['available', 'busy', 'away']),
});
export type SupervisePresence = z.infer<typeof SupervisePresenceSchema>;

/** `supervise:agents`: the agents signed in to your groups, with their presence and load. */
export const SuperviseAgentsSchema = z.strictObject({});

export const SupervisedAgentSchema = z.object({
  id: StaffId,
  name: z.string(),
  skillGroups: z.array(z.string()),
  presence: z.enum(['available', 'busy', 'after-call-work', 'away', 'offline']),
  activeChats: z.number().int().min(0),
});
export type SupervisedAgent = z.infer<typeof SupervisedAgentSchema>;

/** Who changed an agent's presence when it was not the agent (`presence:changed.by`). */
export const PresenceChangedBySchema = Person;
export type PresenceChangedBy = z.infer<typeof PresenceChangedBySchema>;
