import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPageView } from '../../common/api/audit';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');
const DOCS = join(REPO, 'docs', 'images');

/** `datetime-local` text of an instant as the clock of `timeZone` shows it (what the auditor types). */
function localText(at: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value]),
  );
  return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}`;
}

/**
 * Issue 17, the auditor's view end to end in Chromium: agent1 signs in and opens a customer's
 * conversation 60 times; the auditor (in Berlin time, then in Shanghai time and Chinese) searches
 * agent1's actions over a local time range, reads the first page of 50 and the next through the
 * cursor, and sees exactly what the API holds for that user and range. agent1 never sees the tab and
 * the API refuses them (403). Screenshots in English and Chinese.
 */
describe('the auditor view: search one user over a time range, page, and agents kept out', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ca: string;
  let agentToken = '';
  let auditorToken = '';
  let startedAt = 0;
  let sessionId = '';

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const login = async (username: string) => {
    const res = await api('/api/v1/auth/login', { method: 'POST', json: { username, password: 'huiliu-demo' } });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { token: string }).token;
  };
  /** Every entry of agent1 in [from, to) through the API, all pages. */
  async function agentEntries(from: string, to: string) {
    const all: AuditPageView['entries'] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ userId: 'agent1', from, to, limit: '500', ...(cursor ? { cursor } : {}) });
      const res = await api(`/api/v1/audit?${q}`, { headers: { authorization: `Bearer ${auditorToken}` } });
      expect(res.status).toBe(200);
      const page = JSON.parse(res.body) as AuditPageView;
      all.push(...page.entries);
      cursor = page.next;
    } while (cursor);
    return all;
  }

  const signIn = (page: Page, username: string) => signInAs(page, server, username, { until: 'signed-in' });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(DOCS, { recursive: true });
    server = await startServerProcess();
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    auditorToken = await login('auditor');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('agent1 signs in and opens a conversation 60 times: each an audit entry', async () => {
    startedAt = Date.now();
    const res = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: {
        customer: { externalId: `audit-${startedAt}`, name: 'Li Na' },
        text: 'Where is my order?',
        clientMessageId: `audit-${startedAt}`,
      },
    });
    expect(res.status).toBe(202);
    sessionId = (JSON.parse(res.body) as { sessionId: string }).sessionId;
    agentToken = await login('agent1');
    for (let i = 0; i < 60; i++) {
      const view = await api(`/api/v1/sessions/${sessionId}`, { headers: { authorization: `Bearer ${agentToken}` } });
      expect([200, 403]).toContain(view.status);
    }
    const entries = await agentEntries(new Date(startedAt - 1000).toISOString(), new Date(Date.now() + 60_000).toISOString());
    expect(entries.filter((e) => e.action === 'session.view' && e.target?.id === sessionId)).toHaveLength(60);
    expect(entries.some((e) => e.action === 'auth.login')).toBe(true);
  });

  it('refuses agent1 the audit API (403) and shows them no audit tab', async () => {
    const res = await api(`/api/v1/audit?userId=agent1`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const page = await (await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' })).newPage();
    await signIn(page, 'agent1');
    await expect.poll(() => page.getByTestId('link-state').textContent()).toBe('Connected');
    expect(await page.getByTestId('view-audit').count()).toBe(0);
    expect(await page.getByTestId('audit-page').count()).toBe(0);
    await page.context().close();
  });

  for (const { locale, timeZone, shot, texts } of [
    {
      locale: 'en-US',
      timeZone: 'Europe/Berlin',
      shot: 'audit-view-en.png',
      texts: { tab: 'Audit', more: 'Next page', end: 'End of the results.', session: 'Conversation' },
    },
    {
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      shot: 'audit-view-zh.png',
      texts: { tab: '审计', more: '下一页', end: '已到结果末尾。', session: '会话' },
    },
  ]) {
    it(`the auditor (${locale}, ${timeZone}) finds agent1's actions in a local time range, page by page`, { timeout: 60_000 }, async () => {
      // The range in the auditor's local time, whole minutes around agent1's actions.
      const from = Math.floor((startedAt - 60_000) / 60_000) * 60_000;
      const to = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
      const expected = await agentEntries(new Date(from).toISOString(), new Date(to).toISOString());
      expect(expected.length).toBeGreaterThan(50);

      const page = await (await browser.newContext({ viewport: { width: 1360, height: 860 }, locale, timezoneId: timeZone })).newPage();
      await signIn(page, 'auditor');
      // An auditor has no desk: no agent socket (no "Reconnecting…"), no presence, and starts on the audit log.
      expect(await page.getByTestId('link-state').count()).toBe(0);
      expect(await page.getByLabel(/presence|状态/i).count()).toBe(0);
      expect(await page.getByTestId('view-audit').getAttribute('aria-selected')).toBe('true');
      await page.getByTestId('view-audit').click();
      expect(await page.getByTestId('view-audit').textContent()).toBe(texts.tab);
      await page.getByTestId('audit-user').fill('agent1');
      await page.getByTestId('audit-from').fill(localText(from, timeZone));
      await page.getByTestId('audit-to').fill(localText(to, timeZone));
      await page.getByTestId('audit-search').click();
      const rows = page.getByTestId('audit-row');
      await expect.poll(() => rows.count()).toBe(50);
      // Newest first, the same entries the API gives for that user and range.
      const seqs = async () => (await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))))) as number[];
      expect(await seqs()).toEqual(expected.slice(0, 50).map((e) => e.seq));
      expect(new Set(await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-actor'))))).toEqual(new Set(['agent1']));
      // The time column is the auditor's local time: the newest entry's time as Berlin / Shanghai reads it.
      const newest = expected[0]!;
      const shown = await rows.first().locator('time').textContent();
      expect(shown).toBe(new Date(newest.at).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone }));
      const row = rows.filter({ hasText: sessionId }).first();
      expect(await row.locator('td').nth(2).textContent()).toBe('session.view');
      expect(await row.locator('td').nth(3).textContent()).toBe(`${texts.session} ${sessionId}`);
      await page.screenshot({ path: join(SHOTS, shot) });

      expect(await page.getByTestId('audit-more').textContent()).toBe(texts.more);
      await page.getByTestId('audit-more').click();
      await expect.poll(() => rows.count()).toBe(expected.length);
      expect(await seqs()).toEqual(expected.map((e) => e.seq));
      expect(await page.getByTestId('audit-end').textContent()).toBe(texts.end);
      if (locale === 'en-US') copyFileSync(join(SHOTS, shot), join(DOCS, 'audit-view.png'));
      await page.context().close();
    });
  }
});
