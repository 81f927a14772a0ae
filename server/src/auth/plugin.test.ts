import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../../common/errors/codes';
import { LoginResponseSchema } from '../../../common/api/auth';
import { startTestServer, type TestServer } from '../../test/support/harness';

describe('staff auth and RBAC over REST', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('logs in a demo user and returns token, roles and skill groups', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'lead', password: 'huiliu-demo' } });
    expect(res.statusCode).toBe(200);
    const body = LoginResponseSchema.parse(res.json());
    expect(body.user).toMatchObject({ username: 'lead', roles: ['lead'], skillGroups: ['general', 'vip'] });
    const me = await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${body.token}` } });
    expect(me.json()).toMatchObject({ user: { username: 'lead' } });
  });

  it('seeds every demo user of DESIGN §6 with an argon2id hash, never the password', () => {
    const db = new Database(join(s.dataDir, 'huiliu.db'), { readonly: true });
    const rows = db.prepare('SELECT username, password_hash, roles FROM users ORDER BY username').all() as {
      username: string;
      password_hash: string;
      roles: string;
    }[];
    db.close();
    expect(rows.map((r) => r.username)).toEqual(['admin', 'agent1', 'agent2', 'auditor', 'lead', 'privacy']);
    for (const r of rows) {
      expect(r.password_hash.startsWith('$argon2id$')).toBe(true);
      expect(r.password_hash).not.toContain('huiliu-demo');
    }
    expect(JSON.parse(rows.find((r) => r.username === 'privacy')!.roles)).toEqual(['privacy-officer']);
  });

  it('gives the same error for a wrong password and an unknown user', async () => {
    for (const payload of [
      { username: 'agent1', password: 'nope' },
      { username: 'ghost', password: 'nope' },
    ]) {
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(ErrorBodySchema.parse(res.json()).error).toEqual({ code: 'INVALID_CREDENTIALS', message: 'Wrong username or password.' });
    }
  });

  it('slows down password guessing: the 11th failure in 5 minutes is RATE_LIMITED', async () => {
    let last = 0;
    for (let i = 0; i < 11; i++) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'auditor', password: `guess-${i}` },
      });
      last = res.statusCode;
    }
    expect(last).toBe(429);
  });

  it('refuses staff routes without a valid token', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic abc' }]) {
      const res = await s.app.inject({ method: 'GET', url: '/api/v1/sessions', headers });
      expect(res.statusCode).toBe(401);
      expect(ErrorBodySchema.parse(res.json()).error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('revokes the token on logout', async () => {
    const token = await s.login('agent1');
    const auth = { authorization: `Bearer ${token}` };
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: auth })).statusCode).toBe(204);
    expect((await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth })).statusCode).toBe(401);
  });

  it('shows an agent only sessions of their skill groups, on every route', async () => {
    const post = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'rbac-vip' }, text: 'vip question', clientMessageId: 'rbac-1', hints: { skillGroup: 'vip' } },
    });
    const { sessionId } = post.json() as { sessionId: string };
    const agent1 = { authorization: `Bearer ${await s.login('agent1')}` };
    const agent2 = { authorization: `Bearer ${await s.login('agent2')}` };
    const admin = { authorization: `Bearer ${await s.login('admin')}` };

    expect((await s.app.inject({ method: 'GET', url: `/api/v1/sessions/${sessionId}`, headers: agent1 })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url: `/api/v1/sessions/${sessionId}`, headers: agent2 })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'GET', url: `/api/v1/sessions/${sessionId}`, headers: admin })).statusCode).toBe(200);

    const list1 = (await s.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: agent1 })).json() as {
      sessions: { id: string }[];
    };
    expect(list1.sessions.map((x) => x.id)).not.toContain(sessionId);
    const forbidden = await s.app.inject({ method: 'GET', url: '/api/v1/sessions?skillGroup=vip', headers: agent1 });
    expect(forbidden.statusCode).toBe(403);
    const bad = await s.app.inject({ method: 'GET', url: '/api/v1/sessions/not-an-id', headers: admin });
    expect(ErrorBodySchema.parse(bad.json()).error.code).toBe('VALIDATION_FAILED');
  });
});

describe('health and the one error shape', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await s.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
    expect((await s.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ ready: true });
  });

  it('answers unknown routes in the error shape with HSTS set', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe('NOT_FOUND');
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
  });

  it('serves the workstation at /app/ and the widget at /widget with a strict CSP', async () => {
    const app = await s.app.inject({ method: 'GET', url: '/app/' });
    expect(app.statusCode).toBe(200);
    expect(app.headers['content-security-policy']).toContain("script-src 'self'");
    const widget = await s.app.inject({ method: 'GET', url: '/widget' });
    expect(widget.statusCode).toBe(200);
    expect(widget.body).not.toContain('%WIDGET_TITLE%');
    expect(widget.headers['content-security-policy']).toContain('frame-ancestors');
  });
});
