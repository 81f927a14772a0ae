import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KbImportRow } from '../../common/ai/types';
import { startTestServer, type TestServer } from './support/harness';

/** Issue 9: the composition root opens the knowledge base on the server's database and serves /api/v1/kb/*. */
describe('knowledge base in the running server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('registers the knowledge-base routes, each with its policy', () => {
    const routes = s.app.routeTable.filter((r) => r.url.startsWith('/api/v1/kb/')).map((r) => `${r.method} ${r.url} ${r.policy}`);
    expect(routes.sort()).toEqual(
      [
        'POST /api/v1/kb/import kb.manage',
        'GET /api/v1/kb/export kb.view',
        'GET /api/v1/kb/entries kb.view',
        'GET /api/v1/kb/entries/:id kb.view',
        'POST /api/v1/kb/entries kb.manage',
        'PUT /api/v1/kb/entries/:id kb.manage',
        'DELETE /api/v1/kb/entries/:id kb.manage',
        'GET /api/v1/kb/versions kb.view',
      ].sort(),
    );
  });

  it('imports as the demo admin into the store the server wired, and exports to the demo agent', async () => {
    const admin = await s.login('admin');
    const before = await s.services.kb.version();
    const csv = 'intent,questions,answer\nkb_wiring_check,"运费怎么算?|邮费多少",满 99 元包邮。\n';
    const imported = await s.app.inject({
      method: 'POST',
      url: '/api/v1/kb/import',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect([imported.statusCode, imported.json()]).toEqual([200, { version: before + 1, created: 1, updated: 0, removed: 0 }]);
    expect(await s.services.kb.list({ intent: 'kb_wiring_check' })).toMatchObject([{ lang: 'zh', updatedBy: expect.any(String) }]);

    const agent = await s.login('agent1');
    const exported = await s.app.inject({ url: '/api/v1/kb/export', headers: { authorization: `Bearer ${agent}` } });
    expect(exported.statusCode).toBe(200);
    expect((exported.json() as KbImportRow[]).find((r) => r.intent === 'kb_wiring_check')).toEqual({
      intent: 'kb_wiring_check',
      questions: ['运费怎么算?', '邮费多少'],
      answer: '满 99 元包邮。',
      lang: 'zh',
      tags: [],
      skillGroup: null,
      related: [],
    });
    const refused = await s.app.inject({
      method: 'POST',
      url: '/api/v1/kb/import',
      headers: { authorization: `Bearer ${agent}` },
      payload: [],
    });
    expect(refused.statusCode).toBe(403);
    const auditor = await s.app.inject({ url: '/api/v1/kb/entries', headers: { authorization: `Bearer ${await s.login('auditor')}` } });
    expect(auditor.statusCode).toBe(403);
  });

  it('drops __proto__ and constructor.prototype keys while parsing a JSON entry, but refuses any other constructor field', async () => {
    const admin = await s.login('admin');
    const post = (body: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/kb/entries',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        payload: body,
      });
    const row = '"intent":"kb_proto_check","questions":["Is this kept?"],"answer":"Yes."';
    const dropped = await post(`{${row},"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}`);
    expect([dropped.statusCode, (dropped.json() as { intent: string }).intent]).toEqual([201, 'kb_proto_check']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const refused = await post(`{${row.replace('kb_proto_check', 'kb_proto_other')},"constructor":"x"}`);
    expect(refused.statusCode).toBe(400);
    const error = (refused.json() as { error: { code: string; details: { message: string }[] } }).error;
    expect([error.code, error.details[0]!.message]).toEqual(['VALIDATION_FAILED', expect.stringContaining('constructor')]);
  });
});
