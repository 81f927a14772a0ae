import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseWith } from '../http/errors';
import type { KeyAdminStatus, KeyRotation } from './rewrap';

const KekParamsSchema = z.strictObject({ kekId: z.string().regex(/^(local|pkcs11):[0-9a-f]{16}$/, 'a KEK id') });

/**
 * Key administration (issue 14, policy `keys.manage`: admins; docs/keys.md):
 * - `GET /api/v1/admin/keys` → 200 `KeyAdminStatus`: the current KEK, earlier ones with how many data
 *   keys each still wraps, and the background re-wrap's progress.
 * - `POST /api/v1/admin/keys/rotate` → 202 `KeyAdminStatus`: a new KEK is current at once; re-wrapping
 *   runs in the background (reads and writes go on).
 * - `POST /api/v1/admin/keys/:kekId/retire` → 200 `KeyAdminStatus`: destroys an earlier KEK.
 *   KEK_IN_USE (409) while it still wraps data keys, NOT_FOUND, VALIDATION_FAILED (the current one).
 */
export async function keysAdminPlugin(app: FastifyInstance, opts: { rotation: KeyRotation }): Promise<void> {
  app.get('/api/v1/admin/keys', { config: { policy: 'keys.manage' } }, async (): Promise<KeyAdminStatus> => opts.rotation.status());
  app.post('/api/v1/admin/keys/rotate', { config: { policy: 'keys.manage' } }, async (request, reply) => {
    const status = await opts.rotation.rotate();
    request.log.info({ kek: status.current }, 'KEK rotated; re-wrapping data keys in the background');
    return reply.status(202).send(status);
  });
  app.post('/api/v1/admin/keys/:kekId/retire', { config: { policy: 'keys.manage' } }, async (request): Promise<KeyAdminStatus> => {
    const { kekId } = parseWith(KekParamsSchema, request.params);
    const status = await opts.rotation.retire(kekId);
    request.log.info({ kek: kekId }, 'KEK retired');
    return status;
  });
}
