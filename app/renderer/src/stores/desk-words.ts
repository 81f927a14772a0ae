import type { i18n } from 'i18next';
import { createI18n } from '../locale';

let english: i18n | null = null;
/** The stores' own words (OS notifications) in the UI's language: the app's i18next instance, else English. */
export function deskT(given: i18n | undefined) {
  const instance = given ?? (english ??= createI18n('en'));
  return instance.getFixedT(null, 'desk');
}
