import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../../common/errors/codes';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { AuthService } from '../auth/auth';
import { createMemoryBus } from '../bus/bus.memory';
import { createConversationService } from '../conversations/service';
import { openDatabase, type Db } from '../db/sqlite';
import { frameworkErrors, registerErrorHandling } from '../http/errors';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { AgentPool } from '../routing/agent-pool';
import { createRouter } from '../routing/router';
import { sessionsPlugin } from './plugin';
import { registerRoutePolicy } from '../auth/route-policy';
import { draft } from './store.contract';
import { createSqliteSessionStore } from './store.sqlite';
import { SessionViews } from './views';

/** A well-formed session ID that no session has. */
const UNKNOWN_ID = 'WB000000000000000000';

describe('sessions plugin on a small app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-sessions-plugin-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  let store: Awaited<ReturnType<typeof createSqliteSessionStore>>;
  let authDb: Db;
  let app: FastifyInstance;
  let sessionId: string;
  const tokens: Record<'general' | 'vip' | 'admin', string> = { general: '', vip: '', admin: '' };

  const get = (url: string, who?: keyof typeof tokens) =>
    app.inject({ method: 'GET', url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {} });

  beforeAll(async () => {
    store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys });
    authDb = openDatabase(':memory:');
    const auth = new AuthService(authDb);
    const staff = [
      { key: 'general', roles: ['agent'], skillGroups: ['general'] },
      { key: 'vip', roles: ['agent'], skillGroups: ['vip'] },
      { key: 'admin', roles: ['admin'], skillGroups: [] },
    ] as const;
    for (const s of staff) {
      await auth.createUser({
        username: s.key,
        displayName: s.key,
        password: 'pw-123456',
        roles: [...s.roles],
        skillGroups: [...s.skillGroups],
      });
      tokens[s.key] = (await auth.login(s.key, 'pw-123456', '127.0.0.1')).token;
    }
    sessionId = (await store.appendInbound(draft({ text: 'Where is my parcel?' }), { skillGroup: 'general' })).session.id;

    app = Fastify({ frameworkErrors });
    registerErrorHandling(app);
    const views = new SessionViews(store);
    const [bus, pool, logger] = [createMemoryBus(), new AgentPool(), createLogger({ level: 'silent' })];
    const router = createRouter({ store, bus, pool, config: () => DEFAULT_ROUTING_CONFIG, logger });
    const conversations = createConversationService({ store, router, pool, bus, views, logger });
    registerRoutePolicy(app, auth);
    await app.register(sessionsPlugin, { store, views, conversations });
  });

  afterAll(async () => {
    await app.close();
    await store.shutdown();
    authDb.close();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a session to an agent of its group and answers SESSION_NOT_FOUND to an agent of another group', async () => {
    const own = await get(`/api/v1/sessions/${sessionId}`, 'general');
    expect([own.statusCode, own.json().id]).toEqual([200, sessionId]);
    const ownHistory = await get(`/api/v1/sessions/${sessionId}/messages`, 'general');
    expect(ownHistory.json().messages).toHaveLength(1);

    // The other group's agent gets exactly what a session that does not exist gets.
    const missing = await get(`/api/v1/sessions/${UNKNOWN_ID}`, 'vip');
    expect([missing.statusCode, ErrorBodySchema.parse(missing.json()).error.code]).toEqual([404, 'SESSION_NOT_FOUND']);
    for (const url of [`/api/v1/sessions/${sessionId}`, `/api/v1/sessions/${sessionId}/messages`]) {
      const foreign = await get(url, 'vip');
      expect([foreign.statusCode, foreign.json()]).toEqual([404, missing.json()]);
    }
  });

  it('lists only the groups an agent sees and refuses a filter on a foreign group with FORBIDDEN', async () => {
    const ids = async (who: keyof typeof tokens, query = '') =>
      ((await get(`/api/v1/sessions${query}`, who)).json() as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect(await ids('general')).toEqual([sessionId]);
    expect(await ids('vip')).toEqual([]);
    expect(await ids('admin')).toEqual([sessionId]);
    const foreign = await get('/api/v1/sessions?skillGroup=general', 'vip');
    expect([foreign.statusCode, ErrorBodySchema.parse(foreign.json()).error.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('refuses a malformed id, an out-of-range limit and an unknown query field with VALIDATION_FAILED naming each field', async () => {
    const cases: [url: string, field: string][] = [
      ['/api/v1/sessions/not-a-session-id', 'id'],
      ['/api/v1/sessions?limit=0', 'limit'],
      ['/api/v1/sessions?status=sleeping', 'status'],
      [`/api/v1/sessions/${sessionId}/messages?beforeSeq=-1`, 'beforeSeq'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url, 'general');
      expect(res.statusCode, url).toBe(400);
      const { error } = ErrorBodySchema.parse(res.json());
      expect(error.code, url).toBe('VALIDATION_FAILED');
      expect(
        (error.details as { path: string }[]).map((d) => d.path),
        url,
      ).toEqual([field]);
    }
    const unknown = ErrorBodySchema.parse((await get('/api/v1/sessions?sort=asc', 'general')).json()).error;
    expect(unknown.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(unknown.details)).toContain('sort');
  });

  it('refuses every route without a valid bearer token with UNAUTHENTICATED and nothing but the error', async () => {
    for (const url of ['/api/v1/sessions', `/api/v1/sessions/${sessionId}`, `/api/v1/sessions/${sessionId}/messages`]) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }]) {
        const res = await app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, url).toBe(401);
        expect(res.json(), url).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Sign in first.' } });
      }
    }
  });
});
