import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { writeConfigFile } from './support/config-file';
import { seedWaitingContacts, signIn } from './support/desk';
import { httpsRequest } from './support/https';
import { REPO, startServerProcess, type ServerProcess } from './support/server-process';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * Issue 15: an agent who opens conversations faster than the socket's event budget allows (each open
 * is `session:open` + `session:view` + `session:unview` of the one before) still gets every one. The
 * server refuses the surplus with RATE_LIMITED and the wait until its bucket refills
 * (`details.retryAfterMs`); the desk sends the event again then (app/renderer/src/api/agent-socket.ts).
 * Before, a refused `session:open` left the previous conversation on screen — what stopped
 * `npm run bench -- desktop` at open #500 on a quiet machine (3 events × ~6 opens/s > 20 events/s).
 * Here the budget is 4 at once and 3 a second, so twelve back-to-back opens must be refused some events.
 */
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServerProcess({
    compiled: true,
    startTimeoutMs: 90_000,
    env: { HUILIU_CONFIG: writeConfigFile({ limits: { agent: { eventBurst: 4, eventsPerSecond: 3 } } }) },
  });
  await seedWaitingContacts(server, 12, 'burst');
  browser = await launchPinnedChromium(server.dataDir);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function rateLimitedEvents(): Promise<number> {
  const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
  const { body } = await httpsRequest(`${server.url}/metrics`, { method: 'GET', ca });
  const line = body.split('\n').find((l) => l.startsWith('huiliu_rate_limited_total{') && l.includes('limit="agent_socket_events"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('opening conversations faster than the event budget', () => {
  it('shows every conversation opened, in the order clicked, with no error', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 800 }, locale: 'en-US' });
    const page: Page = await context.newPage();
    await signIn(page, server, 'lead');
    const rows = page.locator('[data-testid="queue-item"]');
    await rows.nth(11).waitFor({ timeout: 20_000 });
    const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-session-id')!));
    const before = await rateLimitedEvents();
    for (const id of ids.slice(0, 12)) {
      await page.locator(`[data-testid="queue-item"][data-session-id="${id}"] .qitem__main`).click();
      await expect
        .poll(
          () =>
            page
              .locator('[data-testid="session-id"]')
              .first()
              .textContent({ timeout: 1000 })
              .catch(() => null),
          { timeout: 15_000 },
        )
        .toBe(id);
    }
    // The budget was hit (the test means something), and nothing it refused reached the agent as an error.
    expect(await rateLimitedEvents()).toBeGreaterThan(before);
    await expect.poll(() => page.locator('[role="alert"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'desk-rate-limited-opens-en.png') });
    await context.close();
  });
});
