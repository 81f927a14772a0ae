import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPinnedChromium } from './support/browser';
import { startServerProcess, type ServerProcess } from './support/server-process';

/**
 * The widget's heartbeat wiring, in a real browser with Playwright's fake clock: it pings every 30 s
 * on a good link, and when a pong does not come back by the next beat it drops the link and
 * reconnects (DESIGN §7). The WebSocket is routed through Playwright so the test can lose pongs.
 */
describe('widget heartbeat in the browser', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServerProcess();
    // Trust exactly this server's key, the way the desktop app pins its CA.
    browser = await launchPinnedChromium(server.dataDir);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('pings every 30 s and reconnects when a pong is lost', async () => {
    const page = await browser.newPage();
    await page.clock.install();
    let pings = 0;
    let pongs = 0;
    let dropPongs = false;
    let connections = 0;
    await page.routeWebSocket(/\/channels\/web$/, (ws) => {
      connections += 1;
      const upstream = ws.connectToServer();
      ws.onMessage((m) => {
        if (String(m).includes('"type":"ping"')) pings += 1;
        upstream.send(m);
      });
      upstream.onMessage((m) => {
        const isPong = String(m).includes('"type":"pong"');
        if (dropPongs && isPong) return;
        ws.send(m);
        if (isPong) pongs += 1;
      });
    });
    const state = () => page.locator('#link-state').getAttribute('data-state');
    await page.goto(`${server.url}/widget`);
    await expect.poll(state).toBe('online');
    expect(connections).toBe(1);

    await page.clock.runFor(29_000);
    expect(pings).toBe(0);
    await page.clock.runFor(1_500);
    await expect.poll(() => pings).toBe(1);
    // The pong travels in real time; let it reach the page before the fake clock moves on.
    await expect.poll(() => pongs).toBe(1);
    await page.waitForTimeout(250);
    await page.clock.runFor(30_000);
    await expect.poll(() => pings).toBe(2);
    await expect.poll(() => pongs).toBe(2);
    await page.waitForTimeout(250);
    expect(await state()).toBe('online');

    dropPongs = true;
    await page.clock.runFor(30_000); // ping 3 goes out, its pong is lost
    await expect.poll(() => pings).toBe(3);
    expect(await state()).toBe('online');
    await page.clock.runFor(30_000); // next beat: no pong yet → the link is dead
    await expect.poll(state).toBe('offline');

    dropPongs = false;
    await page.clock.runFor(2_000); // reconnect backoff
    await expect.poll(state).toBe('online');
    expect(connections).toBe(2);
    await page.close();
  });
});
