import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KbEntrySchema, type KbEntry, type KbImportRow } from '../../../common/ai/types';
import {
  KbEntriesResponseSchema,
  KbImportErrorDetailsSchema,
  KbImportResultSchema,
  KbVersionsResponseSchema,
} from '../../../common/api/kb';
import { ErrorBodySchema } from '../../../common/errors/codes';
import { AuthService } from '../auth/auth';
import { registerRoutePolicy } from '../auth/route-policy';
import { openDatabase, type Db } from '../db/sqlite';
import { frameworkErrors, registerErrorHandling } from '../http/errors';
import { KB_LIMITS, type KnowledgeBase } from './kb';
import { kbRow, kbRows } from './kb.contract';
import { KB_IMPORT_BODY_LIMIT, kbPlugin } from './kb.plugin';
import { createSqliteKnowledgeBase } from './kb.sqlite';

const MB = 1024 * 1024;
const HEADER = 'intent,questions,answer,lang,tags,skillGroup,related';
type Who = 'admin' | 'lead' | 'agent' | 'auditor';

describe('knowledge base REST API on a small app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-kb-plugin-'));
  let kb: KnowledgeBase;
  let authDb: Db;
  let app: FastifyInstance;
  const tokens = {} as Record<Who, string>;

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    who: Who | null,
    body?: { json: unknown } | { csv: string | Buffer; type?: string },
  ) =>
    app.inject({
      method,
      url,
      headers: {
        ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}),
        ...(body && 'csv' in body ? { 'content-type': body.type ?? 'text/csv' } : {}),
      },
      ...(body ? { payload: 'csv' in body ? body.csv : (body.json as object) } : {}),
    });
  const errorOf = (res: { json: () => unknown }) => ErrorBodySchema.parse(res.json()).error;
  const rowErrors = (res: { json: () => unknown }) => KbImportErrorDetailsSchema.parse(errorOf(res).details);
  const importJson = (rows: unknown, mode = 'merge') => call('POST', `/api/v1/kb/import?mode=${mode}`, 'admin', { json: rows });
  const importCsv = (csv: string | Buffer, mode = 'merge', type?: string) =>
    call('POST', `/api/v1/kb/import?mode=${mode}`, 'admin', { csv, ...(type ? { type } : {}) });

  beforeAll(async () => {
    kb = createSqliteKnowledgeBase({ path: join(dir, 'huiliu.db') });
    authDb = openDatabase(':memory:');
    const auth = new AuthService(authDb);
    for (const who of ['admin', 'lead', 'agent', 'auditor'] as const) {
      await auth.createUser({ username: who, displayName: who, password: 'pw-123456', roles: [who], skillGroups: ['general'] });
      tokens[who] = (await auth.login(who, 'pw-123456', '127.0.0.1')).token;
    }
    // The app's own 1 MB default: the import route must raise it for itself only.
    app = Fastify({ frameworkErrors, bodyLimit: MB });
    registerErrorHandling(app);
    registerRoutePolicy(app, auth);
    await app.register(kbPlugin, { kb });
  });

  beforeEach(async () => {
    await kb.import([], { mode: 'replace', by: 'test-reset' });
  });

  afterAll(async () => {
    await app.close();
    await kb.close();
    authDb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a JSON array as one version and lists it ordered by intent and lang', async () => {
    const before = await kb.version();
    const res = await importJson([kbRow('shipping'), kbRow('billing', { questions: ['发票怎么开？'], lang: undefined }), kbRow('billing')]);
    expect(res.statusCode).toBe(200);
    expect(KbImportResultSchema.parse(res.json())).toEqual({ version: before + 1, created: 3, updated: 0, removed: 0 });
    const list = await call('GET', '/api/v1/kb/entries', 'agent');
    const body = list.json() as { version: number; entries: KbEntry[] };
    expect(body.version).toBe(before + 1);
    expect(body.entries.map((e) => `${e.intent}/${e.lang}`)).toEqual(['billing/en', 'billing/zh', 'shipping/en']);
    const zh = (await call('GET', '/api/v1/kb/entries?lang=zh&intent=billing', 'agent')).json() as { entries: KbEntry[] };
    expect(zh.entries.map((e) => KbEntrySchema.parse(e).questions)).toEqual([['发票怎么开？']]);
  });

  it('imports CSV with quoted cells holding commas, quotes and line breaks', async () => {
    const csv = [
      HEADER,
      'order_status,"Where is my order?|Has it shipped, yet?","Open ""My orders"",\nthen tap the parcel.",en,orders|tracking,,refund',
      'refund,"退款多久到账？|怎么退款","三到五个工作日，\r\n原路退回。",,money,vip,order_status|warranty',
    ].join('\r\n');
    const res = await importCsv(csv, 'merge', 'text/csv; charset=utf-8');
    expect([res.statusCode, res.json()]).toMatchObject([200, { created: 2 }]);
    const entries = ((await call('GET', '/api/v1/kb/entries', 'admin')).json() as { entries: KbEntry[] }).entries;
    expect(
      entries.map(({ intent, lang, questions, answer, tags, skillGroup, related }) => ({
        intent,
        lang,
        questions,
        answer,
        tags,
        skillGroup,
        related,
      })),
    ).toEqual([
      {
        intent: 'order_status',
        lang: 'en',
        questions: ['Where is my order?', 'Has it shipped, yet?'],
        answer: 'Open "My orders",\nthen tap the parcel.',
        tags: ['orders', 'tracking'],
        skillGroup: null,
        related: ['refund'],
      },
      {
        intent: 'refund',
        lang: 'zh',
        questions: ['退款多久到账？', '怎么退款'],
        answer: '三到五个工作日，\n原路退回。', // a CRLF inside a cell is stored as \n
        tags: ['money'],
        skillGroup: 'vip',
        related: ['order_status', 'warranty'],
      },
    ]);
  });

  it('replaces the whole KB with mode=replace and merges by default', async () => {
    await importJson(kbRows(5));
    const merged = await call('POST', '/api/v1/kb/import', 'admin', { json: [kbRow('extra')] });
    expect(merged.json()).toMatchObject({ created: 1, removed: 0 });
    const replaced = await importJson([kbRow('only')], 'replace');
    expect(replaced.json()).toMatchObject({ created: 1, updated: 0, removed: 6 });
    expect(((await call('GET', '/api/v1/kb/entries', 'admin')).json() as { entries: KbEntry[] }).entries.map((e) => e.intent)).toEqual([
      'only',
    ]);
    const badMode = await importJson([kbRow('x')], 'wipe');
    expect([badMode.statusCode, errorOf(badMode).code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('takes a 15 MB import, refuses one over 20 MB with 413, and keeps 1 MB on the other routes', async () => {
    const answer = 'A long, careful answer. '.repeat(166); // ~4 KB, just under the 4,000-character answer limit
    // 1,000 intents (KB_LIMITS.intents) in both languages: 2,000 entries (KB_LIMITS.entries).
    // Each with 8 long question variants (~3.6 KB): 2,000 × ~7.6 KB ≈ 15 MB.
    const long = (intent: string) => Array.from({ length: 8 }, (_, k) => `${intent} question ${k} ${'wording '.repeat(58)}`);
    const rows = kbRows(KB_LIMITS.intents, answer).flatMap((r) => {
      const withLong = { ...r, questions: [...r.questions, ...long(r.intent)] };
      return [withLong, { ...withLong, lang: 'zh' as const }];
    });
    const body = JSON.stringify(rows);
    expect(body.length).toBeGreaterThan(15 * MB);
    expect(body.length).toBeLessThan(KB_IMPORT_BODY_LIMIT);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/kb/import?mode=replace',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      payload: body,
    });
    expect([res.statusCode, res.json()]).toMatchObject([200, { created: 2 * KB_LIMITS.intents }]);

    const huge = `${HEADER}\n${`x,q,${'y'.repeat(1000)}\n`.repeat(21_000)}`;
    expect(Buffer.byteLength(huge)).toBeGreaterThan(KB_IMPORT_BODY_LIMIT);
    const tooLarge = await importCsv(huge);
    expect([tooLarge.statusCode, errorOf(tooLarge).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const bigEntry = await call('POST', '/api/v1/kb/entries', 'admin', { json: kbRow('big', { answer: 'z'.repeat(2 * MB) }) });
    expect([bigEntry.statusCode, errorOf(bigEntry).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await kb.list({ intent: 'big' })).toEqual([]);
  }, 60_000);

  it('refuses a JSON import with bad rows, naming each row and field, importing nothing and repeating no text', async () => {
    await importJson([kbRow('existing')]);
    const version = await kb.version();
    const secret = 'call me on 13800138000';
    const res = await importJson([
      kbRow('fine'),
      { ...kbRow('q'), questions: ['ok', 'ok too', secret.repeat(40)] },
      kbRow('Not An Intent'),
      { ...kbRow('typo'), tag: ['x'] },
      kbRow('fine'),
      'not a row',
    ]);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('VALIDATION_FAILED');
    const details = rowErrors(res);
    expect(details.rows.map((r) => [r.row, r.field])).toEqual([
      [2, 'questions.2'],
      [3, 'intent'],
      [4, 'tag'],
      [5, 'intent'],
      [6, '(row)'],
    ]);
    expect(details.rows[3]).toMatchObject({ duplicateOf: 1 });
    expect(details.total).toBe(5);
    expect(res.body).not.toContain('13800138000');
    expect(await kb.version()).toBe(version);
    expect((await kb.list()).map((e) => e.intent)).toEqual(['existing']);
  });

  it('numbers CSV rows by record, so a multi-line cell does not shift the row of a later error', async () => {
    const csv = [HEADER, 'a,q,"line one\nline two\nline three",en,,,', 'b,,no questions,en,,,', 'c,q|,ok,xx,,,'].join('\n');
    const res = await importCsv(csv);
    expect(res.statusCode).toBe(400);
    expect(rowErrors(res).rows.map((r) => [r.row, r.field])).toEqual([
      [2, 'questions'],
      [3, 'questions.1'],
      [3, 'lang'],
    ]);
    expect(await kb.list()).toEqual([]);
  });

  it('lists at most 100 row errors and counts them all', async () => {
    const rows = Array.from({ length: 130 }, (_, i) => ({ ...kbRow(`r${i}`), answer: '' }));
    const res = await importJson(rows);
    const details = rowErrors(res);
    expect(details.rows).toHaveLength(100);
    expect(details.total).toBe(130);
    expect(details.rows.map((r) => r.row)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('refuses a body that is not an array or CSV, and other content types', async () => {
    const object = await call('POST', '/api/v1/kb/import', 'admin', { json: { rows: [] } });
    expect([object.statusCode, rowErrors(object).rows[0]]).toMatchObject([400, { row: 0, field: '(body)' }]);
    const text = await importCsv('intent,questions,answer', 'merge', 'text/plain');
    expect([text.statusCode, rowErrors(text).rows[0]!.field]).toEqual([400, '(body)']);
    const xml = await importCsv('<rows/>', 'merge', 'application/xml');
    expect([xml.statusCode, errorOf(xml).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const gbk = await importCsv(
      Buffer.from([...Buffer.from('intent,questions,answer\nrefund,'), 0xcd, 0xcb, 0xbf, 0xee, ...Buffer.from(',ok\n')]),
    );
    expect([gbk.statusCode, rowErrors(gbk).rows[0]!.message]).toEqual([400, expect.stringContaining('UTF-8')]);
  });

  it('exports JSON that imports back as exactly the same KB', async () => {
    const rows: KbImportRow[] = [
      kbRow('refund', { questions: ['退款多久到账？'], lang: undefined, tags: ['money'], related: ['returns', 'dangling_intent'] }),
      kbRow('returns', { skillGroup: 'vip', answer: 'Send it back within 7 days,\n"no questions asked".' }),
    ];
    await importJson(rows);
    const before = await kb.list();
    const exported = await call('GET', '/api/v1/kb/export', 'agent');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^application\/json/);
    expect(exported.headers['content-disposition']).toBe(`attachment; filename="huiliu-kb-v${await kb.version()}.json"`);
    const body = exported.json() as KbImportRow[];
    expect(body).toEqual([
      {
        intent: 'refund',
        questions: ['退款多久到账？'],
        answer: rows[0]!.answer,
        lang: 'zh',
        tags: ['money'],
        skillGroup: null,
        related: ['returns', 'dangling_intent'],
      },
      { intent: 'returns', questions: rows[1]!.questions, answer: rows[1]!.answer, lang: 'en', tags: [], skillGroup: 'vip', related: [] },
    ]);
    const again = await importJson(body, 'replace');
    expect(again.json()).toMatchObject({ created: 0, updated: 0, removed: 0 });
    expect(await kb.list()).toEqual(before);
  });

  it('exports CSV in the import format that imports back as exactly the same KB', async () => {
    await importJson([
      kbRow('pipes', { questions: ['A | B?', 'C:\\temp\\x'], tags: ['a|b'], related: ['quotes'] }),
      kbRow('quotes', { questions: ['他说"你好",然后呢？'], answer: 'Line one,\nline "two".', lang: 'zh', skillGroup: 'vip' }),
    ]);
    const before = await kb.list();
    const exported = await call('GET', '/api/v1/kb/export?format=csv', 'lead');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(exported.headers['content-disposition']).toMatch(/^attachment; filename="huiliu-kb-v\d+\.csv"$/);
    expect(exported.body.replace(/^\uFEFF/, '').split('\r\n')[0]).toBe(HEADER);
    const again = await importCsv(exported.rawPayload, 'replace');
    expect([again.statusCode, again.json()]).toMatchObject([200, { created: 0, updated: 0, removed: 0 }]);
    expect(await kb.list()).toEqual(before);
  });

  it('lets agents and leads read but not change the KB, refuses auditors, and asks for a token', async () => {
    const entry = await kb.create(kbRow('refund'), 'admin-id');
    for (const who of ['agent', 'lead'] as const) {
      for (const url of [
        '/api/v1/kb/export',
        '/api/v1/kb/export?format=csv',
        '/api/v1/kb/entries',
        `/api/v1/kb/entries/${entry.id}`,
        '/api/v1/kb/versions',
      ]) {
        expect((await call('GET', url, who)).statusCode, `${who} ${url}`).toBe(200);
      }
      const writes = [
        await call('POST', '/api/v1/kb/import', who, { json: [kbRow('x')] }),
        await call('POST', '/api/v1/kb/entries', who, { json: kbRow('x') }),
        await call('PUT', `/api/v1/kb/entries/${entry.id}`, who, { json: kbRow('x') }),
        await call('DELETE', `/api/v1/kb/entries/${entry.id}`, who),
      ];
      expect(writes.map((r) => [r.statusCode, errorOf(r).code])).toEqual(Array(4).fill([403, 'FORBIDDEN']));
    }
    const auditor = await call('GET', '/api/v1/kb/entries', 'auditor');
    expect([auditor.statusCode, errorOf(auditor).code]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await call('GET', '/api/v1/kb/export', null);
    expect([anonymous.statusCode, errorOf(anonymous).code]).toEqual([401, 'UNAUTHENTICATED']);
    const anonymousImport = await call('POST', '/api/v1/kb/import', null, { json: [kbRow('x')] });
    expect([anonymousImport.statusCode, errorOf(anonymousImport).code]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await kb.list()).map((e) => e.intent)).toEqual(['refund']);
  });

  it('creates, reads, updates and deletes entries, answering KB_CONFLICT and NOT_FOUND', async () => {
    const created = await call('POST', '/api/v1/kb/entries', 'admin', {
      json: { intent: 'warranty', questions: ['保修多久？'], answer: '一年。' },
    });
    expect(created.statusCode).toBe(201);
    const entry = KbEntrySchema.parse(created.json());
    expect(entry).toMatchObject({ intent: 'warranty', lang: 'zh', tags: [], skillGroup: null });
    expect((await call('GET', `/api/v1/kb/entries/${entry.id}`, 'agent')).json()).toEqual(entry);

    const clash = await call('POST', '/api/v1/kb/entries', 'admin', {
      json: { intent: 'warranty', questions: ['保修呢'], answer: '两年。' },
    });
    expect([clash.statusCode, errorOf(clash).code]).toEqual([409, 'KB_CONFLICT']);
    const typo = await call('POST', '/api/v1/kb/entries', 'admin', { json: { ...kbRow('x'), skill_group: 'vip' } });
    expect([typo.statusCode, errorOf(typo).details]).toEqual([400, [{ path: '(root)', message: expect.any(String) }]]);

    const updated = await call('PUT', `/api/v1/kb/entries/${entry.id}`, 'admin', {
      json: { intent: 'warranty', questions: ['保修多久？'], answer: '两年。', skillGroup: 'vip' },
    });
    expect([updated.statusCode, updated.json()]).toMatchObject([
      200,
      { id: entry.id, answer: '两年。', skillGroup: 'vip', version: entry.version + 1 },
    ]);
    const other = await kb.create(kbRow('warranty'), 'admin-id');
    const moved = await call('PUT', `/api/v1/kb/entries/${other.id}`, 'admin', { json: { ...kbRow('warranty'), lang: 'zh' } });
    expect([moved.statusCode, errorOf(moved).code]).toEqual([409, 'KB_CONFLICT']);

    for (const [method, body] of [['GET'], ['PUT', { json: kbRow('x') }], ['DELETE']] as const) {
      const res = await call(method, '/api/v1/kb/entries/00000000-0000-4000-8000-000000000000', 'admin', body);
      expect([res.statusCode, errorOf(res).code], method).toEqual([404, 'NOT_FOUND']);
    }
    const deleted = await call('DELETE', `/api/v1/kb/entries/${entry.id}`, 'admin');
    expect([deleted.statusCode, deleted.body]).toEqual([204, '']);
    expect((await call('GET', `/api/v1/kb/entries/${entry.id}`, 'admin')).statusCode).toBe(404);
  });

  it('pages GET /api/v1/kb/entries: 200 by default, at most 1000, with total and nextOffset', async () => {
    await importJson(kbRows(450));
    const page = (query: string) => call('GET', `/api/v1/kb/entries${query}`, 'agent');
    const first = KbEntriesResponseSchema.parse((await page('')).json());
    expect([first.total, first.entries.length, first.nextOffset, first.entries[0]!.intent]).toEqual([450, 200, 200, 'faq_0000']);
    const second = KbEntriesResponseSchema.parse((await page('?offset=200&limit=1000')).json());
    expect([second.total, second.entries.length, second.nextOffset, second.entries[0]!.intent]).toEqual([450, 250, null, 'faq_0200']);
    const past = KbEntriesResponseSchema.parse((await page('?offset=9999')).json());
    expect([past.total, past.entries, past.nextOffset]).toEqual([450, [], null]);
    const one = KbEntriesResponseSchema.parse((await page('?intent=faq_0007&limit=1')).json());
    expect([one.total, one.entries.map((e) => e.intent), one.nextOffset]).toEqual([1, ['faq_0007'], null]);
    for (const bad of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=abc', '?intent=oos']) {
      const res = await page(bad);
      expect([bad, res.statusCode, errorOf(res).code]).toEqual([bad, 400, 'VALIDATION_FAILED']);
    }
  });

  it('refuses a 4 MB CSV of a million bad rows with KB_TOO_LARGE before checking them, and lists 100 of 6,000 errors in 2,000 bad rows', async () => {
    const million = await importCsv(`intent,questions,answer\n${'X,,\n'.repeat(1_000_000)}`);
    expect([million.statusCode, errorOf(million)]).toMatchObject([
      413,
      { code: 'KB_TOO_LARGE', details: { limit: 'entries', max: KB_LIMITS.entries } },
    ]);
    expect(errorOf(million).message).toContain('would leave more');
    const jsonMillion = await importJson(Array.from({ length: 1_000_000 }, () => 0));
    expect([jsonMillion.statusCode, errorOf(jsonMillion).code]).toEqual([413, 'KB_TOO_LARGE']);
    const bad = await importCsv(`intent,questions,answer\n${'X,,\n'.repeat(2_000)}`);
    expect(bad.statusCode).toBe(400);
    const details = rowErrors(bad);
    expect([details.total, details.rows.length, details.rows[0]!.row, details.rows.at(-1)!.row]).toEqual([6_000, 100, 1, 34]);
    expect(await kb.count()).toBe(0);
  }, 30_000);

  it('refuses NUL, BEL, a lone surrogate and bidi overrides in entries, naming each field, and keeps the CSV round trip exact', async () => {
    const res = await call('POST', '/api/v1/kb/entries', 'admin', {
      json: {
        intent: 'refund',
        questions: ['nul \u0000', 'lone \ud800', 'ok'],
        answer: 'rtl \u202E and bell \u0007',
        tags: ['\u2067isolate'],
        skillGroup: 'vip\u0000',
      },
    });
    expect(res.statusCode).toBe(400);
    expect((errorOf(res).details as { path: string }[]).map((d) => d.path)).toEqual([
      'questions.0',
      'questions.1',
      'answer',
      'tags.0',
      'skillGroup',
    ]);
    const csvBel = await importCsv(`${HEADER}\nrefund,q,bell \u0007,en,,,\n`);
    expect(rowErrors(csvBel).rows).toMatchObject([{ row: 1, field: 'answer' }]);
    expect(await kb.count()).toBe(0);
  });

  it('lists the versions newest first with who changed what', async () => {
    const a = await call('POST', '/api/v1/kb/entries', 'admin', { json: kbRow('one') });
    await importJson([kbRow('two'), kbRow('three')]);
    const res = await call('GET', '/api/v1/kb/versions?limit=2', 'agent');
    const body = KbVersionsResponseSchema.parse(res.json());
    expect(body.versions).toHaveLength(2);
    expect(body.versions[0]).toMatchObject({ version: body.version, summary: 'import (merge): 2 created, 0 updated, 0 removed' });
    expect(body.versions[1]).toMatchObject({ version: body.version - 1, summary: 'create one/en', by: (a.json() as KbEntry).updatedBy });
    const bad = await call('GET', '/api/v1/kb/versions?limit=0', 'agent');
    expect(bad.statusCode).toBe(400);
  });
});
