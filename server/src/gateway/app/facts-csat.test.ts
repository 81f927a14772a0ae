import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanAppMessage, type AppMessageResponse, type AppMessagesResponse } from '../../../../common/api/app-channel';
import { ErrorBodySchema } from '../../../../common/errors/codes';
import { ack, openAgentSocket } from '../../../test/support/agent-client';
import { startTestServer, type TestServer } from '../../../test/support/harness';
import { until } from '../../../test/support/until';
import { appExternalId } from './normalize';

const KEY = { 'x-huiliu-key': 'demo-app-key' };

describe('customer.attributes on an app message (issue 11)', () => {
  const clean = (attributes: unknown) =>
    cleanAppMessage({ customer: { externalId: 'u', attributes }, text: 'hi', clientMessageId: 'c' }, () => true);

  it('keeps a valid spend and csat and drops, with a warning each, what is out of range, mistyped or unknown', () => {
    expect(clean({ spend: 1200.5, csat: 4 })).toEqual({
      request: { customer: { externalId: 'u', attributes: { spend: 1200.5, csat: 4 } }, text: 'hi', clientMessageId: 'c' },
      warnings: [],
    });
    const { request, warnings } = clean({ spend: -1, csat: 4.5, tier: 'gold' });
    expect(request.customer.attributes).toEqual({ csat: 4.5 });
    expect(warnings.map((w) => [w.field, w.code])).toEqual([
      ['customer.attributes.spend', 'INVALID'],
      ['customer.attributes.tier', 'UNKNOWN_ATTRIBUTE'],
    ]);
    expect(clean({ spend: '100', csat: 0 }).request.customer.attributes).toBeUndefined();
    expect(clean([1, 2]).warnings).toEqual([{ field: 'customer.attributes', code: 'INVALID', message: expect.any(String) as unknown }]);
    expect(clean(null).warnings).toEqual([]);
  });

  describe('on the server', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer();
    });
    afterAll(async () => {
      await s.cleanup();
    });

    const post = (customer: Record<string, unknown>, clientMessageId: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: KEY,
        payload: { customer, text: 'Any news on my order?', clientMessageId },
      });

    it('stores them as the customer’s facts before routing reads them, and keeps the message when they are bad', async () => {
      const res = await post({ externalId: 'attr-1', attributes: { spend: 80_000, csat: 2, vip: true } }, 'attr-1-a');
      expect(res.statusCode).toBe(202);
      const answer = res.json() as AppMessageResponse;
      expect(answer.warnings).toEqual([
        { field: 'customer.attributes.vip', code: 'UNKNOWN_ATTRIBUTE', message: expect.any(String) as unknown },
      ]);
      const customer = (await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', 'attr-1')))!;
      expect(await s.services.store.customerFacts(customer.id)).toMatchObject({
        spend: { value: 80_000, source: 'app' },
        csat: { value: 2, source: 'app' },
      });
      // The first message's routing already read them.
      await until(async () => (await s.services.store.getSession(answer.sessionId))?.routing !== null);
      expect((await s.services.store.getSession(answer.sessionId))!.routing!.facts?.value).toMatchObject({ spend: 80_000, csat: 2 });

      const bad = await post({ externalId: 'attr-1', attributes: { spend: 'lots', csat: 9 } }, 'attr-1-b');
      expect(bad.statusCode).toBe(202);
      expect((bad.json() as AppMessageResponse).warnings.map((w) => w.field)).toEqual([
        'customer.attributes.spend',
        'customer.attributes.csat',
      ]);
      const later = await post({ externalId: 'attr-1', attributes: { spend: 90_000 } }, 'attr-1-c');
      expect(later.statusCode).toBe(202);
      expect(await s.services.store.customerFacts(customer.id)).toMatchObject({ spend: { value: 90_000 }, csat: { value: 2 } });
      // A retried earlier message does not put the older spend back.
      expect((await post({ externalId: 'attr-1', attributes: { spend: 80_000, csat: 2, vip: true } }, 'attr-1-a')).statusCode).toBe(202);
      expect((await s.services.store.customerFacts(customer.id))?.spend?.value).toBe(90_000);
    });
  });
});

describe('the app customer rates a closed conversation (CSAT, issue 11)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const rate = (payload: Record<string, unknown>) =>
    s.app.inject({ method: 'POST', url: '/api/v1/channels/app/csat', headers: KEY, payload });
  const poll = async (externalId: string) =>
    (await s.app.inject({ url: `/api/v1/channels/app/messages?externalId=${externalId}`, headers: KEY })).json() as AppMessagesResponse;
  const codeOf = (res: { statusCode: number; json: () => unknown }) => [res.statusCode, ErrorBodySchema.parse(res.json()).error.code];

  it('takes one rating of the customer’s own closed conversation, which then feeds their CSAT', async () => {
    const sent = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: KEY,
      payload: { customer: { externalId: 'rater' }, text: 'Where is my parcel?', clientMessageId: 'rater-1' },
    });
    const { sessionId } = sent.json() as AppMessageResponse;
    expect(codeOf(await rate({ externalId: 'rater', sessionId, score: 5 }))).toEqual([409, 'SESSION_NOT_CLOSED']);
    expect((await poll('rater')).csat).toBeNull();

    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      expect((await ack(agent, 'offer:accept', { sessionId })).ok).toBe(true);
      expect((await ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' })).ok).toBe(true);
    } finally {
      agent.close();
    }
    expect((await poll('rater')).csat).toEqual({ rateable: true });

    const bad = await rate({ externalId: 'rater', sessionId, score: 6 });
    expect(codeOf(bad)).toEqual([400, 'VALIDATION_FAILED']);
    expect(JSON.stringify(ErrorBodySchema.parse(bad.json()).error.details)).toContain('score');
    expect(codeOf(await rate({ externalId: 'rater', sessionId, score: 4, comment: 'x'.repeat(501) }))).toEqual([400, 'VALIDATION_FAILED']);
    expect(codeOf(await rate({ externalId: 'rater', sessionId, score: 3.5 }))).toEqual([400, 'VALIDATION_FAILED']);
    // Someone else — another app customer, or nobody the app knows — cannot rate it.
    expect(codeOf(await rate({ externalId: 'someone-else', sessionId, score: 1 }))).toEqual([404, 'SESSION_NOT_FOUND']);
    expect(codeOf(await rate({ externalId: 'rater', sessionId: 'AP000000000000000000', score: 1 }))).toEqual([404, 'SESSION_NOT_FOUND']);

    const ok = await rate({ externalId: 'rater', sessionId, score: 2, comment: '  回复太慢  ' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ sessionId, score: 2 });
    expect(codeOf(await rate({ externalId: 'rater', sessionId, score: 5 }))).toEqual([409, 'CSAT_ALREADY_GIVEN']);
    expect((await poll('rater')).csat).toEqual({ rateable: false, score: 2 });
    expect(await s.services.store.sessionRating(sessionId)).toMatchObject({ score: 2, comment: '回复太慢' });

    const customer = (await s.services.store.findCustomerByIdentity('AP', appExternalId('demo', 'rater')))!;
    const facts = await s.app.inject({
      url: `/api/v1/customers/${customer.id}/facts`,
      headers: { authorization: `Bearer ${await s.login('admin')}` },
    });
    expect(facts.json()).toMatchObject({ facts: { csat: 2, source: { csat: 'ratings' } }, ratings: { count: 1, mean: 2 } });
  });
});

describe('the app polls where its waiting customer stands (issue 11)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('answers the position and estimated wait with each poll while waiting, and moves it as the queue moves', async () => {
    const send = async (externalId: string) =>
      (
        await s.app.inject({
          method: 'POST',
          url: '/api/v1/channels/app/messages',
          headers: KEY,
          payload: {
            customer: { externalId },
            text: 'Where is my parcel?',
            clientMessageId: `${externalId}-1`,
            hints: { skillGroup: 'vip' },
          },
        })
      ).json() as AppMessageResponse;
    const poll = async (externalId: string) =>
      (await s.app.inject({ url: `/api/v1/channels/app/messages?externalId=${externalId}`, headers: KEY })).json() as AppMessagesResponse;

    const first = await send('queue-a');
    await send('queue-b');
    await until(async () => (await poll('queue-b')).status === 'queued');
    // Nobody of `vip` is online yet.
    expect((await poll('queue-b')).standing).toEqual({ position: 2, estimatedWaitSeconds: null, noAgentOnline: true });
    expect((await poll('queue-a')).standing).toMatchObject({ position: 1 });

    const agent = await openAgentSocket(s, await s.login('agent2'));
    try {
      // agent2 comes online and both are offered to them (capacity 3): an answer is seconds away.
      await until(async () => (await poll('queue-b')).status === 'offered');
      expect((await poll('queue-b')).standing).toEqual({ position: 2, estimatedWaitSeconds: 0, noAgentOnline: false });
      expect((await ack(agent, 'offer:accept', { sessionId: first.sessionId })).ok).toBe(true);
      expect((await poll('queue-b')).standing).toMatchObject({ position: 1 });
      expect((await poll('queue-a')).standing).toBeNull();
    } finally {
      agent.close();
    }
  });
});
