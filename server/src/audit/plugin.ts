import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../common/errors/codes';
import { parseWith } from '../http/errors';
import { decodeCursor } from './audit';
import type { AuditPage } from './audit';
import type { AuditRecorder } from './recorder';

const IsoTime = z.iso.datetime({ offset: true });
const AuditQuerySchema = z.strictObject({
  userId: z.string().trim().min(1).max(64).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});

/** GET routes whose answer shows a customer's data: each view is an audit entry. */
const VIEWS: { pattern: RegExp; action: string; kind: string }[] = [
  { pattern: /^\/api\/v1\/sessions\/:id$/, action: 'session.view', kind: 'session' },
  { pattern: /^\/api\/v1\/customers\/:id(\/.*)?$/, action: 'customer.view', kind: 'customer' },
  { pattern: /^\/api\/v1\/attachments\/:id$/, action: 'attachment.view', kind: 'attachment' },
];
/** Mutations whose route names their own action better than `http.<METHOD> <route>`. */
const NAMED: Record<string, string> = {
  'POST /api/v1/auth/logout': 'auth.logout',
  'POST /api/v1/auth/sessions/revoke-all': 'auth.revoke-all',
  'POST /api/v1/users/:id/sessions/revoke-all': 'auth.revoke-user',
  'POST /api/v1/admin/keys/rotate': 'keys.rotate',
  'POST /api/v1/admin/keys/:kekId/retire': 'keys.retire',
  'PUT /api/v1/routing/config': 'routing.config-change',
  'PUT /api/v1/sla/policies': 'sla.policies-change',
  // Issue 17: a reveal that answered is recorded by its route (with the message id or field); refusals here.
  'POST /api/v1/sessions/:id/messages/:messageId/reveal': 'pii.reveal',
  'POST /api/v1/customers/:id/reveal': 'pii.reveal',
};
/** Mutations whose route records its own entry when it answers (more detail than the hook has). */
const SELF_AUDITED = new Set(['POST /api/v1/sessions/:id/messages/:messageId/reveal', 'POST /api/v1/customers/:id/reveal']);

/**
 * The target kind of a mutation's route, named as the use cases name it (`session`, `customer`,
 * `privacy-request`…), so a search by target finds the hook's entries and the use case's alike.
 */
const ROUTE_KINDS: Record<string, string> = {
  sessions: 'session',
  customers: 'customer',
  attachments: 'attachment',
  privacy: 'privacy-request',
  users: 'user',
  admin: 'kek',
  kb: 'kb-entry',
  routing: 'routing-config',
  channels: 'channel',
  'canned-replies': 'canned-reply',
};
function kindOfRoute(route: string): string {
  const segment = route.split('/')[3] ?? '';
  return ROUTE_KINDS[segment] ?? (segment || 'resource');
}

function targetOf(request: FastifyRequest, kind: string): { kind: string; id: string } | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const id = params?.['id'] ?? params?.['kekId'];
  return typeof id === 'string' ? { kind, id } : undefined;
}

/**
 * The audit log's HTTP side (issue 17, DESIGN §6 and §8):
 * - `GET /api/v1/audit?userId=&from=&to=&limit=&cursor=` (policy `audit.view`: auditors): entries of
 *   one staff user (id or username) or of everyone in `[from, to)` (default: the last 24 hours),
 *   newest first, `limit` ≤ 500, `{entries, next?}` with `next` to pass as `cursor`. Searching is
 *   itself audited (`audit.search`).
 *
 * `installAuditHook` (called on the root instance, so it sees every route):
 * - an `onResponse` hook records every request a signed-in staff user made that changed something
 *   (`http.<METHOD> <route>`, or a named action such as `keys.rotate`) and every view of a session,
 *   customer or attachment, with the outcome (`ok` below 400, else `failed`) and the client address.
 *   Message text and bodies are never recorded.
 */
export async function auditPlugin(app: FastifyInstance, opts: { recorder: AuditRecorder }): Promise<void> {
  const { recorder } = opts;

  app.get('/api/v1/audit', { config: { policy: 'audit.view' } }, async (request): Promise<AuditPage> => {
    const q = parseWith(AuditQuerySchema, request.query);
    if (q.cursor !== undefined && !decodeCursor(q.cursor))
      throw new HuiliuError('VALIDATION_FAILED', 'The cursor is not one this route gave.');
    const to = q.to ?? new Date().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    // Entries still in the recorder's buffer are found too.
    await recorder.flush();
    return recorder.log.search({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      limit: q.limit,
      ...(q.userId ? { userId: q.userId } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });
}

/** See `auditPlugin`: the hook on the root instance (a hook inside a registered plugin sees only that plugin's routes). */
export function installAuditHook(app: FastifyInstance, recorder: AuditRecorder): void {
  app.addHook('onResponse', async (request, reply) => {
    const user = request.staff;
    if (!user || request.is404) return;
    const route = request.routeOptions.url ?? '';
    const outcome = reply.statusCode < 400 ? 'ok' : reply.statusCode === 403 ? 'denied' : 'failed';
    const actor = { kind: 'staff' as const, id: user.id, name: user.username };
    // A client gone before the answer has no address to read any more.
    let ip: string | undefined;
    try {
      ip = request.ip;
    } catch {
      ip = undefined;
    }
    if (request.method === 'GET') {
      if (route === '/api/v1/audit') {
        const q = request.query as Record<string, unknown>;
        recorder.record({
          actor,
          action: 'audit.search',
          outcome,
          ...(ip ? { ip } : {}),
          detail: { userId: typeof q['userId'] === 'string' ? q['userId'] : null },
        });
        return;
      }
      const view = VIEWS.find((v) => v.pattern.test(route));
      if (!view) {
        // Reads of nothing personal are not recorded, but a refused one is (who probed what).
        if (outcome === 'denied')
          recorder.record({ actor, action: `http.GET ${route}`, outcome, ...(ip ? { ip } : {}), detail: { status: 403 } });
        return;
      }
      const target = targetOf(request, view.kind);
      recorder.record({ actor, action: view.action, outcome, ...(ip ? { ip } : {}), ...(target ? { target } : {}), detail: { route } });
      return;
    }
    const key = `${request.method} ${route}`;
    if (SELF_AUDITED.has(key) && reply.statusCode < 400) return;
    const target = targetOf(request, kindOfRoute(route));
    recorder.record({
      actor,
      action: NAMED[key] ?? `http.${key}`,
      outcome,
      ...(ip ? { ip } : {}),
      ...(target ? { target } : {}),
      detail: { status: reply.statusCode },
    });
  });
}
