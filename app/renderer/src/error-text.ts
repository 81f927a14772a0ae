import type { i18n } from 'i18next';
import { useTranslation } from 'react-i18next';
import { HuiliuError } from '../../../common/errors/codes';
import { resources } from './locales';

/** The desk's words for a failure a store keeps (`errors.<key>`, or by error code `errors.codes.<CODE>`). */
export type DeskErrorKey = Exclude<keyof (typeof resources)['en']['desk']['errors'], 'codes'>;

const ERROR_MARK = 'desk:errors.';

/**
 * What a store keeps for a failure it shows later (stores live outside React and know no language):
 * a HuiliuError whose code the desk has words for becomes `desk:errors.codes.<CODE>`, another
 * HuiliuError keeps the server's message, anything else (no answer) `desk:errors.<fallback>`.
 * `errorText` turns it into the UI language's words when it is rendered, so a switch re-translates it.
 */
export function errorKey(error: unknown, fallback: DeskErrorKey): string {
  if (error instanceof HuiliuError)
    return error.code in resources.en.desk.errors.codes ? `${ERROR_MARK}codes.${error.code}` : error.message;
  return ERROR_MARK + fallback;
}

/** A stored failure (`errorKey`'s or another `desk:` key, or a plain text) in `instance`'s language; plain text is shown as it is. */
export function errorText(instance: i18n, stored: string): string {
  return stored.startsWith('desk:') && instance.exists(stored) ? instance.t(stored as never) : stored;
}

/** `errorText` in the UI's current language, as a hook (re-renders on a language switch). */
export function useErrorText(): (stored: string) => string {
  const { i18n: instance } = useTranslation();
  return (stored) => errorText(instance, stored);
}
