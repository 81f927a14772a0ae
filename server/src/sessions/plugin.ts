import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../common/errors/codes';
import { ChannelCodeSchema, SessionIdSchema } from '../../../common/message/session-id';
import { HISTORY_PAGE_MAX, SessionStatusSchema, type MessagePageView } from '../../../common/api/sessions';
import type { ConversationService } from '../conversations/service';
import { scopeOf } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import type { SessionStore } from './store';
import type { SessionViews } from './views';

const ListQuery = z.strictObject({
  channel: ChannelCodeSchema.optional(),
  status: SessionStatusSchema.optional(),
  customerId: z.uuid().optional(),
  skillGroup: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/** `GET /api/v1/sessions/:id` and `GET /api/v1/sessions` (DESIGN §6), RBAC by skill group: the route policy `session.view`, then the
 * session's group (`can` in the use cases, `scopeOf` for the list). */
export async function sessionsPlugin(
  app: FastifyInstance,
  opts: { store: SessionStore; views: SessionViews; conversations: ConversationService },
): Promise<void> {
  const { store, views, conversations } = opts;

  app.get('/api/v1/sessions/:id', { config: { policy: 'session.view' } }, async (request) => {
    const user = staffOf(request);
    const { id } = parseWith(z.object({ id: SessionIdSchema }), request.params);
    // The same use case as the socket's `session:open`: another group's session is SESSION_NOT_FOUND.
    return conversations.open(user, id);
  });

  const HistoryQuery = z.strictObject({
    beforeSeq: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
  });

  /** Older pages of the session's conversation, newest first by page, oldest first inside a page (C8). */
  app.get('/api/v1/sessions/:id/messages', { config: { policy: 'session.view' } }, async (request): Promise<MessagePageView> => {
    const user = staffOf(request);
    const { id } = parseWith(z.object({ id: SessionIdSchema }), request.params);
    const q = parseWith(HistoryQuery, request.query);
    return conversations.history(user, { sessionId: id, ...q });
  });

  app.get('/api/v1/sessions', { config: { policy: 'session.view' } }, async (request) => {
    const user = staffOf(request);
    const q = parseWith(ListQuery, request.query);
    const allowed = scopeOf(user, 'session.view');
    let groups: readonly string[] | undefined = allowed ?? undefined;
    if (q.skillGroup) {
      if (allowed && !allowed.includes(q.skillGroup)) throw new HuiliuError('FORBIDDEN');
      groups = [q.skillGroup];
    }
    const sessions = await store.listSessions({
      ...(q.status ? { status: [q.status] } : {}),
      ...(groups ? { skillGroups: groups } : {}),
      ...(q.channel ? { channel: q.channel } : {}),
      ...(q.customerId ? { customerId: q.customerId } : {}),
      limit: q.limit ?? 100,
    });
    return { sessions: await Promise.all(sessions.map((s) => views.summary(s))) };
  });
}
