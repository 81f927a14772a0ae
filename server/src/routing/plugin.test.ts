import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoutingConfigVersionView } from '../../../common/api/routing';
import { startTestServer, type TestServer } from '../../test/support/harness';

/** `GET|PUT /api/v1/routing/config` (DESIGN §6): versions with author, time and comment; admins publish and roll back. */
describe('the routing config admin API', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startTestServer();
    for (const u of ['admin', 'lead', 'agent1', 'auditor']) tokens[u] = await s.login(u);
  });
  afterAll(async () => {
    await s.cleanup();
  });
  const call = (user: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload !== undefined ? { payload } : {}) });

  it('shows the version in force to leads, admins and auditors, not to agents', async () => {
    const r = await call('lead', 'GET', '/api/v1/routing/config');
    expect(r.statusCode).toBe(200);
    expect(r.json<RoutingConfigVersionView>()).toMatchObject({
      version: 1,
      publishedBy: 'config-file',
      comment: null,
      config: { weights: { value: 0.6 } },
    });
    expect((await call('auditor', 'GET', '/api/v1/routing/config')).statusCode).toBe(200);
    expect((await call('agent1', 'GET', '/api/v1/routing/config')).json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await s.app.inject({ method: 'GET', url: '/api/v1/routing/config' })).statusCode).toBe(401);
  });

  it('publishes a new version with its author and comment, used from the next decision on', async () => {
    const current = (await call('admin', 'GET', '/api/v1/routing/config')).json<RoutingConfigVersionView>().config;
    const draft = { ...current, weights: { value: 0.3, difficulty: 0.7 } };
    const r = await call('admin', 'PUT', '/api/v1/routing/config', { config: draft, comment: 'difficulty first for the holiday peak' });
    expect(r.statusCode).toBe(201);
    const published = r.json<RoutingConfigVersionView>();
    expect(published).toMatchObject({
      version: 2,
      comment: 'difficulty first for the holiday peak',
      config: { version: 2, weights: { value: 0.3 } },
    });
    expect((await call('lead', 'GET', '/api/v1/routing/config')).json<RoutingConfigVersionView>().version).toBe(2);
    // The next contact is scored with it.
    const sent = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'cfg-1' }, text: 'Where is my order?', clientMessageId: 'cfg-1-1' },
    });
    const { sessionId } = sent.json<{ sessionId: string }>();
    await expect.poll(async () => (await s.services.store.getSession(sessionId))?.routing?.configVersion, { timeout: 5000 }).toBe(2);
  });

  it('refuses an invalid config with the field named, and agents and leads cannot publish', async () => {
    const current = (await call('admin', 'GET', '/api/v1/routing/config')).json<RoutingConfigVersionView>().config;
    const bad = await call('admin', 'PUT', '/api/v1/routing/config', { config: { ...current, weights: { value: 0.9, difficulty: 0.9 } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'weights' }] } });
    const worse = await call('admin', 'PUT', '/api/v1/routing/config', { config: { ...current, offerTimeoutMs: 'soon' } });
    expect(worse.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'offerTimeoutMs' }] } });
    expect((await call('admin', 'PUT', '/api/v1/routing/config', { config: current, extra: 1 })).statusCode).toBe(400);
    expect((await call('lead', 'PUT', '/api/v1/routing/config', { config: current })).statusCode).toBe(403);
    expect((await call('agent1', 'POST', '/api/v1/routing/config/rollback', { version: 1 })).statusCode).toBe(403);
    // Nothing was published by the refused requests.
    expect((await call('admin', 'GET', '/api/v1/routing/config')).json<RoutingConfigVersionView>().version).toBe(2);
  });

  it('rolls back by publishing an earlier version again, and lists every version', async () => {
    const r = await call('admin', 'POST', '/api/v1/routing/config/rollback', { version: 1 });
    expect(r.statusCode).toBe(201);
    expect(r.json<RoutingConfigVersionView>()).toMatchObject({
      version: 3,
      comment: 'rollback to version 1',
      config: { weights: { value: 0.6 } },
    });
    expect((await call('admin', 'POST', '/api/v1/routing/config/rollback', { version: 99 })).json()).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    const list = (await call('auditor', 'GET', '/api/v1/routing/config/versions')).json<{ versions: RoutingConfigVersionView[] }>();
    expect(list.versions.map((v) => [v.version, v.publishedBy === 'config-file'])).toEqual([
      [1, true],
      [2, false],
      [3, false],
    ]);
    expect((await call('lead', 'GET', '/api/v1/routing/config/versions/2')).json<RoutingConfigVersionView>().config.weights.value).toBe(
      0.3,
    );
    expect((await call('lead', 'GET', '/api/v1/routing/config/versions/7')).statusCode).toBe(404);
    expect((await call('lead', 'GET', '/api/v1/routing/config/versions/x')).statusCode).toBe(400);
  });
});
