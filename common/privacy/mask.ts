/**
 * PII masking for logs and error paths (DESIGN §8): phone numbers, Chinese resident ID numbers
 * (checksum-verified), payment card numbers (Luhn-verified) and e-mail addresses become `*` runs
 * that keep only a short, non-identifying tail. Pure string code: every runtime's logger uses it.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643-1999 check digit (ISO 7064 MOD 11-2) for an 18-character resident ID. */
export function isChineseResidentId(value: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(value[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === value[17]!.toUpperCase();
}

export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** First-generation 15-digit IDs have no check digit: province code and a real YYMMDD birth date. */
export function isChineseResidentId15(value: string): boolean {
  if (!/^\d{15}$/.test(value)) return false;
  const province = Number(value.slice(0, 2));
  if (province < 11 || (province > 65 && ![71, 81, 82, 83].includes(province))) return false;
  const [yy, mm, dd] = [value.slice(6, 8), value.slice(8, 10), value.slice(10, 12)].map(Number) as [number, number, number];
  const date = new Date(Date.UTC(1900 + yy, mm - 1, dd));
  return date.getUTCMonth() === mm - 1 && date.getUTCDate() === dd;
}

const stars = (n: number) => '*'.repeat(Math.max(n, 1));

// Order matters: ID numbers and cards are longer digit runs than phones, so they go first.
// `(?<!\d\.)` keeps decimal fractions (response times, amounts) out of the digit-run rules.
const ID_RE = /(?<![\dA-Za-z])(?<!\d\.)(\d{17}[\dXx])(?![\dA-Za-z])/g;
const ID15_RE = /(?<![\dA-Za-z])(?<!\d\.)(\d{15})(?![\dA-Za-z])/g;
const CARD_RE = /(?<![\dA-Za-z])(?<!\d\.)(\d(?:[ -]?\d){12,18})(?![\dA-Za-z])/g;
const EMAIL_RE = /([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// Chinese mobiles (+86 / 0086 / bare 1[3-9]x, and the reserved 92x/98x segments) and other
// E.164-looking numbers. Masking a look-alike in a log costs nothing; missing a phone does.
const CN_MOBILE_RE = /(?<![\dA-Za-z])(?<!\d\.)((?:\+86|0086)?[ -]?(?:1[3-9]|9[28])\d[ -]?\d{4}[ -]?\d{4})(?![\dA-Za-z])/g;
const INTL_PHONE_RE = /(?<![\dA-Za-z+])(\+\d{1,3}[ -]?(?:\(?\d{1,4}\)?[ -]?){2,5}\d{2,4})(?![\dA-Za-z])/g;

/**
 * Masks phone numbers, resident IDs, cards and e-mails in one log line or error text (DESIGN §8),
 * also when they are written encoded: percent-encoding (`%2B86…`, double `%252B…`, `+` for a space),
 * JSON `\uXXXX` escapes and full-width forms (`１３８…`, `＠`) are decoded before deciding, and
 * an encoded token that holds personal data is replaced by its decoded, masked form.
 *
 * Fast path: one pass over the line (`piiHints`) says which patterns could match at all; a line
 * with none of their preconditions is returned as it is, and only the patterns whose precondition
 * holds are run. The output is the same as `maskPiiExhaustive` (every pattern on every line) for
 * every input; mask.test.ts checks that on the PII vectors in each encoded form and on fuzzed lines.
 * @param text any string; returned unchanged when nothing personal is found
 */
export function maskPii(text: string): string {
  const hints = piiHints(text);
  if (hints === 0) return text;
  if (hints & PII_HINT.encoded) return maskPlain(maskEncoded(text, false));
  return maskPlainWith(text, hints);
}

/**
 * The same masking as `maskPii` with no fast path: every pattern runs on every line, every line's
 * tokens are checked for encodings. The reference `maskPii` is tested against; slower, not for logs.
 */
export function maskPiiExhaustive(text: string): string {
  const decoded = ENCODED_HINT.test(text) ? maskEncoded(text, true) : text;
  return maskPlainWith(decoded, ALL_PATTERNS);
}

/**
 * Preconditions of the patterns, as bits of `piiHints`' answer. A pattern can match only where its
 * precondition holds, so skipping it when the bit is clear never changes the output:
 * - `digitRun`: 11 or more ASCII digits in a row, a single space or `-` allowed between two digits.
 *   A digit group right after an ASCII letter (`WB1692081000…`, a session id) or after `<digit>.`
 *   (`3.0000000000001356`) is not counted: the patterns' lookbehinds `(?<![\dA-Za-z])(?<!\d\.)`
 *   never let a match start there, and no match spans a `.` or a letter. Every resident ID (15/18
 *   digits), card (13–19) and Chinese mobile (11) needs such a run.
 * - `email`: an `@`.
 * - `plusDigit`: a `+` followed by a digit (E.164 numbers, `+86` mobiles).
 * - `encoded`: `%XX`, `\uXXXX`, a full-width form (U+FF01–FF5E) or a `+` between two digits (a
 *   form-encoded space): decode, then decide again.
 */
export const PII_HINT = { digitRun: 1, email: 2, plusDigit: 4, encoded: 8 } as const;
const ALL_PATTERNS = PII_HINT.digitRun | PII_HINT.email | PII_HINT.plusDigit;
/** Digits in a run (see `PII_HINT.digitRun`): the shortest pattern, a bare Chinese mobile, has 11. */
const DIGIT_RUN_MIN = 11;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * One pass over `text` (no regular expression, no allocation): which `PII_HINT` preconditions hold.
 * 0 means no pattern can match, encoded or not, and the line needs no masking.
 */
export function piiHints(text: string): number {
  let hints = 0;
  let run = 0; // digits in the current run
  let inGroup = false; // the previous character was a digit
  let joined = false; // the previous character was one separator right after a digit
  let uncounted = false; // the current digit group follows an ASCII letter or `<digit>.`: no match starts in it
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (!inGroup) {
        if (!joined) run = 0;
        const before = i > 0 ? text.charCodeAt(i - 1) : 0;
        uncounted = isAsciiLetter(before) || (before === 46 && i >= 2 && isDigit(text.charCodeAt(i - 2)));
        inGroup = true;
        joined = false;
      }
      if (!uncounted && ++run >= DIGIT_RUN_MIN) hints |= PII_HINT.digitRun;
      continue;
    }
    if (inGroup && (c === 32 || c === 45)) {
      inGroup = false;
      joined = true;
      continue;
    }
    inGroup = false;
    joined = false;
    run = 0;
    if (c === 64) hints |= PII_HINT.email;
    else if (c === 43 && isDigit(text.charCodeAt(i + 1)))
      hints |= isDigit(text.charCodeAt(i - 1)) ? PII_HINT.plusDigit | PII_HINT.encoded : PII_HINT.plusDigit;
    else if (c === 37 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) hints |= PII_HINT.encoded;
    else if (c === 92 && text.charCodeAt(i + 1) === 117 && isHexRun(text, i + 2, 4)) hints |= PII_HINT.encoded;
    else if (c >= 0xff01 && c <= 0xff5e) hints |= PII_HINT.encoded;
  }
  return hints;
}

function isHexRun(text: string, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) if (!isHex(text.charCodeAt(i))) return false;
  return true;
}

// A token that may hide encoded data: runs without the separators of URLs, JSON and prose.
const TOKEN_RE = /[^\s"'<>,;&=?#/{}[\]()|]+/g;
const ENCODED_HINT = /%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|[\uFF01-\uFF5E]|\d\+\d/;
// Full-width text split by ASCII or ideographic spaces (`４９２９ ７２２６ …`): one token, though a space ends a TOKEN_RE token.
const FULLWIDTH_RUN = /[\uFF01-\uFF5E]+(?:[ \u3000][\uFF01-\uFF5E]+)+/g;
const PCT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const JSON_U = /\\{1,2}u([0-9A-Fa-f]{4})/g;

function percentDecode(s: string): string {
  return s.replace(PCT_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // Not UTF-8: decode byte by byte so a `%2B` beside a stray `%FF` is still seen.
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
  });
}

/** Peels up to 4 layers of percent-encoding and JSON escapes, then folds full-width forms (NFKC). */
function decodeLayers(s: string): string {
  let cur = s;
  for (let i = 0; i < 4; i++) {
    const next = percentDecode(cur).replace(JSON_U, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (next === cur) break;
    cur = next;
  }
  return cur.normalize('NFKC');
}

/** Replaces each encoded token that holds personal data by its decoded, masked form (see `maskPii`). */
function maskEncoded(text: string, exhaustive: boolean): string {
  const mask = (token: string) => maskEncodedToken(token, exhaustive);
  return text.replace(FULLWIDTH_RUN, mask).replace(TOKEN_RE, mask);
}

/** `exhaustive`: try every pattern on the decoded token (the reference), not only those its hints allow. */
function maskEncodedToken(token: string, exhaustive: boolean): string {
  if (!ENCODED_HINT.test(token)) return token;
  // `+` is a space in form-encoded queries but the plus of `+86` elsewhere: try both readings.
  for (const plain of [decodeLayers(token), decodeLayers(token.replace(/\+/g, ' '))]) {
    const masked = maskPlainWith(plain, exhaustive ? ALL_PATTERNS : piiHints(plain));
    // The decoded form goes into a JSON log line: keep out what would end or escape its string.
    if (masked !== plain) return masked.replace(/["\\\p{Cc}]/gu, '?');
  }
  return token;
}

function maskPlain(text: string): string {
  return maskPlainWith(text, piiHints(text));
}

/**
 * Runs the patterns whose precondition bit is set in `hints`, in the fixed order below. A
 * replacement only removes digits and `@`s or puts `*` before a kept tail, so it never creates a
 * precondition a later pattern lacked: skipping by the hints of the input is exact.
 */
function maskPlainWith(text: string, hints: number): string {
  let out = text;
  if (hints & PII_HINT.digitRun) {
    out = out
      .replace(ID_RE, (m: string) => (isChineseResidentId(m) ? stars(14) + m.slice(-4) : m))
      .replace(ID15_RE, (m: string) => (isChineseResidentId15(m) ? stars(11) + m.slice(-4) : m))
      .replace(CARD_RE, (m: string) => {
        const digits = m.replace(/[ -]/g, '');
        return digits.length >= 13 && luhnValid(digits) ? stars(digits.length - 4) + digits.slice(-4) : m;
      });
  }
  if (hints & PII_HINT.email) out = out.replace(EMAIL_RE, (_m: string, _local: string, domain: string) => `***@${domain}`);
  if (hints & (PII_HINT.digitRun | PII_HINT.plusDigit)) out = out.replace(CN_MOBILE_RE, (m: string) => stars(m.length - 4) + m.slice(-4));
  if (hints & PII_HINT.plusDigit) {
    out = out.replace(INTL_PHONE_RE, (m: string) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 8 ? stars(m.length - 2) + m.slice(-2) : m;
    });
  }
  return out;
}

/** Masks every string inside a JSON-like value (objects, arrays), leaving its shape alone. */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPii(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}
