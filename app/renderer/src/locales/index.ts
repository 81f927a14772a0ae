import * as shell from './shell';
import * as canned from './canned';
import * as desk from './desk';
import * as assist from './assist';
import * as transfer from './transfer';
import * as continuity from './continuity';
import * as privacyRequest from './privacyRequest';
import * as routing from './routing';
import * as apps from './apps';
import * as audit from './audit';
import * as board from './board';
import * as kpis from './kpis';
import * as supervision from './supervision';
import * as collision from './collision';
import * as presence from './presence';
import * as shortcuts from './shortcuts';
import * as outbox from './outbox';
import * as softphone from './softphone';
import * as errors from './errors';

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
    routing: routing.en,
    apps: apps.en,
    audit: audit.en,
    board: board.en,
    kpis: kpis.en,
    supervision: supervision.en,
    collision: collision.en,
    presence: presence.en,
    shortcuts: shortcuts.en,
    outbox: outbox.en,
    softphone: softphone.en,
    errors: errors.en,
  },
  zh: {
    shell: shell.zh,
    canned: canned.zh,
    desk: desk.zh,
    assist: assist.zh,
    transfer: transfer.zh,
    continuity: continuity.zh,
    privacyRequest: privacyRequest.zh,
    routing: routing.zh,
    apps: apps.zh,
    audit: audit.zh,
    board: board.zh,
    kpis: kpis.zh,
    supervision: supervision.zh,
    collision: collision.zh,
    presence: presence.zh,
    shortcuts: shortcuts.zh,
    outbox: outbox.zh,
    softphone: softphone.zh,
    errors: errors.zh,
  },
} as const;

export type Namespace = keyof (typeof resources)['en'];
