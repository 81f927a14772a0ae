import { mkdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { REPO, freePort, startServerProcess, type ServerProcess } from './support/server-process';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * A TCP proxy between the agent's browser and the server that this test controls: `cut()` destroys
 * every live connection (the agent's websocket really dies, as on a dropped Wi-Fi) and refuses new
 * ones until `restore()`. TLS passes through untouched (the browser still pins the server's key).
 */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const live = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    live.add(client);
    live.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      down = true;
      for (const s of live) s.destroy();
      live.clear();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What the page did with the Notification API and WebAudio (the real APIs, observed). */
interface Observed {
  notes: { title: string; tag: string; closed: boolean; requireInteraction: boolean }[];
  tones: number;
}

/** Records every Notification made and closed, and every oscillator started, then calls the real ones. */
const OBSERVE = `(() => {
  const seen = { notes: [], tones: 0 };
  window.__observed = seen;
  const Real = window.Notification;
  if (Real) {
    class Watched extends Real {
      constructor(title, options = {}) {
        super(title, options);
        const rec = { title, tag: options.tag || '', closed: false, requireInteraction: Boolean(options.requireInteraction) };
        seen.notes.push(rec);
        const close = this.close.bind(this);
        this.close = () => { rec.closed = true; close(); };
      }
    }
    Object.defineProperty(Watched, 'permission', { get: () => Real.permission });
    Watched.requestPermission = Real.requestPermission.bind(Real);
    window.Notification = Watched;
  }
  const Osc = window.OscillatorNode;
  if (Osc) {
    const start = Osc.prototype.start;
    Osc.prototype.start = function (...args) { seen.tones++; return start.apply(this, args); };
  }
})();`;

const observed = (page: Page) => page.evaluate(() => (globalThis as unknown as { __observed: Observed }).__observed);

describe('the workstation keeps working through a network drop (issue 15, browser local store)', () => {
  let server: ServerProcess;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let browser: Browser;
  let customerCtx: BrowserContext;
  let agentCtx: BrowserContext;
  let customer: Page;
  let agent: Page;
  let agentUrl: string;
  const stamp = Date.now().toString(36);
  const replies = [`first ${stamp}-R1`, `second ${stamp}-R2`, `third ${stamp}-R3`];

  const agentBubbles = (marker: string) => agent.getByTestId('agent-message').filter({ hasText: marker });
  const customerSees = (marker: string) => customer.getByTestId('agent-message').filter({ hasText: marker });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The built server (what `npm run server` runs) starts fastest on a busy machine.
    server = await startServerProcess({ compiled: true });
    proxy = await tcpProxy(server.port);
    const origin = new URL(server.url);
    origin.port = String(proxy.port);
    agentUrl = origin.origin;
    browser = await launchPinnedChromium(server.dataDir);
    customerCtx = await browser.newContext({ viewport: { width: 480, height: 720 } });
    agentCtx = await browser.newContext({ viewport: { width: 1360, height: 800 }, locale: 'en-US' });
    await agentCtx.grantPermissions(['notifications'], { origin: agentUrl });
    await agentCtx.addInitScript({ content: OBSERVE });
    customer = await customerCtx.newPage();
    agent = await agentCtx.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('signs agent1 in through the proxy', async () => {
    await agent.goto(`${agentUrl}/app/`);
    await agent.getByTestId('language-switch').selectOption('en');
    await agent.getByLabel('Username').fill('agent1');
    await agent.getByLabel('Password').fill('huiliu-demo');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 20_000 }).toBe('Connected');
  });

  it('alerts a new offer with a tone and a notification that stays until the offer is accepted', async () => {
    await customer.goto(`${server.url}/widget`);
    await passPreChat(customer);
    await customer.getByPlaceholder(/Type your question/).fill(`Where is my parcel ${stamp}-Q?`);
    await customer.keyboard.press('Enter');
    const row = agent.getByTestId('queue-item').filter({ hasText: `${stamp}-Q` });
    await row.waitFor();
    await expect.poll(() => row.getByTestId('accept').textContent(), { timeout: 20_000 }).toBe('Accept offer');
    await expect.poll(async () => (await observed(agent)).notes.length).toBe(1);
    const shown = await observed(agent);
    expect(shown.notes[0]).toMatchObject({ closed: false, requireInteraction: true });
    expect(shown.notes[0]!.tag).toMatch(/^offer-WB\d{18}$/);
    expect(shown.tones).toBeGreaterThanOrEqual(2);
    // Not answered: it stays, and the offer stays in the queue.
    await agent.waitForTimeout(1500);
    expect((await observed(agent)).notes[0]!.closed).toBe(false);
    expect(await row.count()).toBe(1);
    await row.getByTestId('accept').click();
    await agent
      .getByTestId('customer-message')
      .filter({ hasText: `${stamp}-Q` })
      .waitFor();
    // Answered: the notification is withdrawn.
    await expect.poll(async () => (await observed(agent)).notes[0]!.closed).toBe(true);
  });

  it('queues three replies while the agent is cut off and delivers each once, in order, on reconnect', async () => {
    proxy.cut();
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 20_000 }).not.toBe('Connected');
    for (const text of replies) {
      await agent.getByLabel('Reply').fill(text);
      await agent.keyboard.press('Enter');
    }
    const pending = agent.getByTestId('pending-reply');
    await expect
      .poll(() => pending.evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))))
      .toEqual(['queued', 'queued', 'queued']);
    expect(await agent.getByTestId('outbox-offline').textContent()).toContain('3 replies wait in the outbox');
    await agent.screenshot({ path: join(SHOTS, 'outbox-en.png') });
    // Really cut: the customer has none of them.
    await customer.waitForTimeout(1500);
    for (const text of replies) expect(await customerSees(text).count()).toBe(0);

    proxy.restore();
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 30_000 }).toBe('Connected');
    await expect.poll(() => pending.count(), { timeout: 20_000 }).toBe(0);
    for (const text of replies) await customerSees(text).waitFor({ timeout: 20_000 });
    for (const text of replies) {
      expect(await customerSees(text).count()).toBe(1);
      expect(await agentBubbles(text).count()).toBe(1);
    }
    const order = await customer.getByTestId('agent-message').allTextContents();
    const at = replies.map((r) => order.findIndex((t) => t.includes(r)));
    expect(at).toEqual([...at].sort((a, b) => a - b));
  }, 90_000);

  it('restores the draft after a reload of the workstation', async () => {
    const draft = `half-written answer ${stamp}-DRAFT`;
    await agent.getByLabel('Reply').fill(draft);
    await agent.waitForTimeout(900);
    await agent.reload();
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 20_000 }).toBe('Connected');
    await agent.getByRole('tab', { name: /My chats/ }).click();
    await agent
      .getByTestId('queue-item')
      .filter({ hasText: `${stamp}` })
      .first()
      .locator('.qitem__main')
      .click();
    await expect.poll(() => agent.getByLabel('Reply').inputValue(), { timeout: 10_000 }).toBe(draft);
    // Sent, the draft is gone: another reload shows an empty composer.
    await agent.getByLabel('Reply').press('Enter');
    await customerSees(`${stamp}-DRAFT`).waitFor({ timeout: 20_000 });
    await agent.waitForTimeout(900);
    await agent.reload();
    await expect.poll(() => agent.getByTestId('link-state').textContent(), { timeout: 20_000 }).toBe('Connected');
    await agent.getByRole('tab', { name: /My chats/ }).click();
    await agent
      .getByTestId('queue-item')
      .filter({ hasText: `${stamp}` })
      .first()
      .locator('.qitem__main')
      .click();
    await agent
      .getByTestId('customer-message')
      .filter({ hasText: `${stamp}-Q` })
      .waitFor();
    expect(await agent.getByLabel('Reply').inputValue()).toBe('');
    expect(await customerSees(`${stamp}-DRAFT`).count()).toBe(1);
  }, 90_000);

  it('shows a queued reply in Chinese and delivers it after reconnect', async () => {
    await agent.getByTestId('language-switch').selectOption('zh');
    proxy.cut();
    await expect.poll(() => agent.getByTestId('link-state').getAttribute('class'), { timeout: 20_000 }).not.toContain('link--online');
    const zh = `稍等，我查一下 ${stamp}-ZH`;
    await agent.getByTestId('composer').fill(zh);
    await agent.keyboard.press('Enter');
    await expect.poll(() => agent.getByTestId('pending-reply').getAttribute('data-state')).toBe('queued');
    expect(await agent.getByTestId('pending-reply').textContent()).toContain('已排队');
    expect(await agent.getByTestId('outbox-offline').textContent()).toContain('发件箱');
    await agent.screenshot({ path: join(SHOTS, 'outbox-zh.png') });
    proxy.restore();
    await customerSees(`${stamp}-ZH`).waitFor({ timeout: 30_000 });
    expect(await customerSees(`${stamp}-ZH`).count()).toBe(1);
    await expect.poll(() => agent.getByTestId('pending-reply').count(), { timeout: 20_000 }).toBe(0);
  }, 90_000);
});
