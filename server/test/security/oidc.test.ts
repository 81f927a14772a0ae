import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcSignIn } from '../../src/auth/oidc';
import { loadConfig } from '../../src/config/config';
import type { Logger } from '../../src/logging/logger';
import { writeConfigFile } from '../support/config-file';
import { startTestServer, type TestServer } from '../support/harness';

/**
 * Enterprise sign-in (issue 17) against a real OpenID provider (`oidc-provider`) on loopback: the
 * whole authorization code flow over HTTP, and the ways it must be refused.
 */

const REDIRECT_URI = 'https://huiliu.test/api/v1/auth/oidc/callback';
const OTHER_REDIRECT = 'https://other-app.test/callback';
const SECRET = 'huiliu-oidc-test-secret-0123456789abcdef';
const OTHER_SECRET = 'other-app-oidc-test-secret-0123456789ab';

/** The provider's people: their claims (roles and groups in the provider's own vocabulary). */
const ACCOUNTS: Record<string, Record<string, unknown>> = {
  'li.na': { sub: 'li.na', name: 'Li Na', preferred_username: 'li.na', roles: ['cs-agent'], groups: ['cs-general', 'marketing'] },
  'wang.wei': { sub: 'wang.wei', name: 'Wang Wei', preferred_username: 'wang.wei', roles: ['finance'], groups: [] },
};

/** A small cookie jar for the browser's side of the provider's pages (names only: one host). */
class Browser {
  private readonly cookies = new Map<string, string>();
  remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as object), cookie: this.header() } });
    this.remember(res);
    return res;
  }
  /**
   * Follows the provider's redirects from `url`, signing `login` in at its login page and consenting,
   * until it redirects to `until` (a redirect URI); returns that final URL.
   */
  async signIn(url: string, login: string, until: string): Promise<URL> {
    let next = url;
    for (let hop = 0; hop < 20; hop++) {
      if (next.startsWith(until)) return new URL(next);
      const res = await this.fetch(next);
      if (res.status >= 300 && res.status < 400) {
        next = new URL(res.headers.get('location')!, next).href;
        continue;
      }
      const html = await res.text();
      expect(res.status, html.slice(0, 300)).toBe(200);
      const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
      expect(prompt, 'an interaction page').toBeDefined();
      const body = new URLSearchParams({ prompt: prompt! });
      if (prompt === 'login') {
        body.set('login', login);
        body.set('password', 'any');
      }
      const submit = await this.fetch(next, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(submit.status).toBeGreaterThanOrEqual(300);
      next = new URL(submit.headers.get('location')!, next).href;
    }
    throw new Error('too many redirects');
  }
}

let provider: Provider;
let providerServer: Server;
let issuer: string;

async function startProvider(): Promise<void> {
  providerServer = createServer();
  await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(providerServer.address() as AddressInfo).port}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'huiliu',
        client_secret: SECRET,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'other-app',
        client_secret: OTHER_SECRET,
        redirect_uris: [OTHER_REDIRECT],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], huiliu: ['roles', 'groups'] },
    scopes: ['openid', 'profile', 'huiliu'],
    findAccount: (_ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: () => ACCOUNTS[id] as { sub: string } } : undefined),
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: true } },
  });
  providerServer.on('request', provider.callback());
}

async function startHuiliu(): Promise<TestServer> {
  const config = writeConfigFile({
    oidc: {
      name: 'Contoso ID',
      issuer,
      clientId: 'huiliu',
      clientSecret: SECRET,
      redirectUri: REDIRECT_URI,
      scopes: ['openid', 'profile', 'huiliu'],
      roles: { 'cs-agent': 'agent', 'cs-lead': 'lead' },
      skillGroups: { 'cs-general': 'general', 'cs-vip': 'vip' },
    },
  });
  return startTestServer({ HUILIU_CONFIG: config });
}

describe('OIDC sign-in against a provider on loopback (authorization code + PKCE, state, nonce)', () => {
  let s: TestServer;
  beforeAll(async () => {
    await startProvider();
    s = await startHuiliu();
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
    await new Promise((resolve) => providerServer?.close(resolve));
  });

  /** Our server's start: the provider's URL and the flow-binding cookie. */
  async function start() {
    const res = await s.app.inject({ url: '/api/v1/auth/oidc/start' });
    expect(res.statusCode).toBe(302);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; Secure; SameSite=Lax/);
    return { url: res.headers.location as string, cookie };
  }
  const callback = (url: URL, cookie?: string) =>
    s.app.inject({ url: `/api/v1/auth/oidc/callback${url.search}`, ...(cookie ? { headers: { cookie } } : {}) });
  const fragment = (location: string) => new URLSearchParams(location.split('#')[1]);

  it('offers the provider on the login page', async () => {
    const res = await s.app.inject({ url: '/api/v1/auth/providers' });
    expect(res.json()).toEqual({ oidc: { name: 'Contoso ID', startUrl: '/api/v1/auth/oidc/start' } });
  });

  it('signs a person in end to end: provider login, back with a code, a staff token that works, roles and groups mapped', async () => {
    const { url, cookie } = await start();
    const auth = new URL(url);
    expect(auth.origin).toBe(issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('nonce')).toHaveLength(43);
    const back = await new Browser().signIn(url, 'li.na', REDIRECT_URI);
    expect(back.searchParams.get('code')).toBeTruthy();
    const res = await callback(back, cookie);
    expect(res.statusCode).toBe(302);
    const location = res.headers.location as string;
    expect(location.startsWith('/app/#oidc=')).toBe(true);
    const exchanged = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/oidc/exchange',
      payload: { handoff: fragment(location).get('oidc') },
    });
    expect(exchanged.statusCode).toBe(200);
    const { token, user } = exchanged.json() as { token: string; user: { username: string; roles: string[]; skillGroups: string[] } };
    expect(user).toMatchObject({ username: 'li.na', displayName: 'Li Na', roles: ['agent'], skillGroups: ['general'] });
    // The token is a staff token like a password sign-in's: it calls the API.
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
    expect((me.json() as { user: { username: string } }).user.username).toBe('li.na');
    const kb = await s.app.inject({ url: '/api/v1/routing/config', headers: { authorization: `Bearer ${token}` } });
    expect(kb.statusCode).toBe(403); // an agent's rights, not more
    // The hand-over code works once.
    const again = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/oidc/exchange',
      payload: { handoff: fragment(location).get('oidc') },
    });
    expect((again.json() as { error: { code: string } }).error.code).toBe('SSO_FAILED');
    // Signed in twice: the same local user (linked by issuer + subject), not a second one.
    const { url: url2, cookie: cookie2 } = await start();
    const second = await callback(await new Browser().signIn(url2, 'li.na', REDIRECT_URI), cookie2);
    const session2 = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/oidc/exchange',
      payload: { handoff: fragment(second.headers.location as string).get('oidc') },
    });
    expect((session2.json() as { user: { id: string } }).user.id).toBe((me.json() as { user: { id: string } }).user.id);
  });

  it('refuses a callback whose state is not one it issued, or that comes without the browser’s binding cookie', async () => {
    const { url, cookie } = await start();
    const back = await new Browser().signIn(url, 'li.na', REDIRECT_URI);
    const forged = new URL(back);
    forged.searchParams.set('state', 'forged-state-value');
    const wrongState = await callback(forged, cookie);
    expect(fragment(wrongState.headers.location as string).get('oidc-error')).toBe('SSO_FAILED');
    // The right state but from another browser (login CSRF: an attacker's callback link sent to a victim).
    const { url: url2 } = await start();
    const back2 = await new Browser().signIn(url2, 'li.na', REDIRECT_URI);
    const noCookie = await callback(back2);
    expect(fragment(noCookie.headers.location as string).get('oidc-error')).toBe('SSO_FAILED');
  });

  it('refuses a replayed code: the same callback twice, and the code under a fresh state', async () => {
    const { url, cookie } = await start();
    const back = await new Browser().signIn(url, 'li.na', REDIRECT_URI);
    const first = await callback(back, cookie);
    expect((first.headers.location as string).startsWith('/app/#oidc=')).toBe(true);
    const replay = await callback(back, cookie);
    expect(fragment(replay.headers.location as string).get('oidc-error')).toBe('SSO_FAILED');
    // A fresh, valid flow, with the old code pasted in: the provider refuses it (used; PKCE mismatch).
    const fresh = await start();
    const pasted = new URL(REDIRECT_URI);
    pasted.searchParams.set('code', back.searchParams.get('code')!);
    pasted.searchParams.set('state', new URL(fresh.url).searchParams.get('state')!);
    pasted.searchParams.set('iss', issuer);
    const res = await callback(pasted, fresh.cookie);
    expect(fragment(res.headers.location as string).get('oidc-error')).toBe('SSO_FAILED');
  });

  it('refuses a person the provider grants no Huiliu role (FORBIDDEN), and audits both outcomes', async () => {
    const { url, cookie } = await start();
    const res = await callback(await new Browser().signIn(url, 'wang.wei', REDIRECT_URI), cookie);
    expect(fragment(res.headers.location as string).get('oidc-error')).toBe('FORBIDDEN');
    const auditor = await s.login('auditor');
    await s.services.audit.flush();
    const page = await s.app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: `Bearer ${auditor}` } });
    const logins = (
      page.json() as { entries: { action: string; outcome: string; actor: { name?: string }; detail: Record<string, unknown> }[] }
    ).entries.filter((e) => e.action === 'auth.login' && e.detail?.['method'] === 'oidc');
    expect(logins.some((e) => e.outcome === 'ok' && e.actor.name === 'li.na')).toBe(true);
    expect(logins.some((e) => e.outcome === 'failed' && e.detail['code'] === 'FORBIDDEN')).toBe(true);
  });

  it('refuses an ID token the provider issued for another client (audience), though signed by the provider', async () => {
    // The provider's token endpoint answer for our code, with its ID token swapped for one minted for
    // `other-app` carrying the same nonce: a proxy (or a compromised network path) in between.
    let swapped = 0;
    let foreignIdToken = '';
    const tamper: client.CustomFetch = async (url, options) => {
      const res = await fetch(url, options as RequestInit);
      if (!url.endsWith('/token') || !foreignIdToken) return res;
      const body = (await res.json()) as Record<string, unknown>;
      swapped++;
      return new Response(JSON.stringify({ ...body, id_token: foreignIdToken }), {
        status: res.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    const refusals: { reason: string; cause?: string }[] = [];
    const logger = { info: (o: { reason: string; cause?: string }) => refusals.push(o), warn: () => undefined } as unknown as Logger;
    const sign = new OidcSignIn(s.config.oidc!, s.services.auth, { fetch: tamper, logger });
    const { url, binding } = await sign.start();
    const nonce = new URL(url).searchParams.get('nonce')!;
    // A real sign-in at other-app with our flow's nonce: the provider signs an ID token with aud=other-app.
    const otherConfig = await client.discovery(new URL(issuer), 'other-app', undefined, client.ClientSecretPost(OTHER_SECRET), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const otherUrl = client.buildAuthorizationUrl(otherConfig, {
      redirect_uri: OTHER_REDIRECT,
      scope: 'openid',
      nonce,
      state: 'other-state',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const otherBack = await new Browser().signIn(otherUrl.href, 'li.na', OTHER_REDIRECT);
    const otherTokens = await client.authorizationCodeGrant(otherConfig, otherBack, {
      pkceCodeVerifier: verifier,
      expectedState: 'other-state',
      expectedNonce: nonce,
    });
    foreignIdToken = otherTokens.id_token!;
    const payload = JSON.parse(Buffer.from(foreignIdToken.split('.')[1]!, 'base64url').toString()) as { aud: string; nonce: string };
    expect(payload).toMatchObject({ aud: 'other-app', nonce });

    const back = await new Browser().signIn(url, 'li.na', REDIRECT_URI);
    await expect(sign.finish(back, binding)).rejects.toMatchObject({ code: 'SSO_FAILED' });
    expect(swapped).toBe(1);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.cause).toMatch(/"aud" \(audience\)/);
    // Without the swap, the same kind of flow passes: the refusal above is the audience, not the set-up.
    foreignIdToken = '';
    const ok = await sign.start();
    const done = await sign.finish(await new Browser().signIn(ok.url, 'li.na', REDIRECT_URI), ok.binding);
    expect(done.user.username).toBe('li.na');
    expect(createHash('sha256').update(done.handoff).digest('hex')).toHaveLength(64);
  });
});

describe('the oidc: config section', () => {
  const base = { name: 'Contoso ID', clientId: 'huiliu', clientSecret: SECRET, redirectUri: REDIRECT_URI };
  const load = (oidc: Record<string, unknown>) =>
    loadConfig({
      env: { HUILIU_DATA_DIR: '/tmp/huiliu-oidc-config', HUILIU_CONFIG: writeConfigFile({ oidc }) },
      argv: ['--demo'],
      cwd: '/tmp',
    });

  it('takes an https issuer, and plain http only on a loopback address', () => {
    expect(load({ ...base, issuer: 'https://login.contoso.example' }).oidc?.issuer).toBe('https://login.contoso.example');
    expect(load({ ...base, issuer: 'http://127.0.0.1:9999' }).oidc?.roleClaim).toBe('roles');
    expect(() => load({ ...base, issuer: 'http://login.contoso.example' })).toThrow(/oidc.*https/);
  });

  it('refuses a mapping to a skill group that does not exist, or to an unknown role, naming the field', () => {
    expect(() => load({ ...base, issuer: 'https://id.example', skillGroups: { 'cs-x': 'nowhere' } })).toThrow(/oidc\.skillGroups\.cs-x/);
    expect(() => load({ ...base, issuer: 'https://id.example', roles: { 'cs-x': 'root' } })).toThrow(/oidc\.roles/);
  });
});

describe('without an oidc: section', () => {
  it('offers no provider and serves no OIDC route', async () => {
    const s = await startTestServer();
    try {
      expect((await s.app.inject({ url: '/api/v1/auth/providers' })).json()).toEqual({ oidc: null });
      expect((await s.app.inject({ url: '/api/v1/auth/oidc/start' })).statusCode).toBe(404);
    } finally {
      await s.cleanup();
    }
  });
});
