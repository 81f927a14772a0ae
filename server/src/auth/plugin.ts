import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LoginRequestSchema, type StaffDirectory } from '../../../common/api/auth';
import { HuiliuError } from '../../../common/errors/codes';
import type { AuditEntryInput } from '../audit/audit';
import { parseWith } from '../http/errors';
import type { IdentityStore } from './identity';
import { scopeOf } from './policy';
import { bearerToken, staffOf } from './route-policy';

export { bearerToken };

const UserIdParams = z.strictObject({ id: z.string().min(1).max(64) });

/**
 * Sign-in, sign-out, "who am I" (DESIGN §6) and the staff directory; the policy hook checks the token
 * of all but sign-in.
 */
export async function authPlugin(
  app: FastifyInstance,
  opts: {
    auth: IdentityStore;
    /** Records sign-ins, successful or not (issue 17); the username of a failed one is masked. */
    audit?: (entry: AuditEntryInput) => void;
  },
): Promise<void> {
  const { auth } = opts;

  // A lockout's RATE_LIMITED carries `retryAfterSeconds`; the error handler sends it as Retry-After.
  app.post('/api/v1/auth/login', { config: { policy: 'public' } }, async (request) => {
    const body = parseWith(LoginRequestSchema, request.body);
    try {
      const session = await auth.login(body.username, body.password, request.ip);
      opts.audit?.({
        actor: { kind: 'staff', id: session.user.id, name: session.user.username },
        action: 'auth.login',
        outcome: 'ok',
        ip: request.ip,
      });
      return session;
    } catch (error) {
      // Which account was tried, when it is one of ours; a username that is no account is not kept at
      // all (it may be a password typed into the wrong field, a card number, an e-mail address).
      const known = auth.listStaff().find((u) => u.username === body.username);
      opts.audit?.({
        actor: known ? { kind: 'staff', id: known.id, name: known.username } : { kind: 'staff', id: 'unknown' },
        action: 'auth.login',
        outcome: 'failed',
        ip: request.ip,
        detail: { code: error instanceof HuiliuError ? error.code : 'INTERNAL' },
      });
      throw error;
    }
  });

  app.post('/api/v1/auth/logout', { config: { policy: 'account.self' } }, async (request, reply) => {
    staffOf(request);
    auth.logout(bearerToken(request)!);
    return reply.status(204).send();
  });

  /**
   * `POST /api/v1/auth/sessions/revoke-all` → `{revoked}`: sign out everywhere (issue 17). Revokes every
   * bearer token of the caller, this one included, and ends their sockets at once; audited as
   * `auth.revoke-all` by the audit hook.
   */
  app.post('/api/v1/auth/sessions/revoke-all', { config: { policy: 'account.self' } }, async (request) => {
    const user = staffOf(request);
    return { revoked: auth.revokeUser(user.id) };
  });

  /**
   * `POST /api/v1/users/:id/sessions/revoke-all` → `{revoked}`: an admin signs another user out
   * everywhere (issue 17; policy `account.revoke`), e.g. for a lost laptop. Their sockets end at once;
   * audited as `auth.revoke-user` with the user as target. NOT_FOUND for an unknown or disabled id.
   */
  app.post('/api/v1/users/:id/sessions/revoke-all', { config: { policy: 'account.revoke' } }, async (request) => {
    staffOf(request);
    const { id } = parseWith(UserIdParams, request.params);
    if (!auth.userById(id)) throw new HuiliuError('NOT_FOUND', 'No such staff user.');
    return { revoked: auth.revokeUser(id) };
  });

  app.get('/api/v1/auth/me', { config: { policy: 'account.self' } }, async (request) => ({ user: staffOf(request) }));

  /**
   * `GET /api/v1/auth/users` → `{users}`: the staff directory (ids → usernames, display names, roles,
   * skill groups), so routing explanations, candidate tables and config versions can name people
   * (issue 11). Policy `team.view` (leads, admins, auditors); a lead sees the users sharing one of
   * their skill groups, and themself.
   */
  app.get('/api/v1/auth/users', { config: { policy: 'team.view' } }, async (request): Promise<StaffDirectory> => {
    const viewer = staffOf(request);
    const groups = scopeOf(viewer, 'team.view');
    const users = auth.listStaff();
    return {
      users: groups === null ? users : users.filter((u) => u.id === viewer.id || u.skillGroups.some((g) => groups.includes(g))),
    };
  });
}
