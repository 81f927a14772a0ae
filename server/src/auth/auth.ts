import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { RoleSchema, type LoginResponse, type Role, type UserView } from '../../../common/api/auth';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Statement } from 'better-sqlite3';
import { migrate, type Db } from '../db/sqlite';

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));
const TOKEN_TTL_MS = 12 * 3600_000;
const FAIL_WINDOW_MS = 5 * 60_000;
const MAX_FAILS = 10;
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

export interface ChannelKeyInfo {
  channel: ChannelCode;
  /** The integrating app: scopes its customers' external ids, stays the same across key rotation. */
  appId: string;
  name: string;
  skillGroup: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

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

/** Staff accounts, sessions (bearer tokens) and channel keys. Passwords: argon2id. */
export class AuthService {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private dummyHash: Promise<string> | null = null;
  private readonly statements = new Map<string, Statement<unknown[]>>();

  /** Prepared once, reused: token checks run on every staff request and socket connect. */
  private sql(text: string): Statement<unknown[]> {
    let stmt = this.statements.get(text);
    if (!stmt) this.statements.set(text, (stmt = this.db.prepare(text)));
    return stmt;
  }

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    migrate(db, 'auth', MIGRATIONS);
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

  /** Usernames → display names, for showing who answered. */
  displayName(id: string): string | null {
    const row = this.sql('SELECT display_name FROM users WHERE id = ?').get(id) as { display_name: string } | undefined;
    return row?.display_name ?? null;
  }

  async login(username: string, password: string, clientKey: string): Promise<LoginResponse> {
    const throttleKey = `${username.toLowerCase()}|${clientKey}`;
    const f = this.failures.get(throttleKey);
    if (f && this.now() - f.since < FAIL_WINDOW_MS && f.count >= MAX_FAILS) throw new HuiliuError('RATE_LIMITED');

    const row = this.sql('SELECT * FROM users WHERE username = ? AND disabled = 0').get(username) as UserRow | undefined;
    // Verify against a dummy hash for unknown users so response time does not reveal which exist.
    this.dummyHash ??= argonHash(randomBytes(16).toString('hex'), ARGON);
    const valid = await argonVerify(row?.password_hash ?? (await this.dummyHash), password).catch(() => false);
    if (!row || !valid) {
      const entry = f && this.now() - f.since < FAIL_WINDOW_MS ? f : { count: 0, since: this.now() };
      entry.count += 1;
      this.failures.set(throttleKey, entry);
      throw new HuiliuError('INVALID_CREDENTIALS');
    }
    this.failures.delete(throttleKey);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.now() + TOKEN_TTL_MS).toISOString();
    this.sql('INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
      sha256(token),
      row.id,
      new Date(this.now()).toISOString(),
      expiresAt,
    );
    return { token, expiresAt, user: toView(row) };
  }

  /** The user behind a bearer token, or null when unknown, expired or disabled. */
  verify(token: string | undefined): UserView | null {
    if (!token || token.length > 256) return null;
    const row = this.sql(
      `SELECT u.* , t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND u.disabled = 0`,
    ).get(sha256(token)) as (UserRow & { expires_at: string }) | undefined;
    if (!row || Date.parse(row.expires_at) <= this.now()) return null;
    return toView(row);
  }

  logout(token: string): void {
    this.sql('DELETE FROM auth_tokens WHERE token_hash = ?').run(sha256(token));
  }

  /** Registers a channel key (stored as its SHA-256). Throws VALIDATION_FAILED for an app id outside `[A-Za-z0-9._-]{1,64}`. */
  addChannelKey(key: string, info: ChannelKeyInfo): void {
    // App ids scope customer identities as `appId:externalId`: a ':' in one would make two apps' ids collide (B7).
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(info.appId))
      throw new HuiliuError('VALIDATION_FAILED', 'appId: letters, digits, ".", "_" or "-", at most 64');
    this.sql(
      'INSERT OR REPLACE INTO channel_keys (key_hash, channel, app_id, name, skill_group, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(sha256(key), info.channel, info.appId, info.name, info.skillGroup, new Date(this.now()).toISOString());
  }

  channelKey(key: string | undefined, channel: ChannelCode): ChannelKeyInfo | null {
    if (!key || key.length > 256) return null;
    const row = this.sql('SELECT * FROM channel_keys WHERE key_hash = ?').get(sha256(key)) as
      { channel: ChannelCode; app_id: string; name: string; skill_group: string | null } | undefined;
    // Looked up by SHA-256 of the key, so lookup time says nothing about the key itself.
    if (!row || row.channel !== channel) return null;
    return { channel: row.channel, appId: row.app_id, name: row.name, skillGroup: row.skill_group };
  }
}
