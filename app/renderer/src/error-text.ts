import type { i18n } from 'i18next';
import { useTranslation } from 'react-i18next';
import { HuiliuError, type ErrorCode } from '../../../common/errors/codes';
import { resources } from './locales';

/** The desk's words for a failure without a code that a store keeps (`desk:errors.<key>`). */
export type DeskErrorKey = keyof (typeof resources)['en']['desk']['errors'];

const DESK_MARK = 'desk:errors.';
const CODE_MARK = 'errors:codes.';

/** Whether `code` is one the `errors` namespace has a sentence for (every registry code). */
export function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(resources.en.errors.codes, code);
}

/** Whether a HuiliuError is "no answer at all" (the REST clients' `details: {network: true}`). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof HuiliuError && (error.details as { network?: boolean } | undefined)?.network === true;
}

/**
 * What a store keeps for a failure it shows later (stores live outside React and know no language):
 * a HuiliuError becomes `errors:codes.<CODE>` (every registry code has a sentence in zh and en), no
 * answer at all (no HuiliuError, or one marked `network`) `desk:errors.<fallback>`. `errorText` /
 * `<ServerError stored>` turn it into the UI language's words when rendered, so a switch re-translates it.
 */
export function errorKey(error: unknown, fallback: DeskErrorKey): string {
  if (error instanceof HuiliuError && !isNetworkError(error) && isKnownCode(error.code)) return CODE_MARK + error.code;
  return DESK_MARK + fallback;
}

/** The code a stored failure names (`errors:codes.<CODE>` → `<CODE>`), else null. */
export function codeOfStored(stored: string): ErrorCode | null {
  if (!stored.startsWith(CODE_MARK)) return null;
  const code = stored.slice(CODE_MARK.length);
  return isKnownCode(code) ? code : null;
}

/**
 * A stored failure (`errorKey`'s, another `desk:`/`errors:` key, or a plain text) in `instance`'s
 * language; plain text is shown as it is.
 */
export function errorText(instance: i18n, stored: string): string {
  return (stored.startsWith('desk:') || stored.startsWith('errors:')) && instance.exists(stored) ? instance.t(stored as never) : stored;
}

/**
 * The sentence for a server refusal by its code, in `instance`'s language: `override` (a feature's own
 * wording for that code, e.g. `privacyRequest:errors.NOT_FOUND` "No such customer.") when it exists, else
 * `errors:codes.<CODE>`; a code outside the registry gives the server's `message`, else `errors:fallback`.
 */
export function codeText(instance: i18n, code: string, message?: string | null, override?: string): string {
  if (override && instance.exists(`${override}${code}`)) return instance.t(`${override}${code}` as never);
  if (isKnownCode(code)) return instance.t(`errors:codes.${code}`);
  return message || instance.t('errors:fallback');
}

/**
 * Why a reply was not delivered (`MessageDelivery.error`), in `instance`'s language, never the server's
 * English `message`: a registry code gets `errors:codes.<CODE>`, one of the gateway's own delivery codes
 * (STAFF_ONLY, NO_ADAPTER, WEBHOOK_REFUSED, …) `desk:conversation.deliveryCodes.<CODE>`, and a channel's
 * own code (an XMPP condition, `WECHAT_<errcode>`) "the channel refused it (<code>)"; no error at all
 * "the channel refused it".
 */
export function deliveryFailureText(instance: i18n, error: { code: string } | null | undefined): string {
  if (!error) return instance.t('desk:conversation.channelRefused');
  if (isKnownCode(error.code)) return instance.t(`errors:codes.${error.code}`);
  const own = `desk:conversation.deliveryCodes.${error.code}`;
  if (instance.exists(own)) return instance.t(own as never);
  return instance.t('desk:conversation.channelRefusedCode', { code: error.code });
}

/** `errorText` in the UI's current language, as a hook (re-renders on a language switch). */
export function useErrorText(): (stored: string) => string {
  const { i18n: instance } = useTranslation();
  return (stored) => errorText(instance, stored);
}
