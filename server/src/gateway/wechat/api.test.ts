import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWechatApi } from '../../../test/support/wechat-fake-api';
import type { WechatAccount } from './account';
import { WechatApi, WechatApiError } from './api';

/** Outbound WeChat calls against the fake API on loopback: token caching, refresh, errors. */
describe('WeChat API client', () => {
  const fake = new FakeWechatApi();
  let account: WechatAccount;
  beforeAll(async () => {
    const apiBaseUrl = await fake.start();
    fake.addApp('wx4444444444444444', 'api-secret');
    account = {
      accountId: 'api-wx',
      name: 'API test',
      skillGroup: null,
      appId: 'wx4444444444444444',
      apiBaseUrl,
      mode: 'plain',
      token: 'tok',
      aesKey: null,
      appSecret: 'api-secret',
    };
  });
  afterAll(() => fake.close());

  it('fetches one token for many sends, and a new one shortly before expires_in runs out', async () => {
    let clock = 1_000_000;
    const api = new WechatApi({ now: () => clock });
    fake.tokenRequests.length = 0;
    for (let i = 0; i < 3; i++) await api.sendText(account, 'oApi1', `hello ${i}`);
    expect(fake.tokenRequests).toEqual(['wx4444444444444444']);
    // 7200 s tokens are renewed 5 minutes early.
    clock += (7200 - 301) * 1000;
    await api.sendText(account, 'oApi1', 'still cached');
    expect(fake.tokenRequests).toHaveLength(1);
    clock += 2000;
    await api.sendText(account, 'oApi1', 'renewed');
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sent.filter((m) => m.touser === 'oApi1').map((m) => m.text?.content)).toEqual([
      'hello 0',
      'hello 1',
      'hello 2',
      'still cached',
      'renewed',
    ]);
  });

  it('fetches a token once for concurrent callers (no stampede)', async () => {
    const api = new WechatApi();
    fake.tokenRequests.length = 0;
    fake.delay('token', 50);
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => api.sendText(account, 'oApi2', `burst ${i}`)));
    } finally {
      fake.delay('token', 0);
    }
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.sent.filter((m) => m.touser === 'oApi2')).toHaveLength(10);
  });

  it('refreshes the token once on 42001 (expired) and 40001 (invalid), then retries the call once', async () => {
    const api = new WechatApi();
    await api.sendText(account, 'oApi3', 'first');
    fake.tokenRequests.length = 0;
    fake.expireTokens();
    await api.sendText(account, 'oApi3', 'after expiry');
    expect(fake.tokenRequests).toHaveLength(1);
    fake.failNext('send', 40001);
    await api.sendText(account, 'oApi3', 'after invalid');
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sent.filter((m) => m.touser === 'oApi3').map((m) => m.text?.content)).toEqual(['first', 'after expiry', 'after invalid']);
    // Two token errors in a row: one retry only, then WeChat's code.
    fake.failNext('send', 42001, 2);
    await expect(api.sendText(account, 'oApi3', 'given up')).rejects.toMatchObject({ errcode: 42001 });
  });

  it('answers WeChat errcodes as WechatApiError with the code and never the token', async () => {
    const api = new WechatApi();
    fake.failNext('send', 45015);
    const error = (await api.sendText(account, 'oApi4', 'late').catch((e: unknown) => e)) as WechatApiError;
    expect(error).toBeInstanceOf(WechatApiError);
    expect(error.errcode).toBe(45015);
    expect(error.message).not.toMatch(/fake-token/);
    const noSecret = await api
      .sendText({ ...account, appId: 'wx5555555555555555', appSecret: null }, 'oApi4', 'x')
      .catch((e: unknown) => e);
    expect(noSecret).toMatchObject({ errcode: 'no_secret' });
    const wrongSecret = await api
      .sendText({ ...account, appId: 'wx6666666666666666', appSecret: 'nope' }, 'oApi4', 'x')
      .catch((e: unknown) => e);
    expect(wrongSecret).toMatchObject({ errcode: 40013 });
  });

  it('times out a slow user/info quickly and answers no unionid', async () => {
    const api = new WechatApi({ timeouts: { userInfo: 100 } });
    fake.setUnionid('oSlow', 'uSlow');
    fake.delay('userInfo', 500);
    try {
      const started = Date.now();
      expect(await api.unionid(account, 'oSlow')).toBeNull();
      expect(Date.now() - started).toBeLessThan(450);
    } finally {
      fake.delay('userInfo', 0);
    }
  });

  it('refuses media larger than the limit', async () => {
    const api = new WechatApi();
    fake.setMedia('big', Buffer.alloc(2048, 1), 'image/jpeg');
    await expect(api.media(account, 'big', 1024)).rejects.toMatchObject({ errcode: 'too_large' });
    await expect(api.media(account, 'missing', 1024)).rejects.toMatchObject({ errcode: 40007 });
  });
});
