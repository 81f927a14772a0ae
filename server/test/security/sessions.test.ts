import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Db } from '../../src/db/sqlite';
import { openAgentSocket } from '../support/agent-client';
import { writeConfigFile } from '../support/config-file';
import { startTestServer, type TestServer } from '../support/harness';
import { until } from '../support/until';

const MIN = 60_000;

describe('sessions end at an absolute and an idle lifetime (issue 17, ASVS V7.3)', () => {
  let dir: string;
  let db: Db;
  let clock: number;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-sessions-'));
    db = openDatabase(join(dir, 'auth.db'));
    clock = Date.parse('2026-03-01T09:00:00Z');
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (tokenTtlMs: number, idleTtlMs: number) => {
    const auth = new AuthService(db, { now: () => clock, tokenTtlMs, idleTtlMs });
    await auth.createUser({
      username: 'mei',
      displayName: 'Mei',
      password: 'correct horse battery',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    return auth;
  };

  it('ends a session left unused for the idle lifetime, and not one used just before it', async () => {
    const auth = await open(12 * 60 * MIN, 30 * MIN);
    const used = (await auth.login('mei', 'correct horse battery', '10.0.0.1')).token;
    const left = (await auth.login('mei', 'correct horse battery', '10.0.0.1')).token;
    clock += 29 * MIN;
    expect(auth.verify(used)?.username).toBe('mei');
    clock += 2 * MIN; // 31 min after sign-in, 2 min after `used` was last used
    expect(auth.verify(left)).toBeNull();
    expect(auth.verify(used)?.username).toBe('mei');
    // The idle end moves with each use: `expiresAt` is now + idle, below the absolute end.
    expect(auth.verifyToken(used)!.expiresAt).toBe(clock + 30 * MIN);
  });

  it('ends a session at its absolute lifetime even when it is used all the time', async () => {
    const auth = await open(2 * 60 * MIN, 30 * MIN);
    const { token, expiresAt } = await auth.login('mei', 'correct horse battery', '10.0.0.1');
    expect(Date.parse(expiresAt)).toBe(clock + 2 * 60 * MIN);
    for (let i = 0; i < 5; i++) {
      clock += 20 * MIN;
      expect(auth.verify(token), `after ${(i + 1) * 20} min`).not.toBeNull();
    }
    clock += 15 * MIN; // 115 min: the idle end would be at 130, the absolute end (120) comes first
    expect(auth.verifyToken(token)!.expiresAt).toBe(Date.parse(expiresAt));
    clock += 5 * MIN;
    expect(auth.verify(token)).toBeNull();
  });

  it('reads both lifetimes from the config file, with 12 h and 60 min by default', () => {
    const base = { HUILIU_DATA_DIR: dir };
    expect(loadConfig({ env: base, argv: [], cwd: dir }).sessions).toEqual({ absoluteMinutes: 720, idleMinutes: 60 });
    const file = writeConfigFile({ sessions: { absoluteMinutes: 480, idleMinutes: 15 } });
    expect(loadConfig({ env: { ...base, HUILIU_CONFIG: file }, argv: [], cwd: dir }).sessions).toEqual({
      absoluteMinutes: 480,
      idleMinutes: 15,
    });
    const bad = writeConfigFile({ sessions: { idleMinutes: 0 } });
    expect(() => loadConfig({ env: { ...base, HUILIU_CONFIG: bad }, argv: [], cwd: dir })).toThrow(/sessions\.idleMinutes/);
  });
});

describe('revoking every session of a user: oneself (sign out everywhere) or by an admin', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await s.cleanup();
  });
  const post = (url: string, token: string) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } });
  const me = (token: string) => s.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
  const closed = (socket: Socket) => {
    let reason: string | null = null;
    socket.on('disconnect', (r) => (reason = r));
    return () => reason;
  };
  async function auditOf(username: string, action: string) {
    const auditor = await s.login('auditor');
    await until(async () => {
      const res = await s.app.inject({ url: `/api/v1/audit?userId=${username}`, headers: { authorization: `Bearer ${auditor}` } });
      return (res.json() as { entries: { action: string }[] }).entries.some((e) => e.action === action);
    }, 3000);
    const res = await s.app.inject({ url: `/api/v1/audit?userId=${username}`, headers: { authorization: `Bearer ${auditor}` } });
    return (res.json() as { entries: { action: string; outcome: string; target: { kind: string; id: string } | null }[] }).entries.filter(
      (e) => e.action === action,
    );
  }

  it('signs the caller out on every device: all their tokens refused, all their sockets closed at once, audited', async () => {
    const laptop = await s.login('agent1');
    const phone = await s.login('agent1');
    const colleague = await s.login('agent2');
    const [a, b] = [await openAgentSocket(s, laptop), await openAgentSocket(s, phone)];
    const c = await openAgentSocket(s, colleague);
    sockets.push(a, b, c);
    const [aClosed, bClosed, cClosed] = [closed(a), closed(b), closed(c)];

    const res = await post('/api/v1/auth/sessions/revoke-all', laptop);
    expect(res.statusCode).toBe(200);
    expect((res.json() as { revoked: number }).revoked).toBe(2);
    await until(() => aClosed() === 'io server disconnect' && bClosed() === 'io server disconnect', 2000);
    expect((await me(laptop)).statusCode).toBe(401);
    expect((await me(phone)).statusCode).toBe(401);
    // Another user's session is untouched.
    expect(cClosed()).toBeNull();
    expect((await me(colleague)).statusCode).toBe(200);
    const entries = await auditOf('agent1', 'auth.revoke-all');
    expect(entries.map((e) => e.outcome)).toEqual(['ok']);
  });

  it('lets an admin sign another user out everywhere, audited with that user as target', async () => {
    const victimToken = await s.login('agent2');
    const userId = (s.services.auth.verify(victimToken) ?? { id: '' }).id;
    const socket = await openAgentSocket(s, victimToken);
    sockets.push(socket);
    const socketClosed = closed(socket);
    const admin = await s.login('admin');

    const res = await post(`/api/v1/users/${userId}/sessions/revoke-all`, admin);
    expect(res.statusCode).toBe(200);
    expect((res.json() as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);
    await until(() => socketClosed() === 'io server disconnect', 2000);
    expect((await me(victimToken)).statusCode).toBe(401);
    expect((await me(admin)).statusCode).toBe(200);
    const entries = await auditOf('admin', 'auth.revoke-user');
    expect(entries[0]).toMatchObject({ outcome: 'ok', target: { kind: 'user', id: userId } });
  });

  it('refuses the admin route to everyone but admins, and names an unknown user NOT_FOUND', async () => {
    const target = await s.login('agent1');
    const userId = s.services.auth.verify(target)!.id;
    for (const who of ['agent2', 'lead', 'auditor', 'privacy']) {
      const res = await post(`/api/v1/users/${userId}/sessions/revoke-all`, await s.login(who));
      expect(res.statusCode, who).toBe(403);
      expect((res.json() as { error: { code: string } }).error.code, who).toBe('FORBIDDEN');
    }
    expect((await me(target)).statusCode).toBe(200);
    const unknown = await post('/api/v1/users/no-such-user/sessions/revoke-all', await s.login('admin'));
    expect(unknown.statusCode).toBe(404);
    expect((await post(`/api/v1/users/${userId}/sessions/revoke-all`, 'not-a-token')).statusCode).toBe(401);
  });
});
