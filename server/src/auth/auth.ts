import { createHash, randomBytes } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { RoleSchema, type LoginResponse, type Role, type UserView } from '../../../common/api/auth';
import type { Statement } from 'better-sqlite3';
import { migrate, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { Logger } from '../logging/logger';
import type { ExternalIdentity, IdentityStore, Revocation, VerifiedToken } from './identity';
import { ConcurrencyGate, DEFAULT_LOGIN_LIMITS, LoginThrottle, type LoginLimits } from './throttle';

const MIGRATIONS = migrationsDir('auth');
const TOKEN_TTL_MS = 12 * 3600_000;
/** A session unused this long ends (ASVS 5.0 V7.3.1); 60 min by default. */
const IDLE_TTL_MS = 60 * 60_000;
/** `last_used_at` is written at most this often per token, so a busy agent does not write on every click. */
const TOUCH_EVERY_MS = 30_000;
/** The stored password hash of accounts that sign in elsewhere (OIDC): no argon2id hash, so no password matches. */
const NO_PASSWORD = '!external';
// OWASP's argon2id baseline: m=19 MiB, t=2, p=1.
const ARGON = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  roles: string;
  skill_groups: string;
  expert: number;
  disabled: number;
}

export interface NewUser {
  username: string;
  displayName: string;
  password: string;
  roles: Role[];
  skillGroups: string[];
  expert?: boolean;
}

export interface AuthOptions {
  /** The clock (ms since the epoch); tests inject one. */
  now?: () => number;
  /** How long a bearer token lives at most (absolute lifetime), in ms. Default 12 h. */
  tokenTtlMs?: number;
  /** How long a bearer token may go unused (idle lifetime), in ms. Default 60 min. */
  idleTtlMs?: number;
  loginLimits?: LoginLimits;
  /** argon2id verifications at once (19 MiB each) and how many more may wait. Default 4 and 16. */
  passwordChecks?: { concurrent: number; waiting: number };
  /** Where a failing revocation listener is reported. */
  logger?: Logger;
}

export type { ExternalIdentity, Revocation, VerifiedToken } from './identity';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The stored form of a bearer token (SHA-256, hex): what `VerifiedToken.tokenHash` and revocations carry. */
export const tokenHash = (token: string): string => sha256(token);

function toView(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    roles: RoleSchema.array().parse(JSON.parse(row.roles)),
    skillGroups: JSON.parse(row.skill_groups) as string[],
    expert: row.expert === 1,
  };
}

/** Staff accounts and sessions (bearer tokens): the local `IdentityStore`. Passwords: argon2id. */
export class AuthService implements IdentityStore {
  private dummyHash: Promise<string> | null = null;
  private readonly statements = new Map<string, Statement<unknown[]>>();
  private readonly now: () => number;
  private readonly tokenTtlMs: number;
  private readonly idleTtlMs: number;
  private readonly throttle: LoginThrottle;
  private readonly passwordChecks: ConcurrencyGate;
  private readonly revocationListeners = new Set<(revocation: Revocation) => void>();
  private readonly logger: Logger | undefined;

  /** Prepared once, reused: token checks run on every staff request and socket connect. */
  private sql(text: string): Statement<unknown[]> {
    let stmt = this.statements.get(text);
    if (!stmt) this.statements.set(text, (stmt = this.db.prepare(text)));
    return stmt;
  }

  constructor(
    private readonly db: Db,
    options: AuthOptions = {},
  ) {
    migrate(db, 'auth', MIGRATIONS);
    this.now = options.now ?? Date.now;
    this.tokenTtlMs = options.tokenTtlMs ?? TOKEN_TTL_MS;
    this.idleTtlMs = options.idleTtlMs ?? IDLE_TTL_MS;
    this.throttle = new LoginThrottle(db, options.loginLimits ?? DEFAULT_LOGIN_LIMITS, this.now);
    const checks = options.passwordChecks ?? { concurrent: 4, waiting: 16 };
    this.passwordChecks = new ConcurrencyGate(checks.concurrent, checks.waiting);
    this.logger = options.logger;
  }

  async createUser(user: NewUser): Promise<UserView> {
    const id = uuidv7();
    const passwordHash = await argonHash(user.password, ARGON);
    this.sql(
      `INSERT INTO users (id, username, display_name, password_hash, roles, skill_groups, expert, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      user.username,
      user.displayName,
      passwordHash,
      JSON.stringify(user.roles),
      JSON.stringify(user.skillGroups),
      user.expert ? 1 : 0,
      new Date(this.now()).toISOString(),
    );
    return this.userById(id)!;
  }

  hasUser(username: string): boolean {
    return this.sql('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  userById(id: string): UserView | null {
    const row = this.sql('SELECT * FROM users WHERE id = ? AND disabled = 0').get(id) as UserRow | undefined;
    return row ? toView(row) : null;
  }

  /** Every enabled staff user, by username (the what-if simulator's default agents, issue 11). */
  listStaff(): UserView[] {
    return (this.sql('SELECT * FROM users WHERE disabled = 0 ORDER BY username').all() as UserRow[]).map(toView);
  }

  /** Usernames → display names, for showing who answered. */
  displayName(id: string): string | null {
    const row = this.sql('SELECT display_name FROM users WHERE id = ?').get(id) as { display_name: string } | undefined;
    return row?.display_name ?? null;
  }

  /**
   * Signs a staff user in and issues a bearer token (`expiresAt` ISO 8601, 12 h by default).
   * `clientKey` is the request's client address. The attempt is counted (DESIGN §8, LoginThrottle)
   * synchronously before anything is awaited, so concurrent guesses cannot outrun the limit; at most
   * 4 argon2id checks run at once. A success makes the client's network known to the user for 30 days,
   * and from a known network the per-username ceiling does not apply. Errors: RATE_LIMITED (details `{retryAfterSeconds}`) when a limit
   * or the check queue is full, INVALID_CREDENTIALS for a wrong password or an unknown or disabled user.
   */
  async login(username: string, password: string, clientKey: string): Promise<LoginResponse> {
    const attempt = this.throttle.reserve(username, clientKey);
    const row = this.sql('SELECT * FROM users WHERE username = ? AND disabled = 0').get(username) as UserRow | undefined;
    let valid: boolean;
    try {
      valid = await this.passwordChecks.run(async () => {
        // Verify against a dummy hash for unknown users so response time does not reveal which exist.
        this.dummyHash ??= argonHash(randomBytes(16).toString('hex'), ARGON);
        return argonVerify(row?.password_hash ?? (await this.dummyHash), password).catch(() => false);
      });
    } catch (error) {
      // Refused before the password was looked at (queue full): that attempt guessed nothing.
      attempt.release();
      throw error;
    }
    if (!row || !valid) throw new HuiliuError('INVALID_CREDENTIALS');
    attempt.succeeded();
    return this.issue(row);
  }

  /** A new bearer token for `row` (256 random bits; only its SHA-256 is stored). `expiresAt`: the absolute end. */
  private issue(row: UserRow): LoginResponse {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now + this.tokenTtlMs).toISOString();
    this.sql('INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?)').run(
      sha256(token),
      row.id,
      new Date(now).toISOString(),
      expiresAt,
      now,
    );
    return { token, expiresAt, user: toView(row) };
  }

  /**
   * Signs in a user whom an enterprise OpenID provider vouched for (issue 17; the caller checked the
   * ID token: oidc.ts). The (issuer, subject) pair is the link: the first sign-in creates a local user
   * that has no password (username: `identity.username`, or `<username>@<issuer host>` when a local
   * account already has that name); every sign-in sets the user's display name, roles and skill
   * groups from the provider's claims, so the provider stays the source of truth. Returns a bearer
   * token like `login`. Errors: FORBIDDEN when `roles` is empty (the provider grants this person
   * nothing here) or the linked user is disabled.
   */
  signInExternal(identity: ExternalIdentity): LoginResponse {
    if (identity.roles.length === 0) throw new HuiliuError('FORBIDDEN', 'Your account has no role in Huiliu; ask your administrator.');
    const row = this.db.transaction(() => {
      const link = this.sql('SELECT user_id FROM external_identities WHERE issuer = ? AND subject = ?').get(
        identity.issuer,
        identity.subject,
      ) as { user_id: string } | undefined;
      const roles = JSON.stringify(identity.roles);
      const groups = JSON.stringify(identity.skillGroups);
      if (link) {
        this.sql('UPDATE users SET display_name = ?, roles = ?, skill_groups = ? WHERE id = ?').run(
          identity.displayName,
          roles,
          groups,
          link.user_id,
        );
        return this.sql('SELECT * FROM users WHERE id = ?').get(link.user_id) as UserRow;
      }
      const id = uuidv7();
      const username = this.hasUser(identity.username) ? `${identity.username}@${new URL(identity.issuer).host}` : identity.username;
      const at = new Date(this.now()).toISOString();
      this.sql(
        `INSERT INTO users (id, username, display_name, password_hash, roles, skill_groups, expert, created_at)
           VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
      ).run(id, username, identity.displayName, NO_PASSWORD, roles, groups, at);
      this.sql('INSERT INTO external_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)').run(
        identity.issuer,
        identity.subject,
        id,
        at,
      );
      return this.sql('SELECT * FROM users WHERE id = ?').get(id) as UserRow;
    })();
    if (row.disabled) throw new HuiliuError('FORBIDDEN', 'This account is disabled.');
    return this.issue(row);
  }

  /** The user behind a bearer token, or null when unknown, expired, idle too long or disabled. Counts as a use. */
  verify(token: string | undefined): UserView | null {
    return this.verifyToken(token)?.user ?? null;
  }

  /**
   * Like `verify`, with the token's hash and expiry (ms since the epoch), for holders of long-lived
   * connections that must end when the token does. A token ends at its absolute lifetime (`tokenTtlMs`
   * after sign-in) or when unused for `idleTtlMs`, whichever comes first (ASVS 5.0 V7.3.1/V7.3.2);
   * each verification counts as a use, and `expiresAt` is the earlier of the absolute end and the
   * idle end counted from now. Null when unknown, expired, idle too long or the user is disabled.
   */
  verifyToken(token: string | undefined): VerifiedToken | null {
    if (!token || token.length > 256) return null;
    const hash = sha256(token);
    const row = this.sql(
      `SELECT u.* , t.expires_at, t.created_at AS token_created_at, t.last_used_at FROM auth_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND u.disabled = 0`,
    ).get(hash) as (UserRow & { expires_at: string; token_created_at: string; last_used_at: number | null }) | undefined;
    if (!row) return null;
    const now = this.now();
    const absolute = Date.parse(row.expires_at);
    const lastUsed = row.last_used_at ?? Date.parse(row.token_created_at);
    if (!(absolute > now) || !(lastUsed + this.idleTtlMs > now)) return null;
    // This use restarts the idle clock (written at most every TOUCH_EVERY_MS).
    if (now - lastUsed >= TOUCH_EVERY_MS) this.sql('UPDATE auth_tokens SET last_used_at = ? WHERE token_hash = ?').run(now, hash);
    return { user: toView(row), tokenHash: hash, expiresAt: Math.min(absolute, now + this.idleTtlMs) };
  }

  /** Revokes one bearer token and tells the revocation listeners (its sockets close at once). */
  logout(token: string): void {
    const hash = sha256(token);
    const row = this.sql('DELETE FROM auth_tokens WHERE token_hash = ? RETURNING user_id').get(hash) as { user_id: string } | undefined;
    if (row) this.fireRevoked({ kind: 'token', tokenHash: hash, userId: row.user_id });
  }

  /**
   * Revokes every token of a user (sign out everywhere, an admin's revocation, a disabled account) and
   * tells the listeners (their sockets close at once). Returns how many tokens were revoked.
   */
  revokeUser(userId: string): number {
    const { changes } = this.sql('DELETE FROM auth_tokens WHERE user_id = ?').run(userId);
    this.fireRevoked({ kind: 'user', userId });
    return changes;
  }

  /**
   * Calls `listener` synchronously after every revocation (`logout`, `revokeUser`). Returns its
   * disposer. A throwing listener does not stop the others or the revocation.
   */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  private fireRevoked(revocation: Revocation): void {
    for (const listener of [...this.revocationListeners]) {
      try {
        listener(revocation);
      } catch (error) {
        // The token is already gone from the store; a listener's own failure must not undo that.
        this.logger?.error({ err: error, userId: revocation.userId }, 'revocation listener failed');
      }
    }
  }
}
