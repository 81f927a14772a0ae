import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import { launchPinnedChromium } from './support/browser';
import { startTestServer, type TestServer } from './support/harness';
import { REPO } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 15, collision control and keyboard shortcuts end to end in two Chromium windows on the real
 * server (in this process, so a second agent of `general` can be added: Agent Three, Chinese UI).
 * Agent Three goes busy with the `2` key and opens a waiting app customer's chat from the queue;
 * Agent One (English) opens the `?` overlay, closes it with Esc and accepts the offer with `A`. Each
 * sees the other viewing; Agent Three's composer is read only; they ask to take over, Agent One hands
 * over from the prompt, and Agent Three's reply reaches the customer's app.
 */
describe('collision control end to end: two agents, one conversation, a take-over', () => {
  let s: TestServer;
  let browser: Browser;
  let contexts: BrowserContext[];
  let one: Page;
  let three: Page;
  const stamp = Date.now().toString(36);
  const customer = { externalId: `collision-${stamp}`, name: 'Zhang Wei' };
  const question = `My parcel has not arrived yet, can you check? REF-${stamp}`;

  /** Signs in from the login page, in whichever language the context shows it (en-US or zh-CN). */
  const signIn = (page: Page, username: string) => signInAs(page, s, username);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await startTestServer();
    await s.services.auth.createUser({
      username: 'agent3',
      displayName: 'Agent Three',
      password: 'huiliu-demo',
      roles: ['agent'],
      skillGroups: ['general'],
    });
    browser = await launchPinnedChromium(s.dataDir);
    const en = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' });
    const zh = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'zh-CN' });
    contexts = [en, zh];
    one = await en.newPage();
    three = await zh.newPage();
    await signIn(one, 'agent1');
    await signIn(three, 'agent3');
  });

  afterAll(async () => {
    for (const c of contexts ?? []) await c.close();
    await browser?.close();
    await s?.cleanup();
  });

  it('shows presence with load, and sets it with a key (2 → busy)', async () => {
    await expect.poll(() => three.getByTestId('presence-load').textContent()).toBe('空闲 · 0/3 个会话');
    await three.locator('body').press('2');
    await expect.poll(() => three.getByTestId('presence-load').textContent()).toMatch(/^忙碌 · 0\/\d+ 个会话$/);
  });

  it('agent1 opens the ? overlay, closes it with Esc, and accepts the offer with A; both see each other', async () => {
    const posted = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer, text: question, clientMessageId: `${customer.externalId}-1` },
    });
    expect(posted.statusCode).toBe(202);
    // Agent Three (busy) opens the waiting chat from the queue to read it.
    const row3 = three.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row3.waitFor();
    await row3.locator('.qitem__main').click();
    await three
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();

    const row1 = one.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row1.getByTestId('decline').waitFor(); // offered to agent1
    await one.locator('body').press('Shift+?');
    const overlay = one.getByTestId('shortcuts-overlay');
    await overlay.waitFor();
    expect(await overlay.textContent()).toContain('Accept the offered contact');
    expect(await overlay.locator('tr').count()).toBeGreaterThanOrEqual(13);
    await one.screenshot({ path: join(SHOTS, 'shortcuts-en.png') });
    await one.keyboard.press('Escape');
    await overlay.waitFor({ state: 'detached' });
    await one.locator('body').press('a');
    await one.getByLabel('Reply').waitFor();
    await expect.poll(() => one.getByTestId('presence-load').textContent()).toMatch(/^Available · 1\/\d+ chats$/);

    await expect.poll(() => one.getByTestId('viewers').textContent()).toMatch(/^Also viewing:.*Agent Three$/);
    await expect.poll(() => three.getByTestId('viewers').textContent()).toContain('Agent One · 处理中');
    const readOnly = three.getByTestId('readonly-composer');
    await readOnly.waitFor();
    expect(await readOnly.textContent()).toContain('Agent One 正在处理此会话');
    expect(await three.getByLabel('Reply').count()).toBe(0);
    await three.locator('body').press('Shift+?');
    await three.getByTestId('shortcuts-overlay').waitFor();
    await three.screenshot({ path: join(SHOTS, 'shortcuts-zh.png') });
    await three.keyboard.press('Escape');
    await three.getByTestId('shortcuts-overlay').waitFor({ state: 'detached' });
  });

  it('agent3 asks to take over, agent1 hands over from the prompt, agent3 replies and the customer gets it', async () => {
    // Back to available (1): a take-over hands the chat to an agent who can take it now.
    await three.locator('body').press('1');
    await expect.poll(() => three.getByTestId('presence-load').textContent()).toMatch(/^空闲/);
    await three.getByTestId('ask-takeover').click();
    await expect.poll(() => three.getByTestId('takeover-asking').textContent()).toContain('正在请 Agent One 移交此会话');
    const prompt = one.getByTestId('takeover-prompt');
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain('Agent Three asks to take over your conversation');
    await three.screenshot({ path: join(SHOTS, 'collision-zh.png') });
    await one.screenshot({ path: join(SHOTS, 'collision-en.png') });
    await prompt.getByTestId('takeover-accept').click();

    await expect.poll(() => one.getByTestId('takeover-outcome').textContent()).toContain('You handed the conversation over to Agent Three');
    await expect.poll(() => three.getByTestId('takeover-outcome').textContent()).toContain('Agent One 已将会话移交给你');
    const reply = three.getByTestId('composer');
    await reply.waitFor();
    await reply.fill(`您好，我是 Agent Three，马上为您查询。FROM3-${stamp}`);
    await reply.press('Control+Enter');
    await three
      .getByTestId('agent-message')
      .filter({ hasText: `FROM3-${stamp}` })
      .waitFor();
    await expect.poll(() => three.locator('.bubble--pending').count()).toBe(0);
    // Agent One may no longer reply: the chat left their desk (as after a transfer they made).
    await expect.poll(() => one.getByLabel('Reply').count()).toBe(0);

    await expect
      .poll(async () => {
        const res = await s.app.inject({
          url: `/api/v1/channels/app/messages?externalId=${customer.externalId}`,
          headers: { 'x-huiliu-key': 'demo-app-key' },
        });
        return (res.json() as AppMessagesResponse).messages.map((m) => m.text).join('\n');
      })
      .toContain(`FROM3-${stamp}`);
  });

  it('agent3 finds a chat agent1 holds in the Team tab, reads it live, asks, agent1 hands over, and agent3 replies to the customer', async () => {
    const other = { externalId: `collision-team-${stamp}`, name: 'Wang Fang' };
    // Agent Three busy (2, out of the reply box): the new contact is offered to Agent One, who takes it from the queue.
    await three.getByTestId('composer').blur();
    await three.locator('body').press('2');
    await expect.poll(() => three.getByTestId('presence-load').textContent()).toMatch(/^忙碌/);
    const posted = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: other, text: `Where is my refund? TEAM-${stamp}`, clientMessageId: `${other.externalId}-1` },
    });
    expect(posted.statusCode).toBe(202);
    await one.getByTestId('tab-waiting').click();
    const row1 = one.getByTestId('queue-item').filter({ hasText: `TEAM-${stamp}` });
    await row1.getByTestId('accept').click();
    await one.getByLabel('Reply').waitFor();
    await expect.poll(() => one.getByTestId('conversation-customer').textContent()).toContain('Wang Fang');
    await three.locator('body').press('1');
    await expect.poll(() => three.getByTestId('presence-load').textContent()).toMatch(/^空闲/);

    // Agent Three: the Team tab lists it with its holder; opened, it is read only and live.
    await three.getByTestId('tab-team').click();
    const item = three.getByTestId('team-item').filter({ hasText: `TEAM-${stamp}` });
    await item.waitFor();
    expect(await item.getByTestId('team-holder').textContent()).toBe('Agent One 处理中');
    const heldId = await item.getAttribute('data-session-id');
    await item.locator('.qitem__main').click();
    const readOnly = three.getByTestId('readonly-composer');
    await readOnly.waitFor();
    await expect.poll(() => readOnly.textContent()).toContain('Agent One 正在处理此会话');
    await expect.poll(() => one.getByTestId('viewers').textContent()).toContain('Agent Three');
    await expect.poll(() => three.getByTestId('viewers').textContent()).toContain('Agent One · 处理中');
    const more = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: other, text: `It has been two weeks. LIVE-${stamp}`, clientMessageId: `${other.externalId}-2` },
    });
    expect(more.statusCode).toBe(202);
    await three
      .getByTestId('customer-message')
      .filter({ hasText: `LIVE-${stamp}` })
      .waitFor();
    // Issue 15: the Team row follows by push (no timer reads the list any more): its preview is the new message.
    const teamRow = three.locator(`[data-testid="team-item"][data-session-id="${heldId}"]`);
    await expect.poll(() => teamRow.textContent(), { timeout: 5000 }).toContain(`LIVE-${stamp}`);
    expect(await three.getByLabel('Reply').count()).toBe(0);
    await three.screenshot({ path: join(SHOTS, 'takeover-team-zh.png') });
    // The same screen in English (the language switch), then back.
    await three.getByTestId('language-switch').selectOption('en');
    await expect.poll(() => three.getByTestId('tab-team').textContent()).toMatch(/^Team/);
    await expect.poll(() => readOnly.textContent()).toContain('Agent One is handling this conversation');
    await three.screenshot({ path: join(SHOTS, 'takeover-team-en.png') });
    await three.getByTestId('language-switch').selectOption('zh');
    await expect.poll(() => three.getByTestId('tab-team').textContent()).toMatch(/^同事/);

    // Ask; Agent One gets the prompt (it must not cover their composer's Send button), hands over.
    await three.getByTestId('ask-takeover').click();
    await expect.poll(() => three.getByTestId('takeover-asking').textContent()).toContain('正在请 Agent One 移交此会话');
    const prompt = one.getByTestId('takeover-prompt');
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain('Agent Three asks to take over your conversation');
    const send = await one.getByTestId('composer-submit').boundingBox();
    const box = await prompt.boundingBox();
    expect(send && box).toBeTruthy();
    const overlaps = (a: typeof box, b: typeof box) =>
      !!a && !!b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    expect(overlaps(send, box)).toBe(false);
    // The notice of the earlier take-over (another conversation) is not shown over this one.
    expect(await one.getByTestId('transfer-notice').count()).toBe(0);
    await one.screenshot({ path: join(SHOTS, 'takeover-prompt-en.png') });
    await three.screenshot({ path: join(SHOTS, 'takeover-asking-zh.png') });
    await prompt.getByTestId('takeover-accept').click();

    await expect.poll(() => three.getByTestId('takeover-outcome').textContent()).toContain('Agent One 已将会话移交给你');
    const reply = three.getByTestId('composer');
    await reply.waitFor();
    await reply.fill(`您好，我来为您处理退款。TEAMREPLY-${stamp}`);
    await reply.press('Control+Enter');
    await three
      .getByTestId('agent-message')
      .filter({ hasText: `TEAMREPLY-${stamp}` })
      .waitFor();
    await three.screenshot({ path: join(SHOTS, 'takeover-done-zh.png') });
    await expect
      .poll(async () => {
        const res = await s.app.inject({
          url: `/api/v1/channels/app/messages?externalId=${other.externalId}`,
          headers: { 'x-huiliu-key': 'demo-app-key' },
        });
        return (res.json() as AppMessagesResponse).messages.map((m) => m.text).join('\n');
      })
      .toContain(`TEAMREPLY-${stamp}`);
    // It is among Agent Three's chats now (the queue column switched to them).
    await expect.poll(() => three.getByTestId('queue-item').filter({ hasText: 'Wang Fang' }).count()).toBe(1);
  });
});
