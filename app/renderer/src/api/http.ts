import { ErrorBodySchema, HuiliuError } from '../../../../common/errors/codes';
import { LoginResponseSchema, type LoginResponse } from '../../../../common/api/auth';

/** REST calls to the companion server (same origin in browser and Electron). */
export interface ServerApi {
  login(username: string, password: string): Promise<LoginResponse>;
  logout(token: string): Promise<void>;
  /** The session an enterprise sign-in (OIDC, issue 17) handed over: `POST /api/v1/auth/oidc/exchange`, once. */
  exchangeSso?(handoff: string): Promise<LoginResponse>;
}

/** What the login page offers besides a password (`GET /api/v1/auth/providers`). */
export interface SignInProviders {
  oidc: { name: string; startUrl: string } | null;
}

/** The sign-in providers the server offers; none when it cannot say (older server, no network). */
export async function fetchSignInProviders(base = ''): Promise<SignInProviders> {
  try {
    const res = await fetch(`${base}/api/v1/auth/providers`);
    const body = res.ok ? ((await res.json()) as Partial<SignInProviders>) : {};
    const oidc = body.oidc;
    return { oidc: oidc && typeof oidc.name === 'string' && typeof oidc.startUrl === 'string' ? oidc : null };
  } catch {
    return { oidc: null };
  }
}

/**
 * What the enterprise sign-in's callback left in the page address (`#oidc=<hand-over>` or
 * `#oidc-error=<code>`), or null.
 */
export function ssoResultOf(hash: string): { handoff: string } | { error: string } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const handoff = params.get('oidc');
  if (handoff) return { handoff };
  const error = params.get('oidc-error');
  return error ? { error } : null;
}

async function asError(res: Response): Promise<HuiliuError> {
  const body = ErrorBodySchema.safeParse(await res.json().catch(() => null));
  return body.success ? new HuiliuError(body.data.error.code, body.data.error.message) : new HuiliuError('INTERNAL');
}

export function createServerApi(base = ''): ServerApi {
  return {
    async login(username, password) {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (!res.ok) throw await asError(res);
      return LoginResponseSchema.parse(await res.json());
    },
    async logout(token) {
      await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    },
    async exchangeSso(handoff) {
      const res = await fetch(`${base}/api/v1/auth/oidc/exchange`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ handoff }),
      });
      if (!res.ok) throw await asError(res);
      return LoginResponseSchema.parse(await res.json());
    },
  };
}

/** A fetch the REST clients take (tests pass a fake). */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * One staff REST call with the bearer token, shared by the REST clients (routing, customers): JSON in
 * and out; a refusal is HuiliuError with the server's code, message and details; no answer at all is
 * HuiliuError('INTERNAL') with `details: {network: true}` (`isNetworkError`).
 */
export function bearerCaller(options: { base?: string; fetch?: Fetch } = {}) {
  const base = options.base ?? '';
  const doFetch: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  return async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new HuiliuError('INTERNAL', 'No answer from the server.', { network: true });
    }
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const parsed = ErrorBodySchema.safeParse(json);
      if (!parsed.success) throw new HuiliuError('INTERNAL', `HTTP ${res.status}`);
      throw new HuiliuError(parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
    }
    return json as T;
  };
}
