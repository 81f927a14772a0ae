import * as assist from './assist';
import * as canned from './canned';
import * as continuity from './continuity';
import * as desk from './desk';
import * as privacyRequest from './privacyRequest';
import * as shell from './shell';
import * as transfer from './transfer';

/**
 * Every namespace of the workstation's UI strings, per language (issue 15). One file per feature in
 * this folder exports `en` and `zh`; add it here and it is typed for `useTranslation('<ns>')`.
 */
export const resources = {
  en: {
    shell: shell.en,
    canned: canned.en,
    desk: desk.en,
    assist: assist.en,
    transfer: transfer.en,
    continuity: continuity.en,
    privacyRequest: privacyRequest.en,
  },
  zh: {
    shell: shell.zh,
    canned: canned.zh,
    desk: desk.zh,
    assist: assist.zh,
    transfer: transfer.zh,
    continuity: continuity.zh,
    privacyRequest: privacyRequest.zh,
  },
} as const;

export type Namespace = keyof (typeof resources)['en'];
