import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import { aesKeyOf, wechatEncrypt, wechatSignature } from '../src/gateway/wechat/crypto';
import { signedQuery, textPush } from '../src/gateway/wechat/__fixtures__/push';
import { DEMO_WECHAT } from '../src/demo/seed';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');
const DOCS = join(REPO, 'docs', 'images');

/**
 * Issue 12 in the workstation, end to end on the real server (`--demo`) in Chromium: a WeChat customer
 * writes through the real WeChat route (a signed, AES-encrypted push to the demo account); agent1 takes
 * the chat in the browser and records the phone number the customer confirmed ("Add verified phone");
 * the same person then writes from the app, signed in with that phone: the browser follows to the App
 * session, shows both channel badges and the divider, and agent1's reply reaches the app's poll. Then
 * agent1 merges another app customer in through the panel (found by e-mail, confirmed) and undoes it.
 * Screenshots in English and Chinese go to test-output/e2e/continuity-*.png.
 */
describe('continuity end to end: WeChat → App with the same agent, merge and undo in the workstation', () => {
  let server: ServerProcess;
  let browser: Browser;
  let contexts: BrowserContext[];
  let agent1: Page;
  let ca: string;
  const stamp = Date.now().toString(36);
  const openid = `oE2eCont${stamp}`;
  const phone = '+86 138 0013 8001';
  const question = `我的快递 SF1024 还没到。REF-${stamp}`;
  const fromApp = `I am in the app now. APP-${stamp}`;
  const reply = `Found it — it ships today. REPLY-${stamp}`;
  const appUser = { externalId: `cont-app-${stamp}`, name: 'Wang Fang' };
  const other = { externalId: `cont-other-${stamp}`, name: 'Fang W. (second account)' };
  const otherEmail = `fang.${stamp}@example.com`;
  let wxSessionId = '';
  let apSessionId = '';

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const appKey = { 'x-huiliu-key': 'demo-app-key' };

  /** What WeChat's servers send for a text message in safe mode: encrypted for the account, both signatures. */
  async function wechatPush(text: string, msgId: string) {
    const encrypt = wechatEncrypt(textPush(openid, text, msgId), aesKeyOf(DEMO_WECHAT.encodingAESKey), DEMO_WECHAT.appId);
    const query = signedQuery({ accountId: DEMO_WECHAT.accountId, token: DEMO_WECHAT.token, appId: DEMO_WECHAT.appId });
    const msgSignature = wechatSignature([DEMO_WECHAT.token, query.timestamp!, query.nonce!, encrypt]);
    const params = new URLSearchParams({ ...query, encrypt_type: 'aes', msg_signature: msgSignature, openid });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // The route takes text/xml: httpsRequest sends JSON only, so the raw body goes through node:https here.
      void import('node:https').then(({ request }) => {
        const req = request(
          `${server.url}/channels/wechat/${DEMO_WECHAT.accountId}?${params}`,
          { method: 'POST', ca, headers: { 'content-type': 'text/xml' } },
          (r) => {
            let body = '';
            r.on('data', (d: Buffer) => (body += d.toString()));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(`<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
      });
    });
    expect([res.status, res.body]).toEqual([200, 'success']);
  }

  const signIn = (page: Page, username: string) => signInAs(page, server, username);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    const en = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' });
    contexts = [en];
    agent1 = await en.newPage();
    await signIn(agent1, 'agent1');
  });

  afterAll(async () => {
    for (const c of contexts ?? []) await c.close();
    await browser?.close();
    await server?.stop();
  });

  it('a WeChat customer writes through the real WeChat route; agent1 takes the chat and records their verified phone', async () => {
    await wechatPush(question, `${Date.now()}1`);
    const row = agent1.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row.waitFor();
    await row.getByTestId('accept').click();
    await agent1
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();
    wxSessionId = (await agent1.getByTestId('session-id').textContent()) ?? '';
    expect(wxSessionId.startsWith('WX')).toBe(true);
    // One channel so far: no badge on the messages, no divider.
    expect(await agent1.locator('[data-testid="messages"] [data-testid="channel-badge"]').count()).toBe(0);

    const panel = agent1.getByTestId('identities');
    await panel.getByTestId('identity').first().waitFor();
    expect(await panel.getByTestId('identity').allTextContents()).toEqual([expect.stringMatching(/^WeChat /)]);
    await panel.getByTestId('link-open').click();
    await panel.getByTestId('link-value').fill(phone);
    await panel.getByTestId('link-add').click();
    await expect.poll(() => panel.getByTestId('identities-notice').textContent()).toBe('Added.');
    const link = (await panel.getByTestId('identity-link').textContent()) ?? '';
    expect(link).toContain('Phone');
    expect(link).toContain('by you');
    // Masked: the full number is never shown.
    expect(link.replace(/\D/g, '')).not.toContain('13800138001');
  });

  it('the same person writes from the app: the browser follows to the App session with both badges and the divider', async () => {
    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: appKey,
      json: { customer: { ...appUser, verified: { phone: '+8613800138001' } }, text: fromApp, clientMessageId: `${appUser.externalId}-1` },
    });
    expect(posted.status).toBe(202);
    const { sessionId } = JSON.parse(posted.body) as { sessionId: string };
    expect(sessionId.startsWith('AP')).toBe(true);
    apSessionId = sessionId;

    await expect.poll(() => agent1.getByTestId('session-id').textContent()).toBe(sessionId);
    await agent1
      .getByTestId('customer-message')
      .filter({ hasText: `APP-${stamp}` })
      .waitFor();
    expect(await agent1.getByTestId('followed-notice').textContent()).toBe(
      'The customer went on from WeChat to the App; this chat followed them.',
    );
    expect(await agent1.getByTestId('channel-switch').textContent()).toContain('Customer continued on the App — from WeChat');
    const badges = await agent1.locator('[data-testid="messages"] .bubble [data-testid="channel-badge"]').allTextContents();
    expect(badges).toEqual(['WeChat', 'App']);
    // One chat in "mine": the closed WeChat session is not a second row.
    expect(
      await agent1
        .getByTestId('queue-item')
        .filter({ hasText: 'APP-' + stamp })
        .count(),
    ).toBe(1);
    expect(
      await agent1
        .getByTestId('queue-item')
        .filter({ hasText: `REF-${stamp}` })
        .count(),
    ).toBe(0);

    await agent1.getByLabel('Reply').fill(reply);
    await agent1.getByRole('button', { name: 'Send', exact: true }).click();
    await agent1
      .getByTestId('agent-message')
      .filter({ hasText: `REPLY-${stamp}` })
      .waitFor();
    await expect.poll(() => agent1.locator('.bubble--pending').count()).toBe(0);
    expect(
      await agent1
        .getByTestId('agent-message')
        .filter({ hasText: `REPLY-${stamp}` })
        .getByTestId('channel-badge')
        .textContent(),
    ).toBe('App');
    await expect
      .poll(async () => {
        const res = await api(`/api/v1/channels/app/messages?externalId=${appUser.externalId}`, { headers: appKey });
        return (JSON.parse(res.body) as AppMessagesResponse).messages.map((m) => m.text);
      })
      .toContain(reply);
    // The panel names both channels of the person.
    const panel = agent1.getByTestId('identities');
    await expect.poll(() => panel.getByTestId('identity').count()).toBe(2);
    await agent1.screenshot({ path: join(SHOTS, 'continuity-followed-en.png') });
  });

  it('agent1 merges another customer in through the panel (found by e-mail, confirmed) and undoes it', async () => {
    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: appKey,
      json: {
        customer: { ...other, verified: { email: otherEmail } },
        text: `second account OTHER-${stamp}`,
        clientMessageId: `${other.externalId}-1`,
      },
    });
    expect(posted.status).toBe(202);
    const panel = agent1.getByTestId('identities');
    await panel.getByTestId('merge-open').click();
    const dialog = panel.getByTestId('merge-dialog');
    await dialog.getByTestId('merge-by').selectOption('email');
    await dialog.getByTestId('merge-value').fill(otherEmail);
    await dialog.getByTestId('merge-find').click();
    await dialog.getByTestId('merge-found').waitFor();
    expect(await dialog.getByTestId('merge-found-name').textContent()).toBe(other.name);
    await agent1.screenshot({ path: join(SHOTS, 'continuity-merge-confirm-en.png') });
    await dialog.getByTestId('merge-confirm').click();
    await expect.poll(() => panel.getByTestId('identities-notice').textContent()).toBe('Customers merged.');
    const byHand = panel.getByTestId('merge').filter({ hasText: 'by hand' });
    await byHand.waitFor();
    expect(await byHand.textContent()).toContain('merged by you');
    expect(await panel.getByTestId('merge').filter({ hasText: 'same phone number' }).textContent()).toContain('merged automatically');
    await expect.poll(() => panel.getByTestId('identity').count()).toBe(3);
    await agent1.screenshot({ path: join(SHOTS, 'continuity-merged-en.png') });
    // The agents' guide shows this one (docs/continuity-workstation.md).
    copyFileSync(join(SHOTS, 'continuity-merged-en.png'), join(DOCS, 'continuity-workstation.png'));

    await byHand.getByTestId('undo-merge').click();
    await expect.poll(() => panel.getByTestId('identities-notice').textContent()).toBe('Merge undone.');
    await expect.poll(() => byHand.getByTestId('merge-undone').count()).toBe(1);
    expect(await byHand.getByTestId('undo-merge').count()).toBe(0);
    await expect.poll(() => panel.getByTestId('identity').count()).toBe(2);
  });

  it('shows the full history over both channels, newest first, in Chinese too', async () => {
    const history = agent1.getByTestId('full-history');
    await history.locator('summary').click();
    await history.getByTestId('timeline-message').first().waitFor();
    const channels = await history.getByTestId('timeline-message').evaluateAll((els) => els.map((e) => e.getAttribute('data-channel')));
    expect(channels).toEqual(['AP', 'AP', 'WX']);
    expect(await history.getByTestId('timeline-message').first().textContent()).toContain(`REPLY-${stamp}`);
    await history.getByTestId('timeline').scrollIntoViewIfNeeded();
    await agent1.screenshot({ path: join(SHOTS, 'continuity-history-en.png') });

    const zh = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'zh-CN' });
    contexts.push(zh);
    const page = await zh.newPage();
    await signIn(page, 'agent1');
    await page.getByRole('tab', { name: /我的会话/ }).click();
    await page.locator(`[data-testid="queue-item"][data-session-id="${apSessionId}"] .qitem__main`).click();
    await page.getByTestId('channel-switch').waitFor();
    expect(await page.getByTestId('channel-switch').textContent()).toContain('客户转到 App 继续沟通（此前在微信）');
    expect(await page.locator('[data-testid="messages"] .bubble [data-testid="channel-badge"]').allTextContents()).toEqual([
      '微信',
      'App',
      'App',
    ]);
    const zhPanel = page.getByTestId('identities');
    await zhPanel.getByTestId('identity').first().waitFor();
    expect(await zhPanel.locator('h3').first().textContent()).toBe('渠道与身份');
    await page.getByTestId('full-history').locator('summary').click();
    await page.getByTestId('timeline-message').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'continuity-zh.png') });
    await page.getByTestId('timeline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'continuity-history-zh.png') });
  });
});
