import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { SessionDetail } from '../../common/api/sessions';
import { newEvent, sessionFacts } from '../src/bus/events';
import { openDatabase } from '../src/db/sqlite';
import type { AuditEntry, AuditPage } from '../src/audit/audit';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { eventually } from './support/until';
import { openWidget } from './support/widget-client';
import { laneEnv } from './support/lane';

/**
 * The audit log in the running product (issue 17): sign-ins (failed ones masked), an agent's accept,
 * reply and view, the router's decision, an admin's key rotation — each an entry an auditor finds by
 * user and time range; agents cannot read the log; `npm run audit:verify` names a tampered entry.
 */
describe('the audit log (embedded SQLite)', () => {
  let s: TestServer;
  let auditor: string;
  let agent: Socket;
  let viewedSession = '';
  const since = new Date(Date.now() - 60_000).toISOString();

  const search = async (query: Record<string, string>, token = auditor) => {
    const res = await s.app.inject({
      url: `/api/v1/audit?${new URLSearchParams({ from: since, ...query })}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: res.json() as AuditPage };
  };
  const actions = async (userId: string) => (await search({ userId, limit: '500' })).body.entries.map((e) => e.action);

  beforeAll(async () => {
    s = await startTestServer();
    auditor = await s.login('auditor');
  });
  afterAll(async () => {
    agent?.disconnect();
    await s.cleanup();
  });

  it('records sign-ins, and a failed one with its username masked and no password', async () => {
    const token = await s.login('agent1');
    expect(token).toBeTruthy();
    const bad = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'zhang.san@example.com', password: 'guess-1234' },
    });
    expect(bad.statusCode).toBe(401);
    expect(await actions('agent1')).toContain('auth.login');
    const all = (await search({ limit: '500' })).body.entries;
    const failed = all.find((e) => e.action === 'auth.login' && e.outcome === 'failed')!;
    expect(failed).toBeDefined();
    expect(JSON.stringify(failed)).not.toContain('zhang.san@example.com');
    expect(JSON.stringify(failed)).not.toContain('guess-1234');
    expect(failed.detail).toEqual({ code: 'INVALID_CREDENTIALS' });
    expect(failed.actor).toEqual({ kind: 'staff', id: 'unknown' });
    // A known account's failed sign-in names the account; a password typed as the username is not kept.
    await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'agent2', password: 'wrong-one-1' } });
    await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'huiliu-demo', password: 'x' } });
    const again = (await search({ limit: '500' })).body.entries.filter((e) => e.action === 'auth.login' && e.outcome === 'failed');
    expect(again.some((e) => e.actor.name === 'agent2')).toBe(true);
    expect(JSON.stringify(again)).not.toContain('huiliu-demo');
  });

  it("records an agent's accept, reply and view, and the router's decision, by session", async () => {
    agent = await openAgentSocket(s, await s.login('agent1'));
    const offers: string[] = [];
    agent.on('offer:new', (o: { sessionId: string }) => offers.push(o.sessionId));
    const widget = await openWidget(s);
    widget.send({ type: 'hello' });
    await widget.next('welcome');
    widget.send({ type: 'message', clientMessageId: `audit-${Date.now()}`, text: 'my parcel is late' });
    const sessionId = await eventually(() => offers[0] ?? null);
    viewedSession = sessionId;
    const accepted = await ack<SessionDetail>(agent, 'offer:accept', { sessionId });
    expect(accepted.ok).toBe(true);
    expect(
      await ack(agent, 'message:send', { sessionId, clientMessageId: `reply-${Date.now()}`, text: 'Let me check that for you.' }),
    ).toMatchObject({ ok: true });
    const token = await s.login('agent1');
    expect((await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(
      200,
    );
    // A view over the agent socket is audited like the REST one.
    expect(await ack(agent, 'session:open', { sessionId })).toMatchObject({ ok: true });
    const entries = await eventually(async () => {
      const page = (await search({ userId: 'agent1', limit: '500' })).body.entries;
      const mine = page.filter((e) => e.target?.id === sessionId);
      const socketView = mine.some((e) => e.action === 'session.view' && e.detail['via'] === 'socket');
      return socketView && ['session.accepted', 'message.reply', 'session.view'].every((a) => mine.some((e) => e.action === a))
        ? mine
        : null;
    });
    for (const e of entries) expect(e.actor.name ?? e.actor.id).toMatch(/agent1|^[0-9a-f-]{36}$/);
    const decision = (await search({ limit: '500' })).body.entries.find(
      (e) => e.action === 'routing.decision' && e.target?.id === sessionId,
    );
    expect(decision).toMatchObject({
      actor: { kind: 'system', id: 'router' },
      detail: { skillGroup: expect.any(String), tier: expect.any(String) },
    });
    // The router re-publishing the same routing (as it re-checks the queue) is not a new decision.
    const session = (await s.services.store.getSession(sessionId))!;
    const facts = { ...sessionFacts(session), reason: 'routed' as const };
    for (let i = 0; i < 2; i++) {
      await s.services.bus.publish(
        newEvent('session.changed', { actor: 'system', sessionId, conversationId: session.conversationId, payload: facts }),
      );
    }
    await s.services.audit.flush();
    await new Promise((r) => setTimeout(r, 100));
    await s.services.audit.flush();
    const decisions = (await search({ limit: '500' })).body.entries.filter(
      (e) => e.action === 'routing.decision' && e.target?.id === sessionId,
    );
    expect(decisions.length).toBeLessThanOrEqual(2);
    expect(new Set(decisions.map((e) => JSON.stringify(e.detail))).size).toBe(decisions.length);
    // No message text in any entry.
    expect(JSON.stringify((await search({ limit: '500' })).body)).not.toMatch(/parcel|check that/);
  });

  it("records the socket's reads of a conversation (open, history pages, summary) like REST views, allowed or refused", async () => {
    const sessionId = viewedSession;
    expect(sessionId).not.toBe('');
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    expect(await ack(agent, 'session:history', { sessionId, beforeSeq: 50, limit: 10 })).toMatchObject({ ok: true });
    await ack(agent, 'session:summary', { sessionId });
    // agent2 (vip) may not read a general conversation that is agent1's: refused, and still recorded.
    const other = await openAgentSocket(s, await s.login('agent2'));
    try {
      const refused = await ack(other, 'session:history', { sessionId, beforeSeq: 50 });
      expect(refused.ok).toBe(false);
      const views = await eventually(async () => {
        const found = (await search({ from: since, limit: '500' })).body.entries.filter(
          (e) => e.action === 'session.view' && e.detail['via'] === 'socket' && e.target?.id === sessionId,
        );
        return found.length >= 3 ? found : null;
      });
      const byEvent = (name: string, event: string) => views.filter((e) => e.actor.name === name && e.detail['event'] === event);
      expect(byEvent('agent1', 'session:history')).toHaveLength(1);
      expect(byEvent('agent1', 'session:history')[0]).toMatchObject({
        outcome: 'ok',
        actor: { kind: 'staff', name: 'agent1' },
        target: { kind: 'session', id: sessionId },
        detail: { via: 'socket', event: 'session:history', beforeSeq: 50 },
        ip: expect.any(String),
      });
      expect(byEvent('agent1', 'session:summary')).toHaveLength(1);
      const denied = byEvent('agent2', 'session:history');
      expect(denied).toHaveLength(1);
      expect(denied[0]!.outcome).not.toBe('ok');
      expect(denied[0]!.detail['code']).toBe(refused.ok ? undefined : refused.error.code);
    } finally {
      other.disconnect();
    }
  });

  it("records an admin's key rotation; agents, leads and admins cannot search the log", async () => {
    const admin = await s.login('admin');
    expect(
      (await s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } })).statusCode,
    ).toBe(202);
    await s.services.keyRotation.settled();
    expect(await actions('admin')).toContain('keys.rotate');
    for (const user of ['agent1', 'lead', 'admin']) expect((await search({}, await s.login(user))).status).toBe(403);
    // Searching is audited too, and so is each refused try, under the name of who tried.
    expect(await actions('auditor')).toContain('audit.search');
    await s.services.audit.flush();
    const tries = (await search({ userId: 'agent1', limit: '500' })).body.entries.filter((e) => e.action === 'audit.search');
    expect(tries.map((e) => e.outcome)).toContain('denied');
    // A refused mutation (an agent rotating keys) and a refused read of nothing personal are recorded too.
    const agentToken = await s.login('agent1');
    expect(
      (await s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: { authorization: `Bearer ${agentToken}` } }))
        .statusCode,
    ).toBe(403);
    expect((await s.app.inject({ url: '/api/v1/admin/keys', headers: { authorization: `Bearer ${agentToken}` } })).statusCode).toBe(403);
    await s.services.audit.flush();
    const refused = (await search({ userId: 'agent1', limit: '500' })).body.entries
      .filter((e) => e.outcome === 'denied')
      .map((e) => e.action);
    expect(refused).toEqual(expect.arrayContaining(['keys.rotate', 'http.GET /api/v1/admin/keys']));
    // The hook names targets as the use cases do (`privacy-request`, not the path's `privacy`).
    const someId = '0190f000-0000-7000-8000-000000000009';
    await s.app.inject({
      method: 'POST',
      url: `/api/v1/privacy/exports/${someId}/approve`,
      headers: { authorization: `Bearer ${agentToken}` },
    });
    await s.services.audit.flush();
    const approveTry = (await search({ userId: 'agent1', limit: '500' })).body.entries.find((e) => e.target?.id === someId);
    expect(approveTry?.target).toEqual({ kind: 'privacy-request', id: someId });
  });

  it('pages newest first with a cursor, and refuses malformed queries with VALIDATION_FAILED', async () => {
    const first = await search({ limit: '2' });
    expect(first.body.entries).toHaveLength(2);
    expect(first.body.next).toBeDefined();
    const second = await search({ limit: '2', cursor: first.body.next! });
    const [a, b] = [first.body.entries.at(-1)!, second.body.entries[0]!] as [AuditEntry, AuditEntry];
    expect(a.at > b.at || (a.at === b.at && a.seq > b.seq)).toBe(true);
    for (const q of [
      { limit: '0' },
      { limit: '501' },
      { from: 'yesterday' },
      { nope: '1' },
      { cursor: 'abc' },
      { cursor: '\u0000' },
    ] as Record<string, string>[]) {
      const res = await s.app.inject({ url: `/api/v1/audit?${new URLSearchParams(q)}`, headers: { authorization: `Bearer ${auditor}` } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('npm run audit:verify says the chain is whole, then names the entry an attacker altered', async () => {
    await s.services.audit.flush();
    // The operator runs the CLI with the server's environment (its KEK: the key file, or the token in the scale-out lane).
    const env = { ...process.env, ...laneEnv({ HUILIU_DATA_DIR: s.dataDir, HUILIU_LOG_LEVEL: 'silent' }, s.dataDir) };
    const run = () => spawnSync('npx', ['tsx', 'server/src/audit/verify-cli.ts'], { env, encoding: 'utf8' });
    const whole = run();
    expect(whole.status, whole.stderr).toBe(0);
    expect(JSON.parse(whole.stdout)).toMatchObject({ store: 'sqlite', ok: true });
    const db = openDatabase(`${s.dataDir}/huiliu.db`);
    db.prepare("UPDATE audit_log SET outcome = 'ok' WHERE seq = (SELECT seq FROM audit_log WHERE outcome = 'failed' LIMIT 1)").run();
    const seq = (
      db.prepare("SELECT MIN(seq) AS s FROM audit_log WHERE action = 'auth.login' AND actor_id = 'unknown'").get() as { s: number }
    ).s;
    db.close();
    const broken = run();
    expect(broken.status).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, firstBreak: { kind: 'altered', seq } });
  });
});
