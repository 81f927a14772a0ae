import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerFactsView } from '../../common/api/customers';
import type { SessionSummary } from '../../common/api/sessions';
import { ack, openAgentSocket } from './support/agent-client';
import { launchPinnedChromium } from './support/browser';
import type { TestServer } from './support/harness';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { eventually } from './support/until';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 11 as the customer sees it, in Chromium against the real `--demo` server: while they wait the
 * header says where they stand and moves when an agent comes online; once the agent closes the chat
 * the widget asks for a 1–5 rating (in the browser's language), takes it once, thanks them, and
 * does not ask again after a reload; the rating becomes the customer's CSAT that routing reads.
 */
describe('the widget rating after a chat closes', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ca: string;
  const rated = new Set<string>();

  const api = async <T>(path: string, token: string, method = 'GET', json?: unknown): Promise<T> => {
    const res = await httpsRequest(`${server.url}${path}`, { ca, method, headers: { authorization: `Bearer ${token}` }, json });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as T;
  };
  const login = async (username: string) => {
    const res = await httpsRequest(`${server.url}/api/v1/auth/login`, { ca, method: 'POST', json: { username, password: 'huiliu-demo' } });
    return (JSON.parse(res.body) as { token: string }).token;
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
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  const cases = [
    {
      lang: 'en',
      locale: 'en-US',
      question: 'Where is my parcel?',
      title: 'How did we do?',
      pick: 'Happy',
      send: 'Send rating',
      thanks: 'Thank you for your rating!',
    },
    {
      lang: 'zh',
      locale: 'zh-CN',
      question: '我的包裹到哪里了？',
      title: '您对本次服务满意吗？',
      pick: '满意',
      send: '提交评价',
      thanks: '感谢您的评价！',
    },
  ] as const;

  for (const c of cases) {
    it(`shows where the customer stands, then asks for a rating once the chat closes (${c.lang})`, async () => {
      const page: Page = await (await browser.newContext({ viewport: { width: 480, height: 760 }, locale: c.locale })).newPage();
      await page.goto(`${server.url}/widget`);
      await expect.poll(() => page.locator('#link-state').getAttribute('data-state')).toBe('online');
      await passPreChat(page);
      await page.locator('#text').fill(c.question);
      await page.keyboard.press('Enter');
      // Nobody is online: the header says so.
      await expect
        .poll(() => page.locator('#agent-line').textContent())
        .toMatch(c.lang === 'en' ? /No agent is online/ : /目前没有客服在线/);

      const agentToken = await login('agent1');
      const agent = await openAgentSocket({ url: server.url, tls: { caPem: ca } } as unknown as TestServer, agentToken);
      try {
        // The agent comes online: the contact is offered to them and the header moves without a reload.
        await expect
          .poll(() => page.locator('#agent-line').textContent(), { timeout: 10_000 })
          .toMatch(c.lang === 'en' ? /number 1 in the queue, shortly/ : /您是第 1 位，马上为您接通/);
        await page.screenshot({ path: join(SHOTS, `csat-widget-waiting-${c.lang}.png`) });
        const session = await eventually(async () => {
          const { sessions } = await api<{ sessions: SessionSummary[] }>('/api/v1/sessions?channel=WB&status=offered', agentToken);
          return sessions.find((s) => !rated.has(s.id)) ?? null;
        });
        rated.add(session.id);
        expect((await ack(agent, 'offer:accept', { sessionId: session.id })).ok).toBe(true);
        expect((await ack(agent, 'session:close', { sessionId: session.id, wrapUpCode: 'resolved' })).ok).toBe(true);

        const card = page.locator('#csat');
        await card.waitFor({ state: 'visible' });
        expect(await page.locator('#csat-title').textContent()).toBe(c.title);
        await expect.poll(() => page.locator('#csat-send').isDisabled()).toBe(true);
        await page.getByRole('radio').nth(3).click();
        expect(await page.locator('#csat-hint').textContent()).toBe(c.pick);
        expect(await page.getByRole('radio', { checked: true }).count()).toBe(4);
        await page.locator('#csat-comment').fill(c.lang === 'en' ? 'Quick answer, thank you' : '回复很快，谢谢');
        await page.screenshot({ path: join(SHOTS, `csat-widget-rating-${c.lang}.png`) });
        await page.getByRole('button', { name: c.send }).click();
        await page.locator('#csat-thanks').waitFor({ state: 'visible' });
        expect(await page.locator('#csat-thanks').textContent()).toBe(c.thanks);
        await page.screenshot({ path: join(SHOTS, `csat-widget-thanks-${c.lang}.png`) });

        // Rated once: back on the page, no rating is asked again.
        await page.reload();
        await expect.poll(() => page.locator('#link-state').getAttribute('data-state')).toBe('online');
        await expect
          .poll(() => page.locator('[data-testid="status"]').allTextContents())
          .toContain(c.lang === 'en' ? 'Conversation closed' : '会话已结束');
        expect(await card.isVisible()).toBe(false);

        // The rating is the customer's CSAT now, which routing reads.
        const facts = await api<CustomerFactsView>(`/api/v1/customers/${session.customerId}/facts`, await login('admin'));
        expect(facts.facts).toMatchObject({ csat: 4, source: { csat: 'ratings' } });
        expect(facts.ratings).toMatchObject({ count: 1, mean: 4 });
      } finally {
        agent.disconnect();
        await page.context().close();
      }
    }, 60_000);
  }
});
