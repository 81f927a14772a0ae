import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HuiliuError } from '../../../common/errors/codes';
import { LoginRequestSchema, type Role, type UserView } from '../../../common/api/auth';
import { parseWith } from '../http/errors';
import type { AuthService } from './auth';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/** The signed-in staff user, or UNAUTHENTICATED / FORBIDDEN (when `roles` is given and none match). */
export function requireStaff(auth: AuthService, request: FastifyRequest, roles?: readonly Role[]): UserView {
  const user = auth.verify(bearerToken(request));
  if (!user) throw new HuiliuError('UNAUTHENTICATED');
  if (roles && !user.roles.some((r) => roles.includes(r))) throw new HuiliuError('FORBIDDEN');
  return user;
}

export async function authPlugin(app: FastifyInstance, opts: { auth: AuthService }): Promise<void> {
  const { auth } = opts;

  // A lockout's RATE_LIMITED carries `retryAfterSeconds`; the error handler sends it as Retry-After.
  app.post('/api/v1/auth/login', async (request) => {
    const body = parseWith(LoginRequestSchema, request.body);
    return auth.login(body.username, body.password, request.ip);
  });

  app.post('/api/v1/auth/logout', async (request, reply) => {
    requireStaff(auth, request);
    auth.logout(bearerToken(request)!);
    return reply.status(204).send();
  });

  app.get('/api/v1/auth/me', async (request) => ({ user: requireStaff(auth, request) }));
}
