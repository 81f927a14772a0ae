import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 11, a warm transfer end to end in two Chromium windows: agent1 (English) takes an app
 * customer's chat in `general`, opens the Transfer dialog, picks Agent Two (vip, expert), warm, with
 * a note; agent1 sees it pending; agent2 (Chinese) gets the incoming-transfer card with the note and
 * the AI summary and accepts; the conversation opens for agent2 with the transfer on top and its
 * history; agent1's view closes with "accepted"; the customer is told a colleague continues and never
 * sees the agents' record of the transfer.
 */
describe('warm transfer end to end: agent1 → agent2, accepted', () => {
  let server: ServerProcess;
  let browser: Browser;
  let contexts: BrowserContext[];
  let agent1: Page;
  let agent2: Page;
  let ca: string;
  const stamp = Date.now().toString(36);
  const customer = { externalId: `transfer-${stamp}`, name: 'Wang Fang' };
  const question = `我的订单 2024112900123 被重复扣款了两次，请帮我退回一笔。REF-${stamp}`;
  const note = `Double charge on order 2024112900123, VIP customer. NOTE-${stamp}`;

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });

  const signIn = (page: Page, username: string) => signInAs(page, server, username);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    const en = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' });
    const zh = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'zh-CN' });
    contexts = [en, zh];
    agent1 = await en.newPage();
    agent2 = await zh.newPage();
    await signIn(agent1, 'agent1');
    await signIn(agent2, 'agent2');
  });

  afterAll(async () => {
    for (const c of contexts ?? []) await c.close();
    await browser?.close();
    await server?.stop();
  });

  it('agent1 takes the chat and warm-transfers it to Agent Two with a note', async () => {
    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: { customer, text: question, clientMessageId: `${customer.externalId}-1` },
    });
    expect(posted.status).toBe(202);
    const row = agent1.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row.waitFor();
    await row.getByTestId('accept').click();
    await agent1
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();

    await agent1.getByTestId('transfer-button').click();
    const dialog = agent1.getByTestId('transfer-dialog');
    await dialog.waitFor();
    const colleague = dialog.getByTestId('transfer-agent');
    await expect.poll(() => colleague.locator('option').allTextContents()).toEqual(['Agent Two ★ · available · 0 chats · VIP']);
    expect(await dialog.getByLabel(/Warm/).isChecked()).toBe(true);
    await dialog.getByTestId('transfer-note').fill(note);
    await agent1.screenshot({ path: join(SHOTS, 'transfer-dialog.png') });
    await dialog.getByTestId('transfer-send').click();

    const pending = agent1.getByTestId('transfer-pending');
    await pending.waitFor();
    expect(await pending.textContent()).toContain('Waiting for Agent Two to accept your transfer');
    // Still agent1's chat meanwhile: the composer is there.
    expect(await agent1.getByLabel('Reply').count()).toBe(1);
    await agent1.screenshot({ path: join(SHOTS, 'transfer-pending.png') });
  });

  it('agent2 sees the incoming transfer with the note and the AI summary, in Chinese, and accepts', async () => {
    const card = agent2.getByTestId('incoming-transfer');
    await card.waitFor();
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('转接请求');
    expect(text).toContain('来自 Agent One');
    expect(text).toContain(`NOTE-${stamp}`);
    expect(await card.getByTestId('transfer-summary').textContent()).toContain('2024112900123');
    await agent2.screenshot({ path: join(SHOTS, 'transfer-incoming-zh.png') });
    await card.getByTestId('transfer-accept').click();

    // The same conversation, its whole history, the transfer on top and in the transcript.
    await agent2
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();
    expect(await agent2.getByTestId('transfer-card').textContent()).toContain('由 Agent One 转接（协商转接）');
    expect(await agent2.getByTestId('transfer-card').textContent()).toContain(`NOTE-${stamp}`);
    expect(await agent2.getByTestId('transfer-record').textContent()).toContain('Agent One 将此会话转接给 Agent Two（协商转接）');
    expect(await agent2.getByTestId('incoming-transfer').count()).toBe(0);
    // The customer was told, in their language; the notice reaches agent2's transcript too.
    await agent2.getByTestId('agent-message').filter({ hasText: '同事' }).waitFor();
    expect(await agent2.getByTestId('routing-transfer').textContent()).toBe('转接：协商转接 · Agent One → Agent Two');
    await agent2.getByLabel('回复', { exact: true }).fill(`您好，我是 Agent Two，马上为您处理退款。FROM2-${stamp}`);
    await agent2.getByRole('button', { name: '发送', exact: true }).click();
    await agent2
      .getByTestId('agent-message')
      .filter({ hasText: `FROM2-${stamp}` })
      .waitFor();
    await expect.poll(() => agent2.locator('.bubble--pending').count()).toBe(0);
    await agent2.screenshot({ path: join(SHOTS, 'transfer-accepted-zh.png') });
  });

  it("closes agent1's view and tells them it was accepted", async () => {
    const notice = agent1.getByTestId('transfer-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Agent Two accepted your transfer');
    expect(await agent1.getByTestId('customer-message').count()).toBe(0);
    expect(
      await agent1
        .getByTestId('queue-item')
        .filter({ hasText: `REF-${stamp}` })
        .count(),
    ).toBe(0);
    await agent1.screenshot({ path: join(SHOTS, 'transfer-sender-done.png') });
  });

  it("the customer's app reads the notice and agent2's reply, never the staff record", async () => {
    const res = await api(`/api/v1/channels/app/messages?externalId=${customer.externalId}`, {
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    const body = JSON.parse(res.body) as AppMessagesResponse;
    expect(body.messages.map((m) => m.author)).toEqual(['customer', 'system', 'agent']);
    expect(body.messages[1]!.text).toContain('同事');
    expect(body.messages[2]!.text).toContain(`FROM2-${stamp}`);
    expect(res.body).not.toContain('staff.transfer');
    expect(res.body).not.toContain(`NOTE-${stamp}`);
  });
});
