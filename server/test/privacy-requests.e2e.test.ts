import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportBundle, PrivacyRequestView } from '../../common/api/privacy';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { signIn as signInAs } from './support/desk';

const SHOTS = join(REPO, 'test-output', 'e2e');
const DOCS = join(REPO, 'docs', 'images');

/**
 * Issue 17, data-subject requests in the workstation (Chromium, demo users; the demo has one privacy
 * officer, `privacy`): agent1 files an export for the customer of an open conversation from the
 * customer panel (the confirmation shows the request id and due date); the privacy officer sees it in
 * the Privacy tab, is refused approving their own request (the server's PRIVACY_SELF_APPROVAL shown),
 * rejects another with a note, approves the export and downloads the JSON bundle once (a second try,
 * from a window that still offers it, says it is gone). Then agent1 (in Chinese) files an erasure,
 * the officer (in Chinese) approves it, and agent1's open conversation with that customer closes.
 * Screenshots in English and Chinese.
 */
describe('privacy requests in the workstation: filed by an agent, decided by the privacy officer', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ca: string;
  let officerToken = '';
  let agentToken = '';
  const stamp = Date.now().toString(36);
  let exportCustomer = '';
  let exportId = '';

  const api = (path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    httpsRequest(`${server.url}${path}`, { ca, ...options });
  const login = async (username: string) => {
    const res = await api('/api/v1/auth/login', { method: 'POST', json: { username, password: 'huiliu-demo' } });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { token: string }).token;
  };
  const customerSays = async (externalId: string, name: string, text: string) => {
    const res = await api('/api/v1/channels/app/messages', {
      method: 'POST',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: { customer: { externalId, name }, text, clientMessageId: `${externalId}-1`, hints: { skillGroup: 'general' } },
    });
    expect(res.status).toBe(202);
  };
  const requests = async (kind: 'exports' | 'erasures') => {
    const res = await api(`/api/v1/privacy/${kind}`, { headers: { authorization: `Bearer ${officerToken}` } });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { requests: PrivacyRequestView[] }).requests;
  };

  async function signIn(locale: 'en-US' | 'zh-CN', username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 860 }, locale, timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    await signInAs(page, server, username, { until: 'signed-in' });
    return page;
  }
  /** agent1 accepts the contact whose text holds `marker` and sees its conversation. */
  async function accept(page: Page, marker: string): Promise<void> {
    const row = page.getByTestId('queue-item').filter({ hasText: marker });
    await row.waitFor();
    await row.getByTestId('accept').click();
    await page.getByTestId('customer-message').filter({ hasText: marker }).waitFor();
  }
  const rowOf = (page: Page, id: string) => page.locator(`[data-testid="privacy-row"][data-id="${id}"]`);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(DOCS, { recursive: true });
    server = await startServerProcess();
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
    [officerToken, agentToken] = await Promise.all([login('privacy'), login('agent1')]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('agent1 files an export from the customer panel; the confirmation shows the id and due date', { timeout: 60_000 }, async () => {
    const marker = `EXP-${stamp}`;
    await customerSays(`prv-exp-${stamp}`, 'Chen Jing', `Please send me all my data ${marker}`);
    const page = await signIn('en-US', 'agent1');
    await accept(page, marker);
    // No Privacy tab for an agent.
    expect(await page.getByTestId('view-privacy').count()).toBe(0);
    const exportButton = page.getByRole('button', { name: 'Request data export' });
    expect(await page.getByRole('button', { name: 'Request erasure' }).count()).toBe(1);
    // Keyboard: focus the button and press Enter; the reason field takes the focus.
    await exportButton.focus();
    await page.keyboard.press('Enter');
    const reason = page.getByRole('textbox', { name: 'Reason' });
    await expect
      .poll(() =>
        reason.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement),
      )
      .toBe(true);
    expect(await reason.getAttribute('dir')).toBe('auto');
    await page.getByTestId('privacy-file-submit').click();
    await expect.poll(() => page.getByTestId('privacy-file-error').textContent()).toBe('Give a reason of 3 to 500 characters.');
    await reason.fill('Customer asked by email for a copy of their data');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const done = page.getByTestId('privacy-filed');
    await done.waitFor();
    exportId = (await done.getAttribute('data-id'))!;
    const [filed] = (await requests('exports')).filter((r) => r.id === exportId);
    expect(filed).toMatchObject({ status: 'pending', reason: 'Customer asked by email for a copy of their data', sessionId: null });
    exportCustomer = filed!.customerId;
    const due = new Date(filed!.dueAt).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Shanghai' });
    expect(await done.textContent()).toBe(
      `Data export request ${exportId} filed. Due ${due}. A privacy officer will approve or reject it.`,
    );
    await page.screenshot({ path: join(SHOTS, 'privacy-file-en.png') });
    await page.context().close();
  });

  it('the privacy officer approves it, downloads the bundle once, and cannot approve their own request', { timeout: 90_000 }, async () => {
    // The officer's own request (filed through the API), and a second one of agent1's to reject.
    const own = await api('/api/v1/privacy/erasures', {
      method: 'POST',
      headers: { authorization: `Bearer ${officerToken}` },
      json: { customerId: exportCustomer, reason: 'Officer-filed erasure, needs another officer' },
    });
    expect(own.status).toBe(201);
    const ownId = (JSON.parse(own.body) as PrivacyRequestView).id;
    const other = await api('/api/v1/privacy/exports', {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}` },
      json: { customerId: exportCustomer, reason: '重复的申请 (duplicate)' },
    });
    expect(other.status).toBe(201);
    const otherId = (JSON.parse(other.body) as PrivacyRequestView).id;

    const page = await signIn('en-US', 'privacy');
    expect(await page.getByTestId('view-privacy').textContent()).toBe('Privacy requests');
    await page.getByTestId('view-privacy').click();
    const row = rowOf(page, exportId);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('pending');
    expect(await row.locator('td').nth(0).textContent()).toBe('Data export');
    expect(await row.locator('td').nth(1).textContent()).toBe(exportCustomer);
    expect(await row.locator('td').nth(2).textContent()).toBe('Customer asked by email for a copy of their data');
    expect(await row.getByTestId('privacy-status').textContent()).toBe('Pending');
    expect(await row.getByTestId('privacy-due').textContent()).not.toContain('Overdue');
    expect(await page.getByTestId('privacy-row').count()).toBe(3);

    // Self-approval: the server refuses, and its message is shown.
    const mine = rowOf(page, ownId);
    expect(await mine.locator('td').nth(3).textContent()).toBe('you');
    await mine.getByRole('button', { name: `Approve the erasure for customer ${exportCustomer}` }).click();
    const error = page.getByTestId('privacy-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('PRIVACY_SELF_APPROVAL');
    // The desk's sentence for the code (errors namespace), and the code small for support; not the server's English.
    expect(await error.getByTestId('error-text').textContent()).toBe('You filed this request: someone else must decide it.');
    expect(await error.getByTestId('error-code').textContent()).toBe('PRIVACY_SELF_APPROVAL');
    expect(await error.textContent()).not.toContain('A request must be approved by someone other than the requester.');
    await page.screenshot({ path: join(SHOTS, 'privacy-error-en.png') });
    expect(await mine.getAttribute('data-status')).toBe('pending');

    // Reject the duplicate with a note.
    const dup = rowOf(page, otherId);
    await dup.getByTestId('privacy-reject').click();
    await dup.getByLabel('Reason for rejecting').fill('Duplicate of an earlier request');
    await dup.getByTestId('privacy-reject-confirm').click();
    await expect.poll(() => dup.getAttribute('data-status')).toBe('rejected');
    expect(await dup.getByTestId('privacy-status').textContent()).toBe('Rejected');

    // Approve agent1's export: it can be downloaded, once.
    await row.getByTestId('privacy-approve').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('approved');
    expect(await row.locator('td').nth(7).textContent()).toContain('Can be downloaded once only.');
    // A second window of the officer, opened now, still offers the download.
    const stale = await signIn('en-US', 'privacy');
    await stale.getByTestId('view-privacy').click();
    await rowOf(stale, exportId).getByTestId('privacy-download').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('privacy-download').click()]);
    expect(download.suggestedFilename()).toMatch(/\.json$/);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as ExportBundle;
    expect(bundle.format).toBe('huiliu-export/1');
    expect(bundle.requestId).toBe(exportId);
    expect(bundle.customer).toMatchObject({ id: exportCustomer, name: 'Chen Jing' });
    expect(JSON.stringify(bundle.conversations)).toContain(`Please send me all my data EXP-${stamp}`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('downloaded');
    expect(await row.getByTestId('privacy-downloaded').textContent()).toBe('Downloaded: the file is gone from the server.');
    expect(await row.getByTestId('privacy-download').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'privacy-requests-en.png') });
    copyFileSync(join(SHOTS, 'privacy-requests-en.png'), join(DOCS, 'privacy-requests.png'));

    // The second try: gone.
    await rowOf(stale, exportId).getByTestId('privacy-download').click();
    const gone = stale.getByTestId('privacy-error');
    await expect.poll(() => gone.getAttribute('data-code')).toBe('EXPORT_GONE');
    expect(await gone.textContent()).toContain('This export is gone: it was already downloaded (once only) or has expired.');
    await expect.poll(() => rowOf(stale, exportId).getAttribute('data-status')).toBe('downloaded');
    await stale.screenshot({ path: join(SHOTS, 'privacy-download-gone-en.png') });
    await stale.context().close();
    await page.context().close();
  });

  it('agent1 (zh) files an erasure, the officer (zh) approves it, and agent1’s open conversation closes', { timeout: 90_000 }, async () => {
    const marker = `ERA-${stamp}`;
    await customerSays(`prv-era-${stamp}`, '王芳', `请删除我的所有数据 ${marker}`);
    const agent = await signIn('zh-CN', 'agent1');
    await accept(agent, marker);
    await agent.getByRole('button', { name: '申请删除数据' }).click();
    expect(await agent.getByTestId('privacy-file-form').textContent()).toContain('该客户的全部数据将被销毁');
    await agent.getByRole('textbox', { name: '原因' }).fill('客户来电要求删除个人信息');
    expect(await agent.getByTestId('privacy-file-submit').textContent()).toBe('提交申请');
    await agent.getByTestId('privacy-file-submit').click();
    const done = agent.getByTestId('privacy-filed');
    await done.waitFor();
    const erasureId = (await done.getAttribute('data-id'))!;
    expect(await done.textContent()).toMatch(new RegExp(`^数据删除请求 ${erasureId} 已提交，截止 \\d{4}年\\d{1,2}月\\d{1,2}日`));
    await agent.screenshot({ path: join(SHOTS, 'privacy-file-zh.png') });
    const erasure = (await requests('erasures')).find((r) => r.id === erasureId)!;
    expect(erasure).toMatchObject({ status: 'pending', reason: '客户来电要求删除个人信息' });

    const officer = await signIn('zh-CN', 'privacy');
    expect(await officer.getByTestId('view-privacy').textContent()).toBe('隐私请求');
    await officer.getByTestId('view-privacy').click();
    const row = rowOf(officer, erasureId);
    await row.waitFor();
    expect(await row.locator('td').nth(0).textContent()).toBe('数据删除');
    expect(await row.getByTestId('privacy-status').textContent()).toBe('待审批');
    expect(await officer.locator('th').allTextContents()).toEqual([
      '类型',
      '客户',
      '原因',
      '申请人',
      '申请时间',
      '截止时间',
      '状态',
      '操作',
    ]);
    // A second window of the officer, opened before the decision: its Approve comes too late.
    const stale = await signIn('zh-CN', 'privacy');
    await stale.getByTestId('view-privacy').click();
    await rowOf(stale, erasureId).getByTestId('privacy-approve').waitFor();
    await row.getByRole('button', { name: `批准客户 ${erasure.customerId} 的数据删除请求` }).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('executed');
    await rowOf(stale, erasureId).getByTestId('privacy-approve').click();
    const late = stale.getByTestId('privacy-error');
    await expect.poll(() => late.getAttribute('data-code')).toBe('PRIVACY_REQUEST_NOT_PENDING');
    expect(await late.getByTestId('error-text').textContent()).toBe('该请求已被处理。');
    expect(await late.getByTestId('error-code').textContent()).toBe('PRIVACY_REQUEST_NOT_PENDING');
    await stale.screenshot({ path: join(SHOTS, 'privacy-error-zh.png') });
    await stale.context().close();
    expect(await row.getByTestId('privacy-status').textContent()).toBe('已删除');
    expect(await rowOf(officer, exportId).getByTestId('privacy-status').textContent()).toBe('已下载');
    await officer.screenshot({ path: join(SHOTS, 'privacy-requests-zh.png') });

    // agent1's window drops the erased customer's open conversation (customer:erased).
    await expect.poll(() => agent.getByTestId('customer-message').filter({ hasText: marker }).count(), { timeout: 15_000 }).toBe(0);
    expect(await agent.getByTestId('privacy-file').count()).toBe(0);
    await agent.context().close();
    await officer.context().close();
  });
});
