import type { FastifyInstance } from 'fastify';
import { LoginRequestSchema, type StaffDirectory } from '../../../common/api/auth';
import { HuiliuError } from '../../../common/errors/codes';
import type { AuditEntryInput } from '../audit/audit';
import { parseWith } from '../http/errors';
import type { IdentityStore } from './identity';
import { scopeOf } from './policy';
import { bearerToken, staffOf } from './route-policy';

export { bearerToken };

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
