import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../auth/auth';
import { DEFAULT_LIMITS } from '../config/config';
import { openDatabase, type Db } from '../db/sqlite';
import { frameworkErrors, registerErrorHandling } from '../http/errors';
import { Limits } from '../http/limits';
import { createMetrics } from './metrics';
import { metricsPlugin } from './plugin';
import { registerRoutePolicy } from '../auth/route-policy';

const REMOTE = '203.0.113.7';

describe('metrics plugin on a small app', () => {
  let db: Db;
  let app: FastifyInstance;
  let token: string;
  let adminToken: string;

  beforeAll(async () => {
    db = openDatabase(':memory:');
    const auth = new AuthService(db);
    await auth.createUser({ username: 'lead', displayName: 'Lead', password: 'pw-123456', roles: ['lead'], skillGroups: ['general'] });
    token = (await auth.login('lead', 'pw-123456', '127.0.0.1')).token;
    await auth.createUser({ username: 'admin', displayName: 'Admin', password: 'pw-123456', roles: ['admin'], skillGroups: [] });
    adminToken = (await auth.login('admin', 'pw-123456', '127.0.0.1')).token;
    const metrics = createMetrics();
    metrics.rateLimited.inc({ limit: 'ip_messages' });
    // The same trust rule as the real app: loopback proxies are believed, nobody else.
    const limits = new Limits(DEFAULT_LIMITS, ['loopback'], metrics);
    app = Fastify({ frameworkErrors, trustProxy: limits.trustProxy });
    registerErrorHandling(app);
    registerRoutePolicy(app, auth);
    await app.register(metricsPlugin, { metrics });
  });

  afterAll(async () => {
    await app.close();
    db.close();
  });

  it('serves Prometheus text to a local scraper without a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('huiliu_rate_limited_total{limit="ip_messages"} 1');
  });

  it('answers a remote caller UNAUTHENTICATED without a staff token, FORBIDDEN with one that sees only some groups', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: `Basic ${token}` }]) {
      const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE, headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Sign in first.' } });
    }
    // Every group's numbers: a lead of one group (or an agent) may not read them; admins and auditors may.
    const lead = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE, headers: { authorization: `Bearer ${token}` } });
    expect(lead.statusCode).toBe(403);
    expect(lead.json().error.code).toBe('FORBIDDEN');
    const staff = await app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: REMOTE,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(staff.statusCode).toBe(200);
    expect(staff.body).toContain('huiliu_rate_limited_total');
  });

  it('takes a remote caller relayed by a loopback proxy for remote, and ignores X-Forwarded-For from anyone else', async () => {
    const relayed = await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-forwarded-for': REMOTE } });
    expect([relayed.statusCode, relayed.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const forged = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE, headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect([forged.statusCode, forged.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});
