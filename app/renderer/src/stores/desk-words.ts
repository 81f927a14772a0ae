import type { i18n } from 'i18next';
import { createI18n } from '../locale';
import type { WorkstationDeps } from './types';

let english: i18n | null = null;
/** The stores' own words (OS notifications) in the UI's language: `deps.i18n`, else English. */
export function deskT(deps: Pick<WorkstationDeps, 'i18n'>) {
  const instance = deps.i18n ?? (english ??= createI18n('en'));
  return instance.getFixedT(null, 'desk');
}
