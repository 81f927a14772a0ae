import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../common/errors/codes';
import type { AuditEntryInput } from '../audit/audit';
import { parseWith } from '../http/errors';
import type { OidcSignIn } from './oidc';

/** The flow-binding cookie (one sign-in, 10 minutes, only sent to the OIDC routes). */
const COOKIE = 'huiliu_oidc';
const COOKIE_PATH = '/api/v1/auth/oidc';
/** Where the workstation page is served (app.ts); the callback sends the browser back there. */
const APP_PAGE = '/app/';

const ExchangeSchema = z.strictObject({ handoff: z.string().min(16).max(128) });

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const bindingCookie = (value: string, maxAge: number) =>
  `${COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Lax`;

/**
 * Enterprise sign-in routes (issue 17; docs/security.md), all `public` (the person is not signed in yet):
 * - `GET /api/v1/auth/providers` → `{oidc: {name, startUrl} | null}`: what the login page offers.
 * - `GET /api/v1/auth/oidc/start` → 302 to the provider, setting the flow-binding cookie
 *   (HttpOnly, Secure, SameSite=Lax, path-scoped to these routes; it authenticates nothing else).
 * - `GET /api/v1/auth/oidc/callback?code&state` (the configured `redirectUri`) → 302 to
 *   `/app/#oidc=<hand-over code>`, or `/app/#oidc-error=<code>` when refused (SSO_FAILED, FORBIDDEN …).
 *   Audited as `auth.login` with `detail.method = 'oidc'`, succeeded or failed.
 * - `POST /api/v1/auth/oidc/exchange` `{handoff}` → the `LoginResponse` (bearer token) once.
 * Without an `oidc:` config only `/providers` exists (answering `{oidc: null}`).
 */
export async function oidcPlugin(
  app: FastifyInstance,
  opts: { oidc: OidcSignIn | null; audit?: (entry: AuditEntryInput) => void },
): Promise<void> {
  const { oidc } = opts;
  app.get('/api/v1/auth/providers', { config: { policy: 'public' } }, async () => ({
    oidc: oidc ? { name: oidc.name, startUrl: `${COOKIE_PATH}/start` } : null,
  }));
  if (!oidc) return;

  app.get(`${COOKIE_PATH}/start`, { config: { policy: 'public' } }, async (_request, reply) => {
    const { url, binding } = await oidc.start();
    return reply.header('set-cookie', bindingCookie(binding, 600)).header('cache-control', 'no-store').redirect(url, 302);
  });

  app.get(`${COOKIE_PATH}/callback`, { config: { policy: 'public' } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const callbackUrl = new URL(oidc.config.redirectUri);
    const query = request.url.indexOf('?');
    callbackUrl.search = query >= 0 ? request.url.slice(query) : '';
    // The binding is spent whatever happens: one cookie, one callback.
    reply.header('set-cookie', bindingCookie('', 0)).header('cache-control', 'no-store');
    try {
      const { handoff, user } = await oidc.finish(callbackUrl, cookieOf(request, COOKIE));
      opts.audit?.({
        actor: { kind: 'staff', id: user.id, name: user.username },
        action: 'auth.login',
        outcome: 'ok',
        ip: request.ip,
        detail: { method: 'oidc' },
      });
      return reply.redirect(`${APP_PAGE}#oidc=${handoff}`, 302);
    } catch (error) {
      const code = error instanceof HuiliuError ? error.code : 'INTERNAL';
      if (!(error instanceof HuiliuError)) request.log.error({ err: error }, 'OIDC callback failed');
      opts.audit?.({
        actor: { kind: 'staff', id: 'unknown' },
        action: 'auth.login',
        outcome: 'failed',
        ip: request.ip,
        detail: { method: 'oidc', code },
      });
      return reply.redirect(`${APP_PAGE}#oidc-error=${code}`, 302);
    }
  });

  app.post(`${COOKIE_PATH}/exchange`, { config: { policy: 'public' } }, async (request) => {
    const { handoff } = parseWith(ExchangeSchema, request.body);
    return oidc.redeem(handoff);
  });
}
