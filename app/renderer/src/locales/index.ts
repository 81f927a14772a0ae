import * as canned from './canned';
import * as shell from './shell';
import * as collision from './collision';
import * as presence from './presence';
import * as shortcuts from './shortcuts';

/**
 * Every namespace of the workstation's UI strings, per language (issue 15). One file per feature in
 * this folder exports `en` and `zh`; add it here and it is typed for `useTranslation('<ns>')`.
 */
export const resources = {
  en: { shell: shell.en, canned: canned.en, collision: collision.en, presence: presence.en, shortcuts: shortcuts.en },
  zh: { shell: shell.zh, canned: canned.zh, collision: collision.zh, presence: presence.zh, shortcuts: shortcuts.zh },
} as const;

export type Namespace = keyof (typeof resources)['en'];
