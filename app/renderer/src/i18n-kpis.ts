import { fixedT } from './i18n-legacy';
import type { Locale } from './i18n';
import { resources } from './locales';

export { formatCountdown } from './locale-format';

/**
 * Legacy adapter (issue 15): the queue row's SLA chip strings from `locales/kpis.ts` in the old shape,
 * for QueueList until its migration to `useTranslation('kpis')` (`kpis:sla.*`). Delete once nothing
 * imports it.
 */
export function kpiStrings(locale: Locale) {
  const s = resources[locale].kpis.sla;
  const t = fixedT(locale, 'kpis');
  return {
    sla: {
      first: s.first,
      next: s.next,
      late: (overdue: string) => t('sla.late', { o: overdue }),
      title: (kind: string, due: string) => t('sla.title', { k: kind, due }),
    },
  };
}
