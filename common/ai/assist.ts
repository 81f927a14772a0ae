import { z } from 'zod';

/**
 * The AI in conversations (issue 10): hand-overs from the AI tier to a person, drafts the assisted
 * tier pre-fills for review, suggested replies and conversation summaries. Shapes shared by the
 * server, the workstation and (hand-over state) the widget.
 */

/** Who wrote a message (DESIGN §4 `author`): every AI message is marked `ai` to customers and staff. */
export const AuthorKindSchema = z.enum(['customer', 'agent', 'ai', 'system']);
export type AuthorKind = z.infer<typeof AuthorKindSchema>;

/**
 * Why a contact left the AI for a person:
 * - `low-confidence`: the AI could not match the question to the knowledge base well enough;
 * - `customer-asked`: the customer asked for a person in words (any the language core recognises);
 * - `button`: the customer pressed "talk to a person" in the widget (or the app called hand-over);
 * - `negative-emotion`: the customer's emotion turned negative (anger, disgust, fear, sadness) past the threshold;
 * - `unresolved-turns`: N turns in a row without an answer that helped (config `ai.autoAnswer.maxUnresolvedTurns`);
 * - `agent-took-over`: an agent of the group took the contact from the AI;
 * - `ai-unavailable`: the AI could not answer at all (no model, an error): never leaves the customer waiting.
 */
export const HandoverReasonSchema = z.enum([
  'low-confidence',
  'customer-asked',
  'button',
  'negative-emotion',
  'unresolved-turns',
  'agent-took-over',
  'ai-unavailable',
]);
export type HandoverReason = z.infer<typeof HandoverReasonSchema>;

/**
 * A hand-over as stored with the session (no customer text here: the summary is sealed apart and
 * shown to staff in `SessionDetail.summary`).
 */
export const HandoverSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  reason: HandoverReasonSchema,
  /** `ai`, `customer`, or the staff user id of an agent who took over. */
  by: z.string().min(1).max(64),
  /** The intent the AI detected last (null: out of scope or none yet) and its confidence, 0..1. */
  intent: z.string().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  /** No agent of the skill group was online at the hand-over: the customer was offered to leave a message. */
  noAgentOnline: z.boolean(),
});
export type Handover = z.infer<typeof HandoverSchema>;

/** Where a draft or a suggested reply comes from: a knowledge-base entry, or an agent's past reply to a similar question. */
export const AssistSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('kb'), entryId: z.string(), intent: z.string(), confidence: z.number().min(0).max(1) }),
  z.object({ kind: z.literal('past-reply'), similarity: z.number().min(0).max(1), sessionId: z.string().optional() }),
]);
export type AssistSource = z.infer<typeof AssistSourceSchema>;

/** One suggested reply for the latest customer message: inserted by a click, never sent by itself. */
export const SuggestionSchema = z.object({ text: z.string(), source: AssistSourceSchema });
export type Suggestion = z.infer<typeof SuggestionSchema>;

/**
 * The AI draft of the assisted tier: pre-filled in the composer when the contact is offered, for the
 * agent to edit and send, or discard. `forMessageId`: the customer message it answers.
 */
export const DraftSchema = z.object({
  id: z.string().min(1).max(64),
  text: z.string(),
  source: AssistSourceSchema,
  forMessageId: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type Draft = z.infer<typeof DraftSchema>;

/** What the agent did with a draft (kept as feedback and reported). */
export const DraftOutcomeSchema = z.enum(['accepted', 'edited', 'discarded']);
export type DraftOutcome = z.infer<typeof DraftOutcomeSchema>;

/**
 * A few lines about the conversation (on hand-over, transfer and wrap-up): the intent, what the
 * customer wants, what was done. `by`: `extractive` (from the conversation's own sentences) or
 * `llm` (the optional OpenAI-compatible adapter).
 */
/**
 * What an extractive summary's lines are made of, as facts (issue 15: the desk words them in the
 * agent's language; `lines` are worded in the customer's). Numbers and stable ids only.
 */
export const SummaryFactsSchema = z.object({
  aiAnswers: z.number().int().min(0),
  /** Knowledge-base intents of the AI's answers (ids, e.g. `order-status`). */
  aiIntents: z.array(z.string().max(100)).max(20),
  handover: z.object({ reason: HandoverReasonSchema, noAgentOnline: z.boolean() }).nullable(),
  agentReplies: z.number().int().min(0),
  orders: z.array(z.string().max(64)).max(20),
  tracking: z.array(z.string().max(64)).max(20),
});
export type SummaryFacts = z.infer<typeof SummaryFactsSchema>;

export const ConversationSummarySchema = z.object({
  intent: z.string().nullable(),
  wants: z.string(),
  done: z.string(),
  lines: z.array(z.string()),
  /** Present on extractive summaries: the desk words `lines` again from these in its own language. */
  facts: SummaryFactsSchema.optional(),
  by: z.enum(['extractive', 'llm']),
  at: z.iso.datetime({ offset: true }),
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;

/**
 * Where a customer handed to a person stands: position in the skill group's queue (1 = next) and the
 * estimated wait in seconds (null when no agent is online: then `noAgentOnline`).
 */
export const QueueStandingSchema = z.object({
  position: z.number().int().min(1),
  estimatedWaitSeconds: z.number().int().min(0).nullable(),
  noAgentOnline: z.boolean(),
});
export type QueueStanding = z.infer<typeof QueueStandingSchema>;
