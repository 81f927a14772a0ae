import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { RoleSchema, type LoginResponse, type Role, type UserView } from '../../../common/api/auth';
import { HuiliuError } from '../../../common/errors/codes';
import type { OidcConfig } from '../config/config';
import type { Logger } from '../logging/logger';
import type { IdentityStore } from './identity';

/** How long a started sign-in may take at the provider (ms): 10 minutes. */
const FLOW_TTL_MS = 10 * 60_000;
/** Sign-ins waiting for the provider at once; beyond it the oldest is forgotten (a flood of starts cannot grow memory). */
const FLOWS_MAX = 10_000;
/** How long the one-time hand-over code from the callback to the workstation page lives (ms). */
const HANDOFF_TTL_MS = 60_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface PendingFlow {
  verifier: string;
  nonce: string;
  /** SHA-256 of the flow-binding cookie the start set in this browser. */
  bindingHash: string;
  expires: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The provider's `claim` as a list of strings (a string, an array of strings, or absent → []). */
function claimValues(claims: Record<string, unknown>, claim: string): string[] {
  const value = claims[claim];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Enterprise sign-in through an OpenID provider (issue 17; OpenID Connect Core 1.0 §3.1, the
 * authorization code flow, with PKCE S256 per RFC 7636 and a nonce). `openid-client` v6 does the
 * protocol: discovery, the code exchange with the client secret, and the ID token's checks (signature
 * against the provider's JWKS, `iss`, `aud` = our client id, `exp`/`iat`, `nonce`); this class keeps
 * the flow state and maps the person to a Huiliu staff user through the `IdentityStore` port.
 *
 * The flow, as the routes in `oidcPlugin` drive it:
 * 1. `start()` → the provider's authorization URL and a random flow-binding value the route sets as
 *    an HttpOnly cookie; the `state` (random, one use) remembers the PKCE verifier, the nonce and the
 *    binding's hash for 10 minutes.
 * 2. `finish(callbackUrl, binding)` checks that the `state` is one we issued, not used before, and
 *    started in this browser (the cookie; against login CSRF), exchanges the code, reads the roles
 *    and skill groups from the ID token's claims (or the userinfo endpoint's, when the ID token does
 *    not carry them), signs the user in with `signInExternal`, and returns a one-time hand-over code
 *    (valid 60 s) for the workstation page, so the bearer token never travels in a URL.
 * 3. `redeem(handoff)` → the `LoginResponse`, once.
 * Errors: SSO_FAILED (state unknown, used or from another browser; the provider refused the code; the
 * ID token failed a check), FORBIDDEN (the provider grants no Huiliu role), OVERLOADED (the provider
 * cannot be reached for discovery).
 *
 * Flows live in this process's memory: behind several nodes, the start and the callback must reach
 * the same node (sticky sessions), or the callback is SSO_FAILED (docs/security.md).
 */
export class OidcSignIn {
  private configuration: Promise<client.Configuration> | null = null;
  private readonly flows = new Map<string, PendingFlow>();
  private readonly handoffs = new Map<string, { session: LoginResponse; expires: number }>();
  private readonly now: () => number;

  constructor(
    readonly config: OidcConfig,
    private readonly identity: IdentityStore,
    private readonly options: {
      now?: () => number;
      logger?: Logger;
      /** How the server talks to the provider (openid-client's `customFetch`); tests put a tampering proxy here. */
      fetch?: client.CustomFetch;
    } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The name shown on the login page ("Sign in with <name>"). */
  get name(): string {
    return this.config.name;
  }

  /** Discovery (`/.well-known/openid-configuration`), once; retried on the next sign-in if it failed. */
  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const issuer = new URL(this.config.issuer);
      // http only for a provider on this machine (the config refuses it elsewhere).
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      this.configuration = client
        .discovery(issuer, this.config.clientId, undefined, client.ClientSecretPost(this.config.clientSecret), {
          ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
          timeout: 10,
        })
        .then((configuration) => {
          if (this.options.fetch) configuration[client.customFetch] = this.options.fetch;
          return configuration;
        })
        .catch((error: unknown) => {
          this.configuration = null;
          this.options.logger?.warn({ err: error, issuer: this.config.issuer }, 'OIDC discovery failed');
          throw new HuiliuError('OVERLOADED', 'The sign-in provider cannot be reached right now.');
        });
    }
    return this.configuration;
  }

  private sweep(): void {
    const now = this.now();
    for (const [state, flow] of this.flows) if (flow.expires <= now) this.flows.delete(state);
    for (const [code, h] of this.handoffs) if (h.expires <= now) this.handoffs.delete(code);
  }

  /**
   * Starts a sign-in: `{url, binding}`, the provider's authorization URL (response_type=code, S256
   * PKCE challenge, state, nonce) and the value to set as the flow-binding cookie.
   */
  async start(): Promise<{ url: string; binding: string }> {
    const configuration = await this.discover();
    this.sweep();
    if (this.flows.size >= FLOWS_MAX) this.flows.delete(this.flows.keys().next().value!);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const binding = randomBytes(32).toString('base64url');
    this.flows.set(state, { verifier, nonce, bindingHash: sha256(binding).toString('hex'), expires: this.now() + FLOW_TTL_MS });
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUri,
      scope: (this.config.scopes ?? ['openid', 'profile', 'email']).join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, binding };
  }

  /**
   * Completes a sign-in from the provider's redirect to `redirectUri` (`callbackUrl`: that URL with
   * its query) in the browser holding the flow-binding cookie `binding`. Returns a one-time hand-over
   * code for `redeem` and the user signed in. See the class comment for the checks and errors.
   */
  async finish(callbackUrl: URL, binding: string | undefined): Promise<{ handoff: string; user: UserView }> {
    const configuration = await this.discover();
    this.sweep();
    const state = callbackUrl.searchParams.get('state') ?? '';
    const flow = this.flows.get(state);
    // One use: a replayed callback finds no flow.
    this.flows.delete(state);
    if (!flow || flow.expires <= this.now()) throw new HuiliuError('SSO_FAILED', 'This sign-in is unknown or already used; start again.');
    const expected = Buffer.from(flow.bindingHash, 'hex');
    if (!binding || !timingSafeEqual(sha256(binding), expected))
      throw new HuiliuError('SSO_FAILED', 'This sign-in was started in another browser; start again.');
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: flow.verifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      claims = { ...idClaims };
      // Many providers put roles and groups only in the userinfo answer (OIDC Core §5.4 scope claims).
      if (claims[this.config.roleClaim] === undefined || claims[this.config.groupClaim] === undefined) {
        // The subject must match the ID token's (OIDC Core §5.3.2), checked by the library; the ID token's own claims win.
        const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      }
    } catch (error) {
      if (error instanceof HuiliuError) throw error;
      // The library's reason (wrong audience, expired, provider refused the code …) goes to the log, not the client.
      const reason = error instanceof Error ? error.message : String(error);
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
      this.options.logger?.info({ reason, ...(cause ? { cause } : {}) }, 'OIDC sign-in refused');
      throw new HuiliuError('SSO_FAILED');
    }
    const roles = [
      ...new Set(
        claimValues(claims, this.config.roleClaim)
          .map((v) => this.config.roles[v])
          .filter((r): r is Role => RoleSchema.safeParse(r).success),
      ),
    ];
    const skillGroups = [
      ...new Set(
        claimValues(claims, this.config.groupClaim)
          .map((v) => this.config.skillGroups[v])
          .filter((g): g is string => typeof g === 'string'),
      ),
    ];
    const str = (k: string) => (typeof claims[k] === 'string' && (claims[k] as string).length > 0 ? (claims[k] as string) : undefined);
    const subject = String(claims['sub']);
    const username = (str('preferred_username') ?? str('email') ?? subject).slice(0, 64);
    const session = this.identity.signInExternal({
      issuer: String(claims['iss']),
      subject,
      username,
      displayName: (str('name') ?? username).slice(0, 128),
      roles,
      skillGroups,
    });
    const handoff = randomBytes(32).toString('base64url');
    this.handoffs.set(handoff, { session, expires: this.now() + HANDOFF_TTL_MS });
    return { handoff, user: session.user };
  }

  /** The session a hand-over code stands for, once, within 60 s of the callback. Errors: SSO_FAILED. */
  redeem(handoff: string): LoginResponse {
    const entry = this.handoffs.get(handoff);
    this.handoffs.delete(handoff);
    if (!entry || entry.expires <= this.now()) throw new HuiliuError('SSO_FAILED', 'This sign-in link is used or expired; start again.');
    return entry.session;
  }
}
