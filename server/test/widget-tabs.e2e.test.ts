import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { startServerProcess, type ServerProcess } from './support/server-process';
import { passPreChat } from './support/widget-page';

/**
 * Two tabs of one widget visitor in a real browser (issue 6 D16, D15, C12): both tabs show every
 * message of the conversation, local history merges by seq and never overwrites, user text is laid
 * out by its own direction, and the time shown is the server's receivedAt.
 */
// The page's globals, typed here: the server's tsconfig has no DOM lib. Functions passed to evaluate
// run in the page, so they reach these through globalThis, not through closures.
type PageGlobals = {
  localStorage: { getItem(key: string): string | null };
  getComputedStyle(el: unknown): { direction: string };
};

describe('two widget tabs of one visitor', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let tabA: Page;
  let tabB: Page;

  const online = (page: Page) => expect.poll(() => page.locator('#link-state').getAttribute('data-state')).toBe('online');
  const say = async (page: Page, text: string) => {
    await page.getByPlaceholder(/Type your question/).fill(text);
    await page.keyboard.press('Enter');
  };
  const texts = (page: Page) => page.locator('[data-testid="customer-message"] .msg__text').allTextContents();

  beforeAll(async () => {
    server = await startServerProcess();
    browser = await launchPinnedChromium(server.dataDir);
    context = await browser.newContext();
    tabA = await context.newPage();
    tabB = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('shows a message typed in tab A in tab B, and tab B’s in tab A', async () => {
    await tabA.goto(`${server.url}/widget`);
    await online(tabA);
    // The visitor answers the pre-chat form once; their other tabs do not ask again.
    await passPreChat(tabA);
    await tabB.goto(`${server.url}/widget`);
    await online(tabB);
    await say(tabA, 'typed in tab A');
    await expect.poll(() => texts(tabB)).toEqual(['typed in tab A']);
    await say(tabB, 'typed in tab B');
    await expect.poll(() => texts(tabA)).toEqual(['typed in tab A', 'typed in tab B']);
    await expect.poll(() => texts(tabB)).toEqual(['typed in tab A', 'typed in tab B']);
  });

  it('loses nothing when both tabs reload', async () => {
    await say(tabA, 'just before the reload');
    await expect.poll(() => texts(tabB)).toContain('just before the reload');
    await tabB.reload();
    await tabA.reload();
    await online(tabA);
    await online(tabB);
    const all = ['typed in tab A', 'typed in tab B', 'just before the reload'];
    await expect.poll(() => texts(tabA)).toEqual(all);
    await expect.poll(() => texts(tabB)).toEqual(all);
    const saved = await tabA.evaluate(() =>
      (
        JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem('huiliu.widget.v1') ?? '{}') as {
          messages: { seq: number }[];
        }
      ).messages.map((m) => m.seq),
    );
    expect(saved).toEqual([1, 2, 3]);
  });

  it('lays out Arabic and Hebrew right to left (dir="auto")', async () => {
    await say(tabA, 'مرحبا، أين طلبي؟');
    await say(tabA, 'שלום, איפה ההזמנה שלי?');
    const bubble = tabB.locator('[data-testid="customer-message"] .msg__text', { hasText: 'مرحبا' });
    await expect.poll(() => bubble.count()).toBe(1);
    expect(await bubble.getAttribute('dir')).toBe('auto');
    expect(await bubble.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).direction)).toBe('rtl');
    const hebrew = tabB.locator('[data-testid="customer-message"] .msg__text', { hasText: 'שלום' });
    await expect.poll(() => hebrew.count()).toBe(1);
    expect(await hebrew.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).direction)).toBe('rtl');
    expect(await tabA.locator('#text').getAttribute('dir')).toBe('auto');
  });

  it('shows the server’s receivedAt, not a device clock of 2001', async () => {
    // A client with a wrong clock: the same visitor, a raw frame with sentAt in 2001.
    await tabA.evaluate(`(async () => {
      const token = JSON.parse(localStorage.getItem('huiliu.widget.v1')).visitorToken;
      const ws = new WebSocket('wss://' + location.host + '/channels/web');
      await new Promise((resolve) => (ws.onopen = resolve));
      ws.send(JSON.stringify({ type: 'hello', visitorToken: token }));
      ws.send(JSON.stringify({ type: 'message', clientMessageId: 'clock-2001-0001', text: 'sent from 2001', sentAt: '2001-01-01T00:00:00Z' }));
      await new Promise((resolve) => (ws.onmessage = (e) => String(e.data).includes('"ack"') && resolve(null)));
      ws.close();
    })()`);
    const time = tabB.locator('[data-testid="customer-message"]', { hasText: 'sent from 2001' }).locator('time');
    await expect.poll(() => time.count()).toBe(1);
    const at = await time.getAttribute('datetime');
    expect(new Date(at!).getFullYear()).toBe(new Date().getFullYear());
    expect(await time.textContent()).not.toMatch(/2001/);
  });

  it('shows the date beside the time for a message not from today', async () => {
    const later = await context.newPage();
    // Three days on, the same history: every message gets its date, from receivedAt.
    await later.clock.setFixedTime(new Date(Date.now() + 3 * 86_400_000));
    await later.goto(`${server.url}/widget`);
    await online(later);
    const first = later.locator('[data-testid="customer-message"]', { hasText: 'typed in tab A' }).locator('time');
    const received = new Date((await first.getAttribute('datetime'))!);
    expect(await first.textContent()).toContain(String(received.getFullYear()));
    expect(
      await tabA.locator('[data-testid="customer-message"]', { hasText: 'typed in tab A' }).locator('time').textContent(),
    ).not.toContain(String(received.getFullYear()));
    await later.close();
  });
});
