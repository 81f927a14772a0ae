import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 10 as a customer and an agent see it, in Chromium against the real `--demo` server with the
 * AI tier on: the customer (no purchase history: the AI tier) gets an answer marked as the AI's, asks
 * for a person with the widget's button, is told where they stand; the agent sees the contact with AI
 * first under "With AI", then offered, with why it was handed over and the summary.
 */
describe('the AI tier end to end: widget → AI answer → talk to a person → agent', () => {
  let server: ServerProcess;
  let browser: Browser;
  let customer: Page;
  let agent: Page;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess({ aiTier: true });
    browser = await launchPinnedChromium(server.dataDir);
    customer = await (await browser.newContext({ viewport: { width: 480, height: 760 }, locale: 'en-US' })).newPage();
    agent = await (await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' })).newPage();
    await agent.goto(`${server.url}/app/`);
    await agent.getByLabel('Username').fill('agent1');
    await agent.getByLabel('Password').fill('huiliu-demo');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByTestId('link-state').filter({ hasText: 'Connected' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('answers a low-priority customer with the AI, marked as the AI to the customer and to the agent', async () => {
    await customer.goto(`${server.url}/widget`);
    await expect.poll(() => customer.locator('#link-state').getAttribute('data-state')).toBe('online');
    await passPreChat(customer);
    // Before the first message there is nothing to hand over: no button yet.
    expect(await customer.locator('#handover').isVisible()).toBe(false);
    await customer.getByPlaceholder(/Type your question/).fill('How long does delivery take to Chengdu?');
    await customer.keyboard.press('Enter');
    const answer = customer.getByTestId('ai-message').first();
    await answer.waitFor();
    expect(await answer.textContent()).toMatch(/^AI assistant/);
    expect(await answer.textContent()).toMatch(/days/);
    await expect.poll(() => customer.locator('#agent-line').textContent()).toMatch(/AI assistant is answering/);
    await customer.locator('#handover').waitFor({ state: 'visible' });
    await customer.screenshot({ path: join(SHOTS, 'ai-tier-widget-answer.png') });

    // The agent sees it under "With AI", with the transcript, before anyone asked for a person.
    await agent.getByTestId('tab-ai').click();
    // Its preview is the newest message: the AI's answer.
    const row = agent.getByTestId('queue-item').filter({ has: agent.getByTestId('with-ai') });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/ship/);
    await row.locator('.qitem__main').click();
    await agent.getByTestId('take-over').waitFor();
    await expect.poll(() => agent.getByTestId('messages').textContent()).toMatch(/days/);
    await agent.screenshot({ path: join(SHOTS, 'ai-tier-with-ai.png') });
  });

  it('hands over at the press of "Talk to a person": the customer hears their place, the agent gets the contact with why and a summary', async () => {
    await customer.locator('#handover').click();
    await customer.getByTestId('system-message').filter({ hasText: 'Passing you to a person' }).waitFor();
    await expect.poll(() => customer.locator('#agent-line').textContent()).toMatch(/number 1 in the queue/);
    await expect.poll(() => customer.locator('#handover').isVisible()).toBe(false);
    await customer.screenshot({ path: join(SHOTS, 'ai-tier-widget-handover.png') });

    // Offered to agent1 (online, general): the row says it came from the AI and why.
    await agent.getByRole('tab', { name: /Waiting/ }).click();
    const row = agent.getByTestId('queue-item').filter({ hasText: 'Passing you to a person' });
    await row.waitFor();
    expect(await row.getByTestId('handover').textContent()).toBe('from AI: button');
    // Offered to agent1 at once (not after another agent's offer lapsed): the button says so.
    expect(await row.getByTestId('accept').textContent()).toBe('Accept offer');
    await row.getByTestId('accept').click();
    await expect.poll(() => customer.getByTestId('status').allTextContents()).toContain('Agent One joined the chat');
    // The conversation shows the AI's answer marked as the AI's, and the hand-over summary.
    await agent.getByTestId('handover-summary').waitFor();
    expect(await agent.getByTestId('handover-summary').textContent()).toMatch(/delivery/i);
    await agent.screenshot({ path: join(SHOTS, 'ai-tier-agent-handover.png') });

    // The agent answers; the customer sees a person's answer, not the AI's.
    await agent.getByLabel('Reply').fill('Hi, this is Agent One: Chengdu is 2–4 days.');
    await agent.keyboard.press('Enter');
    await customer.getByTestId('agent-message').filter({ hasText: 'Agent One: Chengdu' }).waitFor();
  });
});
