import { fixedT } from './i18n-legacy';
import type { Locale } from './i18n';
import { resources } from './locales';

export { localeTag } from './locale-format';

/**
 * Legacy adapter (issue 15): the routing namespace (`locales/routing.ts`) in the old shape, for the
 * desk components that still read it (ContextPanel; TopBar's own presence/link/sign-out strings) until
 * their migration to `useTranslation('routing')`. The routing pages use `useTranslation` already;
 * delete this file once nothing imports it.
 */
export function routingStrings(locale: Locale) {
  const r = resources[locale].routing;
  const t = fixedT(locale, 'routing');
  return {
    shell: { ...r.shell, until: (time: string) => t('shell.until', { time }) },
    context: r.context,
    explain: { title: r.explain.title },
  };
}
