import { maskPii } from '../../../../common/privacy/mask';

/**
 * The customer details a draft is adapted with (issue 10): order numbers and tracking (waybill)
 * numbers written in a customer's messages, Chinese and English. Regular expressions, in two kinds:
 * - anchored: a keyword names the number (`订单号 2024…`, `order #A-2024…`, `运单号：SF…`,
 *   `tracking number 1Z…`), so letters and dashes may be part of it; it must hold at least 4 digits;
 * - bare: a courier-prefixed waybill (`SF1234567890`, `JD…`, UPS `1Z…`) or a run of 10–20 digits
 *   (an order number as shops print them).
 * A number that the PII masker would mask (a phone, a resident ID, a Luhn-valid card number) is never
 * taken, whatever keyword stands before it: a draft must not repeat a card number to the customer,
 * and a past reply must not carry one to another customer.
 */

export interface CustomerDetails {
  /** Order numbers, first seen first, at most MAX_EACH. */
  orders: string[];
  /** Tracking / waybill numbers, first seen first, at most MAX_EACH. */
  tracking: string[];
}

/** At most this many numbers of each kind are kept (a draft names one or two). */
export const MAX_EACH = 3;

const CODE = '([A-Za-z0-9](?:[A-Za-z0-9-]{4,30}[A-Za-z0-9]))';
const SEP = '\\s*(?:is|为|是)?\\s*[:：#＃]?\\s*';
// Tracking keywords first: "快递单号" and "运单号" end in "单号", which would otherwise read as an order.
const TRACKING_ANCHORED = new RegExp(
  `(?<![A-Za-z])(?:运单号|快递单号|物流单号|快递号|运单|tracking(?:\\s*(?:number|no\\.?|code|id|#))?|waybill(?:\\s*(?:number|no\\.?))?|consignment(?:\\s*number)?)${SEP}${CODE}`,
  'giu',
);
const ORDER_ANCHORED = new RegExp(`(?<![A-Za-z])(?:订单号|订单编号|订单|单号|order(?:\\s*(?:number|no\\.?|id|#))?)${SEP}${CODE}`, 'giu');
/** `#2024120300456`: a hash before six or more digits is how customers paste an order number. */
const HASH_NUMBER = /(?<![\w#])[#＃](\d{6,20})(?!\w)/gu;
/** Courier waybills: SF Express, YTO, ZTO, STO, Yunda, JD, J&T, EMS, Deppon, China Post; UPS 1Z. */
const TRACKING_BARE = /(?<![A-Za-z0-9])((?:SF|YT|ZTO|STO|YD|JD|JT|EMS|DPK|YZ)\d{9,15}|1Z[0-9A-Z]{16})(?![A-Za-z0-9])/gu;
const DIGITS_BARE = /(?<![A-Za-z0-9.-])(\d{10,20})(?![A-Za-z0-9]|\.\d)/gu;

const digitCount = (s: string) => (s.match(/\d/g) ?? []).length;
/** Never a phone, ID or card number (what `maskPii` masks), and at least 4 digits. */
const usable = (value: string) => digitCount(value) >= 4 && maskPii(value) === value;

/**
 * The order and tracking numbers in `text`, in the order they appear, without duplicates (full-width
 * forms are folded first: `订单号２０２４…` reads as digits). Several texts are read with `extractDetailsAll`.
 */
export function extractDetails(text: string): CustomerDetails {
  const folded = text.normalize('NFKC');
  const orders: string[] = [];
  const tracking: string[] = [];
  for (const span of detailSpans(folded)) (span.kind === 'order' ? orders : tracking).push(folded.slice(span.start, span.end));
  return { orders: [...new Set(orders)].slice(0, MAX_EACH), tracking: [...new Set(tracking)].slice(0, MAX_EACH) };
}

/** The details of several texts (e.g. a customer's messages, newest first): each kind in that order, deduplicated. */
export function extractDetailsAll(texts: readonly string[]): CustomerDetails {
  const orders: string[] = [];
  const tracking: string[] = [];
  for (const t of texts) {
    const d = extractDetails(t);
    orders.push(...d.orders);
    tracking.push(...d.tracking);
  }
  return { orders: [...new Set(orders)].slice(0, MAX_EACH), tracking: [...new Set(tracking)].slice(0, MAX_EACH) };
}

/**
 * Where each detail sits in `text` (start, end, kind), for replacing them: the past-reply memory turns
 * another customer's numbers into placeholders. Same rules as `extractDetails`, on the text as given
 * (not NFKC-folded, so offsets are the caller's).
 */
export function detailSpans(text: string): { start: number; end: number; kind: 'order' | 'tracking' }[] {
  const spans: { start: number; end: number; kind: 'order' | 'tracking' }[] = [];
  const overlaps = (start: number, end: number) => spans.some((s) => start < s.end && end > s.start);
  const collect = (re: RegExp, kind: 'order' | 'tracking') => {
    for (const m of text.matchAll(re)) {
      const value = m[1]!;
      const start = m.index + m[0].length - value.length;
      const end = start + value.length;
      if (overlaps(start, end) || !usable(value)) continue;
      spans.push({ start, end, kind });
    }
  };
  collect(TRACKING_ANCHORED, 'tracking');
  collect(ORDER_ANCHORED, 'order');
  collect(HASH_NUMBER, 'order');
  collect(TRACKING_BARE, 'tracking');
  collect(DIGITS_BARE, 'order');
  return spans.sort((a, b) => a.start - b.start);
}
