import type { FastifyInstance } from 'fastify';
import { HuiliuError } from '../../../../common/errors/codes';
import { AppMessageRequestSchema, type AppMessageResponse } from '../../../../common/api/app-channel';
import type { AuthService } from '../../auth/auth';
import type { ServerConfig } from '../../config/config';
import { parseWith } from '../../http/errors';
import type { Ingest } from '../ingest';
import { normalizeAppMessage } from './normalize';

/** `POST /api/v1/channels/app/messages` (DESIGN §6): the app / HTTP channel (`AP`). */
export async function appChannelPlugin(
  app: FastifyInstance,
  opts: { auth: AuthService; ingest: Ingest; config: ServerConfig; now?: () => number },
): Promise<void> {
  const groups = new Set(opts.config.skillGroups.map((g) => g.id));
  const now = opts.now ?? Date.now;

  app.post('/api/v1/channels/app/messages', async (request, reply) => {
    const rawKey = request.headers['x-huiliu-key'];
    const key = opts.auth.channelKey(typeof rawKey === 'string' ? rawKey : undefined, 'AP');
    if (!key) throw new HuiliuError('INVALID_APP_KEY');
    const body = parseWith(AppMessageRequestSchema, request.body);
    const skillGroup = body.hints?.skillGroup ?? key.skillGroup ?? opts.config.channels.app.defaultSkillGroup;
    if (!groups.has(skillGroup)) {
      throw new HuiliuError('VALIDATION_FAILED', undefined, [{ path: 'hints.skillGroup', message: `unknown skill group "${skillGroup}"` }]);
    }
    const result = await opts.ingest.accept(normalizeAppMessage(body, key.name, new Date(now())), skillGroup);
    const answer: AppMessageResponse = {
      sessionId: result.session.id,
      conversationId: result.envelope.conversationId,
      messageId: result.envelope.id,
      seq: result.envelope.seq,
    };
    return reply.status(202).send(answer);
  });
}
