import * as canned from './canned';
import * as shell from './shell';
import * as softphone from './softphone';

/**
 * Every namespace of the workstation's UI strings, per language (issue 15). One file per feature in
 * this folder exports `en` and `zh`; add it here and it is typed for `useTranslation('<ns>')`.
 */
export const resources = {
  en: { shell: shell.en, canned: canned.en, softphone: softphone.en },
  zh: { shell: shell.zh, canned: canned.zh, softphone: softphone.zh },
} as const;

export type Namespace = keyof (typeof resources)['en'];
