import 'i18next';
import type { resources } from './locales';

// Typed keys: `t('canned:title')` and `useTranslation('canned')` are checked against the English strings.
declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'shell';
    resources: (typeof resources)['en'];
    // `{{value, duration}}` takes seconds (formatDuration in locale.ts).
    interpolationFormatTypeMap: { duration: number };
  }
}
