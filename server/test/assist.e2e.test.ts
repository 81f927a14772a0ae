import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedbackReportSchema } from '../../common/api/ai-feedback';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import { DEFAULT_ROUTING_CONFIG } from '../../common/routing/types';
import { launchPinnedChromium } from './support/browser';
import { writeConfigFile } from './support/config-file';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 10, the assisted tier end to end: a routing config whose thresholds put every new contact in
 * `assisted` (50 < priority ≤ 80 by default; here 1 < priority ≤ 99), a named app-channel customer with
 * an order number, agent1 in Chromium. The offered contact opens with the AI draft already in the
 * composer (the customer's name and order number in it), marked for review; the agent edits and sends
 * it; the customer's app receives the edited text; the feedback report counts it as `edited`.
 */
describe('assisted tier end to end: draft in the composer → agent edits → customer receives', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ctx: BrowserContext;
  let agent: Page;
  let ca: string;
  const stamp = Date.now().toString(36);
  const customer = { externalId: `assisted-${stamp}`, name: 'Zhang Wei' };
  const question = `Where is my order 2024112900123? It has not arrived yet. REF-${stamp}`;
  const added = `I have also asked the warehouse to hurry it. EDIT-${stamp}`;

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const config = writeConfigFile({ routing: { ...DEFAULT_ROUTING_CONFIG, thresholds: { expert: 99, assisted: 1 } } });
    server = await startServerProcess({ env: { HUILIU_CONFIG: config } });
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    ctx = await browser.newContext({ viewport: { width: 1360, height: 800 }, locale: 'en-US' });
    agent = await ctx.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('offers the assisted-tier contact to agent1', async () => {
    await agent.goto(`${server.url}/app/`);
    await agent.getByLabel('Username').fill('agent1');
    await agent.getByLabel('Password').fill('huiliu-demo');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => agent.getByTestId('link-state').textContent()).toBe('Connected');

    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: { customer, text: question, clientMessageId: `${customer.externalId}-1` },
    });
    expect(posted.status).toBe(202);
    const row = agent.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row.waitFor();
    expect(await row.getByTestId('tier').textContent()).toBe('assisted');
  });

  it('opens with the AI draft in the composer, marked for review, with suggestions beside it', async () => {
    const row = agent.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row.getByTestId('accept').click();
    await agent
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();
    const banner = agent.getByTestId('ai-draft-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('AI draft — review before sending');
    expect(await banner.textContent()).toContain('order_status');
    const composer = agent.getByLabel('Reply');
    await expect.poll(() => composer.inputValue()).toMatch(/^Hi Zhang Wei, about order 2024112900123:\n/);
    // Suggestions show with their source; none is sent by itself.
    const chips = agent.getByTestId('suggestion');
    await chips.first().waitFor();
    expect(await chips.count()).toBeGreaterThanOrEqual(1);
    expect(await chips.count()).toBeLessThanOrEqual(3);
    expect(await chips.first().locator('.chip__source').textContent()).toMatch(/^(KB: [a-z_]+|Past reply)$/);
    await agent.screenshot({ path: join(SHOTS, 'assist-draft.png') });
  });

  it('sends the edited draft: the customer receives the edited text, the feedback says edited', async () => {
    const composer = agent.getByLabel('Reply');
    const drafted = await composer.inputValue();
    await composer.fill(`${drafted}\n${added}`);
    await agent.getByRole('button', { name: 'Send', exact: true }).click();
    await agent
      .getByTestId('agent-message')
      .filter({ hasText: `EDIT-${stamp}` })
      .waitFor();
    expect(await agent.getByTestId('ai-draft-banner').count()).toBe(0);
    expect(await composer.inputValue()).toBe('');

    // The customer's app polls its conversation and finds the agent's edited reply.
    const received = await (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await api(`/api/v1/channels/app/messages?externalId=${customer.externalId}`, {
          headers: { 'x-huiliu-key': 'demo-app-key' },
        });
        const body = JSON.parse(res.body) as AppMessagesResponse;
        const reply = body.messages.find((m) => m.direction === 'out' && m.text.includes(`EDIT-${stamp}`));
        if (reply) return reply;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the customer never received the reply');
    })();
    expect(received.author).toBe('agent');
    expect(received.text).toBe(`${drafted}\n${added}`);
    expect(received.text).toContain('Zhang Wei');
    expect(received.text).toContain('2024112900123');

    const login = await api('/api/v1/auth/login', { method: 'POST', json: { username: 'lead', password: 'huiliu-demo' } });
    const { token } = JSON.parse(login.body) as { token: string };
    const report = await (async () => {
      for (let i = 0; i < 50; i++) {
        const res = await api('/api/v1/ai/feedback', { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        const r = FeedbackReportSchema.parse(JSON.parse(res.body));
        if (r.decided > 0) return r;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('no feedback recorded');
    })();
    expect(report.byOutcome).toEqual({ accepted: 0, edited: 1, discarded: 0 });
    expect(report.byIntent).toEqual([{ intent: 'order_status', accepted: 0, edited: 1, discarded: 0 }]);
    expect(report.meanEditRatio).toBeGreaterThan(0);
    await agent.screenshot({ path: join(SHOTS, 'assist-sent.png') });
  });

  it('starts the wrap-up note with a summary of the conversation', async () => {
    await agent.getByRole('button', { name: 'Wrap up…' }).click();
    const note = agent.getByTestId('wrapup-note');
    await expect.poll(() => note.inputValue()).toContain('Intent: order_status');
    expect(await note.inputValue()).toContain('Details: order 2024112900123');
    await agent.screenshot({ path: join(SHOTS, 'assist-wrapup.png') });
    await agent.getByRole('button', { name: 'Close conversation' }).click();
    await agent.getByText('Closed · Resolved.').waitFor();
  });

  it('keeps the draft and the reply sealed: neither is in the data dir in plain text', async () => {
    expect(await server.stop()).toBe(0);
    const { spawnSync } = await import('node:child_process');
    for (const needle of [`EDIT-${stamp}`, 'warehouse to hurry', 'Hi Zhang Wei, about order']) {
      const grep = spawnSync('grep', ['-rl', '--binary-files=text', needle, server.dataDir], { encoding: 'utf8' });
      expect(grep.stdout, needle).toBe('');
    }
  });
});
