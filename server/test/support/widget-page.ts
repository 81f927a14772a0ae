import type { Page } from 'playwright-core';

/**
 * Gets a widget page past its pre-chat form (issue 13; `--demo` asks for a name, a contact and a
 * topic), the way a visitor would: waits for the link, and when the form shows, picks `topic` (its
 * label, default the first one: the demo's billing, in the general group), fills `name` if given, and
 * starts the chat; resolves once the composer shows. A page without the form is left as it is.
 */
export async function passPreChat(page: Page, options: { name?: string; topic?: string | RegExp } = {}): Promise<void> {
  const composer = page.locator('#composer');
  const form = page.locator('#prechat');
  await form.or(composer).first().waitFor({ state: 'visible' });
  // The welcome decides which one shows: wait for it before looking.
  await page.waitForFunction(() => {
    const link = (
      globalThis as unknown as { document: { getElementById(id: string): { dataset: { state?: string } } | null } }
    ).document.getElementById('link-state');
    return link?.dataset.state === 'online';
  });
  if (!(await form.isVisible())) return;
  if (options.name) await page.locator('#pc-name').fill(options.name);
  const radio = options.topic ? page.getByRole('radio', { name: options.topic }) : page.getByRole('radio').first();
  await radio.check();
  await page.locator('#prechat-start').click();
  await composer.waitFor({ state: 'visible' });
}
