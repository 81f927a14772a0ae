/**
 * The agent desktop's renderer driven from Chromium (issue 15): sign in, seed waiting contacts through
 * the app channel. Shared by server/test/agent-desk.e2e.test.ts and server/bench/desktop-renderer.ts.
 * Selects by name attributes, roles and test ids, never by visible text, so the helpers work in zh and
 * en and survive the i18next migration of the strings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { httpsRequest } from './https';
import type { ServerProcess } from './server-process';

/** The demo seed's password for every user (server/src/demo/seed.ts). */
export const DEMO_PASSWORD = 'huiliu-demo';

/**
 * Opens `/app/` and signs in as `username` (a demo user). `until`: `'online'` (default) resolves when
 * the agent socket is connected (the top bar's link state, shown to users who work a queue);
 * `'signed-in'` when the top bar names the user (leads, admins, auditors, privacy officers). Throws on
 * a time-out (20 s). Shared by every e2e file that signs in, so the sign-in form is driven one way.
 */
export async function signIn(
  page: Page,
  server: Pick<ServerProcess, 'url'>,
  username: string,
  { until = 'online' }: { until?: 'online' | 'signed-in' } = {},
): Promise<void> {
  await page.goto(`${server.url}/app/`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('form button[type="submit"]').click();
  const shown = until === 'online' ? '[data-testid="link-state"].link--online' : '[data-testid="current-user"]';
  await page.locator(shown).waitFor({ timeout: 20_000 });
}

/** A customer of the app channel: the app's own user id and a display name. */
export interface AppCustomer {
  externalId: string;
  name: string;
}

/**
 * A customer message through the app channel (`POST /api/v1/channels/app/messages`, demo key), which
 * opens a waiting contact the first time. Throws unless the server answers 202.
 */
export async function postAppMessage(server: ServerProcess, customer: AppCustomer, text: string, clientMessageId: string): Promise<void> {
  const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
  const { status, body } = await httpsRequest(`${server.url}/api/v1/channels/app/messages`, {
    method: 'POST',
    ca,
    headers: { 'x-huiliu-key': 'demo-app-key' },
    json: { customer, text, clientMessageId },
  });
  if (status !== 202) throw new Error(`app message: HTTP ${status} ${body.slice(0, 200)}`);
}

/**
 * `count` waiting contacts, one app customer each (`<prefix>-<i>`), `concurrency` posts at a time.
 * Resolves the customers in order.
 */
export async function seedWaitingContacts(server: ServerProcess, count: number, prefix: string, concurrency = 8): Promise<AppCustomer[]> {
  const customers = Array.from({ length: count }, (_, i) => ({ externalId: `${prefix}-${i}`, name: `Customer ${prefix} ${i}` }));
  let next = 0;
  const worker = async () => {
    while (next < customers.length) {
      const i = next++;
      const c = customers[i]!;
      await postAppMessage(server, c, `Where is my parcel ${prefix}-${i}? 我的包裹在哪里`, `${c.externalId}-1`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return customers;
}
