import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/sqlite';
import { AuthService, tokenHash, type Revocation } from './auth';

describe('AuthService tokens and revocation', () => {
  let dir: string;
  let db: Db;
  let clock: number;
  let auth: AuthService;
  let userId: string;
  const login = async () => (await auth.login('mei', 'correct horse', '192.0.2.1')).token;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-auth-unit-'));
    db = openDatabase(join(dir, 'auth.db'));
    clock = Date.parse('2026-03-01T09:00:00Z');
    auth = new AuthService(db, { now: () => clock, tokenTtlMs: 60_000 });
    userId = (
      await auth.createUser({ username: 'mei', displayName: 'Mei', password: 'correct horse', roles: ['agent'], skillGroups: ['general'] })
    ).id;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a token’s expiry and refuses it from that instant (injected clock)', async () => {
    const token = await login();
    expect(auth.verifyToken(token)).toMatchObject({ user: { id: userId }, tokenHash: tokenHash(token), expiresAt: clock + 60_000 });
    clock += 59_999;
    expect(auth.verify(token)?.id).toBe(userId);
    clock += 1;
    expect(auth.verify(token)).toBeNull();
  });

  it('tells every listener about a logout and a revokeUser, past a throwing one, and not after disposal', async () => {
    const heard: Revocation[] = [];
    auth.onRevoked(() => {
      throw new Error('listener bug');
    });
    const dispose = auth.onRevoked((r) => heard.push(r));
    const first = await login();
    const second = await login();
    auth.logout(first);
    auth.logout(first); // already gone: nothing to tell
    expect(heard).toEqual([{ kind: 'token', tokenHash: tokenHash(first), userId }]);
    expect(auth.verify(first)).toBeNull();
    expect(auth.verify(second)?.id).toBe(userId);
    auth.revokeUser(userId);
    expect(heard.at(-1)).toEqual({ kind: 'user', userId });
    expect(auth.verify(second)).toBeNull();
    dispose();
    auth.logout(await login());
    expect(heard).toHaveLength(2);
  });
});
