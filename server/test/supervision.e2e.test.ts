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
 * Issues 15 and 16 end to end in Chromium against the built server (`--demo`): agent1 (English)
 * takes an app customer's chat and adds an internal note; the demo `lead` opens the Supervise page,
 * supervises the chat read-only (no composer), sees the note, whispers to agent1 — who sees "Whisper
 * from Team Lead" in their timeline and nothing reaches the customer — then barges in: the customer's
 * app reads the lead's message. A second lead window in Chinese shows the same view (主管悄悄话).
 */
describe('supervision end to end: lead whispers to agent1, then barges in', () => {
  let server: ServerProcess;
  let browser: Browser;
  let contexts: BrowserContext[];
  let agent1: Page;
  let lead: Page;
  let leadZh: Page;
  let ca: string;
  const stamp = Date.now().toString(36);
  const customer = { externalId: `supervise-${stamp}`, name: 'Li Lei' };
  const question = `My parcel has not arrived after ten days. REF-${stamp}`;

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const customerReads = async () => {
    const res = await api(`/api/v1/channels/app/messages?externalId=${customer.externalId}`, {
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    return { body: JSON.parse(res.body) as AppMessagesResponse, raw: res.body };
  };

  const signIn = (page: Page, username: string) => signInAs(page, server, username);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The compiled server (just built) starts faster than tsx on a busy machine.
    server = await startServerProcess({ compiled: true });
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    const en = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' });
    const enLead = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' });
    const zh = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'zh-CN' });
    contexts = [en, enLead, zh];
    agent1 = await en.newPage();
    lead = await enLead.newPage();
    leadZh = await zh.newPage();
    await signIn(agent1, 'agent1');
  });

  afterAll(async () => {
    for (const c of contexts ?? []) await c.close();
    await browser?.close();
    await server?.stop();
  });

  it('agent1 takes the chat and adds an internal note (yellow, never sent)', async () => {
    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: { customer, text: question, clientMessageId: `${customer.externalId}-1`, hints: { skillGroup: 'general' } },
    });
    expect(posted.status).toBe(202);
    const row = agent1.getByTestId('queue-item').filter({ hasText: `REF-${stamp}` });
    await row.waitFor();
    await row.getByTestId('accept').click();
    await agent1
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();

    await agent1.getByTestId('mode-note').click();
    await agent1.getByTestId('composer').fill(`Customer called twice already. NOTE-${stamp}`);
    await agent1.getByTestId('composer-submit').click();
    const note = agent1.getByTestId('internal-note').filter({ hasText: `NOTE-${stamp}` });
    await note.waitFor();
    expect(await note.textContent()).toContain('Internal note');
    await agent1.getByTestId('mode-reply').click();
    expect((await customerReads()).raw).not.toContain(`NOTE-${stamp}`);
  });

  it('the lead supervises it read-only, sees the note, and whispers: agent1 alone sees "Whisper from Team Lead"', async () => {
    await signIn(lead, 'lead');
    // Leads take contacts too; away, this one is not offered anything while supervising.
    await lead.getByLabel('Presence').selectOption('away');
    await lead.getByTestId('view-supervise').click();
    const row = lead.getByTestId('supervise-row').filter({ hasText: 'Agent One' }).first();
    await row.waitFor();
    await row.getByTestId('supervise-open').click();
    const view = lead.getByTestId('supervision-view');
    await view.waitFor();
    await view
      .getByTestId('customer-message')
      .filter({ hasText: `REF-${stamp}` })
      .waitFor();
    await view
      .getByTestId('internal-note')
      .filter({ hasText: `NOTE-${stamp}` })
      .waitFor();
    // Read-only: no reply composer on the lead's screen.
    expect(await lead.getByTestId('composer').count()).toBe(0);

    await view.getByTestId('supervision-input').fill(`Offer the 10% coupon. WHISPER-${stamp}`);
    await view.getByTestId('supervision-send').click();
    await view
      .getByTestId('whisper')
      .filter({ hasText: `WHISPER-${stamp}` })
      .waitFor();

    const whisper = agent1.getByTestId('whisper').filter({ hasText: `WHISPER-${stamp}` });
    await whisper.waitFor();
    expect(await whisper.textContent()).toContain('Whisper from Team Lead');
    await agent1.screenshot({ path: join(SHOTS, 'supervision-agent-en.png') });
    expect((await customerReads()).raw).not.toContain(`WHISPER-${stamp}`);

    // Live: agent1's reply appears on the lead's screen without a reload.
    await agent1.getByLabel('Reply').fill(`Let me check the courier. LIVE-${stamp}`);
    await agent1.getByLabel('Reply').press('Enter');
    await view
      .getByTestId('agent-message')
      .filter({ hasText: `LIVE-${stamp}` })
      .waitFor();
  });

  it('the lead barges in: the customer gets the message on their channel, agent1 sees it', async () => {
    const view = lead.getByTestId('supervision-view');
    await view.getByTestId('barge-toggle').check();
    await view.getByTestId('supervision-input').fill(`Hello, this is the team lead; I will make sure this is solved. BARGE-${stamp}`);
    await lead.screenshot({ path: join(SHOTS, 'supervision-barge-en.png') });
    await view.getByTestId('supervision-send').click();
    await view
      .getByTestId('agent-message')
      .filter({ hasText: `BARGE-${stamp}` })
      .waitFor();
    await agent1
      .getByTestId('agent-message')
      .filter({ hasText: `BARGE-${stamp}` })
      .waitFor();

    await expect
      .poll(async () => (await customerReads()).body.messages.find((m) => m.text.includes(`BARGE-${stamp}`))?.author, { timeout: 5000 })
      .toBe('agent');
    const { body, raw } = await customerReads();
    expect(body.messages.map((m) => m.text).some((t) => t.includes(`LIVE-${stamp}`))).toBe(true);
    expect(raw).not.toContain(`NOTE-${stamp}`);
    expect(raw).not.toContain(`WHISPER-${stamp}`);
    expect(raw).not.toContain('staff.note');
    await view.getByTestId('barge-toggle').uncheck();
    await lead.screenshot({ path: join(SHOTS, 'supervision-en.png') });
  });

  it('shows the same supervision in Chinese (主管悄悄话, 内部备注)', async () => {
    await signIn(leadZh, 'lead');
    await leadZh.getByTestId('view-supervise').click();
    const row = leadZh.getByTestId('supervise-row').filter({ hasText: 'Agent One' }).first();
    await row.waitFor();
    await row.getByTestId('supervise-open').click();
    const view = leadZh.getByTestId('supervision-view');
    await view
      .getByTestId('whisper')
      .filter({ hasText: `WHISPER-${stamp}` })
      .waitFor();
    expect(await view.getByTestId('whisper').first().textContent()).toContain('主管悄悄话');
    expect(await view.getByTestId('internal-note').first().textContent()).toContain('内部备注');
    expect(await view.textContent()).toContain('只读');
    await leadZh.screenshot({ path: join(SHOTS, 'supervision-zh.png') });
  });

  it('offers no whisper on a contact nobody holds yet: the box is off with a hint (barge still possible)', async () => {
    const waiting = { externalId: `supervise-waiting-${stamp}`, name: 'Wang Fang' };
    const posted = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: {
        customer: waiting,
        text: `Where is my refund? WAIT-${stamp}`,
        clientMessageId: `${waiting.externalId}-1`,
        hints: { skillGroup: 'general' },
      },
    });
    expect(posted.status).toBe(202);
    // Back to the list (it loads again): the new contact waits for agent1 to accept it.
    await lead.getByTestId('supervise-back').click();
    const row = lead.getByTestId('supervise-row').filter({ hasText: 'Wang Fang' }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId('supervise-open').click();
    const view = lead.getByTestId('supervision-view');
    await view
      .getByTestId('customer-message')
      .filter({ hasText: `WAIT-${stamp}` })
      .waitFor();
    const hint = view.getByTestId('whisper-no-agent');
    await hint.waitFor();
    expect(await hint.textContent()).toContain('No agent holds this contact yet');
    expect(await view.getByTestId('supervision-input').isDisabled()).toBe(true);
    expect(await view.getByTestId('supervision-send').isDisabled()).toBe(true);
    // Barging in is still possible: the box turns on for a message to the customer.
    await view.getByTestId('barge-toggle').check();
    expect(await view.getByTestId('supervision-input').isDisabled()).toBe(false);
    expect(await view.getByTestId('whisper-no-agent').count()).toBe(0);
    await view.getByTestId('barge-toggle').uncheck();
    await lead.screenshot({ path: join(SHOTS, 'supervise-en-whisper-waiting.png') });
  });
});
