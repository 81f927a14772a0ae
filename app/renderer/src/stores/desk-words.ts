import type { i18n } from 'i18next';
import { createI18n } from '../locale';
import { customerNameText } from '../customer-name';

let english: i18n | null = null;
/** The stores' own words (OS notifications) in the UI's language: the app's i18next instance, else English. */
export function deskT(given: i18n | undefined) {
  const instance = given ?? (english ??= createI18n('en'));
  return instance.getFixedT(null, 'desk');
}

/** A customer's name for the stores' own words (placeholders in the UI's language, customer-name.ts). */
export function deskName(given: i18n | undefined, name: string): string {
  return customerNameText(given ?? (english ??= createI18n('en')), name);
}
