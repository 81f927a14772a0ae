import { z } from 'zod';

/**
 * How far an outbound message got on its channel (Chatwoot's message status): `sent` (the channel
 * took it), `delivered` (it reached the customer's device), `read` (the customer opened it),
 * `failed` (the channel refused it; `error` says why in the channel's own words). A channel reports
 * only what it can know: the app channel (polled) and the web widget stop at `sent`.
 */
export const DeliveryStateSchema = z.enum(['sent', 'delivered', 'read', 'failed']);
export type DeliveryState = z.infer<typeof DeliveryStateSchema>;

/**
 * The channel's own error: `code` as the channel names it (a WeChat errcode, a SIP status, or one of
 * ours such as `UNSUPPORTED_KIND`), `message` a short human sentence. Never customer content.
 */
export const DeliveryErrorSchema = z.object({ code: z.string().min(1).max(64), message: z.string().max(500) });
export type DeliveryError = z.infer<typeof DeliveryErrorSchema>;

/** What `ChannelAdapter.send` answers: `error` is set exactly when `state` is `failed`. */
export const DeliveryResultSchema = z
  .object({ state: DeliveryStateSchema, error: DeliveryErrorSchema.optional() })
  .refine((r) => (r.state === 'failed') === (r.error !== undefined), { message: 'error is set exactly when state is failed' });
export type DeliveryResult = z.infer<typeof DeliveryResultSchema>;

/** Later states win; `failed` never replaces a success the channel already reported. */
export const DELIVERY_RANK: Record<DeliveryState, number> = { failed: 0, sent: 1, delivered: 2, read: 3 };
