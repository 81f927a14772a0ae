import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage } from '../src/audit/audit';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';

const SHOTS = join(REPO, 'test-output', 'e2e');
const PHONE = '13812345678';

/**
 * Issue 17 in the workstation: an agent sees the phone number a customer wrote masked, with a "Show"
 * (en) / "显示" (zh) button reachable by keyboard; pressing it asks the server (audited as
 * `pii.reveal`) and shows the number in place. Screenshots in both languages.
 */
describe('masked personal data in the workstation, revealed on demand', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ca: string;
  const stamp = Date.now().toString(36);

  const post = async (externalId: string, text: string) => {
    const answer = await httpsRequest(`${server.url}/api/v1/channels/app/messages`, {
      method: 'POST',
      ca,
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: { customer: { externalId, name: 'Chen Jing' }, text, clientMessageId: `${externalId}-1`, hints: { skillGroup: 'general' } },
    });
    expect(answer.status).toBe(202);
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Signs agent1 in with the UI in `locale`, accepts the contact whose text holds `marker`, and returns the page. */
  async function agentOn(
    locale: 'en-US' | 'zh-CN',
    marker: string,
    labels: { user: RegExp; password: RegExp; signIn: RegExp },
  ): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, locale });
    const page = await context.newPage();
    await page.goto(`${server.url}/app/`);
    await page.getByLabel(labels.user).fill('agent1');
    await page.getByLabel(labels.password).fill('huiliu-demo');
    await page.getByRole('button', { name: labels.signIn }).click();
    const row = page.getByTestId('queue-item').filter({ hasText: marker });
    await row.waitFor();
    // The queue row's preview is masked too.
    expect(await row.textContent()).not.toContain(PHONE);
    await row.getByTestId('accept').click();
    await page.getByTestId('customer-message').filter({ hasText: marker }).waitFor();
    return page;
  }

  it('shows the number masked with a Show button; Enter on the focused button reveals it (en)', async () => {
    const marker = `EN-${stamp}`;
    await post(`pii-en-${stamp}`, `Please call me at ${PHONE} about ${marker}`);
    const page = await agentOn('en-US', marker, { user: /Username/, password: /Password/, signIn: /Sign in/ });
    const bubble = page.getByTestId('customer-message').filter({ hasText: marker });
    expect(await bubble.textContent()).toContain(`*******${PHONE.slice(-4)}`);
    expect(await bubble.textContent()).not.toContain(PHONE);
    const show = bubble.getByRole('button', { name: /Show the hidden personal data/ });
    expect(await show.textContent()).toBe('Show');
    await page.screenshot({ path: join(SHOTS, 'pii-masked-en.png') });
    // Keyboard: focus the button and press Enter.
    await show.focus();
    expect(
      await show.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement),
    ).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => bubble.textContent()).toContain(PHONE);
    expect(await bubble.getByTestId('reveal-pii').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'pii-revealed-en.png') });
    await page.context().close();
  });

  it('labels the button 显示 in Chinese and reveals the number on click, each reveal audited without the value', async () => {
    const marker = `ZH-${stamp}`;
    await post(`pii-zh-${stamp}`, `请拨打 ${PHONE} 联系我 ${marker}`);
    const page = await agentOn('zh-CN', marker, { user: /Username|用户名/, password: /Password|密码/, signIn: /Sign in|登录/ });
    const bubble = page.getByTestId('customer-message').filter({ hasText: marker });
    const show = bubble.getByRole('button', { name: /显示隐藏的个人信息/ });
    expect(await show.textContent()).toBe('显示');
    await page.screenshot({ path: join(SHOTS, 'pii-masked-zh.png') });
    await show.click();
    await expect.poll(() => bubble.textContent()).toContain(PHONE);
    await page.screenshot({ path: join(SHOTS, 'pii-revealed-zh.png') });
    await page.context().close();

    const login = await httpsRequest(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      ca,
      json: { username: 'auditor', password: 'huiliu-demo' },
    });
    const token = (JSON.parse(login.body) as { token: string }).token;
    const from = new Date(Date.now() - 600_000).toISOString();
    let reveals: AuditPage['entries'] = [];
    await expect
      .poll(async () => {
        const res = await httpsRequest(`${server.url}/api/v1/audit?userId=agent1&limit=500&from=${from}`, {
          ca,
          headers: { authorization: `Bearer ${token}` },
        });
        reveals = (JSON.parse(res.body) as AuditPage).entries.filter((e) => e.action === 'pii.reveal');
        return reveals.length;
      })
      .toBe(2);
    expect(reveals.every((e) => e.outcome === 'ok' && e.target?.kind === 'session')).toBe(true);
    expect(JSON.stringify(reveals)).not.toContain(PHONE);
  });
});
