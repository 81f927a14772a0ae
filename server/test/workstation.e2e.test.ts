import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_ID_PATTERN } from '../../common/message/session-id';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');

/** A customer writing through the app channel (`POST /api/v1/channels/app/messages`). */
async function postApp(server: ServerProcess, customer: { externalId: string; name: string }, text: string): Promise<void> {
  const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
  const { status } = await httpsRequest(`${server.url}/api/v1/channels/app/messages`, {
    method: 'POST',
    ca,
    headers: { 'x-huiliu-key': 'demo-app-key' },
    json: { customer, text, clientMessageId: `${customer.externalId}-1` },
  });
  expect(status).toBe(202);
}

/** The chat bubbles of one kind (`customer-message` / `agent-message`) that contain `marker`. */
const bubbles = (page: Page, kind: 'customer-message' | 'agent-message', marker: string) =>
  page.getByTestId(kind).filter({ hasText: marker });

describe('one conversation end to end: widget → server → workstation → widget', () => {
  let server: ServerProcess;
  let browser: Browser;
  let customerCtx: BrowserContext;
  let agentCtx: BrowserContext;
  let customer: Page;
  let agent: Page;
  const stamp = Date.now().toString(36);
  const question = `My order HL-${stamp} has not arrived, can you check? 我的订单还没到`;
  const answer = `It ships today, tracking ${stamp}-TRACK. 今天发货`;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    // Trust exactly this server's key, the way the desktop app pins its CA.
    browser = await launchPinnedChromium(server.dataDir);
    customerCtx = await browser.newContext({ viewport: { width: 480, height: 720 } });
    agentCtx = await browser.newContext({ viewport: { width: 1360, height: 800 }, locale: 'en-US' });
    customer = await customerCtx.newPage();
    agent = await agentCtx.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lets agent1 sign in to the workstation at /app/', async () => {
    await agent.goto(`${server.url}/app/`);
    await agent.getByLabel('Username').fill('agent1');
    await agent.getByLabel('Password').fill('huiliu-demo');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => agent.getByTestId('link-state').textContent()).toBe('Connected');
    expect(await agent.getByTestId('current-user').textContent()).toContain('Agent One');
  });

  it('refuses a wrong password with a clear message', async () => {
    const page = await agentCtx.newPage();
    await page.goto(`${server.url}/app/`);
    // This tab shares the signed-in session storage? No: sessionStorage is per tab, so it shows the login.
    await page.getByLabel('Username').fill('agent1');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The sentence for the stable code, with the code itself in small type for support (errors namespace).
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong username or password.');
    expect(await page.getByRole('alert').textContent()).toContain('INVALID_CREDENTIALS');
    await page.close();
  });

  it('carries a customer question from the widget into the agent queue with tier and priority', async () => {
    await customer.goto(`${server.url}/widget`);
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state')).toBe('online');
    await passPreChat(customer);
    await customer.getByPlaceholder(/Type your question/).fill(question);
    await customer.keyboard.press('Enter');
    // Acked by the server: the bubble has a seq and is no longer pending.
    await expect.poll(() => customer.locator('[data-testid="customer-message"][data-seq="1"]').count()).toBe(1);

    const row = agent.getByTestId('queue-item').filter({ hasText: `HL-${stamp}` });
    await row.waitFor();
    expect(await row.getAttribute('data-session-id')).toMatch(SESSION_ID_PATTERN);
    expect(await row.getByTestId('tier').getAttribute('data-tier')).toMatch(/^(expert|assisted|ai)$/);
    expect(await row.getByTestId('priority').textContent()).toMatch(/^P\d+$/);

    // Two app-channel customers join the same unified queue; the angrier one ranks higher.
    await postApp(server, { externalId: `calm-${stamp}`, name: '王芳' }, `Can I change my delivery address? APP-${stamp}-1`);
    await postApp(
      server,
      { externalId: `angry-${stamp}`, name: 'Zhang Wei' },
      `我要投诉！！订单 2023111500${stamp.length} 付了 399 元还没发货，退款也没到？太慢了 APP-${stamp}-2`,
    );
    const calm = agent.getByTestId('queue-item').filter({ hasText: `APP-${stamp}-1` });
    const angry = agent.getByTestId('queue-item').filter({ hasText: `APP-${stamp}-2` });
    await calm.waitFor();
    await angry.waitFor();
    expect(await angry.getAttribute('data-session-id')).toMatch(/^AP\d{18}$/);
    const prio = async (r: typeof row) => Number(await r.getByTestId('priority').getAttribute('data-priority'));
    expect(await prio(angry)).toBeGreaterThan(await prio(calm));
    // Sorted by priority: the angry customer is listed above the calm one.
    const order = await agent.getByTestId('queue-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-session-id')));
    expect(order.indexOf(await angry.getAttribute('data-session-id'))).toBeLessThan(
      order.indexOf(await calm.getAttribute('data-session-id')),
    );
    await agent.screenshot({ path: join(SHOTS, 'workstation-queue.png') });
  });

  it('lets the agent accept, read the history and reply; the widget shows the answer', async () => {
    const row = agent.getByTestId('queue-item').filter({ hasText: `HL-${stamp}` });
    await row.getByTestId('accept').click();
    await bubbles(agent, 'customer-message', `HL-${stamp}`).waitFor();
    expect(await agent.getByTestId('session-id').textContent()).toMatch(/^WB\d{18}$/);
    await agent.getByTestId('routing').waitFor();

    await expect.poll(() => customer.getByTestId('status').allTextContents()).toContain('Agent One joined the chat');
    await agent.getByLabel('Reply').fill(answer);
    await agent.keyboard.press('Enter');
    await bubbles(agent, 'agent-message', `${stamp}-TRACK`).waitFor();

    await bubbles(customer, 'agent-message', `${stamp}-TRACK`).waitFor();
    await agent.screenshot({ path: join(SHOTS, 'workstation-conversation.png') });
    await customer.screenshot({ path: join(SHOTS, 'widget-answer.png') });
  });

  it('resumes the widget after a page reload without duplicates', async () => {
    await customer.reload();
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state')).toBe('online');
    await bubbles(customer, 'agent-message', `${stamp}-TRACK`).waitFor();
    expect(await bubbles(customer, 'customer-message', `HL-${stamp}`).count()).toBe(1);
    expect(await bubbles(customer, 'agent-message', `${stamp}-TRACK`).count()).toBe(1);
  });

  it('delivers what the agent sent while the customer was offline once the network is back', async () => {
    await customerCtx.setOffline(true);
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state')).toBe('offline');
    const whileAway = `Also: your refund ${stamp}-AWAY is done.`;
    await agent.getByLabel('Reply').fill(whileAway);
    await agent.keyboard.press('Enter');
    await bubbles(agent, 'agent-message', `${stamp}-AWAY`).waitFor();
    // Really offline: the reply cannot reach the widget yet.
    await customer.waitForTimeout(1500);
    expect(await bubbles(customer, 'agent-message', `${stamp}-AWAY`).count()).toBe(0);
    await customerCtx.setOffline(false);
    await bubbles(customer, 'agent-message', `${stamp}-AWAY`).waitFor({ timeout: 20_000 });
    expect(await bubbles(customer, 'agent-message', `${stamp}-AWAY`).count()).toBe(1);
    expect(await bubbles(customer, 'agent-message', `${stamp}-TRACK`).count()).toBe(1);
  });

  it('loses nothing across a server restart: the outbox and both sides catch up', async () => {
    expect(await server.stop()).toBe(0);
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state')).toBe('offline');
    // Written while the server is down: waits in the widget's outbox.
    const queued = `Typed while you were down ${stamp}-OUTBOX`;
    await customer.getByPlaceholder(/Type your question/).fill(queued);
    await customer.keyboard.press('Enter');
    await bubbles(customer, 'customer-message', `${stamp}-OUTBOX`).waitFor();
    expect(await bubbles(customer, 'customer-message', `${stamp}-OUTBOX`).getAttribute('class')).toContain('msg--pending');

    server = await startServerProcess({ dataDir: server.dataDir, port: server.port });
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 30_000 }).toBe('Connected');
    // The outbox was flushed and acked (seq assigned), and the agent sees it in the open conversation.
    await expect
      .poll(() => bubbles(customer, 'customer-message', `${stamp}-OUTBOX`).getAttribute('data-seq'), { timeout: 20_000 })
      .toMatch(/^\d+$/);
    await bubbles(agent, 'customer-message', `${stamp}-OUTBOX`).waitFor({ timeout: 20_000 });
    const after = `Back online ${stamp}-RESTART`;
    await agent.getByLabel('Reply').fill(after);
    await agent.keyboard.press('Enter');
    await bubbles(customer, 'agent-message', `${stamp}-RESTART`).waitFor({ timeout: 20_000 });
    expect(await bubbles(customer, 'customer-message', `${stamp}-OUTBOX`).count()).toBe(1);
    expect(await bubbles(agent, 'customer-message', `${stamp}-OUTBOX`).count()).toBe(1);
  }, 120_000);

  it('closes the conversation with a wrap-up code and tells the customer', async () => {
    await agent.getByRole('button', { name: 'Wrap up…' }).click();
    await agent.getByLabel('Wrap-up code').selectOption('resolved');
    await agent.getByRole('button', { name: 'Close conversation' }).click();
    await expect.poll(() => agent.getByTestId('closed-note').getAttribute('data-wrap-up-code')).toBe('resolved');
    await expect.poll(() => customer.getByTestId('status').allTextContents()).toContain('Conversation closed');
  });

  it("shows an angry customer's emotion on the queue item and the message, in English and in Chinese", async () => {
    await postApp(server, { externalId: `furious-${stamp}`, name: '李娜' }, `气死我了！！你们这什么破服务 EMO-${stamp}`);
    await agent.getByRole('tab', { name: /Waiting/ }).click();
    const row = agent.getByTestId('queue-item').filter({ hasText: `EMO-${stamp}` });
    await row.waitFor();
    expect(await row.getByTestId('emotion').getAttribute('data-emotion')).toBe('anger');
    expect(await row.getByTestId('emotion').getAttribute('aria-label')).toMatch(/^anger \d+%$/);
    expect(await row.getAttribute('data-attention')).toBe('true');
    // The badge fits the tag line: the row is as tall with it as without it (no jump when it appears).
    const heights = await row.evaluate((li) => {
      // (No DOM types in the server's tsconfig: the badge is typed by what is used of it.)
      const badge = li.querySelector('[data-testid="emotion"]') as unknown as { style: { display: string } };
      const withBadge = li.getBoundingClientRect().height;
      badge.style.display = 'none';
      const without = li.getBoundingClientRect().height;
      badge.style.display = '';
      return [withBadge, without];
    });
    expect(heights[0]).toBe(heights[1]);

    await row.locator('.qitem__main').click();
    const said = bubbles(agent, 'customer-message', `EMO-${stamp}`);
    await said.waitFor();
    expect(await said.getByTestId('emotion').getAttribute('aria-label')).toMatch(/^anger \d+%$/);
    await agent.screenshot({ path: join(SHOTS, 'workstation-emotion-en.png') });

    // A Chinese-speaking lead sees the same badges named in Chinese.
    const zhCtx = await browser.newContext({ viewport: { width: 1360, height: 800 }, locale: 'zh-CN' });
    try {
      const lead = await zhCtx.newPage();
      await lead.goto(`${server.url}/app/`);
      // The sign-in page is in Chinese for this browser: fields by name, not by their English labels.
      await lead.locator('input[name="username"]').fill('lead');
      await lead.locator('input[name="password"]').fill('huiliu-demo');
      await lead.locator('form button[type="submit"]').click();
      const leadRow = lead.getByTestId('queue-item').filter({ hasText: `EMO-${stamp}` });
      await leadRow.waitFor();
      expect(await leadRow.getByTestId('emotion').getAttribute('aria-label')).toMatch(/^愤怒 \d+%$/);
      expect(await leadRow.getByTestId('emotion').textContent()).toContain('愤怒');
      await leadRow.locator('.qitem__main').click();
      const zhSaid = bubbles(lead, 'customer-message', `EMO-${stamp}`);
      await zhSaid.waitFor();
      expect(await zhSaid.getByTestId('emotion').getAttribute('aria-label')).toMatch(/^愤怒 \d+%$/);
      await lead.screenshot({ path: join(SHOTS, 'workstation-emotion-zh.png') });
    } finally {
      await zhCtx.close();
    }
  });

  it('stores the conversation encrypted: no plaintext anywhere in the data dir', async () => {
    const code = await server.stop();
    expect(code, server.output().slice(-3000)).toBe(0);
    const files = readdirSync(server.dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.map((f) => f.name)).toContain('huiliu.db');
    for (const needle of [`HL-${stamp}`, `${stamp}-TRACK`, `${stamp}-AWAY`, `${stamp}-OUTBOX`, `${stamp}-RESTART`, '我的订单还没到']) {
      const grep = spawnSync('grep', ['-rl', '--binary-files=text', needle, server.dataDir], { encoding: 'utf8' });
      expect(grep.stdout, needle).toBe('');
      expect(grep.status, needle).toBe(1);
    }
    // The same check in-process, byte for byte, in case grep's locale treats UTF-8 oddly.
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      expect(bytes.includes(Buffer.from(`HL-${stamp}`)), f.name).toBe(false);
    }
  });
});
