import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../common/errors/codes';
import { ChannelCodeSchema, SessionIdSchema } from '../../../common/message/session-id';
import { HISTORY_PAGE_MAX, SessionStatusSchema, type MessagePageView } from '../../../common/api/sessions';
import type { AuthService } from '../auth/auth';
import { requireStaff } from '../auth/plugin';
import { canSeeSession, visibleGroups } from '../auth/rbac';
import { parseWith } from '../http/errors';
import type { SessionStore } from './store';
import { toMessageView, type SessionViews } from './views';

const ListQuery = z.strictObject({
  channel: ChannelCodeSchema.optional(),
  status: SessionStatusSchema.optional(),
  customerId: z.uuid().optional(),
  skillGroup: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/** `GET /api/v1/sessions/:id` and `GET /api/v1/sessions` (DESIGN §6), RBAC by skill group. */
export async function sessionsPlugin(
  app: FastifyInstance,
  opts: { auth: AuthService; store: SessionStore; views: SessionViews },
): Promise<void> {
  const { auth, store, views } = opts;

  app.get('/api/v1/sessions/:id', async (request) => {
    const user = requireStaff(auth, request);
    const { id } = parseWith(z.object({ id: SessionIdSchema }), request.params);
    const session = await store.getSession(id);
    // An agent of another group learns nothing, not even that the session exists.
    if (!session || !canSeeSession(user, session)) throw new HuiliuError('SESSION_NOT_FOUND');
    return views.detail(session, user);
  });

  const HistoryQuery = z.strictObject({
    beforeSeq: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
  });

  /** Older pages of the session's conversation, newest first by page, oldest first inside a page (C8). */
  app.get('/api/v1/sessions/:id/messages', async (request): Promise<MessagePageView> => {
    const user = requireStaff(auth, request);
    const { id } = parseWith(z.object({ id: SessionIdSchema }), request.params);
    const q = parseWith(HistoryQuery, request.query);
    const session = await store.getSession(id);
    if (!session || !canSeeSession(user, session)) throw new HuiliuError('SESSION_NOT_FOUND');
    const page = await store.recentMessages(session.conversationId, {
      ...(q.beforeSeq ? { beforeSeq: q.beforeSeq } : {}),
      limit: q.limit ?? HISTORY_PAGE_MAX,
    });
    return { messages: page.messages.map(toMessageView), hasOlder: page.hasOlder };
  });

  app.get('/api/v1/sessions', async (request) => {
    const user = requireStaff(auth, request);
    const q = parseWith(ListQuery, request.query);
    const allowed = visibleGroups(user);
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
