import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Issue 15 review: at 1280 px in English a lead's top bar (five views, presence, load chip, language,
 * name · groups, Sign out) is wider than the window; without these rules "Sign out", the load chip and
 * the brand broke across two lines each. The bar now wraps as a whole and its items never break inside;
 * only the name · groups label gives way (ellipsis, full text in its title). jsdom has no layout, so the
 * rules themselves are checked.
 */
// Lives beside the main process because the renderer may not read files (depcruise renderer-is-a-web-page).
const css = readFileSync(new URL('../renderer/src/styles.css', import.meta.url), 'utf8');

/** The declarations of the first rule whose selector list is exactly `selector`. */
function rule(selector: string): string {
  const at = css.search(new RegExp(`(^|\\n)${selector.replace(/[.*+?^${}()|[\]\\>]/g, '\\$&')}\\s*\\{`));
  expect(at, selector).toBeGreaterThanOrEqual(0);
  const open = css.indexOf('{', at);
  return css.slice(open + 1, css.indexOf('}', open));
}

describe('top bar layout', () => {
  it('wraps the bar as a whole, never an item inside it', () => {
    expect(rule('.topbar')).toMatch(/flex-wrap:\s*wrap/);
    expect(rule('.topbar__brand')).toMatch(/white-space:\s*nowrap/);
    const items = rule('.topbar__right > *,\n.views__tab');
    expect(items).toMatch(/white-space:\s*nowrap/);
    expect(items).toMatch(/flex-shrink:\s*0/);
  });

  it('lets only the name · groups label shrink, cut with an ellipsis', () => {
    const user = rule('.topbar__right > .topbar__user');
    expect(user).toMatch(/text-overflow:\s*ellipsis/);
    expect(user).toMatch(/min-width:\s*0/);
  });
});
