import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HuiliuError } from '../../../common/errors/codes';
import type { UserView } from '../../../common/api/auth';
import type { IdentityStore } from './identity';
import { can, isRoutePolicy, seesAllGroups, type RoutePolicy } from './policy';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route is authorized (policy.ts `RoutePolicy`); a route without one is refused. */
    policy?: RoutePolicy;
  }
  interface FastifyRequest {
    /** The signed-in staff user, set by the policy hook on routes whose policy is an action. */
    staff: UserView | null;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The bearer token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/**
 * Installs the one authorization hook for REST routes (issue 7 §4, DESIGN §8): `onRequest`, so an
 * unauthorized request is refused before its body is read. It reads each route's `config.policy`:
 * an action needs a bearer token the identity store verifies (else UNAUTHENTICATED) whose user
 * `can` do the action in some scope (else FORBIDDEN), and leaves that user in `request.staff` (also when
 * refused, for the audit);
 * `loopback-or-staff` lets a loopback caller (`request.ip`, i.e. behind trusted proxies) through and
 * otherwise needs a verified token of a user who sees every skill group (admins, auditors: the route
 * answers all groups' numbers, DESIGN §8); `public` and `channel-key` pass (the channel plugin checks its
 * key). A route with no valid policy is refused with FORBIDDEN (fail closed). Requests matching no
 * route go on to the 404 handler. Resource-level checks (this session's group) stay with the use cases.
 * Register it on the root instance before any route plugin.
 */
export function registerRoutePolicy(app: FastifyInstance, identity: IdentityStore): void {
  app.decorateRequest('staff', null);
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const policy: unknown = request.routeOptions.config.policy;
    if (!isRoutePolicy(policy)) throw new HuiliuError('FORBIDDEN', 'This route has no authorization policy.');
    if (policy === 'public' || policy === 'channel-key') return;
    if (policy === 'loopback-or-staff') {
      if (LOOPBACK.has(request.ip)) return;
      const user = identity.verify(bearerToken(request));
      if (!user) throw new HuiliuError('UNAUTHENTICATED');
      request.staff = user;
      // Such routes (`/metrics`) carry every skill group's numbers: only staff who see every group.
      if (!seesAllGroups(user)) throw new HuiliuError('FORBIDDEN');
      return;
    }
    const user = identity.verify(bearerToken(request));
    if (!user) throw new HuiliuError('UNAUTHENTICATED');
    // Set before the role check: a refused request still names who made it, so the audit hook records
    // the refusal (ASVS V16: authorization failures are logged). Handlers never run after a throw.
    request.staff = user;
    if (!can(user, policy)) throw new HuiliuError('FORBIDDEN');
  });
}

/** The user the policy hook verified for this request; only on routes whose policy is an action. */
export function staffOf(request: FastifyRequest): UserView {
  if (!request.staff) throw new HuiliuError('UNAUTHENTICATED');
  return request.staff;
}

/**
 * Gives every route registered in `scope` that names no policy the policy `policy`: for routes a
 * third-party plugin registers (@fastify/static) where we cannot pass route config. Encapsulated:
 * call it only inside a child scope holding just those routes.
 */
export function defaultRoutePolicy(scope: FastifyInstance, policy: RoutePolicy): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, policy: route.config?.policy ?? policy };
  });
}
