import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { canRenderText, renderTextImage } from './support/text-image';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 10 in the browser: a customer's image sent on the app channel shows in the agent's
 * conversation, fetched with the agent's token, with the text OCR read from it under it, the phone
 * number in it masked.
 */
describe.skipIf(!canRenderText() && !process.env.CI)('an image with its OCR text in the workstation', () => {
  let server: ServerProcess;
  let browser: Browser;
  let agent: Page;
  const stamp = Date.now().toString(36);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    browser = await launchPinnedChromium(server.dataDir);
    agent = await (await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the image and, under it, the text read from it with the phone masked', async () => {
    await agent.goto(`${server.url}/app/`);
    await agent.getByLabel('Username').fill('agent1');
    await agent.getByLabel('Password').fill('huiliu-demo');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => agent.getByTestId('link-state').textContent()).toBe('Connected');

    const image = renderTextImage('订单号 88990011 还没有发货\nOrder 88990011, phone 13812345678');
    const { status } = await httpsRequest(`${server.url}/api/v1/channels/app/messages`, {
      method: 'POST',
      ca: readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8'),
      headers: { 'x-huiliu-key': 'demo-app-key' },
      json: {
        customer: { externalId: `img-${stamp}`, name: '李雷' },
        text: `Screenshot of my order IMG-${stamp}`,
        image: { base64: image.toString('base64'), mime: 'image/png' },
        clientMessageId: `img-${stamp}-1`,
        hints: { skillGroup: 'general' },
      },
    });
    expect(status).toBe(202);

    const row = agent.getByTestId('queue-item').filter({ hasText: `IMG-${stamp}` });
    await row.getByTestId('accept').click();
    const bubble = agent.getByTestId('customer-message').filter({ hasText: `IMG-${stamp}` });
    await bubble.waitFor();
    // The picture itself, loaded from an object URL the page made from the authorized fetch.
    const img = bubble.locator('img.image-message__img');
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(renderWidth(image));
    const ocr = bubble.getByTestId('ocr-text');
    await ocr.waitFor();
    const text = (await ocr.textContent()) ?? '';
    expect(text).toContain('88990011');
    expect(text).toContain('*******5678');
    expect(text).not.toContain('13812345678');
    await agent.screenshot({ path: join(SHOTS, 'workstation-image-ocr.png') });
  });
});

/** A PNG's width from its IHDR chunk. */
function renderWidth(png: Buffer): number {
  return png.readUInt32BE(16);
}
