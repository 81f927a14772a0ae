import i18next, { type TFunction } from 'i18next';
import type { Locale } from './i18n';
import { resources, type Namespace } from './locales';

/**
 * A fixed-language translate function for code that has no React context (issue 15): the legacy
 * `*Strings(locale)` adapters the desk components still call until they use `useTranslation`. A bare
 * i18next instance per language over the same `./locales` (no react-i18next plugin, so the app's
 * instance stays the one `useTranslation` falls back to).
 */
export function fixedT<N extends Namespace>(locale: Locale, ns: N): TFunction<N> {
  let instance = instances.get(locale);
  if (!instance) {
    instance = i18next.createInstance();
    void instance.init({
      resources,
      lng: locale,
      fallbackLng: 'en',
      ns: Object.keys(resources.en),
      initAsync: false,
      interpolation: { escapeValue: false },
    });
    instances.set(locale, instance);
  }
  return instance.getFixedT(locale, ns);
}
const instances = new Map<Locale, typeof i18next>();
