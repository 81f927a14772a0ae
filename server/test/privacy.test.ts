import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportBundle, PrivacyRequestView } from '../../common/api/privacy';
import type { AuditPage } from '../src/audit/audit';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/sqlite';
import { createLogger } from '../src/logging/logger';
import { startServer, type RunningServer } from '../src/main';
import { openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { laneEnv } from './support/lane';

const APP_KEY = { 'x-huiliu-key': 'demo-app-key' };

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Data-subject requests over HTTP (issue 17, DESIGN §6): four eyes (a privacy officer who is not the
 * requester), the export downloadable once and not after it expires, RBAC (an agent cannot approve),
 * every step in the audit log; an erasure that leaves the customer unreadable after a restart on the
 * same data dir, with no plaintext left in any file.
 */
describe('privacy requests (routes)', () => {
  let s: TestServer;
  let agent1: string;
  let officer: string;
  let auditor: string;

  const call = async (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, unknown> };
  };
  const customerSays = async (externalId: string, text: string) => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: APP_KEY,
      payload: { customer: { externalId, name: 'Chen Jing' }, text, clientMessageId: `cm-${externalId}-${text.length}` },
    });
    expect(res.statusCode).toBe(202);
    return res.json() as { sessionId: string };
  };

  beforeAll(async () => {
    s = await startTestServer();
    [agent1, officer, auditor] = await Promise.all([s.login('agent1'), s.login('privacy'), s.login('auditor')]);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('exports after a privacy officer approves, once; refuses self-approval and agents approving', async () => {
    await customerSays('priv-exp-1', 'please send my data MARKER-route-5531');
    const filed = await call(agent1, 'POST', '/api/v1/privacy/exports', {
      customerExternalId: 'priv-exp-1',
      reason: 'GDPR Art. 15 request',
    });
    expect(filed.status).toBe(201);
    const req = filed.json() as unknown as PrivacyRequestView;
    expect(req).toMatchObject({ status: 'pending', requestedBy: expect.any(String) });

    expect((await call(agent1, 'GET', `/api/v1/privacy/exports/${req.id}/download`)).json()).toMatchObject({
      error: { code: 'EXPORT_NOT_READY' },
    });
    // RBAC: an agent cannot approve nor list.
    const denied = await call(agent1, 'POST', `/api/v1/privacy/exports/${req.id}/approve`);
    expect(denied.status).toBe(403);
    expect((await call(agent1, 'GET', '/api/v1/privacy/exports')).status).toBe(403);
    // Four eyes: the officer's own request needs someone else.
    const own = (
      await call(officer, 'POST', '/api/v1/privacy/exports', { customerExternalId: 'priv-exp-1', reason: 'filed by the officer' })
    ).json();
    const self = await call(officer, 'POST', `/api/v1/privacy/exports/${String(own['id'])}/approve`);
    expect(self.status).toBe(403);
    expect(self.json()).toMatchObject({ error: { code: 'PRIVACY_SELF_APPROVAL' } });

    const approved = await call(officer, 'POST', `/api/v1/privacy/exports/${req.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', expiresAt: expect.any(String) });
    expect((await call(officer, 'POST', `/api/v1/privacy/exports/${req.id}/reject`)).json()).toMatchObject({
      error: { code: 'PRIVACY_REQUEST_NOT_PENDING' },
    });
    const list = (await call(officer, 'GET', '/api/v1/privacy/exports')).json()['requests'] as PrivacyRequestView[];
    expect(list.find((r) => r.id === req.id)).toMatchObject({ status: 'approved', overdue: false, dueAt: req.dueAt });

    const first = await call(agent1, 'GET', `/api/v1/privacy/exports/${req.id}/download`);
    expect(first.status).toBe(200);
    const bundle = JSON.parse(first.body) as ExportBundle;
    expect(bundle.format).toBe('huiliu-export/1');
    expect(bundle.conversations[0]!.messages.map((m) => m.body)).toContainEqual({ text: 'please send my data MARKER-route-5531' });
    expect(bundle.conversations[0]!.routingDecisions.length).toBeGreaterThan(0);
    const second = await call(agent1, 'GET', `/api/v1/privacy/exports/${req.id}/download`);
    expect(second.status).toBe(410);
    expect(second.json()).toMatchObject({ error: { code: 'EXPORT_GONE' } });

    await s.services.audit.flush();
    const page = (
      await call(auditor, 'GET', `/api/v1/audit?from=${new Date(Date.now() - 600_000).toISOString()}&limit=500`)
    ).json() as unknown as AuditPage;
    const steps = page.entries.filter((e) => e.target?.id === req.id).map((e) => `${e.action}:${e.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'privacy.export.request:ok',
        'privacy.export.approve:ok',
        'privacy.export.build:ok',
        'privacy.export.download:ok',
      ]),
    );
    // A rejection keeps the officer's reason in the audit entry, masked like every audit detail.
    const dup = (await call(agent1, 'POST', '/api/v1/privacy/exports', { customerExternalId: 'priv-exp-1', reason: 'asked twice' })).json();
    const rejected = await call(officer, 'POST', `/api/v1/privacy/exports/${String(dup['id'])}/reject`, {
      note: 'duplicate; customer confirmed on 13812345678',
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected' });
    await s.services.audit.flush();
    const rejection = (
      (
        await call(auditor, 'GET', `/api/v1/audit?from=${new Date(Date.now() - 600_000).toISOString()}&limit=500`)
      ).json() as unknown as AuditPage
    ).entries.find((e) => e.target?.id === dup['id'] && e.action === 'privacy.export.reject')!;
    expect(String(rejection.detail?.['note'])).toMatch(/^duplicate; customer confirmed on \*+5678$/);
  });

  it('an approval posted twice at once (a double click, a retry) erases once; a pending export of the customer is withdrawn (review6)', async () => {
    await customerSays('priv-twice-1', 'erase me twice MARKER-twice-8812');
    const exp = (
      await call(agent1, 'POST', '/api/v1/privacy/exports', { customerExternalId: 'priv-twice-1', reason: 'GDPR Art. 15' })
    ).json();
    const era = (
      await call(agent1, 'POST', '/api/v1/privacy/erasures', { customerExternalId: 'priv-twice-1', reason: 'GDPR Art. 17' })
    ).json();
    const both = await Promise.all([
      call(officer, 'POST', `/api/v1/privacy/erasures/${String(era['id'])}/approve`),
      call(officer, 'POST', `/api/v1/privacy/erasures/${String(era['id'])}/approve`),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 200)!.json()).toMatchObject({ status: 'executed' });
    expect(both.find((r) => r.status === 409)!.json()).toMatchObject({ error: { code: 'PRIVACY_REQUEST_NOT_PENDING' } });
    // The export filed before the erasure can no longer be approved or downloaded.
    expect((await call(officer, 'POST', `/api/v1/privacy/exports/${String(exp['id'])}/approve`)).json()).toMatchObject({
      error: { code: 'PRIVACY_REQUEST_NOT_PENDING' },
    });
    expect((await call(agent1, 'GET', `/api/v1/privacy/exports/${String(exp['id'])}/download`)).json()).toMatchObject({
      error: { code: 'EXPORT_NOT_READY' },
    });
    await s.services.audit.flush();
    const page = (
      await call(auditor, 'GET', `/api/v1/audit?from=${new Date(Date.now() - 600_000).toISOString()}&limit=500`)
    ).json() as unknown as AuditPage;
    const steps = page.entries.filter((e) => e.target?.id === era['id']).map((e) => `${e.action}:${e.outcome}`);
    expect(steps.filter((x) => x === 'privacy.erasure.execute:ok')).toHaveLength(1);
    expect(steps.filter((x) => x === 'privacy.erasure.approve:ok')).toHaveLength(1);
  });

  it('answers EXPORT_GONE once an approved export has expired', async () => {
    await customerSays('priv-exp-2', 'hello there');
    const req = (
      await call(agent1, 'POST', '/api/v1/privacy/exports', { customerExternalId: 'priv-exp-2', reason: 'PIPL Art. 45' })
    ).json();
    expect((await call(officer, 'POST', `/api/v1/privacy/exports/${String(req['id'])}/approve`)).status).toBe(200);
    // Time passes: the bundle's expiry is moved into the past in the database.
    const db = openDatabase(s.config.paths.db);
    db.prepare('UPDATE privacy_requests SET expires_at = ? WHERE id = ?').run('2000-01-01T00:00:00.000Z', req['id']);
    db.close();
    const res = await call(agent1, 'GET', `/api/v1/privacy/exports/${String(req['id'])}/download`);
    expect(res.json()).toMatchObject({ error: { code: 'EXPORT_GONE' } });
    const list = (await call(officer, 'GET', '/api/v1/privacy/exports?status=expired')).json()['requests'] as PrivacyRequestView[];
    expect(list.map((r) => r.id)).toContain(req['id']);
  });

  it("refuses requests for a customer outside the requester's skill groups exactly as for an unknown one", async () => {
    const { sessionId } = await customerSays('priv-scope-1', 'general customer');
    const agent2 = await s.login('agent2'); // vip only
    for (const kind of ['exports', 'erasures'] as const) {
      // Erasures name a customer only (a session is not a data subject).
      const bodies = [
        { customerExternalId: 'priv-scope-1' },
        { customerExternalId: 'priv-scope-unknown' },
        ...(kind === 'exports' ? [{ sessionId }] : []),
      ];
      for (const body of bodies) {
        const res = await call(agent2, 'POST', `/api/v1/privacy/${kind}`, { ...body, reason: 'not my customer' });
        expect(res.status, `${kind} ${JSON.stringify(body)}`).toBe(404);
        expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      }
    }
    // The customer's own group, and the privacy officer (deployment-wide), may file.
    expect((await call(agent1, 'POST', '/api/v1/privacy/exports', { sessionId, reason: 'my customer asked' })).status).toBe(201);
    expect((await call(officer, 'POST', '/api/v1/privacy/exports', { sessionId, reason: 'filed by the office' })).status).toBe(201);
  });

  it('lets privacy officers and admins set retention per skill group, not agents', async () => {
    expect((await call(agent1, 'GET', '/api/v1/privacy/retention')).status).toBe(403);
    const put = await call(officer, 'PUT', '/api/v1/privacy/retention', { rules: [{ skillGroup: 'vip', days: 365 }] });
    expect(put.status).toBe(200);
    expect(put.json()['rules']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ skillGroup: 'vip', days: 365 }),
        expect.objectContaining({ skillGroup: 'general', days: null }),
      ]),
    );
    expect((await call(officer, 'PUT', '/api/v1/privacy/retention', { rules: [{ skillGroup: 'nope', days: 1 }] })).json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED' },
    });
  });
  it('refuses reasons with control or bidi characters, or without 3 visible characters (VALIDATION_FAILED)', async () => {
    await customerSays('priv-reason-1', 'hello');
    for (const reason of [
      'ok\u0000 reason',
      'escape \u001b[31m red',
      'invoice \u202Etxt.exe',
      'isolate \u2066x\u2069 here',
      '\u200b\u200b\u200b\u200b',
      'a\u200b\u200bb',
    ]) {
      for (const path of ['exports', 'erasures']) {
        const res = await call(agent1, 'POST', `/api/v1/privacy/${path}`, { customerExternalId: 'priv-reason-1', reason });
        expect(res.status, JSON.stringify(reason)).toBe(400);
        expect(res.json(), JSON.stringify(reason)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      }
    }
    const decided = await call(officer, 'POST', `/api/v1/privacy/exports/00000000-0000-7000-8000-000000000000/reject`, {
      note: 'no\u202Ete',
    });
    expect(decided.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    // Line breaks and tabs stay allowed, as in other user text.
    const ok = await call(agent1, 'POST', '/api/v1/privacy/exports', {
      customerExternalId: 'priv-reason-1',
      reason: 'Art. 15\n\tby e-mail',
    });
    expect(ok.status).toBe(201);
  });

  it("shows the privacy officer the request's reason masked", async () => {
    await customerSays('priv-reason-2', 'hello');
    const reason = 'customer called from 13812345678, ID 210203197503102721, mail chen.jing@example.com';
    const filed = await call(agent1, 'POST', '/api/v1/privacy/erasures', { customerExternalId: 'priv-reason-2', reason });
    expect(filed.status).toBe(201);
    const list = (await call(officer, 'GET', '/api/v1/privacy/erasures?status=pending')).json()['requests'] as PrivacyRequestView[];
    const mine = list.find((r) => r.id === (filed.json() as unknown as PrivacyRequestView).id);
    expect(mine?.reason).toBe('customer called from *******5678, ID **************2721, mail ***@example.com');
  });

  it('refuses a skill group named twice in one retention PUT, and never echoes a phone in its error', async () => {
    const dup = await call(officer, 'PUT', '/api/v1/privacy/retention', {
      rules: [
        { skillGroup: 'general', days: 30 },
        { skillGroup: 'general', days: 1 },
      ],
    });
    expect(dup.status).toBe(400);
    expect(dup.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path: 'rules.1.skillGroup' })] },
    });
    const rules = (await call(officer, 'GET', '/api/v1/privacy/retention')).json()['rules'] as {
      skillGroup: string;
      days: number | null;
    }[];
    expect(rules.find((r) => r.skillGroup === 'general')?.days).not.toBe(1);
    const echo = await call(officer, 'PUT', '/api/v1/privacy/retention', { rules: [{ skillGroup: '13812345678', days: 1 }] });
    expect(echo.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: 'No skill group *******5678.' } });
    expect(echo.body).not.toContain('13812345678');
  });
});

describe('erasure (crypto-shredding) across a restart', () => {
  let first: TestServer | undefined;
  let second: RunningServer | undefined;
  afterAll(async () => {
    await second?.close();
    await first?.close();
    if (first) rmSync(first.dataDir, { recursive: true, force: true });
  });

  it('leaves the customer unreadable after a fresh start on the same data dir, with no plaintext in any file', async () => {
    first = await startTestServer();
    const s = first;
    const [agent1, officer, admin] = await Promise.all([s.login('agent1'), s.login('privacy'), s.login('admin')]);
    const MARKER = 'MARKER-erase-90417';
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: APP_KEY,
      payload: { customer: { externalId: 'priv-erase-1', name: 'Sun Li' }, text: `forget me ${MARKER}`, clientMessageId: 'cm-erase-1' },
    });
    expect(res.statusCode).toBe(202);
    const { sessionId } = res.json() as { sessionId: string };
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: auth(admin) })).statusCode).toBe(200);

    // A signed-in agent's desktop is told, so it drops what it cached of the customer.
    const socket = await openAgentSocket(s, agent1);
    const told = new Promise<{ customerIds: string[] }>((resolve) => socket.once('customer:erased', resolve));
    const customerId = (
      (await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: auth(admin) })).json() as { customerId: string }
    ).customerId;
    // An export approved before the erasure holds the content under a key of its own: erasure withdraws it.
    const exp = (
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/privacy/exports',
        headers: auth(agent1),
        payload: { customerExternalId: 'priv-erase-1', reason: 'copy before deletion' },
      })
    ).json() as PrivacyRequestView;
    expect(
      (await s.app.inject({ method: 'POST', url: `/api/v1/privacy/exports/${exp.id}/approve`, headers: auth(officer) })).statusCode,
    ).toBe(200);
    const pendingExp = (
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/privacy/exports',
        headers: auth(agent1),
        payload: { customerExternalId: 'priv-erase-1', reason: 'second copy, never approved' },
      })
    ).json() as PrivacyRequestView;
    const filed = await s.app.inject({
      method: 'POST',
      url: '/api/v1/privacy/erasures',
      headers: auth(agent1),
      payload: { customerExternalId: 'priv-erase-1', reason: 'GDPR Art. 17 request' },
    });
    expect(filed.statusCode).toBe(201);
    const { id } = filed.json() as PrivacyRequestView;
    const done = await s.app.inject({ method: 'POST', url: `/api/v1/privacy/erasures/${id}/approve`, headers: auth(officer) });
    expect(done.json()).toMatchObject({ status: 'executed' });
    expect(await told).toEqual({ customerIds: [customerId] });
    const gone = await s.app.inject({ url: `/api/v1/privacy/exports/${exp.id}/download`, headers: auth(agent1) });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ error: { code: 'EXPORT_GONE' } });
    const exports = (
      (await s.app.inject({ url: '/api/v1/privacy/exports', headers: auth(officer) })).json() as { requests: PrivacyRequestView[] }
    ).requests;
    expect(exports.find((r) => r.id === exp.id)?.status).toBe('expired');
    expect(exports.find((r) => r.id === pendingExp.id)?.status).toBe('failed');
    socket.disconnect();
    // The waiting contact closed with the erasure: an agent signing in now no longer has it in the queue.
    const fresh = await openAgentSocket(s, agent1);
    const hello = await new Promise<{ queue: { id: string; customerName: string }[] }>((resolve) => fresh.once('hello', resolve));
    fresh.disconnect();
    expect(hello.queue.find((r) => r.id === sessionId)).toBeUndefined();
    expect(JSON.stringify(hello)).not.toContain(MARKER);

    const after = await s.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: auth(admin) });
    expect(after.statusCode).toBe(410);
    expect(after.json()).toMatchObject({ error: { code: 'CUSTOMER_ERASED' } });
    // Lists keep working: the session is a row with a clear marker, no preview.
    const listed = await s.app.inject({ url: '/api/v1/sessions', headers: auth(admin) });
    expect(listed.statusCode).toBe(200);
    const rows = (listed.json() as { sessions: { id: string; customerName: string; lastMessage?: unknown }[] }).sessions;
    expect(rows.find((r) => r.id === sessionId)).toMatchObject({ customerName: '[erased]' });
    expect(listed.body).not.toContain(MARKER);
    // The app can no longer find the customer by their id either.
    const polled = await s.app.inject({ url: '/api/v1/channels/app/messages?externalId=priv-erase-1', headers: APP_KEY });
    expect(polled.body).not.toContain(MARKER);
    await s.close();

    const config = loadConfig({
      env: laneEnv({ HUILIU_DATA_DIR: s.dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'silent' }, s.dataDir),
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    second = await startServer(config, createLogger({ level: 'silent' }));
    const login = await second.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'huiliu-demo' },
    });
    const token = (login.json() as { token: string }).token;
    const again = await second.app.inject({ url: `/api/v1/sessions/${sessionId}`, headers: auth(token) });
    expect(again.statusCode).toBe(410);
    expect(again.json()).toMatchObject({ error: { code: 'CUSTOMER_ERASED' } });
    const erasures = await second.app.inject({ url: '/api/v1/privacy/erasures', headers: auth(token) });
    expect(erasures.statusCode).toBe(403); // admins do not decide data-subject requests
    await second.close();
    second = undefined;

    for (const file of filesUnder(s.dataDir)) {
      const bytes = readFileSync(file);
      expect({ file, found: bytes.includes(MARKER) || bytes.includes('Sun Li') }).toEqual({ file, found: false });
    }
  });
});
