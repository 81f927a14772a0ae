import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CLIENT_EVENTS } from '../../../common/socket/agent-events';
import { AGENT_EVENT_POLICY } from '../../src/agent/hub';
import { AuthService } from '../../src/auth/auth';
import { ACTIONS, isRoutePolicy } from '../../src/auth/policy';
import { registerRoutePolicy } from '../../src/auth/route-policy';
import { openDatabase } from '../../src/db/sqlite';
import { registerErrorHandling } from '../../src/http/errors';
import { ack, openAgentSocket } from '../support/agent-client';
import { startTestServer, type TestServer } from '../support/harness';

/**
 * Issue 7 §4: every REST route and every agent socket event names its authorization policy, walked
 * from the app's own route table and the event list, so a new route or event without one fails here.
 */
describe('an authorization policy on every route and socket event', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('names a policy for every registered route', () => {
    expect(s.app.routeTable.length).toBeGreaterThan(10);
    const missing = s.app.routeTable.filter((r) => !isRoutePolicy(r.policy)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it('names an action for every client → server agent socket event', () => {
    const missing = AGENT_CLIENT_EVENTS.filter((e) => !(ACTIONS as readonly string[]).includes(AGENT_EVENT_POLICY[e]));
    expect(missing).toEqual([]);
    expect(Object.keys(AGENT_EVENT_POLICY).sort()).toEqual([...AGENT_CLIENT_EVENTS].sort());
  });

  it('answers UNAUTHENTICATED on every route whose policy is an action when no token comes', async () => {
    const guarded = s.app.routeTable.filter((r) => (ACTIONS as readonly string[]).includes(r.policy ?? ''));
    expect(guarded.length).toBeGreaterThan(0);
    for (const route of guarded) {
      const url = route.url.replaceAll(/:[a-zA-Z]+/g, 'x').replace('*', 'x');
      const res = await s.app.inject({ method: route.method as 'GET', url });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect((res.json() as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
  });

  it("refuses an admin's message:send with FORBIDDEN before its handler looks at the payload", async () => {
    const socket = await openAgentSocket(s, await s.login('admin'));
    try {
      // An empty payload would be VALIDATION_FAILED in the handler; the event policy answers first.
      const res = await ack(socket, 'message:send', {});
      expect(res).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      // An event the admin may do still reaches its handler.
      expect(await ack(socket, 'queue:list', {})).toMatchObject({ ok: true });
    } finally {
      socket.disconnect();
    }
  });

  it('answers every client → server event on the agent socket (none is left without its handler)', async () => {
    const socket = await openAgentSocket(s, await s.login('agent1'));
    try {
      for (const event of AGENT_CLIENT_EVENTS) {
        // An empty payload: the answer may be a refusal, but an unhandled event would never ack.
        const res = await ack(socket, event, {});
        expect(typeof res.ok, event).toBe('boolean');
      }
    } finally {
      socket.disconnect();
    }
  });

  it('refuses a route that names no policy with FORBIDDEN (fail closed)', async () => {
    const db = openDatabase(':memory:');
    const app = Fastify();
    registerErrorHandling(app);
    registerRoutePolicy(app, new AuthService(db));
    app.get('/forgotten', async () => ({ secret: true }));
    app.get('/open', { config: { policy: 'public' } }, async () => ({ open: true }));
    try {
      const res = await app.inject({ method: 'GET', url: '/forgotten' });
      expect(res.statusCode).toBe(403);
      expect((res.json() as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      expect((await app.inject({ method: 'GET', url: '/open' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
    } finally {
      await app.close();
      db.close();
    }
  });
});
