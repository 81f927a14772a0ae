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
