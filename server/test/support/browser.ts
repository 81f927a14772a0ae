import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { spkiPin } from '../../src/tls/certificates';

export const CHROMIUM = process.env.HUILIU_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with the flags this environment needs (see docs/testing.md). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set HUILIU_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/**
 * Chromium that trusts exactly the key of the server whose data dir is given, the way the desktop app
 * pins its CA: nothing else is accepted.
 */
export function launchPinnedChromium(dataDir: string): Promise<Browser> {
  const pin = spkiPin(readFileSync(join(dataDir, 'tls', 'server.pem'), 'utf8'));
  return launchChromium([`--ignore-certificate-errors-spki-list=${pin}`]);
}
