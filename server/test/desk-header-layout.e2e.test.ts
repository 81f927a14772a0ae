import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { postAppMessage, signIn } from './support/desk';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Review of issue 15: the conversation header with the wrap-up open (code, "resolved on first
 * contact", Close, Cancel) beside a long customer name, in a 1360 px window. Before the fix the English
 * Close button ran off the column and Cancel could not be seen at all; in Chinese each button and the
 * priority chip stacked one character per line. Every control must be inside the column and one line
 * high. Screenshots: test-output/e2e/desk-header-wrapup-{en,zh}.png.
 */
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServerProcess({ compiled: true, startTimeoutMs: 90_000 });
  browser = await launchPinnedChromium(server.dataDir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The few DOM shapes the check below reads (the server's tsconfig has no DOM lib). */
interface Box {
  left: number;
  right: number;
  height: number;
}
interface El {
  className: string;
  tagName: string;
  dataset: Record<string, string | undefined>;
  getBoundingClientRect(): Box;
  closest(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
}
interface Style {
  lineHeight: string;
  fontSize: string;
  paddingTop: string;
  paddingBottom: string;
  borderTopWidth: string;
  borderBottomWidth: string;
}

/** Each visible control of the header's action area: its box, and the height of one line of its text. */
async function controls(page: Page) {
  return page.locator('.conversation__actions').evaluate((node) => {
    const area = node as unknown as El;
    const win = globalThis as unknown as { getComputedStyle(el: El): Style };
    const column = area.closest('.conversation')!.getBoundingClientRect();
    return [...area.querySelectorAll('button, select, label, .tier, .prio')].map((el) => {
      const box = el.getBoundingClientRect();
      const style = win.getComputedStyle(el);
      const line = Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.4;
      const padding = Number.parseFloat(style.paddingTop) + Number.parseFloat(style.paddingBottom);
      const border = Number.parseFloat(style.borderTopWidth) + Number.parseFloat(style.borderBottomWidth);
      return {
        what: el.dataset['testid'] ?? (el.className || el.tagName),
        left: box.left,
        right: box.right,
        columnLeft: column.left,
        columnRight: column.right,
        // How many lines of text the control shows (1 when its words stay on one line).
        lines: Math.round((box.height - padding - border) / line),
      };
    });
  });
}

describe.each([
  { lang: 'en', locale: 'en-US', name: `Bartholomew-Maximilian-Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausen ` },
  { lang: 'zh', locale: 'zh-CN', name: '欧阳诸葛司马上官端木皇甫长孙慕容令狐宇文尉迟公孙东方独孤南宫' },
] as const)('the conversation header with the wrap-up open ($lang)', { timeout: 90_000 }, ({ lang, locale, name }) => {
  it('keeps the code, the FCR box, Close and Cancel inside the column, each on one line', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale });
    try {
      const agent = await context.newPage();
      await signIn(agent, server, 'agent1');
      const stamp = `${lang}${Date.now().toString(36)}`;
      await postAppMessage(
        server,
        { externalId: `layout-${stamp}`, name: `${name}${stamp}` },
        `Where is my parcel L-${stamp}?`,
        `layout-${stamp}-1`,
      );
      const row = agent.getByTestId('queue-item').filter({ hasText: `L-${stamp}` });
      await row.getByTestId('accept').click({ timeout: 30_000 });
      await agent.getByTestId('wrapup-button').click();
      await agent.getByTestId('wrapup-close').waitFor();
      await agent.screenshot({ path: join(SHOTS, `desk-header-wrapup-${lang}.png`) });
      const seen = await controls(agent);
      expect(seen.length).toBeGreaterThanOrEqual(5);
      for (const c of seen) {
        expect({ what: c.what, inside: c.left >= c.columnLeft - 0.5 && c.right <= c.columnRight + 0.5 }).toEqual({
          what: c.what,
          inside: true,
        });
        expect({ what: c.what, lines: c.lines }).toEqual({ what: c.what, lines: 1 });
      }
    } finally {
      await context.close();
    }
  });
});
