import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '../../common/api/sessions';
import { startTestServer, type TestServer } from './support/harness';

/** C10: later contact details update the customer; the history of changes is kept. */
describe('a returning customer with new contact details', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const post = (customer: Record<string, string>, text: string, clientMessageId: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer, text, clientMessageId },
    });

  it('shows the newest name to the agent and keeps the earlier one in the customer history', async () => {
    const first = (await post({ externalId: 'lin-1', name: 'Lin Mei' }, 'hello', 'lin-a')).json() as { sessionId: string };
    await post({ externalId: 'lin-1', name: 'Lin Mei (Gold member)', phone: '+8613800138000' }, 'about my order', 'lin-b');
    const token = await s.login('agent1');
    const detail = (
      await s.app.inject({ url: `/api/v1/sessions/${first.sessionId}`, headers: { authorization: `Bearer ${token}` } })
    ).json() as SessionDetail;
    expect(detail.customerName).toBe('Lin Mei (Gold member)');
    expect(detail.context.customer.name).toBe('Lin Mei (Gold member)');
    const changes = await s.services.store.profileChanges(detail.customerId);
    expect(changes.map((c) => [c.field, c.previous, c.value])).toEqual([
      ['name', 'Lin Mei', 'Lin Mei (Gold member)'],
      ['phone', null, '+8613800138000'],
    ]);
  });
});
