import type { LoginResponse, Role, UserView } from '../../../common/api/auth';

/** A verified bearer token: who it is, when it expires (ms since the epoch) and its stored hash. */
export interface VerifiedToken {
  user: UserView;
  tokenHash: string;
  expiresAt: number;
}

/**
 * A person as an OpenID provider describes them, after the ID token was checked and the provider's
 * role and group claims were mapped to ours (oidc.ts): `issuer` + `subject` (OIDC Core §2 `iss`, `sub`)
 * identify them for good; the rest is refreshed at every sign-in.
 */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  username: string;
  displayName: string;
  roles: Role[];
  skillGroups: string[];
}

/**
 * What was revoked: one token (logout) or every token of a user (`revokeUser`, e.g. when disabled).
 * Listeners end whatever that token or user still holds open, such as live sockets.
 */
export type Revocation = { kind: 'token'; tokenHash: string; userId: string } | { kind: 'user'; userId: string };

/**
 * The authentication port (issue 7 §4): everything the server asks of "who is this?". `AuthService`
 * (local accounts, argon2id, opaque bearer tokens) implements it; an OIDC provider can implement it
 * later without touching the routes, the agent hub or the policy, which are typed against this port.
 * Authorization (what the user may do) is not here: it is `can()` in policy.ts.
 */
export interface IdentityStore {
  /**
   * Signs a user in; `clientKey` is the client's address (for throttling). Errors: RATE_LIMITED
   * (details `{retryAfterSeconds}`), INVALID_CREDENTIALS.
   */
  login(username: string, password: string, clientKey: string): Promise<LoginResponse>;
  /** The user behind a bearer token, or null when unknown, expired or disabled. */
  verify(token: string | undefined): UserView | null;
  /** Like `verify`, with the token's hash and expiry, for holders of long-lived connections. */
  verifyToken(token: string | undefined): VerifiedToken | null;
  /** Revokes one bearer token; the revocation listeners hear of it synchronously. */
  logout(token: string): void;
  /** Revokes every token of a user; the revocation listeners hear of it synchronously. Returns how many were revoked. */
  revokeUser(userId: string): number;
  /**
   * Signs in a person an enterprise OpenID provider vouched for (issue 17), creating or updating the
   * local user linked to (issuer, subject), and issues a bearer token like `login`. Errors: FORBIDDEN
   * when no role is granted or the user is disabled.
   */
  signInExternal(identity: ExternalIdentity): LoginResponse;
  /** Calls `listener` after every revocation; returns its disposer. */
  onRevoked(listener: (revocation: Revocation) => void): () => void;
  /** An enabled user by id, or null. */
  userById(id: string): UserView | null;
  /** Every enabled user, by username (the staff directory: names for ids in routing explanations). */
  listStaff(): UserView[];
  /** A user's display name (also of disabled users: old replies still show who wrote them), or null. */
  displayName(id: string): string | null;
}
