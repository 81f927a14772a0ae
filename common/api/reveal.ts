import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';

/**
 * Revealing masked personal data (issue 17, docs/privacy-masking.md). Staff see phone numbers, ID
 * and card numbers and e-mails masked in every view; the `pii.reveal` act (agents and leads of the
 * customer's skill groups) shows one message's or one profile field's real value, and each reveal is
 * an audit entry (`pii.reveal`, with the session or customer id, never the value).
 */

/** `POST /api/v1/sessions/:id/messages/:messageId/reveal`: the path's parameters (no body). */
export const MessageRevealParamsSchema = z.object({ id: SessionIdSchema, messageId: z.uuid() });

/** The message's words unmasked: `text` is the text, caption, transcript or file name; null for an event. */
export const MessageRevealSchema = z.object({
  sessionId: SessionIdSchema,
  messageId: z.string(),
  text: z.string().nullable(),
});
export type MessageReveal = z.infer<typeof MessageRevealSchema>;

/** Profile fields a customer reveal can show: the name, the channel identities' ids, the verified links' values. */
export const CustomerRevealFieldSchema = z.enum(['name', 'identities', 'links']);
export type CustomerRevealField = z.infer<typeof CustomerRevealFieldSchema>;

/** `POST /api/v1/customers/:id/reveal` body. */
export const CustomerRevealRequestSchema = z.strictObject({ field: CustomerRevealFieldSchema });
export type CustomerRevealRequest = z.infer<typeof CustomerRevealRequestSchema>;

/**
 * The field unmasked: `values` has one entry for `name`, and for `identities` / `links` one per entry
 * in the order `GET /api/v1/customers/:id/identities` lists them.
 */
export const CustomerRevealSchema = z.object({
  customerId: z.string(),
  field: CustomerRevealFieldSchema,
  values: z.array(z.string()),
});
export type CustomerReveal = z.infer<typeof CustomerRevealSchema>;
