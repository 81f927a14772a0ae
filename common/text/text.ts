import { z } from 'zod';

/**
 * Text from customers and agents, handled by user-perceived character (grapheme cluster, UAX #29)
 * rather than by UTF-16 code unit (DESIGN §8). Pure string code: no DOM, no Node.
 */

// Lone surrogates: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces every lone surrogate with U+FFFD, so the string encodes to UTF-8 without throwing. */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** Whether `text` has no lone surrogate (what `String.prototype.isWellFormed` answers in ES2024). */
export function isWellFormed(text: string): boolean {
  return !new RegExp(LONE_SURROGATE.source).test(text);
}

type Segmenter = { segment(text: string): Iterable<{ segment: string }> };
let segmenter: Segmenter | null | undefined;

/** Splits `text` into grapheme clusters; falls back to code points where `Intl.Segmenter` is missing. */
export function graphemes(text: string): string[] {
  if (segmenter === undefined) {
    segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
  }
  if (!segmenter) return Array.from(text);
  const out: string[] = [];
  for (const s of segmenter.segment(text)) out.push(s.segment);
  return out;
}

/**
 * Shortens `text` to at most `maxLength` UTF-16 code units (the unit of `String.length`, zod
 * `.max()` and the store's column limits), cutting only between grapheme clusters, and appends
 * `ellipsis` when something was cut (counted inside `maxLength`).
 *
 * - The result is always well-formed UTF-16 (lone surrogates in the input become U+FFFD).
 * - `text` that already fits is returned unchanged (apart from lone surrogates).
 * - A single grapheme longer than the room left (e.g. a letter with hundreds of combining marks)
 *   is cut by code point rather than dropped, so a long name never becomes empty.
 * @param maxLength limit in UTF-16 code units, ≥ 0
 * @param ellipsis appended after a cut, e.g. '…'; dropped if `maxLength` cannot hold it
 */
export function truncateText(text: string, maxLength: number, ellipsis = ''): string {
  const whole = toWellFormed(text);
  if (whole.length <= maxLength) return whole;
  const mark = ellipsis.length <= maxLength ? ellipsis : '';
  const room = maxLength - mark.length;
  let out = '';
  for (const g of graphemes(whole)) {
    if (out.length + g.length > room) {
      if (out === '') {
        for (const cp of g) {
          if (out.length + cp.length > room) break;
          out += cp;
        }
      }
      break;
    }
    out += g;
  }
  return out + mark;
}

// What a reader cannot see: whitespace of every kind, default-ignorable code points (zero-width
// space/joiners, U+2060, U+FEFF, Hangul fillers U+115F/U+1160/U+3164/U+FFA0, bidi controls, tag
// characters, variation selectors, soft hyphen), other format and control characters, lone
// surrogates, combining marks standing alone, and characters drawn as a blank or as nothing
// readable: the braille blank U+2800, the Egyptian hieroglyph full/half blanks U+13441/U+13442,
// the musical null notehead U+1D159, the object replacement character U+FFFC (a placeholder for
// an object that is not there), private-use code points (no agreed glyph; most fonts draw nothing
// or a box), unassigned code points (no glyph until Unicode assigns one; the set follows the
// runtime's Unicode version), and emoji skin-tone modifiers (a swatch with nothing to modify;
// beside the emoji they modify, that emoji is the visible character).
const VISIBLE =
  /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{M}\p{Emoji_Modifier}\u2800\uFFFC\u{13441}\u{13442}\u{1D159}]/u;

/**
 * Whether `text` holds at least one character a reader can see (not decided by `trim()`): one code
 * point outside the blank kinds listed above. Text with blanks beside a visible character is visible.
 */
export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/** The message every "no visible character" refusal carries; the detail `path` names the field. */
export const NO_VISIBLE_TEXT = 'has no visible character';

/**
 * A required text field (message text): trimmed, at most `maxLength` UTF-16 code units, and at least one
 * visible character. Refusals are zod issues, so every channel answers `VALIDATION_FAILED` with a
 * detail `{path: <field>, message: 'has no visible character'}`.
 */
export function visibleTextSchema(maxLength: number) {
  // Lone surrogates (invalid UTF-16, which a strict UTF-8 encoder rejects) become U+FFFD before anything
  // is stored, so every reader downstream gets well-formed text.
  // A text with nothing visible gets that one error: the checks after it (bidi controls) are moot then.
  return z.string().trim().max(maxLength).transform(toWellFormed).refine(hasVisibleText, { message: NO_VISIBLE_TEXT, abort: true });
}

// C0 and C1 control characters but TAB (U+0009) and LF (U+000A): NUL, BEL, ESC, CR, DEL, U+0080–U+009F.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_BUT_TAB_LF = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// Bidi embeddings and overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI): they reorder
// the text drawn around them. The marks LRM / RLM / ALM reorder nothing and stay allowed.
const BIDI_OVERRIDES = /[\u202A-\u202E\u2066-\u2069]/;

/**
 * Why `text` is not plain, stored text (knowledge-base content), or null when it is: a control
 * character other than `\n` and `\t` (C0 U+0000–U+001F, DEL, C1 U+0080–U+009F; `\r` too), a lone
 * surrogate (it cannot be written as UTF-8, so it would not survive an export), or a bidi
 * embedding / override / isolate (U+202A–U+202E, U+2066–U+2069). The reason never repeats the text.
 */
export function plainTextProblem(text: string): string | null {
  if (CONTROL_BUT_TAB_LF.test(text)) return 'contains a control character (only line breaks \\n and tabs are allowed)';
  if (!isWellFormed(text)) return 'contains a lone surrogate (text that is not valid Unicode)';
  if (BIDI_OVERRIDES.test(text)) return BIDI_CONTROL_REFUSED;
  return null;
}

/** The detail message of a staff text refused for a bidi control. */
export const BIDI_CONTROL_REFUSED = 'contains a bidi embedding, override or isolate control (U+202A–U+202E, U+2066–U+2069)';

/**
 * Text staff write for other staff (internal notes, whispers, canned replies, wrap-up and transfer
 * notes): `visibleTextSchema`, and no bidi embedding / override / isolate (U+202A–U+202E,
 * U+2066–U+2069) — staff have no use for them, and they would make a note read differently from what
 * was written ("\u202Eevil" shows as "live"). The marks LRM / RLM stay allowed. Customer text is
 * never refused for them (it is shown isolated, `dir="auto"`).
 * Errors: VALIDATION_FAILED with `{path, message: BIDI_CONTROL_REFUSED}`.
 */
export function staffTextSchema(maxLength: number) {
  return visibleTextSchema(maxLength).refine(hasNoBidiControl, { message: BIDI_CONTROL_REFUSED });
}

/** True when `text` has no bidi embedding, override or isolate (the rule of `staffTextSchema`, for optional notes). */
export function hasNoBidiControl(text: string): boolean {
  return !BIDI_OVERRIDES.test(text);
}

// Bidi embeddings, overrides, isolates and marks (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM):
// in a name they reorder what the workstation draws around it ("\u202EniL" shows as "Lin").
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
// Control characters (NUL, ESC, line breaks), line/paragraph separators and tag characters: a name is
// one line of plain text, so these would only hide content or fake a layout.
const NAME_CONTROLS = /[\p{Cc}\u2028\u2029\u{E0000}-\u{E007F}]+/gu;

/** Why an optional display name was not kept as given. */
export type NameIssue = 'NOT_A_STRING' | 'NO_VISIBLE_TEXT' | 'NORMALISED' | 'TRUNCATED';

/**
 * Normalises an optional display name (customer metadata, C11): replaces lone surrogates with
 * U+FFFD, removes bidi control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C; a
 * name is shown inside other text, where they would spoof it), turns runs of control characters,
 * line/paragraph separators and tag characters into one space, trims it, drops it when it is not a string or has no visible character,
 * cuts it by grapheme to `maxLength` when it is too long. Message text is not cleaned this way.
 * Never throws: a name is never a reason to refuse the customer's message.
 * @returns `value` (undefined when dropped) and `issues`, one per change, in the order applied:
 *   `NOT_A_STRING` or `NO_VISIBLE_TEXT` (dropped) alone, else `NORMALISED` (bidi controls removed)
 *   and/or `TRUNCATED`; empty when the name was kept as given (apart from trimming)
 */
export function normalizeName(raw: unknown, maxLength: number): { value: string | undefined; issues: NameIssue[] } {
  if (raw === undefined) return { value: undefined, issues: [] };
  if (typeof raw !== 'string') return { value: undefined, issues: ['NOT_A_STRING'] };
  const cleaned = toWellFormed(raw).replace(BIDI_CONTROLS, '').replace(NAME_CONTROLS, ' ');
  const trimmed = cleaned.trim();
  if (!hasVisibleText(trimmed)) return { value: undefined, issues: ['NO_VISIBLE_TEXT'] };
  const issues: NameIssue[] = cleaned === raw ? [] : ['NORMALISED'];
  const cut = truncateText(trimmed, maxLength);
  if (cut !== trimmed) issues.push('TRUNCATED');
  return { value: cut, issues };
}

/**
 * A lenient zod field for an optional display name: any input parses; what `normalizeName` drops
 * becomes `undefined`, a long name is cut by grapheme. For channels with no warning channel (the
 * widget `hello`); the app channel reports the same normalisation as `warnings`.
 */
export function optionalNameSchema(maxLength: number) {
  return z
    .unknown()
    .transform((raw) => normalizeName(raw, maxLength).value)
    .optional();
}

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const ID_FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;

/**
 * An identifier a client or channel gives us — a `clientMessageId`, an app user's `externalId` — as a
 * zod string of `min`..`max` UTF-16 code units with no control character (NUL included) and no line
 * or paragraph separator (`trim`: surrounding white space removed first): such characters are never part of a real id, break composite keys and
 * logs, and are refused with VALIDATION_FAILED (review of issue 13). Well-formed UTF-16 only.
 */
export function idTokenSchema(min: number, max: number, options: { trim?: boolean } = {}) {
  return (options.trim ? z.string().trim() : z.string())
    .min(min)
    .max(max)
    .refine((s) => !ID_FORBIDDEN.test(s), { message: 'must not contain control characters' })
    .refine(isWellFormed, { message: 'must be well-formed text' });
}
