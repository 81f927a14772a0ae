import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 16, the KPI view end to end in Chromium: the demo lead opens KPIs (ASA answered 0); a customer
 * writes through the app channel, agent1 accepts, replies and closes with a wrap-up; after a refresh
 * the lead's tiles and charts have moved (ASA answered 1, AHT handled 1) and the CSV of the same
 * query downloads with the KPI header. agent1 has no KPI view and is refused the vip group's numbers.
 * Screenshots in English and Chinese (test-output/e2e/kpis-{en,zh}.png).
 */
describe('KPI view: a handled contact moves the lead’s tiles and charts; CSV export; agents kept out', () => {
  let server: ServerProcess;
  let browser: Browser;
  let lead: Page;
  let leadZh: Page;
  let agent: Page;
  let ca: string;
  const stamp = Date.now().toString(36);

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const tokenOf = async (username: string) =>
    (
      JSON.parse((await api('/api/v1/auth/login', { method: 'POST', json: { username, password: 'huiliu-demo' } })).body) as {
        token: string;
      }
    ).token;

  const signIn = (page: Page, username: string) => signInAs(page, server, username, { until: 'signed-in' });

  const tileSub = (page: Page, id: string) => page.getByTestId(`kpi-${id}`).locator('.kpis__tile-sub').textContent();

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The build (npm run build:server): starts faster than tsx on a busy machine.
    server = await startServerProcess({ compiled: true });
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    lead = await (await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'en-US', acceptDownloads: true })).newPage();
    leadZh = await (await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN' })).newPage();
    agent = await (await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens the KPI view for the lead with nothing answered yet ("—" for what cannot be measured)', async () => {
    await signIn(lead, 'lead');
    // The lead watches, not takes: away, so the router offers the contact to agent1.
    await lead.locator('select.presence').selectOption('away');
    await lead.getByTestId('view-kpis').click();
    await lead.getByTestId('kpis-tiles').waitFor();
    expect(await tileSub(lead, 'asa')).toBe('0 answered');
    expect(await lead.getByTestId('kpi-asa-value').textContent()).toBe('—');
    expect(await lead.getByTestId('kpi-csat-value').textContent()).toBe('—');
    expect(await lead.getByTestId('kpi-sla-breaches-value').textContent()).toBe('0');
    expect(Number(await lead.getByTestId('kpis-charts').getAttribute('data-points'))).toBeGreaterThan(0);
  });

  it('shows no KPI view to agent1, and the server refuses agent1 the vip group’s numbers', async () => {
    await signIn(agent, 'agent1');
    await expect.poll(() => agent.getByTestId('link-state').textContent()).toBe('Connected');
    expect(await agent.getByTestId('view-kpis').count()).toBe(0);
    const token = await tokenOf('agent1');
    const vip = await api('/api/v1/metrics/kpis?skillGroup=vip', { headers: { authorization: `Bearer ${token}` } });
    expect(vip.status).toBe(403);
    expect(JSON.parse(vip.body)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const vipCsv = await api('/api/v1/metrics/kpis.csv?skillGroup=vip', { headers: { authorization: `Bearer ${token}` } });
    expect(vipCsv.status).toBe(403);
  });

  it('moves the tiles and charts after agent1 accepts, replies and closes a contact with a wrap-up', { timeout: 60_000 }, async () => {
    const res = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: {
        customer: { externalId: `kpi-${stamp}`, name: 'Wang Fang' },
        text: `Where is my parcel KPI-${stamp}?`,
        clientMessageId: `kpi-${stamp}-1`,
      },
    });
    expect(res.status).toBe(202);
    const row = agent.getByTestId('queue-item').filter({ hasText: `KPI-${stamp}` });
    await row.waitFor({ timeout: 20_000 });
    // The row counts down to its first-response due time (SLA policy, default 60 s always open).
    expect(await row.getByTestId('sla-chip').getAttribute('data-kind')).toBe('first');
    await row.getByTestId('accept').click();
    await agent.getByLabel('Reply').fill(`It ships today KPI-${stamp}-ANSWER`);
    await agent.keyboard.press('Enter');
    await agent.locator('[data-testid="agent-message"]', { hasText: `KPI-${stamp}-ANSWER` }).waitFor();
    await agent.getByRole('button', { name: 'Wrap up…' }).click();
    await agent.getByLabel('Wrap-up code').selectOption('resolved');
    await agent.getByRole('button', { name: 'Close conversation' }).click();
    await agent.getByText('Closed · Resolved.').waitFor();

    await expect
      .poll(
        async () => {
          await lead.getByTestId('kpis-refresh').click();
          await lead.waitForTimeout(300);
          return tileSub(lead, 'asa');
        },
        { timeout: 20_000 },
      )
      .toBe('1 answered');
    expect(await lead.getByTestId('kpi-asa-value').textContent()).toMatch(/^\d+ s$/);
    expect(await tileSub(lead, 'aht')).toBe('1 handled');
    expect(await lead.getByTestId('kpi-fcr-value').textContent()).toBe('100%');
    // The volume chart has a bar for the answered contact.
    expect(await lead.locator('[data-testid="kpis-charts"] .recharts-bar-rectangle').count()).toBeGreaterThan(0);
    await lead.screenshot({ path: join(SHOTS, 'kpis-en.png'), fullPage: true });
  });

  it('downloads the CSV of the same query with the KPI header', async () => {
    const [download] = await Promise.all([lead.waitForEvent('download'), lead.getByTestId('kpis-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^huiliu-kpis-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv$/);
    const text = readFileSync((await download.path())!, 'utf8');
    const [header, total, ...buckets] = text.trim().split('\r\n');
    expect(header!.startsWith('row,from,to,csat_mean,csat_satisfied')).toBe(true);
    expect(header).toContain('asa_answered');
    expect(header).toContain('sla_breaches_first');
    const cols = header!.split(',');
    expect(total!.split(',')[cols.indexOf('asa_answered')]).toBe('1');
    expect(buckets.length).toBeGreaterThan(0);
  });

  it('shows the same view in Chinese', async () => {
    await signIn(leadZh, 'lead');
    await leadZh.getByTestId('view-kpis').click();
    await leadZh.getByTestId('kpis-tiles').waitFor();
    expect(await leadZh.getByTestId('view-kpis').textContent()).toBe('指标');
    expect(await leadZh.getByTestId('kpis-export').textContent()).toBe('导出 CSV');
    await expect.poll(() => tileSub(leadZh, 'asa')).toBe('已应答 1 个');
    await leadZh.screenshot({ path: join(SHOTS, 'kpis-zh.png'), fullPage: true });
  });
});
