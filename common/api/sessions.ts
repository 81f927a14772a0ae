import { z } from 'zod';
import { SlaStatusSchema } from './sla';
import { ChannelCodeSchema, SessionIdSchema } from '../message/session-id';
import { ContentSchema, DirectionSchema } from '../message/envelope';
import { RoutingDecisionSchema, TierSchema } from '../routing/types';
import { EmotionSchema } from '../ai/types';
import { OcrViewSchema } from './attachments';
import { AuthorKindSchema, ConversationSummarySchema, DraftSchema, HandoverSchema } from '../ai/assist';
import { TransferViewSchema } from './transfers';

/**
 * DESIGN §5: `bot` (the AI tier is answering), `queued`, `offered`, `active`, `closed`. A hand-over
 * moves `bot` → `queued` at once; nothing moves a session back to `bot`.
 */
export const SessionStatusSchema = z.enum(['bot', 'queued', 'offered', 'active', 'closed']);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

/** Wrap-up codes an agent picks when closing a conversation. */
export const WRAP_UP_CODES = ['resolved', 'follow-up', 'escalated', 'no-response', 'spam', 'duplicate'] as const;
export const WrapUpCodeSchema = z.enum(WRAP_UP_CODES);
export type WrapUpCode = z.infer<typeof WrapUpCodeSchema>;

/**
 * A customer message's emotion as staff see it (issue 9): the language core's label and how strongly it
 * is expressed, 0..1 (0 for `neutral`). Derived from the text on the way out, never stored.
 */
export const MessageEmotionSchema = z.object({ label: EmotionSchema, intensity: z.number().min(0).max(1) });
export type MessageEmotion = z.infer<typeof MessageEmotionSchema>;

/**
 * One message as staff see it (decrypted): the Envelope's content plus ordering. `emotion`: customer
 * (inbound) messages with readable text, when the server reads emotions; never on staff or AI messages.
 */
export const MessageViewSchema = z
  .object({
    id: z.string(),
    sessionId: SessionIdSchema,
    conversationId: z.string(),
    seq: z.number().int(),
    direction: DirectionSchema,
    channel: ChannelCodeSchema,
    authorId: z.string().nullable(),
    /** Who wrote it (DESIGN §4): AI messages are `ai`, router/hand-over notices `system`. */
    author: AuthorKindSchema,
    sentAt: z.string(),
    receivedAt: z.string(),
    emotion: MessageEmotionSchema.optional(),
    /** Image messages (issue 10): the text OCR read from the image, masked, and where reading it stands. */
    ocr: OcrViewSchema.optional(),
    /** Issue 18: what a caller said on the phone, heard by ASR (a live call transcript), not typed. */
    transcript: z.literal(true).optional(),
  })
  .and(ContentSchema);
export type MessageView = z.infer<typeof MessageViewSchema>;

export const SessionSummarySchema = z.object({
  id: SessionIdSchema,
  conversationId: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  channel: ChannelCodeSchema,
  status: SessionStatusSchema,
  skillGroup: z.string(),
  assignedAgentId: z.string().nullable(),
  offeredAgentId: z.string().nullable(),
  tier: TierSchema.nullable(),
  priority: z.number().nullable(),
  lastMessagePreview: z.string(),
  lastMessageAt: z.string(),
  createdAt: z.string(),
  waitingSince: z.string(),
  /** The emotion of the customer's newest inbound message (absent: none read, or no text in it). */
  emotion: MessageEmotionSchema.optional(),
  /** Set once the contact left the AI tier for a person (why, who, when, the intent): absent for contacts that never were with the AI. */
  handover: HandoverSchema.optional(),
  /**
   * Issue 12: the session of another channel this one carries the conversation on from — the customer
   * switched channel; a workstation showing that session shows this one instead.
   */
  movedFrom: SessionIdSchema.optional(),
  /** Issue 16: the SLA of the response the contact is waiting for (docs/sla.md); absent when none is waiting. */
  sla: SlaStatusSchema.optional(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const SessionDetailSchema = SessionSummarySchema.extend({
  /** Issue 12: closed because the customer went on from this channel; the conversation continues in that session. */
  movedTo: SessionIdSchema.optional(),
  wrapUpCode: WrapUpCodeSchema.nullable(),
  closedAt: z.string().nullable(),
  /** The newest page of the conversation (at most DETAIL_PAGE messages), oldest first. */
  messages: z.array(MessageViewSchema),
  /** Older messages exist before `messages[0]`: page back with `session:history` / `GET …/messages?beforeSeq=`. */
  hasOlderMessages: z.boolean(),
  routing: RoutingDecisionSchema.nullable(),
  /** The conversation in a few lines (on hand-over, transfer, wrap-up); absent until one was made. */
  summary: ConversationSummarySchema.optional(),
  /** The assisted tier's AI draft for the agent to review (absent when none, or once used or discarded). */
  draft: DraftSchema.optional(),
  /**
   * The session's newest transfer (issue 11) for the people it concerns: its sender while it is
   * pending, and whoever handles the contact after it (note and AI summary at the top).
   */
  transfer: TransferViewSchema.optional(),
  context: z.object({
    /** `channels`: every channel the person (their merge group, issue 12) wrote on; `groupId`: the person's id. */
    customer: z.object({ id: z.string(), name: z.string(), channels: z.array(ChannelCodeSchema), groupId: z.string().optional() }),
    previousSessions: z.array(
      z.object({
        id: SessionIdSchema,
        channel: ChannelCodeSchema,
        status: SessionStatusSchema,
        createdAt: z.string(),
      }),
    ),
  }),
});
export type SessionDetail = z.infer<typeof SessionDetailSchema>;

/** How many of the newest messages a session detail carries; older ones come in pages of up to 200. */
export const DETAIL_PAGE = 100;
export const HISTORY_PAGE_MAX = 200;

/** One page of older messages (`session:history`, `GET /api/v1/sessions/:id/messages`). */
export const MessagePageSchema = z.object({ messages: z.array(MessageViewSchema), hasOlder: z.boolean() });
export type MessagePageView = z.infer<typeof MessagePageSchema>;
