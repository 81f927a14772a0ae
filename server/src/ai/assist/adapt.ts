import type { Lang } from '../../../../common/ai/types';
import { placeholderOf } from '../../../../common/message/placeholder-names';
import { maskPii } from '../../../../common/privacy/mask';
import { detailSpans, type CustomerDetails } from './entities';

/**
 * Adapting a text to one customer, and taking a text away from one (issue 10). Drafts, suggestions
 * and the past-reply memory share four placeholders:
 *
 * | placeholder    | filled with                               |
 * |----------------|-------------------------------------------|
 * | `{{name}}`     | the customer's name                       |
 * | `{{order}}`    | their order number(s) (from their messages) |
 * | `{{tracking}}` | their tracking / waybill number(s)        |
 * | `{{agent}}`    | the display name of the agent who sends it |
 *
 * A knowledge-base answer may use them (docs/ai.md); one that uses none is adapted by a greeting with
 * the customer's name and a line naming their order and tracking numbers before the answer. A past
 * reply is stored with them in place of the other customer's details (`depersonalize`).
 */

const PLACEHOLDER = /\{\{(name|order|tracking|agent)\}\}/g;

/** Who a text is adapted for. */
export interface Addressee {
  /** The customer's name (null: unknown, e.g. a web visitor who gave none). */
  name: string | null;
  /** The sending agent's display name (null: unknown). */
  agentName?: string | null;
  details: CustomerDetails;
  /** The language of the greeting and the reference line. */
  lang: Lang;
}

/** The customer's name as a draft may use it, or null for an absent or placeholder name. */
export function usableName(name: string | null | undefined): string | null {
  const trimmed = name?.trim();
  // Names the store gives customers until a channel tells theirs are not a name to greet with.
  return trimmed && !placeholderOf(trimmed) ? trimmed : null;
}

export const hasPlaceholders = (text: string): boolean => /\{\{(?:name|order|tracking|agent)\}\}/.test(text);

const list = (values: readonly string[], lang: Lang) => values.slice(0, 2).join(lang === 'zh' ? '、' : ', ');

/**
 * Replaces the placeholders with the addressee's values. A placeholder with no value is removed, with
 * the space before it, so "Hi {{name}}," becomes "Hi,".
 */
export function fillPlaceholders(text: string, to: Addressee): string {
  const value: Record<string, string> = {
    name: to.name ?? '',
    order: list(to.details.orders, to.lang),
    tracking: list(to.details.tracking, to.lang),
    agent: to.agentName ?? '',
  };
  return text
    .replace(/[ \t]?\{\{(name|order|tracking|agent)\}\}/g, (whole, key: string) => {
      const v = value[key]!;
      return v ? whole.replace(`{{${key}}}`, v) : '';
    })
    .replace(/[ \t]+([,，。.!！?？:：;；)）])/g, '$1')
    .replace(/[（(][ \t]*[)）]/g, '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** The greeting and reference line put before an answer that has no placeholders ('' when there is nothing to say). */
export function greetingFor(to: Addressee): string {
  const orders = list(to.details.orders, to.lang);
  const tracking = list(to.details.tracking, to.lang);
  if (to.lang === 'zh') {
    const hello = to.name ? `${to.name}，您好！` : '';
    const about = orders ? `关于订单 ${orders}${tracking ? `（运单号 ${tracking}）` : ''}：` : tracking ? `关于运单号 ${tracking}：` : '';
    return hello + about;
  }
  const hello = to.name ? `Hi ${to.name},` : '';
  const about = orders
    ? `about order ${orders}${tracking ? ` (tracking number ${tracking})` : ''}:`
    : tracking
      ? `about tracking number ${tracking}:`
      : '';
  if (hello && about) return `${hello} ${about}`;
  return hello || (about && about[0]!.toUpperCase() + about.slice(1));
}

/**
 * A knowledge-base answer adapted to the customer: its placeholders filled when it has any, else the
 * greeting and reference line (`greetingFor`) on a line before it.
 */
export function adaptAnswer(answer: string, to: Addressee): string {
  if (hasPlaceholders(answer)) return fillPlaceholders(answer, to);
  const greeting = greetingFor(to);
  return greeting ? `${greeting}\n${answer}` : answer;
}

/** White space collapsed and trimmed: a draft sent with a trailing newline was not edited. */
export const normalizeWhitespace = (text: string) => text.replace(/\s+/gu, ' ').trim();

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A text with one conversation's people and numbers taken out, for the past-reply memory: order and
 * tracking numbers become `{{order}}` / `{{tracking}}`, phone, ID and card numbers and e-mails are
 * masked (`maskPii`), the customer's name (in full, and each part of a Latin name of 3+ letters)
 * becomes `{{name}}` and the agent's `{{agent}}`. Filling it for the next customer puts theirs in.
 */
export function depersonalize(text: string, people: { customerName?: string | null; agentName?: string | null }): string {
  let out = '';
  let at = 0;
  for (const span of detailSpans(text)) {
    out += text.slice(at, span.start) + (span.kind === 'order' ? '{{order}}' : '{{tracking}}');
    at = span.end;
  }
  out = maskPii(out + text.slice(at));
  // Names go to private-use sentinels first, so one name's part never matches inside a placeholder ("{{agent}}").
  const replaceName = (name: string | null | undefined, placeholder: string) => {
    const usable = usableName(name);
    if (!usable || usable.length < 2) return;
    const latin = /^[\p{Script=Latin}\s.'-]+$/u.test(usable);
    const parts = latin ? [usable, ...usable.split(/\s+/).filter((p) => p.length >= 3)] : [usable];
    for (const part of parts) {
      const re = latin ? new RegExp(`(?<![\\p{L}])${escapeRegExp(part)}(?![\\p{L}])`, 'giu') : new RegExp(escapeRegExp(part), 'gu');
      out = out.replace(re, placeholder);
    }
  };
  replaceName(people.customerName, '\uE000');
  replaceName(people.agentName, '\uE001');
  return out.replace(/\uE000/g, '{{name}}').replace(/\uE001/g, '{{agent}}');
}

/** The text with its placeholders as neutral words, for similarity (a number placeholder reads as a long number). */
export function indexableText(text: string): string {
  return text.replace(PLACEHOLDER, (_, key: string) => (key === 'order' || key === 'tracking' ? '0000000000' : ' '));
}
