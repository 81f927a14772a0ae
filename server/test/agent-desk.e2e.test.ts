import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import { launchPinnedChromium } from './support/browser';
import { postAppMessage, seedWaitingContacts, signIn } from './support/desk';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 15, every agent flow of the desktop's workstation in Chromium, once with English and once with
 * Chinese browser contexts: an offer accepted; a reply from a canned reply chosen with `/` in the
 * composer; an internal note, shown apart and never reaching the customer (checked in the customer's
 * widget and in the app channel's message list); a warm transfer to an agent and a cold one to a skill
 * group; wrap-up with a disposition code; the CSAT request reaching the customer on close (the widget's
 * rating card; the app channel's `csat.rateable`). Selects by role and test id, never by visible text,
 * so it survives the i18next migration. Screenshots: test-output/e2e/desk-flow-*-{en,zh}.png.
 */
// One server and one browser for both languages (each language has its own contexts and customers).
let server: ServerProcess;
let browser: Browser;
let ca: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The compiled build (as `npm run server` runs it); a loaded 2-core machine can take over 30 s to seed the demo.
  server = await startServerProcess({ compiled: true, startTimeoutMs: 90_000 });
  ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
  browser = await launchPinnedChromium(server.dataDir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe.each([
  { lang: 'en', locale: 'en-US', canned: 'hi' },
  { lang: 'zh', locale: 'zh-CN', canned: 'nihao' },
] as const)('agent desk flows ($lang)', { timeout: 60_000 }, ({ lang, locale, canned }) => {
  const contexts: BrowserContext[] = [];
  let customer: Page;
  let agent1: Page;
  let agent2: Page;
  const stamp = `${lang}${Date.now().toString(36)}`;
  const question = lang === 'en' ? `My parcel Q-${stamp} is late, where is it?` : `我的包裹 Q-${stamp} 还没到，在哪里？`;
  const noteText = lang === 'en' ? `Staff only: check courier NOTE-${stamp}` : `仅内部：查询快递 NOTE-${stamp}`;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `desk-flow-${name}-${lang}.png`) });
  let sessionId = '';

  beforeAll(async () => {
    for (let i = 0; i < 3; i++)
      contexts.push(await browser.newContext({ viewport: i === 0 ? { width: 480, height: 760 } : { width: 1360, height: 820 }, locale }));
    customer = await contexts[0]!.newPage();
    agent1 = await contexts[1]!.newPage();
    agent2 = await contexts[2]!.newPage();
    await signIn(agent1, server, 'agent1');
    await signIn(agent2, server, 'agent2');
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  const composer = (page: Page) => page.getByTestId('composer');
  const bubble = (page: Page, kind: 'customer-message' | 'agent-message', marker: string) =>
    page.getByTestId(kind).filter({ hasText: marker });

  it('offers the widget customer to agent1, who accepts the offer', async () => {
    await customer.goto(`${server.url}/widget`);
    await passPreChat(customer);
    await customer.locator('#text').fill(question);
    await customer.keyboard.press('Enter');
    const row = agent1.getByTestId('queue-item').filter({ hasText: `Q-${stamp}` });
    await row.waitFor();
    // agent1 is available in `general`: the router offers the contact (Accept and Decline, a countdown).
    await expect.poll(() => row.getAttribute('class'), { timeout: 20_000 }).toContain('qitem--offered');
    expect(await row.getByTestId('decline').count()).toBe(1);
    sessionId = (await row.getAttribute('data-session-id'))!;
    await shot(agent1, 'offer');
    await row.getByTestId('accept').click();
    await bubble(agent1, 'customer-message', `Q-${stamp}`).waitFor();
    expect(await agent1.getByTestId('session-id').textContent()).toBe(sessionId);
    await composer(agent1).waitFor();
  });

  it('replies with a canned reply chosen with / in the composer; the customer receives its text', async () => {
    await composer(agent1).click();
    await composer(agent1).pressSequentially(`/${canned}`);
    const picker = agent1.getByTestId('canned-picker');
    await picker.waitFor();
    const item = picker.getByTestId('canned-item').first();
    await item.waitFor();
    expect(await item.textContent()).toContain(`/${canned}`);
    await shot(agent1, 'canned');
    await agent1.keyboard.press('Enter');
    await expect.poll(() => picker.count()).toBe(0);
    const text = await composer(agent1).inputValue();
    // The `/word` was replaced by the canned reply's text (the demo's greeting in this language).
    expect(text).not.toContain(`/${canned}`);
    expect(text).toMatch(lang === 'en' ? /Hello/i : /您好/);
    await agent1.keyboard.press('Enter');
    const greeting = text.trim().slice(0, 12);
    await bubble(agent1, 'agent-message', greeting).waitFor();
    await bubble(customer, 'agent-message', greeting).waitFor();
  });

  it('adds an internal note that looks apart and never reaches the customer', async () => {
    await agent1.getByTestId('mode-note').click();
    expect(await agent1.getByTestId('mode-note').getAttribute('aria-pressed')).toBe('true');
    await composer(agent1).fill(noteText);
    await agent1.getByTestId('composer-submit').click();
    const note = agent1.getByTestId('internal-note').filter({ hasText: `NOTE-${stamp}` });
    await note.waitFor();
    // Visually distinct: not a chat bubble, another background than the agent's replies.
    expect(await bubble(agent1, 'agent-message', `NOTE-${stamp}`).count()).toBe(0);
    const bg = (selector: ReturnType<Page['getByTestId']>) =>
      selector.evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor,
      );
    expect(await bg(note)).not.toBe(await bg(agent1.getByTestId('agent-message').first()));
    await shot(agent1, 'note');
    await agent1.getByTestId('mode-reply').click();
    // The customer: a later reply arrives, the note never did.
    const after = `After the note ${stamp}-AFTER`;
    await composer(agent1).fill(after);
    await agent1.keyboard.press('Enter');
    await bubble(customer, 'agent-message', `${stamp}-AFTER`).waitFor();
    expect(await customer.locator('body').textContent()).not.toContain(`NOTE-${stamp}`);
    await shot(customer, 'customer-no-note');
  });

  it('transfers warm to Agent Two, who accepts; then Agent Two transfers cold to the general skill group', async () => {
    await agent1.getByTestId('transfer-button').click();
    const dialog = agent1.getByTestId('transfer-dialog');
    await dialog.waitFor();
    await dialog.locator('input[name="transfer-kind"][value="agent"]').check();
    await dialog.locator('input[name="transfer-mode"][value="warm"]').check();
    const target = dialog.getByTestId('transfer-agent');
    await expect.poll(() => target.locator('option').count()).toBeGreaterThan(0);
    await target.selectOption({ index: 0 });
    expect(await target.locator('option:checked').textContent()).toContain('Agent Two');
    await dialog.getByTestId('transfer-note').fill(`warm ${stamp}`);
    await shot(agent1, 'transfer-warm');
    await dialog.getByTestId('transfer-send').click();
    await agent1.getByTestId('transfer-pending').waitFor();

    const card = agent2.getByTestId('incoming-transfer');
    await card.waitFor();
    expect(await card.textContent()).toContain(`warm ${stamp}`);
    await card.getByTestId('transfer-accept').click();
    await bubble(agent2, 'customer-message', `Q-${stamp}`).waitFor();
    expect(await agent2.getByTestId('session-id').textContent()).toBe(sessionId);
    await agent1.getByTestId('transfer-notice').waitFor();
    // The note came along for staff (agent2 sees it), still not for the customer.
    await agent2
      .getByTestId('internal-note')
      .filter({ hasText: `NOTE-${stamp}` })
      .waitFor();
    await shot(agent2, 'transfer-accepted');

    // Cold to a skill group: back in `general`'s queue, no one holds it meanwhile.
    await agent2.getByTestId('transfer-button').click();
    const dialog2 = agent2.getByTestId('transfer-dialog');
    await dialog2.waitFor();
    await dialog2.locator('input[name="transfer-kind"][value="skill-group"]').check();
    await dialog2.getByTestId('transfer-group').selectOption('general');
    await dialog2.locator('input[name="transfer-mode"][value="cold"]').check();
    await shot(agent2, 'transfer-cold');
    await dialog2.getByTestId('transfer-send').click();
    await agent2.getByTestId('transfer-notice').waitFor();
    // agent1 (general) gets it again, offered or waiting, and takes it.
    // (By session id: the row's preview is now the colleague notice, not the question.)
    const row = agent1.locator(`[data-testid="queue-item"][data-session-id="${sessionId}"]`);
    // The Waiting tab (the first of the queue's tabs): agent1's view was left on "My chats".
    await agent1.locator('.queue__tabs [role="tab"]').first().click();
    await row.waitFor({ timeout: 20_000 });
    await shot(agent1, 'transfer-cold-back');
    await row.getByTestId('accept').waitFor({ timeout: 20_000 });
    await row.getByTestId('accept').click();
    await agent1.getByTestId('transfer-record').first().waitFor();
    await composer(agent1).waitFor();
    expect(await agent1.getByTestId('session-id').textContent()).toBe(sessionId);
  });

  it('wraps up with a disposition code; the customer is asked for CSAT on close', async () => {
    await agent1.getByTestId('wrapup-button').click();
    await agent1.getByTestId('wrapup-code').selectOption('resolved');
    // "Resolved on first contact" follows the code until the agent sets it.
    expect(await agent1.getByTestId('wrapup-fcr').isChecked()).toBe(true);
    await shot(agent1, 'wrapup');
    await agent1.getByTestId('wrapup-close').click();
    await expect.poll(() => agent1.getByTestId('closed-note').getAttribute('data-wrap-up-code')).toBe('resolved');
    // The widget shows the rating card (CSAT request on close).
    await customer.locator('#csat').waitFor({ state: 'visible', timeout: 20_000 });
    await shot(customer, 'csat');
    await shot(agent1, 'closed');
  });

  it('app channel: a closed conversation is rateable, the note never in its message list', async () => {
    const c = { externalId: `desk-app-${stamp}`, name: lang === 'en' ? 'Li Na' : '李娜' };
    await postAppMessage(server, c, `App question A-${stamp}`, `${c.externalId}-1`);
    await agent1.locator('.queue__tabs [role="tab"]').first().click();
    const row = agent1.getByTestId('queue-item').filter({ hasText: `A-${stamp}` });
    await row.getByTestId('accept').click();
    await bubble(agent1, 'customer-message', `A-${stamp}`).waitFor();
    await agent1.getByTestId('mode-note').click();
    await composer(agent1).fill(`app note ANOTE-${stamp}`);
    await agent1.getByTestId('composer-submit').click();
    await agent1
      .getByTestId('internal-note')
      .filter({ hasText: `ANOTE-${stamp}` })
      .waitFor();
    await agent1.getByTestId('mode-reply').click();
    await agent1.getByTestId('wrapup-button').click();
    await agent1.getByTestId('wrapup-code').selectOption('follow-up');
    expect(await agent1.getByTestId('wrapup-fcr').isChecked()).toBe(false);
    await agent1.getByTestId('wrapup-fcr').check();
    await agent1.getByTestId('wrapup-close').click();
    await expect.poll(() => agent1.getByTestId('closed-note').getAttribute('data-wrap-up-code')).toBe('follow-up');
    const res = await httpsRequest(`${server.url}/api/v1/channels/app/messages?externalId=${c.externalId}`, {
      ca,
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as AppMessagesResponse;
    expect(body.status).toBe('closed');
    expect(body.csat).toEqual({ rateable: true });
    expect(res.body).not.toContain(`ANOTE-${stamp}`);
  });
});

/**
 * No leak per opened conversation (issue 15): 40 alike waiting contacts opened one after another; after
 * the open has settled (its acks and pushes answered) and a forced GC, the JS event listeners (CDP
 * `Memory.getDOMCounters`) grow by at most 5 from the 10th to the 40th open, and the JS heap by less
 * than 1 MB. The listeners follow what is on screen (the open contact's routing panel, its offer, the
 * rows offered to the lead at that moment), so a few come and go; one left behind per conversation
 * adds 30 and fails it, as does 40 × a closure over its messages. `npm run bench -- desktop` runs the
 * same over 500 conversations and reports the numbers.
 */
describe('the renderer does not leak per opened conversation', () => {
  it('keeps listeners and heap flat from 10 to 40 opened conversations', async () => {
    const customers = await seedWaitingContacts(server, 40, `leak${Date.now().toString(36)}`);
    const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-US' });
    try {
      const page = await context.newPage();
      await signIn(page, server, 'lead');
      const rows = page.getByTestId('queue-item').filter({ hasText: customers[0]!.externalId.replace(/-0$/, '') });
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(40);
      const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-session-id')!));
      const cdp = await context.newCDPSession(page);
      const sample = async () => {
        // Work the open started (view/unview acks, pushes, the routing panel) is done before counting.
        await page.waitForTimeout(500);
        await cdp.send('HeapProfiler.collectGarbage');
        await cdp.send('HeapProfiler.collectGarbage');
        const { usedSize } = await cdp.send('Runtime.getHeapUsage');
        const { jsEventListeners } = await cdp.send('Memory.getDOMCounters');
        return { heap: usedSize, listeners: jsEventListeners };
      };
      let at10 = { heap: 0, listeners: 0 };
      for (let i = 0; i < ids.length; i++) {
        await page.locator(`[data-testid="queue-item"][data-session-id="${ids[i]}"] .qitem__main`).click();
        await page.getByTestId('session-id').filter({ hasText: ids[i]! }).waitFor();
        if (i === 9) at10 = await sample();
      }
      const at40 = await sample();
      expect(at40.listeners).toBeLessThanOrEqual(at10.listeners + 5);
      expect(at40.heap - at10.heap).toBeLessThan(2 ** 20);
    } finally {
      await context.close();
    }
  }, 180_000);
});
