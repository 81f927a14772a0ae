import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { i18n } from 'i18next';
import { I18nextProvider } from 'react-i18next';
import { LocaleContext } from './context';
import type { Locale } from './locale';
import { createI18n, localeOf } from './locale';

/**
 * Gives the tree its language: the i18next instance for `useTranslation`, and the same language as
 * `useLocale()` for the formatting helpers. Pass `i18n` (the app's instance, whose language the shell
 * switches with `changeLanguage`) or `locale` (tests: a fresh instance in that language).
 */
export function LocaleProvider({ i18n, locale, children }: { i18n?: i18n; locale?: Locale; children: ReactNode }) {
  const instance = useMemo(() => i18n ?? createI18n(locale ?? 'en'), [i18n, locale]);
  const [current, setCurrent] = useState<Locale>(() => localeOf(instance));
  useEffect(() => {
    setCurrent(localeOf(instance));
    const changed = () => setCurrent(localeOf(instance));
    instance.on('languageChanged', changed);
    return () => instance.off('languageChanged', changed);
  }, [instance]);
  return (
    <I18nextProvider i18n={instance}>
      <LocaleContext.Provider value={current}>{children}</LocaleContext.Provider>
    </I18nextProvider>
  );
}
