import { ErrorBodySchema, HuiliuError } from '../../../../common/errors/codes';
import { LoginResponseSchema, type LoginResponse } from '../../../../common/api/auth';

/** REST calls to the companion server (same origin in browser and Electron). */
export interface ServerApi {
  login(username: string, password: string): Promise<LoginResponse>;
  logout(token: string): Promise<void>;
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
  };
}
