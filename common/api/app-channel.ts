import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../message/envelope';

/** `POST /api/v1/channels/app/messages` body (DESIGN §6). */
export const AppMessageRequestSchema = z.object({
  customer: z.object({
    externalId: z.string().trim().min(1).max(256),
    name: z.string().trim().min(1).max(128).optional(),
    phone: z.string().trim().min(3).max(32).optional(),
  }),
  text: z.string().trim().min(1).max(MAX_TEXT_LENGTH),
  clientMessageId: z.string().trim().min(1).max(128),
  hints: z
    .object({
      skillGroup: z.string().min(1).max(64).optional(),
      lang: z.string().min(2).max(16).optional(),
    })
    .optional(),
});
export type AppMessageRequest = z.infer<typeof AppMessageRequestSchema>;

export const AppMessageResponseSchema = z.object({
  sessionId: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number().int(),
});
export type AppMessageResponse = z.infer<typeof AppMessageResponseSchema>;

/** `GET /api/v1/channels/app/messages` query: the app polls its customer's conversation. */
export const AppMessagesQuerySchema = z.strictObject({
  externalId: z.string().trim().min(1).max(256),
  /** The conversation `afterSeq` counts in; when the customer's latest conversation differs, all of it is returned. */
  conversationId: z.uuid().optional(),
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export type AppMessagesQuery = z.infer<typeof AppMessagesQuerySchema>;

export interface AppMessageView {
  id: string;
  seq: number;
  direction: 'in' | 'out';
  kind: string;
  text: string;
  clientMessageId: string;
  sentAt: string;
}

export interface AppMessagesResponse {
  sessionId: string | null;
  conversationId: string | null;
  status: 'queued' | 'offered' | 'active' | 'closed' | null;
  messages: AppMessageView[];
}
