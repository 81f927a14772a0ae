import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AppAccountResponse,
  AppAccountsResponse,
  IssueAppKeyResponse,
  RotateWebhookSecretResponse,
} from '../../common/api/app-channel';
import { createSqliteAppKeyStore } from '../src/gateway/app/app-keys.sqlite';
import { createLogger } from '../src/logging/logger';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';

const CONFIG_KEY = 'config-app-key-0123456789';

/** Issue 13: app accounts and keys managed by admins over REST. */
describe('app accounts admin routes (issue 13)', () => {
  let s: TestServer;
  let admin: string;
  let agent: string;
  const lines: string[] = [];
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const post = (key: string, externalId: string, n: number) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': key },
      payload: { customer: { externalId }, text: 'hello', clientMessageId: `m-${externalId}-${n}` },
    });

  beforeAll(async () => {
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    s = await startTestServer(
      {
        HUILIU_CONFIG: writeConfigFile({
          channels: { accounts: [{ channel: 'AP', accountId: 'cfgapp', name: 'Config app', key: CONFIG_KEY }] },
        }),
      },
      { logger },
    );
    admin = await s.login('admin');
    agent = await s.login('agent1');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  let key1 = '';
  let key2 = '';
  let webhookSecret = '';
  let rotated = '';

  it('creates an app with a webhook: the signing secret is shown once', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/accounts',
      headers: auth(admin),
      payload: { accountId: 'shop', name: 'Shop app', skillGroup: 'vip', webhookUrl: 'https://shop.example.com/hooks' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as AppAccountResponse;
    expect(body.app).toMatchObject({ appId: 'shop', name: 'Shop app', skillGroup: 'vip', source: 'admin', keys: [], deadLetters: 0 });
    expect(body.app.webhookUrl).toBe('https://shop.example.com/hooks');
    expect(body.webhookSecret).toMatch(/^hlw_[A-Za-z0-9_-]{43}$/);
    webhookSecret = body.webhookSecret!;
    // Not in the list afterwards.
    const list = (await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/accounts', headers: auth(admin) })).body;
    expect(list).not.toContain(webhookSecret);
  });

  it('refuses a second app with the same id, a config app id, bad URLs and unknown groups with stable codes', async () => {
    const create = (payload: object) =>
      s.app.inject({ method: 'POST', url: '/api/v1/channels/app/accounts', headers: auth(admin), payload });
    expect((await create({ accountId: 'shop', name: 'Again' })).json()).toMatchObject({ error: { code: 'APP_ACCOUNT_EXISTS' } });
    expect((await create({ accountId: 'cfgapp', name: 'Again' })).json()).toMatchObject({ error: { code: 'APP_ACCOUNT_EXISTS' } });
    for (const webhookUrl of ['http://shop.example.com/h', 'https://u:p@shop.example.com/h', 'ftp://x/y', 'https://x/#f']) {
      const res = await create({ accountId: 'bad', name: 'Bad', webhookUrl });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'webhookUrl' }] } });
    }
    const group = await create({ accountId: 'bad', name: 'Bad', skillGroup: 'nope' });
    expect(group.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'skillGroup' }] } });
    const id = await create({ accountId: 'a:b', name: 'Bad' });
    expect(id.statusCode).toBe(400);
  });

  it('issues keys shown once (hlk_, 192 bits), several active at once, hashed at rest', async () => {
    const issue = (payload?: object) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/accounts/shop/keys',
        headers: auth(admin),
        ...(payload ? { payload } : {}),
      });
    const a = await issue({ label: 'iOS 2026' });
    const b = await issue();
    expect(a.statusCode).toBe(201);
    key1 = (a.json() as IssueAppKeyResponse).key;
    key2 = (b.json() as IssueAppKeyResponse).key;
    expect(key1).toMatch(/^hlk_[A-Za-z0-9_-]{32}$/);
    expect(key1).not.toBe(key2);
    expect((a.json() as IssueAppKeyResponse).view).toMatchObject({
      hint: key1.slice(-4),
      label: 'iOS 2026',
      source: 'admin',
      revokedAt: null,
    });
    expect((b.json() as IssueAppKeyResponse).view.label).toBeNull();
    expect((await issue({ label: 'x'.repeat(65) })).statusCode).toBe(400);
    // Both open the app; its customers land in its skill group.
    const r1 = await post(key1, 'u1', 1);
    const r2 = await post(key2, 'u1', 2);
    expect(r1.statusCode).toBe(202);
    expect(r2.statusCode).toBe(202);
    const session = await s.services.store.getSession((r1.json() as { sessionId: string }).sessionId);
    expect(session?.skillGroup).toBe('vip');
    const list = (
      await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/accounts', headers: auth(admin) })
    ).json() as AppAccountsResponse;
    const shop = list.apps.find((x) => x.appId === 'shop')!;
    expect(shop.keys.map((k) => k.hint)).toEqual([key1.slice(-4), key2.slice(-4)]);
    expect(shop.keys.every((k) => k.lastUsedAt !== null)).toBe(true);
    expect(JSON.stringify(list)).not.toContain(key1);
  });

  it('revokes a key at once — on this node and on another node sharing the database — while the other key works', async () => {
    const list = (
      await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/accounts', headers: auth(admin) })
    ).json() as AppAccountsResponse;
    const keyId = list.apps.find((x) => x.appId === 'shop')!.keys[0]!.id;
    // A second node: its own key store on the same file, which has key1 cached.
    const other = createSqliteAppKeyStore({ path: s.config.paths.db, channels: s.services.channels });
    try {
      expect((await other.accountByKey(key1))?.account.accountId).toBe('shop');
      const res = await s.app.inject({
        method: 'POST',
        url: `/api/v1/channels/app/accounts/shop/keys/${keyId}/revoke`,
        headers: auth(admin),
      });
      expect(res.statusCode).toBe(200);
      expect((res.json() as { view: { revokedAt: string | null } }).view.revokedAt).not.toBeNull();
      expect(await other.accountByKey(key1)).toBeNull();
      expect((await other.accountByKey(key2))?.account.accountId).toBe('shop');
    } finally {
      other.close();
    }
    const refused = await post(key1, 'u1', 3);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ error: { code: 'INVALID_APP_KEY' } });
    expect((await post(key2, 'u1', 4)).statusCode).toBe(202);
    const again = await s.app.inject({ method: 'POST', url: `/api/v1/channels/app/accounts/shop/keys/nope/revoke`, headers: auth(admin) });
    expect(again.json()).toMatchObject({ error: { code: 'APP_KEY_NOT_FOUND' } });
  });

  it('rotates the webhook secret (shown once) and updates the URL and group, keeping the secret', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/accounts/shop/webhook-secret', headers: auth(admin) });
    expect(res.statusCode).toBe(200);
    rotated = (res.json() as RotateWebhookSecretResponse).webhookSecret;
    expect(rotated).toMatch(/^hlw_/);
    expect(rotated).not.toBe(webhookSecret);
    const patch = await s.app.inject({
      method: 'PATCH',
      url: '/api/v1/channels/app/accounts/shop',
      headers: auth(admin),
      payload: { webhookUrl: 'https://hooks.shop.example.com/v2', skillGroup: null },
    });
    expect(patch.statusCode).toBe(200);
    const body = patch.json() as AppAccountResponse;
    expect(body.webhookSecret).toBeUndefined();
    expect(body.app).toMatchObject({ webhookUrl: 'https://hooks.shop.example.com/v2', skillGroup: null });
    const row = (await s.services.channels.accounts('AP')).find((a) => a.accountId === 'shop')!;
    expect((await s.services.channels.secrets(row.id))?.['webhookSecret']).toBe(rotated);
    // The key still opens the app after the change (cached accounts were dropped, not the key).
    expect((await post(key2, 'u2', 1)).statusCode).toBe(202);
  });

  it('lists config apps as source "config" and refuses to change them', async () => {
    const list = (
      await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/accounts', headers: auth(admin) })
    ).json() as AppAccountsResponse;
    const cfg = list.apps.find((x) => x.appId === 'cfgapp')!;
    expect(cfg).toMatchObject({ source: 'config', name: 'Config app' });
    expect(cfg.keys).toEqual([expect.objectContaining({ source: 'config', hint: CONFIG_KEY.slice(-4), revokedAt: null })]);
    const keyId = cfg.keys[0]!.id;
    for (const [method, url] of [
      ['POST', '/api/v1/channels/app/accounts/cfgapp/keys'],
      ['POST', `/api/v1/channels/app/accounts/cfgapp/keys/${keyId}/revoke`],
      ['POST', '/api/v1/channels/app/accounts/cfgapp/webhook-secret'],
    ] as const) {
      const res = await s.app.inject({ method, url, headers: auth(admin) });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'APP_ACCOUNT_FROM_CONFIG' } });
    }
    expect((await post(CONFIG_KEY, 'c1', 1)).statusCode).toBe(202);
    const missing = await s.app.inject({ method: 'POST', url: '/api/v1/channels/app/accounts/ghost/keys', headers: auth(admin) });
    expect(missing.json()).toMatchObject({ error: { code: 'APP_ACCOUNT_NOT_FOUND' } });
  });

  it('is for admins only: an agent gets 403 on every route', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/channels/app/accounts'],
      ['POST', '/api/v1/channels/app/accounts'],
      ['PATCH', '/api/v1/channels/app/accounts/shop'],
      ['POST', '/api/v1/channels/app/accounts/shop/keys'],
      ['POST', '/api/v1/channels/app/accounts/shop/keys/x/revoke'],
      ['POST', '/api/v1/channels/app/accounts/shop/webhook-secret'],
    ] as const) {
      const res = await s.app.inject({ method, url, headers: auth(agent), payload: {} });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it('logs every change without a key or a secret', () => {
    const log = lines.join('\n');
    for (const msg of ['app account created', 'app key issued', 'app key revoked', 'app webhook secret rotated', 'app account changed'])
      expect(log).toContain(msg);
    for (const secret of [key1, key2, webhookSecret, rotated, CONFIG_KEY]) {
      expect(secret.length).toBeGreaterThan(16);
      expect(log).not.toContain(secret);
    }
  });
});
