import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';

/** Issue 7 §1: channel accounts are data, configured by HUILIU_CONFIG (and the demo seed). */
describe('app accounts from HUILIU_CONFIG', () => {
  let s: TestServer;
  beforeAll(async () => {
    const config = writeConfigFile({
      channels: { accounts: [{ channel: 'AP', accountId: 'shop', name: 'Shop app', skillGroup: 'vip', key: 'shop-app-key-0123456789' }] },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it("accepts the configured key, opens the session in the account's skill group, and keeps the demo key too", async () => {
    const post = (key: string, externalId: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: { 'x-huiliu-key': key },
        payload: { customer: { externalId }, text: 'hello', clientMessageId: `acc-${externalId}` },
      });
    const shop = await post('shop-app-key-0123456789', 'shop-1');
    expect(shop.statusCode).toBe(202);
    const session = await s.services.store.getSession((shop.json() as { sessionId: string }).sessionId);
    expect(session?.skillGroup).toBe('vip');
    expect((await s.services.channels.accounts('AP')).map((a) => a.accountId).sort()).toEqual(['demo', 'shop']);
    expect((await post('demo-app-key', 'demo-1')).statusCode).toBe(202);
    expect((await post('not-a-configured-key', 'x')).statusCode).toBe(401);
  });
});
