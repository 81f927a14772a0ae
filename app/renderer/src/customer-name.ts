import type { i18n } from 'i18next';
import { useTranslation } from 'react-i18next';
import { placeholderOf } from '../../../common/message/placeholder-names';

/**
 * A customer's name as the desk shows it (issue 15): a real name as it is; the server's placeholder
 * names (`common/message/placeholder-names.ts`: "Web visitor", "Unknown customer", …, stable words on
 * the wire) in the UI's language (`desk:customerNames.*`).
 */
export function customerNameText(instance: i18n, name: string): string {
  const p = placeholderOf(name);
  if (!p) return name;
  if (p.kind === 'unknown') return instance.t('desk:customerNames.unknown');
  const key = `desk:customerNames.channels.${p.channel}`;
  return instance.exists(key) ? instance.t(key as never) : instance.t('desk:customerNames.other', { channel: p.channel });
}

/** `customerNameText` in the UI's current language, as a hook (re-renders on a language switch). */
export function useCustomerName(): (name: string) => string {
  const { i18n: instance } = useTranslation();
  return (name) => customerNameText(instance, name);
}
