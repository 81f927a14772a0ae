import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../../common/errors/codes';
import { parseWith } from '../../http/errors';
import type { AppWebhooks, DeadLetterView } from './webhooks';

const DeadLettersQuerySchema = z.strictObject({
  app: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'an app id')
    .optional(),
});
const DeliveryParamsSchema = z.strictObject({ id: z.uuid() });

/**
 * The app webhooks' admin routes (issue 13, policy `channel.manage`: admins). Kept out of the app
 * channel plugin, whose preHandler reads an app key on every route.
 *
 * - `GET /api/v1/channels/app/webhooks/dead-letters?app=<appId>` → 200 `{ deadLetters: DeadLetterView[] }`,
 *   newest first, at most 200; ids, counts and the last error only (no text, no customer id).
 * - `POST /api/v1/channels/app/webhooks/dead-letters/:id/redeliver` → 202 `{ delivery: DeadLetterView }`
 *   (status `pending`: it goes out at once, with its tries counted afresh); NOT_FOUND when `id` is no
 *   dead-lettered delivery (unknown, already re-queued or delivered).
 */
export async function appWebhookAdminPlugin(app: FastifyInstance, opts: { webhooks: AppWebhooks }): Promise<void> {
  app.get(
    '/api/v1/channels/app/webhooks/dead-letters',
    { config: { policy: 'channel.manage' } },
    async (request): Promise<{ deadLetters: DeadLetterView[] }> => {
      const { app: appId } = parseWith(DeadLettersQuerySchema, request.query);
      return { deadLetters: opts.webhooks.deadLetters(appId) };
    },
  );

  app.post('/api/v1/channels/app/webhooks/dead-letters/:id/redeliver', { config: { policy: 'channel.manage' } }, async (request, reply) => {
    const { id } = parseWith(DeliveryParamsSchema, request.params);
    const delivery = opts.webhooks.redeliver(id);
    if (!delivery) throw new HuiliuError('NOT_FOUND', 'No dead-lettered webhook delivery has this id.');
    return reply.status(202).send({ delivery });
  });
}
