import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CannedReply } from '../../../common/api/canned';
import { startTestServer, type TestServer } from '../../test/support/harness';
import { cannedRank } from './plugin';

/** Canned replies (issue 15) over REST against the demo server: search, scope, writes, errors, audit. */
describe('canned replies', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const call = (user: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}` }, ...(payload === undefined ? {} : { payload }) });
  const search = async (user: string, query: string) => {
    const res = await call(user, 'GET', `/api/v1/canned-replies${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: CannedReply[] }).items;
  };
  const reply = (over: Record<string, unknown> = {}) => ({
    shortcut: 'ship',
    title: 'Shipping',
    text: 'Orders ship within 24 hours.',
    skillGroup: null,
    ...over,
  });

  beforeAll(async () => {
    s = await startTestServer();
    for (const u of ['agent1', 'agent2', 'lead', 'admin', 'auditor']) tokens[u] = await s.login(u);
  });
  afterAll(() => s.cleanup());

  it('finds the demo replies by shortcut, title or text, best match first, in both languages and full-width input', async () => {
    const byRef = await search('agent1', '?q=ref');
    expect(byRef[0]?.shortcut).toBe('refund');
    expect((await search('agent1', `?q=${encodeURIComponent('退款')}`)).map((r) => r.shortcut)).toEqual(['tuikuan']);
    expect((await search('agent1', `?q=${encodeURIComponent('ＲＥＦＵＮＤ')}`))[0]?.shortcut).toBe('refund');
    // Without a query: every reply in reach, by shortcut.
    const all = await search('agent1', '');
    expect(all.map((r) => r.shortcut)).toEqual([...all.map((r) => r.shortcut)].sort());
    expect(all.length).toBe(6);
    // `%` and `_` match themselves, not anything.
    expect(await search('agent1', `?q=${encodeURIComponent('%')}`)).toEqual([]);
  });

  it("keeps each group's replies to its staff: agent1 sees no vip reply and may not ask for them; the lead of both and admins see all", async () => {
    expect((await search('agent1', '')).every((r) => r.skillGroup === 'general')).toBe(true);
    expect((await call('agent1', 'GET', '/api/v1/canned-replies?skillGroup=vip')).statusCode).toBe(403);
    expect((await search('agent2', '')).map((r) => r.shortcut)).toEqual(['vip-hi', 'vip-nihao']);
    expect((await search('lead', '')).length).toBe(8);
    expect((await search('admin', '')).length).toBe(8);
    expect((await search('lead', '?skillGroup=vip')).map((r) => r.skillGroup)).toEqual(['vip', 'vip']);
    // Auditors do not write to customers: no canned replies.
    expect((await call('auditor', 'GET', '/api/v1/canned-replies')).statusCode).toBe(403);
  });

  it('lets an agent keep personal replies only they see, and refuses group writes to agents', async () => {
    const created = await call('agent1', 'POST', '/api/v1/canned-replies', reply({ shortcut: 'Ship ' }));
    expect(created.statusCode, created.body).toBe(201);
    const mine = created.json() as CannedReply;
    expect(mine).toMatchObject({ shortcut: 'ship', skillGroup: null, ownerId: expect.any(String), updatedBy: mine.ownerId });
    // Personal replies rank before a group's at the same match.
    expect((await search('agent1', '?q=ship'))[0]?.id).toBe(mine.id);
    expect((await search('agent2', '?q=ship')).map((r) => r.id)).not.toContain(mine.id);
    expect((await search('lead', '?q=ship')).map((r) => r.id)).not.toContain(mine.id);
    // Another agent can neither change nor delete it, nor learn it exists.
    expect((await call('agent2', 'PUT', `/api/v1/canned-replies/${mine.id}`, reply())).statusCode).toBe(404);
    expect((await call('agent2', 'DELETE', `/api/v1/canned-replies/${mine.id}`)).statusCode).toBe(404);
    // The same shortcut twice in one personal set is refused; another agent may use it.
    const again = await call('agent1', 'POST', '/api/v1/canned-replies', reply());
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CANNED_SHORTCUT_TAKEN');
    expect((await call('agent2', 'POST', '/api/v1/canned-replies', reply())).statusCode).toBe(201);
    // Group replies are the leads' and admins'.
    const group = await call('agent1', 'POST', '/api/v1/canned-replies', reply({ shortcut: 'ship2', skillGroup: 'general' }));
    expect(group.statusCode).toBe(403);
    expect(group.json().error.code).toBe('FORBIDDEN');
  });

  it("lets the lead write their groups' replies; shortcuts are unique per group; a reply stays in its group", async () => {
    const created = await call(
      'lead',
      'POST',
      '/api/v1/canned-replies',
      reply({ shortcut: 'delay', title: '延误', text: '很抱歉，您的包裹因天气原因延误。', skillGroup: 'general', lang: 'zh' }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const r = created.json() as CannedReply;
    expect((await search('agent1', '?q=delay'))[0]?.id).toBe(r.id);
    const dup = await call('admin', 'POST', '/api/v1/canned-replies', reply({ shortcut: 'delay', skillGroup: 'general' }));
    expect(dup.json().error.code).toBe('CANNED_SHORTCUT_TAKEN');
    expect((await call('admin', 'POST', '/api/v1/canned-replies', reply({ shortcut: 'delay', skillGroup: 'vip' }))).statusCode).toBe(201);
    const unknown = await call('lead', 'POST', '/api/v1/canned-replies', reply({ skillGroup: 'nope' }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('VALIDATION_FAILED');

    const edited = await call(
      'lead',
      'PUT',
      `/api/v1/canned-replies/${r.id}`,
      reply({
        shortcut: 'delay',
        title: 'Delay',
        text: 'Sorry, your parcel is delayed by the weather.',
        skillGroup: 'general',
        lang: 'en',
      }),
    );
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ title: 'Delay', lang: 'en' });
    const moved = await call('lead', 'PUT', `/api/v1/canned-replies/${r.id}`, reply({ shortcut: 'delay', skillGroup: 'vip' }));
    expect(moved.statusCode).toBe(400);
    // An agent of the group uses it but may not change it.
    expect((await call('agent1', 'PUT', `/api/v1/canned-replies/${r.id}`, reply({ skillGroup: 'general' }))).statusCode).toBe(403);
    // Out of the caller's groups it does not exist.
    expect((await call('agent2', 'DELETE', `/api/v1/canned-replies/${r.id}`)).statusCode).toBe(404);
    expect((await call('lead', 'DELETE', `/api/v1/canned-replies/${r.id}`)).statusCode).toBe(204);
    expect((await call('lead', 'DELETE', `/api/v1/canned-replies/${r.id}`)).statusCode).toBe(404);
    expect((await search('agent1', '?q=delay')).map((x) => x.id)).not.toContain(r.id);

    await s.services.audit.flush();
    const entries = await s.services.audit.log.search({
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 1000).toISOString(),
      limit: 500,
    });
    const deletes = entries.entries.filter((e) => e.action === 'http.DELETE /api/v1/canned-replies/:id' && e.outcome === 'ok');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.target?.kind).toBe('canned-reply');
    // Reply text is never in the audit log.
    expect(JSON.stringify(entries)).not.toContain('parcel');
  });

  it('refuses bad input with VALIDATION_FAILED naming the field', async () => {
    for (const [body, path] of [
      [reply({ shortcut: 'two words' }), 'shortcut'],
      [reply({ shortcut: 'x'.repeat(33) }), 'shortcut'],
      [reply({ text: '\u200b\u200b' }), 'text'],
      [reply({ title: '' }), 'title'],
      [{ ...reply(), extra: 1 }, ''],
      [reply({ lang: 'fr' }), 'lang'],
    ] as const) {
      const res = await call('agent1', 'POST', '/api/v1/canned-replies', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      if (path) expect(JSON.stringify(res.json().error.details)).toContain(path);
    }
    expect((await call('agent1', 'GET', `/api/v1/canned-replies?q=${'x'.repeat(101)}`)).statusCode).toBe(400);
    expect((await call('agent1', 'PUT', '/api/v1/canned-replies/not-a-uuid', reply())).statusCode).toBe(400);
  });
});

describe('cannedRank', () => {
  it('ranks an exact shortcut, then its start, then inside it, then the title, then the text', () => {
    const r = { shortcut: 'refund', title: 'Money back', text: 'We refund within 5 days' };
    expect(cannedRank(r, 'refund')).toBe(0);
    expect(cannedRank(r, 'ref')).toBe(1);
    expect(cannedRank(r, 'fun')).toBe(2);
    expect(cannedRank(r, 'money')).toBe(3);
    expect(cannedRank(r, 'days')).toBe(4);
    expect(cannedRank(r, 'nothing')).toBe(5);
  });
});
