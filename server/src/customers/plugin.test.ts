import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACTS_IMPORT_MAX_ROWS, type CustomerFactsView, type FactsImportResult } from '../../../common/api/customers';
import { ErrorBodySchema } from '../../../common/errors/codes';
import { startTestServer, type TestServer } from '../../test/support/harness';
import { appExternalId } from '../gateway/app/normalize';

const MB = 1024 * 1024;
const KEY = { 'x-huiliu-key': 'demo-app-key' };

describe('customer facts over REST', () => {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await s.login('admin');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const importFacts = (body: unknown, who = admin, type?: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/customers/facts/import',
      headers: { authorization: `Bearer ${who}`, ...(type ? { 'content-type': type } : {}) },
      payload: body as string,
    });
  const factsOf = async (customerId: string, who = admin) =>
    s.app.inject({ url: `/api/v1/customers/${customerId}/facts`, headers: { authorization: `Bearer ${who}` } });
  const errorOf = (res: { json: () => unknown }) => ErrorBodySchema.parse(res.json()).error;
  const appCustomer = async (externalId: string) =>
    (await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', externalId)))!;
  const postApp = async (externalId: string, text: string, group = 'general') => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: {
        customer: { externalId },
        text,
        clientMessageId: `m-${Math.random().toString(36).slice(2)}`,
        hints: { skillGroup: group },
      },
    });
    expect(res.statusCode).toBe(202);
    return (res.json() as { sessionId: string }).sessionId;
  };
  const routedFacts = async (sessionId: string) => {
    for (let i = 0; i < 200; i++) {
      const [first] = await s.services.store.decisions(sessionId);
      if (first) return first.decision;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${sessionId} was never routed`);
  };

  it('imports a JSON array, creates the customers it names, and routing reads their facts on their first contact', async () => {
    const res = await importFacts([
      { externalId: 'crm-1001', spend: 5000, csat: 4.2, name: '张三' },
      { externalId: 'oFAKEopenid', channel: 'WX', csat: 3 },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: 2, imported: 2, created: 2, errors: [], errorCount: 0 } satisfies FactsImportResult);
    const customer = await appCustomer('crm-1001');
    expect(customer.name).toBe('张三');
    expect(await s.services.store.findCustomerByIdentity('WX', 'oFAKEopenid')).not.toBeNull();

    const decision = await routedFacts(await postApp('crm-1001', 'Where is my parcel?'));
    expect(decision.facts?.value).toEqual({ spend: 5000, csat: 4.2, contacts30d: 1 });
    expect(decision.reasons.find((r) => r.factor === 'value.spend')?.note).toContain('spend 5000');
    // The same import again changes the facts and creates nobody.
    const again = await importFacts([{ externalId: 'crm-1001', spend: 7000 }]);
    expect(again.json()).toMatchObject({ imported: 1, created: 0 });
    expect(((await factsOf(customer.id)).json() as CustomerFactsView).facts).toMatchObject({ spend: 7000, csat: 4.2 });
  });

  it('imports CSV with a header in any order and case, keeps the valid rows and lists the others by row and field', async () => {
    const csv = [
      '\uFEFFSpend,externalID,csat,name',
      '12000,csv-1,,Lin Mei',
      'abc,csv-2,4,',
      '',
      '300,csv-3,7,',
      '500,,3,',
      '800,"csv-5, quoted",5,"Zhou, Jie"',
      '1,csv-6',
    ].join('\r\n');
    const res = await importFacts(csv, admin, 'text/csv');
    expect(res.statusCode).toBe(200);
    const result = res.json() as FactsImportResult;
    expect(result).toMatchObject({ received: 6, imported: 2, created: 2, errorCount: 4 });
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [2, 'spend'],
      [4, 'csat'],
      [5, 'externalId'],
      [7, '(row)'],
    ]);
    expect(result.errors[0]!.message).toMatch(/not a number/);
    expect((await appCustomer('csv-5, quoted')).name).toBe('Zhou, Jie');
    expect(await s.services.store.customerFacts((await appCustomer('csv-1')).id)).toMatchObject({
      spend: { value: 12000, source: 'import' },
    });
    expect(await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', 'csv-2'))).toBeNull();
  });

  it('refuses bad JSON rows field by field and stores the good ones', async () => {
    const res = await importFacts([
      { externalId: 'ok-1', spend: 10 },
      { externalId: 'bad-1', spend: -5 },
      { externalId: 'bad-2', csat: 0.5 },
      { externalId: 'bad-3' },
      { externalId: 'bad-4', spend: 1, tier: 'gold' },
      { externalId: 'bad-5', channel: 'WB', spend: 1 },
      { externalId: 'bad-6', app: 'no-such-app', spend: 1 },
      { externalId: 'bad-7', channel: 'WX', app: 'demo', spend: 1 },
      { externalId: '   ', spend: 1 },
      { externalId: 'bad-9', spend: 1, name: '\u200b\u200b' },
      'not an object',
      { externalId: 'ok-2', csat: 5, channel: 'XM' },
    ]);
    expect(res.statusCode).toBe(200);
    const result = res.json() as FactsImportResult;
    expect(result).toMatchObject({ received: 12, imported: 2, errorCount: 10 });
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [2, 'spend'],
      [3, 'csat'],
      [4, 'spend'],
      [5, '(row)'],
      [6, 'channel'],
      [7, 'app'],
      [8, 'app'],
      [9, 'externalId'],
      [10, 'name'],
      [11, '(row)'],
    ]);
    expect(result.errors[3]!.message).toContain('tier');
  });

  it('answers a body that is no list of rows with one error of row 0', async () => {
    const res = await importFacts({ externalId: 'x', spend: 1 });
    expect(res.json()).toMatchObject({ received: 0, imported: 0, errorCount: 1, errors: [{ row: 0, field: '(body)' }] });
    const header = await importFacts('name,amount\nA,1\n', admin, 'text/csv');
    expect((header.json() as FactsImportResult).errors.map((e) => e.field)).toEqual(['header.1', 'externalId']);
  });

  it('takes a 15 MB CSV, and refuses a body over 20 MB or over the row limit with 413 before storing anything', async () => {
    // One row over the limit: refused while reading, before any row is checked or stored.
    const many = `externalId,spend\n${Array.from({ length: FACTS_IMPORT_MAX_ROWS + 1 }, (_, i) => `r${i},1`).join('\n')}\n`;
    const tooMany = await importFacts(many, admin, 'text/csv');
    expect([tooMany.statusCode, errorOf(tooMany).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', 'r0'))).toBeNull();
    const tooManyJson = await importFacts(
      JSON.stringify(Array.from({ length: FACTS_IMPORT_MAX_ROWS + 1 }, () => 0)),
      admin,
      'application/json',
    );
    expect([tooManyJson.statusCode, errorOf(tooManyJson).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    const big = `externalId,spend,name\n${Array.from({ length: 1000 }, (_, i) => `big-${i},${i},${'x'.repeat(120)}`).join('\n')}\n`;
    const padded = `${big}${'\n'.repeat(15 * MB - big.length)}`;
    expect(padded.length).toBe(15 * MB);
    const ok = await importFacts(padded, admin, 'text/csv');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ received: 1000, imported: 1000, created: 1000, errorCount: 0 });

    const over = await importFacts(`externalId,spend\n${'\n'.repeat(20 * MB)}`, admin, 'text/csv');
    expect([over.statusCode, errorOf(over).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  }, 120_000);

  it('lets only admins import', async () => {
    for (const who of ['lead', 'agent1', 'auditor']) {
      const res = await importFacts([{ externalId: 'sneaky', spend: 1e9 }], await s.login(who));
      expect([res.statusCode, errorOf(res).code], who).toEqual([403, 'FORBIDDEN']);
    }
    const anonymous = await s.app.inject({ method: 'POST', url: '/api/v1/customers/facts/import', payload: [] });
    expect(anonymous.statusCode).toBe(401);
    expect(await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', 'sneaky'))).toBeNull();
  });

  it('shows staff of the customer’s groups what routing reads, and hides the customer from everyone else', async () => {
    await importFacts([{ externalId: 'shown-1', spend: 100_000, csat: 1 }]);
    const sessionId = await postApp('shown-1', 'My parcel is late', 'general');
    await routedFacts(sessionId);
    const customer = await appCustomer('shown-1');
    const res = await factsOf(customer.id, await s.login('agent1'));
    expect(res.statusCode).toBe(200);
    const view = res.json() as CustomerFactsView;
    expect(view.facts).toEqual({
      spend: 100_000,
      csat: 1,
      contacts30d: 1,
      source: { spend: 'import', csat: 'import', contacts30d: 'history' },
    });
    expect(view.stored.spend).toMatchObject({ value: 100_000, source: 'import' });
    expect(view.ratings).toEqual({ count: 0, mean: null, windowDays: 365, maxRatings: 20 });
    // The score routing gave the contact, from the same facts and config.
    expect(view.value.score).toBe((await routedFacts(sessionId)).valueScore);

    // agent2 serves only `vip`: the customer is not there for them.
    const other = await factsOf(customer.id, await s.login('agent2'));
    expect([other.statusCode, errorOf(other).code]).toEqual([404, 'NOT_FOUND']);
    // A customer only imported, never served: admins and auditors see them, agents do not.
    const importedOnly = (await appCustomer('ok-1')).id;
    expect((await factsOf(importedOnly, await s.login('auditor'))).statusCode).toBe(200);
    expect((await factsOf(importedOnly, await s.login('agent1'))).statusCode).toBe(404);
    expect((await factsOf('00000000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect(errorOf(await factsOf('not-a-uuid')).code).toBe('VALIDATION_FAILED');
  });

  it('seeds the demo customers as imported facts: Wang Fang asking a routine question lands in the assisted tier, Li Na asking for a person in expert', async () => {
    const wang = await routedFacts(await postApp('wang-fang', 'Where is my parcel?', 'vip'));
    expect(wang.facts?.value).toEqual({ spend: 60_000, csat: 1, contacts30d: 1 });
    expect(wang.tier).toBe('assisted');
    const li = await routedFacts(await postApp('li-na', '我要人工客服！订单 202311150001 被重复扣款，太气人了！！', 'vip'));
    expect(li.facts?.value).toEqual({ spend: 100_000, csat: 1, contacts30d: 1 });
    expect(li.tier).toBe('expert');
    expect((await appCustomer('li-na')).name).toBe('Li Na');
  });
});
