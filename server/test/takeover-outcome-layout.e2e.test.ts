import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser';
import { REPO } from './support/server-process';

/**
 * Issue 15 review: the take-over outcome notice sits over the foot of the queue column (320 px) and
 * must keep its Dismiss button inside itself. A refusal's text carries its error code, one long word
 * (`TRANSFER_TARGET_UNAVAILABLE`): the button was pushed out of the dark notice, white on the white
 * conversation column (invisible) and over the reply box. Rendered in Chromium with the component's own
 * stylesheet (collision.css) and markup (TakeoverPrompt.tsx, the outcome notice).
 */
describe('take-over outcome notice layout', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ['zh', '未能完成移交（TRANSFER_TARGET_UNAVAILABLE）。', '关闭'],
    ['en', 'The hand-over could not be completed (TRANSFER_TARGET_UNAVAILABLE).', 'Dismiss'],
  ])('keeps Dismiss inside the notice and the notice inside the queue column (%s)', async (_lang, text, dismiss) => {
    const css = readFileSync(join(REPO, 'app/renderer/src/components/collision/collision.css'), 'utf8');
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    try {
      await page.setContent(
        `<style>body{margin:0;font:14px system-ui,sans-serif}${css}</style>
         <div class="takeover-outcome takeover-outcome--failed" role="status" data-testid="takeover-outcome">
           <span>${text}</span><button type="button" class="ghost">${dismiss}</button>
         </div>`,
      );
      const box = (await page.locator('.takeover-outcome').boundingBox())!;
      const button = (await page.locator('.takeover-outcome button').boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(320);
      expect(button.x + button.width).toBeLessThanOrEqual(box.x + box.width);
      expect(button.y + button.height).toBeLessThanOrEqual(box.y + box.height);
    } finally {
      await page.close();
    }
  });
});
