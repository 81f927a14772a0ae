import type { FastifyInstance } from 'fastify';
import { LoginRequestSchema } from '../../../common/api/auth';
import { parseWith } from '../http/errors';
import type { IdentityStore } from './identity';
import { bearerToken, staffOf } from './route-policy';

export { bearerToken };

/** Sign-in, sign-out and "who am I" (DESIGN §6); the policy hook checks the token of the last two. */
export async function authPlugin(app: FastifyInstance, opts: { auth: IdentityStore }): Promise<void> {
  const { auth } = opts;

  // A lockout's RATE_LIMITED carries `retryAfterSeconds`; the error handler sends it as Retry-After.
  app.post('/api/v1/auth/login', { config: { policy: 'public' } }, async (request) => {
    const body = parseWith(LoginRequestSchema, request.body);
    return auth.login(body.username, body.password, request.ip);
  });

  app.post('/api/v1/auth/logout', { config: { policy: 'account.self' } }, async (request, reply) => {
    staffOf(request);
    auth.logout(bearerToken(request)!);
    return reply.status(204).send();
  });

  app.get('/api/v1/auth/me', { config: { policy: 'account.self' } }, async (request) => ({ user: staffOf(request) }));
}
