import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/gateway/app/webhook';
import { launchPinnedChromium } from './support/browser';
import { writeConfigFile } from './support/config-file';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');

/** A loopback webhook receiver: answers `status` to deliveries whose signature checks with `secret`, 401 otherwise. */
async function startReceiver() {
  const got: { headers: IncomingHttpHeaders; body: string; verified: boolean; answered: number }[] = [];
  const state = { secret: '', status: 500 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const h = (n: string) => (typeof req.headers[n] === 'string' ? (req.headers[n] as string) : undefined);
      const verified = verifyWebhook(
        state.secret,
        { timestamp: h('x-huiliu-timestamp'), signature: h('x-huiliu-signature') },
        body,
        Date.now(),
      );
      const answered = verified ? state.status : 401;
      got.push({ headers: req.headers, body, verified, answered });
      res.statusCode = answered;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    got,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Issue 13, the Apps view end to end in Chromium: an admin creates an app with a webhook (the secret
 * shown once), issues a key (shown once) that then works on the app channel; an agent's reply to that
 * app's customer fails at the app's webhook (500, 2 tries) and is dead-lettered; the admin sees it
 * with its last error and redelivers it once the app is fixed; revoking the key refuses it at once.
 * An agent sees no Apps view and gets 403 from its routes. Screenshots in English and Chinese.
 */
describe('Apps admin view: create app → issue key → use it → dead letter → redeliver → revoke', () => {
  let server: ServerProcess;
  let browser: Browser;
  let admin: Page;
  let agent: Page;
  let ca: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const stamp = Date.now().toString(36);
  const appId = `shop-${stamp}`;
  let key = '';
  let secret = '';
  let repliedId = '';

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const postMessage = (k: string, n: number) =>
    api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': k },
      json: {
        customer: { externalId: `buyer-${stamp}`, name: 'Lin Fang' },
        text: `APP-${stamp} where is my order ${n}?`,
        clientMessageId: `${stamp}-${n}`,
      },
    });
  const token = async (username: string) => {
    const res = await api('/api/v1/auth/login', { method: 'POST', json: { username, password: 'huiliu-demo' } });
    return (JSON.parse(res.body) as { token: string }).token;
  };

  const signIn = (page: Page, username: string) => signInAs(page, server, username, { until: 'signed-in' });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    receiver = await startReceiver();
    server = await startServerProcess({
      env: {
        HUILIU_CONFIG: writeConfigFile({
          channels: { app: { webhook: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2, timeoutMs: 2000 } } },
        }),
      },
    });
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    admin = await (await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'en-US' })).newPage();
    agent = await (await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' })).newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  it('shows no Apps view to an agent, and refuses the routes to them (403)', async () => {
    await signIn(agent, 'agent1');
    await expect.poll(() => agent.getByTestId('link-state').textContent()).toBe('Connected');
    expect(await agent.getByTestId('view-apps').count()).toBe(0);
    const t = await token('agent1');
    for (const [method, path] of [
      ['GET', '/api/v1/channels/app/accounts'],
      ['POST', '/api/v1/channels/app/accounts'],
      ['GET', '/api/v1/channels/app/webhooks/dead-letters'],
    ] as const) {
      const res = await api(path, { method, headers: { authorization: `Bearer ${t}` }, ...(method === 'POST' ? { json: {} } : {}) });
      expect(res.status, path).toBe(403);
    }
  });

  it('creates an app with a webhook: its signing secret is shown once', async () => {
    await signIn(admin, 'admin');
    await admin.getByTestId('view-apps').click();
    await admin.getByTestId('apps-page').waitFor();
    await admin.getByTestId('create-app-id').fill(appId);
    await admin.getByTestId('create-app-name').fill('Lin’s Shop');
    await admin.getByTestId('create-app-group').selectOption('general');
    await admin.getByTestId('create-app-webhook').fill(receiver.url);
    await admin.getByTestId('create-app-submit').click();
    const reveal = admin.getByTestId('secret-reveal');
    await reveal.waitFor();
    expect(await reveal.textContent()).toContain('you will not see it again');
    secret = (await admin.getByTestId('secret-value').textContent())!;
    expect(secret).toMatch(/^hlw_/);
    receiver.state.secret = secret;
    await admin.getByTestId('secret-done').click();
    expect(await admin.getByTestId('secret-reveal').count()).toBe(0);
    const card = admin.locator(`[data-testid="app-card"][data-app-id="${appId}"]`);
    await card.waitFor();
    expect(await card.getByTestId('app-webhook').textContent()).toBe(receiver.url);
    // Not shown again anywhere on the page.
    expect(await admin.content()).not.toContain(secret);
  });

  it('issues a key shown once; the app channel takes it', async () => {
    const card = admin.locator(`[data-testid="app-card"][data-app-id="${appId}"]`);
    await card.getByTestId('key-label-input').fill('Android 2026');
    await card.getByTestId('issue-key').click();
    await admin.getByTestId('secret-reveal').waitFor();
    key = (await admin.getByTestId('secret-value').textContent())!;
    expect(key).toMatch(/^hlk_[A-Za-z0-9_-]{32}$/);
    const row = card.locator(`[data-testid="key-row"][data-hint="${key.slice(-4)}"]`);
    await row.waitFor();
    expect(await row.getByTestId('key-label').textContent()).toBe('Android 2026');
    await admin.screenshot({ path: join(SHOTS, 'app-admin-key-en.png') });
    await admin.getByTestId('secret-done').click();
    const res = await postMessage(key, 1);
    expect(res.status).toBe(202);
  });

  it("dead-letters the reply the app's webhook refuses (500, 2 tries) and redelivers it once fixed", { timeout: 60_000 }, async () => {
    // agent1 (general) takes the contact and replies.
    const row = agent.getByTestId('queue-item').filter({ hasText: `APP-${stamp}` });
    await row.getByTestId('accept').click();
    await agent
      .getByTestId('customer-message')
      .filter({ hasText: `APP-${stamp}` })
      .waitFor();
    await agent.getByLabel('Reply').fill(`Your order ${stamp} ships today.`);
    await agent.keyboard.press('Enter');
    await expect.poll(() => receiver.got.filter((g) => g.body.includes(`Your order ${stamp}`)).length, { timeout: 20_000 }).toBe(2);
    const tries = receiver.got.filter((g) => g.body.includes(`Your order ${stamp}`));
    expect(tries.every((g) => g.verified && g.answered === 500)).toBe(true);
    repliedId = tries[0]!.headers['x-huiliu-delivery'] as string;

    const letter = admin.locator(`[data-testid="dead-letter"][data-message-id="${repliedId}"]`);
    await expect
      .poll(
        async () => {
          await admin.getByTestId('apps-refresh').click();
          return letter.count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    expect(await letter.getByTestId('dead-letter-error').textContent()).toBe('HTTP 500');
    await admin.screenshot({ path: join(SHOTS, 'app-admin-dead-letters-en.png'), fullPage: true });

    receiver.state.status = 200;
    await letter.getByTestId('redeliver').click();
    await expect
      .poll(() => receiver.got.filter((g) => g.headers['x-huiliu-delivery'] === repliedId && g.answered === 200).length, {
        timeout: 20_000,
      })
      .toBe(1);
    await expect
      .poll(async () => {
        await admin.getByTestId('apps-refresh').click();
        return letter.count();
      })
      .toBe(0);
  });

  it('revokes the key after a confirmation: the app channel refuses it at once (401 INVALID_APP_KEY)', async () => {
    const card = admin.locator(`[data-testid="app-card"][data-app-id="${appId}"]`);
    const keyRow = card.locator(`[data-testid="key-row"][data-hint="${key.slice(-4)}"]`);
    await keyRow.getByTestId('revoke-key').click();
    await keyRow.getByTestId('revoke-confirm').waitFor();
    await keyRow.getByTestId('revoke-confirm-yes').click();
    await expect.poll(() => keyRow.getAttribute('data-revoked')).toBe('yes');
    const res = await postMessage(key, 2);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'INVALID_APP_KEY' } });
    await admin.screenshot({ path: join(SHOTS, 'app-admin-revoked-en.png'), fullPage: true });
  });

  it('speaks Chinese to a Chinese-speaking admin', async () => {
    const zh = await (await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN' })).newPage();
    await signIn(zh, 'admin');
    await zh.getByTestId('view-apps').click();
    await zh.getByTestId('apps-page').waitFor();
    expect(await zh.getByTestId('view-apps').textContent()).toBe('应用接入');
    const card = zh.locator(`[data-testid="app-card"][data-app-id="${appId}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('在此管理');
    await card.getByTestId('rotate-secret').click();
    await card.getByTestId('rotate-confirm-yes').click();
    await zh.getByTestId('secret-reveal').waitFor();
    expect(await zh.getByTestId('secret-reveal').textContent()).toContain('关闭后将无法再次查看');
    expect(await zh.getByTestId('secret-value').textContent()).not.toBe(secret);
    await zh.screenshot({ path: join(SHOTS, 'app-admin-zh.png'), fullPage: true });
  });
});
