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

/**
 * Folding of look-alike characters (the reviewer's forms): any Unicode decimal digit (`\p{Nd}`:
 * Arabic-Indic `١`, Persian `۱`, Devanagari `१`, full-width `１`, mathematical `𝟏`…) becomes its ASCII
 * digit, Unicode spaces (NBSP, thin, narrow NBSP, ideographic…) an ASCII space, Unicode dashes a
 * `-`, `﹫` an `@`, and invisible joiners (zero-width space, word joiner, soft hyphen, BOM)
 * are dropped. Every pattern then sees the number or address as if it were written in ASCII.
 */
const FOLD_NONE = 0;
const FOLD_SPACE = 11;
const FOLD_DASH = 12;
const FOLD_AT = 13;
const FOLD_DROP = 14;
/** Per BMP code unit: 1–10 = the digit 0–9 plus one, or one of the FOLD_* codes; 0 = kept as it is. */
const FOLD_BMP = new Uint8Array(0x10000);
/** Astral decimal digits (mathematical digits U+1D7CE…, Osmanya, Brahmi…): code point → digit value. */
const ASTRAL_DIGITS = new Map<number, number>();

/**
 * Every non-ASCII `\p{Nd}` code point with its value. Each Nd run is made of blocks of 10 code
 * points whose first has the value 0 (mask.test.ts checks this on the running ICU), so a run is
 * found by probing every 10th code point and its value is the offset from the run's start, mod 10.
 * @returns [code point, digit 0–9] pairs, U+0080 to U+1FFFF
 */
export function unicodeDigits(): [number, number][] {
  const isNd = (cp: number) => !(cp >= 0xd800 && cp <= 0xdfff) && /\p{Nd}/u.test(String.fromCodePoint(cp));
  const out: [number, number][] = [];
  let end = 0x80; // first code point not yet covered by a found run
  for (let probe = 0x80; probe < 0x20000; probe += 10) {
    if (probe < end || !isNd(probe)) continue;
    let start = probe;
    while (start > end && isNd(start - 1)) start--;
    let cp = start;
    for (; isNd(cp); cp++) out.push([cp, (cp - start) % 10]);
    end = cp;
  }
  return out;
}

for (const [cp, digit] of unicodeDigits()) {
  // Full-width digits are left to the decoding of encoded forms, which folds whole full-width runs.
  if (cp >= 0xff10 && cp <= 0xff19) continue;
  if (cp < 0x10000) FOLD_BMP[cp] = digit + 1;
  else ASTRAL_DIGITS.set(cp, digit);
}
for (const cp of [0xa0, 0x1680, 0x202f, 0x205f, 0x3000]) FOLD_BMP[cp] = FOLD_SPACE;
for (let cp = 0x2000; cp <= 0x200a; cp++) FOLD_BMP[cp] = FOLD_SPACE;
for (const cp of [0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63]) FOLD_BMP[cp] = FOLD_DASH;
FOLD_BMP[0xfe6b] = FOLD_AT; // `﹫`; the full-width `＠` is an encoded form (see `decodeLayers`)
for (const cp of [0xad, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]) FOLD_BMP[cp] = FOLD_DROP;

/** Whether `text[i]` starts a character `foldForms` changes (a non-ASCII digit, space, dash, at or joiner). */
function foldsAt(text: string, i: number, c: number): boolean {
  if (c >= 0xd800 && c <= 0xdbff) return ASTRAL_DIGITS.has(text.codePointAt(i)!);
  return FOLD_BMP[c] !== FOLD_NONE;
}

/** Folds the look-alike characters of `text` to ASCII (see FOLD_BMP); other characters are kept. */
function foldForms(text: string): string {
  let out = '';
  let from = 0; // start of the not yet copied stretch
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    let to: string;
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff) {
      const digit = ASTRAL_DIGITS.get(text.codePointAt(i)!);
      if (digit === undefined) continue;
      to = String.fromCharCode(48 + digit);
      width = 2;
    } else {
      const f = FOLD_BMP[c]!;
      if (f === FOLD_NONE) continue;
      to = f <= 10 ? String.fromCharCode(47 + f) : f === FOLD_SPACE ? ' ' : f === FOLD_DASH ? '-' : f === FOLD_AT ? '@' : '';
    }
    out += text.slice(from, i) + to;
    from = i + width;
    i += width - 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

const stars = (n: number) => '*'.repeat(Math.max(n, 1));

// Order matters: ID numbers and cards are longer digit runs than phones, so they go first.
// `(?<!\d\.)` keeps decimal fractions (response times, amounts) out of the digit-run rules.
// Letters beside a number do not protect it (`tel13812345678`, `card4111111111111111`,
// `id210203197503102721x` are masked): only digits end a run. Two exceptions keep our own ids out:
// - `NOT_SESSION_ID`: a session id (common/message/session-id.ts) is a channel code (`WB` `AP` `WX`
//   `XM` `SP`, not itself after a letter) and exactly 18 digits; such a run is not an ID or a card,
//   though 1 in 11 passes the resident-ID checksum and 1 in 10 Luhn. The exception is that narrow:
//   `XAP…`, `ap…`, `AB…` or 17/19 digits after a channel code are masked as usual.
// - `insideOwnId`: a match that lies inside a UUID (8-4-4-4-12 hex) or a 32-hex id (attachments) that
//   no further letter or digit touches is part of that id, not a number (see `maskPlainWith`).
const NOT_SESSION_ID = String.raw`(?<!(?<![A-Za-z])(?:WB|AP|WX|XM|SP)(?=\d{18}(?!\d)))`;
const ID_RE = new RegExp(String.raw`(?<!\d)(?<!\d\.)${NOT_SESSION_ID}(\d{17}[\dXx])(?!\d)`, 'g');
const ID15_RE = /(?<!\d)(?<!\d\.)(\d{15})(?!\d)/g;
const CARD_RE = new RegExp(String.raw`(?<!\d)(?<!\d\.)${NOT_SESSION_ID}(\d(?:[ -]?\d){12,18})(?!\d)`, 'g');
const EMAIL_RE = /([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// Chinese mobiles (+86 / 0086 / bare 1[3-9]x, and the reserved 92x/98x segments) and other
// E.164-looking numbers. Masking a look-alike in a log costs nothing; missing a phone does.
// Separators: a space or `-` between the groups, a parenthesised first group (`(138) 1234-5678`), or
// dots in the 3.4.4 form only (`138.1234.5678`), so a decimal like `1381234.5678` is not a phone.
// Only digits bound a phone (exactly 11 digits): `tel13812345678`, `13812345678abc` are masked.
const CN_MOBILE_RE =
  /(?<!\d)(?<!\d\.)((?:(?:\+86|0086)[ -]?|(?<![A-Za-z])[ -])?(?:\((?:1[3-9]|9[28])\d\)[ -]?\d{4}[ -]?|(?:1[3-9]|9[28])\d(?:[ -]?\d{4}[ -]?|\.\d{4}\.))\d{4})(?!\d)/g;
// Chinese landlines with their area code: 0 + 2 digits and an 8-digit number, or 0 + 3 digits and a
// 7–8-digit number (11 or 12 digits). The area code is parenthesised (`(010) 1234 5678`) or
// followed by a separator (`010-1234 5678`, `0755.123.4567`), so bare digit runs starting with 0 stay.
const CN_LANDLINE_RE =
  /(?<!\d)(?<!\d\.)(\(0[1-9]\d\)[ -]?\d{4}[ -]?\d{4}|\(0[1-9]\d{2}\)[ -]?\d{3,4}[ -]?\d{4}|0[1-9]\d(?:[ -]\d{4}[ -]?|\.\d{4}\.)\d{4}|0[1-9]\d{2}(?:[ -]\d{3,4}[ -]?|\.\d{3,4}\.)\d{4})(?!\d)/g;
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
  if (hints & PII_HINT.lookalike) {
    const folded = foldForms(text);
    const masked = maskPii(folded);
    return masked === folded ? text : masked;
  }
  if (hints & PII_HINT.encoded) return maskPlain(maskEncoded(text, false));
  return maskPlainWith(text, hints);
}

/**
 * The same masking as `maskPii` with no fast path: every pattern runs on every line, every line's
 * tokens are checked for encodings. The reference `maskPii` is tested against; slower, not for logs.
 */
export function maskPiiExhaustive(text: string): string {
  const folded = foldForms(text);
  const decoded = ENCODED_HINT.test(folded) ? maskEncoded(folded, true) : folded;
  const masked = maskPlainWith(decoded, ALL_PATTERNS);
  return masked === folded ? text : masked;
}

/**
 * Preconditions of the patterns, as bits of `piiHints`' answer. A pattern can match only where its
 * precondition holds, so skipping it when the bit is clear never changes the output:
 * - `digitRun`: 11 or more ASCII digits in a run of digit groups. Groups are joined by one space or
 *   `-`; by a `.` after a group of 3 or 4 digits (`138.1234.5678`, `0755.123.4567`); or by a `)`,
 *   optionally followed by one space, `-` or `.` (`(010) 1234 5678`). A run starts at a group that
 *   does not follow a `<digit>.` that did not join (`3.0000000000001356`): the patterns' lookbehinds
 *   `(?<!\d)(?<!\d\.)` never let a match start there. Letters do not end a run (`tel13812345678`). Every resident ID (15/18 digits), card (13–19), Chinese mobile (11) and
 *   landline (11–12) needs such a run.
 * - `email`: an `@`.
 * - `plusDigit`: a `+` followed by a digit (E.164 numbers, `+86` mobiles).
 * - `encoded`: `%XX`, `\uXXXX`, a full-width form (U+FF01–FF5E) or a `+` between two digits (a
 *   form-encoded space): decode, then decide again.
 * - `lookalike`: a character `foldForms` changes (a non-ASCII decimal digit, Unicode space or dash,
 *   `﹫`/`＠`, a zero-width joiner): fold to ASCII, then decide again.
 */
export const PII_HINT = { digitRun: 1, email: 2, plusDigit: 4, encoded: 8, lookalike: 16 } as const;
const ALL_PATTERNS = PII_HINT.digitRun | PII_HINT.email | PII_HINT.plusDigit;
/** Digits in a run (see `PII_HINT.digitRun`): the shortest patterns, a bare Chinese mobile or landline, have 11. */
const DIGIT_RUN_MIN = 11;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isJoiner = (c: number) => c === 32 || c === 45 || c === 46; // space, `-`, `.`

/**
 * One pass over `text` (no regular expression, no allocation): which `PII_HINT` preconditions hold.
 * 0 means no pattern can match, encoded, look-alike or not, and the line needs no masking.
 */
export function piiHints(text: string): number {
  let hints = 0;
  let run = 0; // counted digits in the current run
  let group = 0; // digits in the current (or last) digit group
  let inGroup = false; // the previous character was a digit
  let joined = 0; // after a group: 1 = one joining separator seen, 2 = a `)` seen (one more may follow)
  let counted = false; // a match may start in, or run through, the current digit group
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (!inGroup) {
        if (joined === 0) {
          run = 0;
          const before = i > 0 ? text.charCodeAt(i - 1) : 0;
          counted = !(before === 46 && i >= 2 && isDigit(text.charCodeAt(i - 2)));
          if (sessionIdDigitsAt(text, i)) {
            // The 18 digits of a session id (see `NOT_SESSION_ID`): no match starts or runs in them.
            inGroup = true;
            joined = 0;
            group = 18;
            counted = false;
            i += 17;
            continue;
          }
        } else counted = true;
        inGroup = true;
        joined = 0;
        group = 0;
      }
      group++;
      if (counted && ++run >= DIGIT_RUN_MIN) hints |= PII_HINT.digitRun;
      continue;
    }
    if (inGroup) {
      inGroup = false;
      if (c === 32 || c === 45 || (c === 46 && (group === 3 || group === 4))) {
        joined = 1;
        continue;
      }
      if (c === 41) {
        joined = 2;
        continue;
      }
    } else if (joined === 2 && isJoiner(c)) {
      joined = 1;
      continue;
    }
    joined = 0;
    run = 0;
    if (c === 64) hints |= PII_HINT.email;
    else if (c === 43 && isDigit(text.charCodeAt(i + 1)))
      hints |= isDigit(text.charCodeAt(i - 1)) ? PII_HINT.plusDigit | PII_HINT.encoded : PII_HINT.plusDigit;
    else if (c === 37 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) hints |= PII_HINT.encoded;
    else if (c === 92 && text.charCodeAt(i + 1) === 117 && isHexRun(text, i + 2, 4)) hints |= PII_HINT.encoded;
    else if (c >= 0x80) {
      if (c >= 0xff01 && c <= 0xff5e) hints |= PII_HINT.encoded;
      if (foldsAt(text, i, c)) hints |= PII_HINT.lookalike;
    }
  }
  return hints;
}

const CHANNEL_CODE_PAIRS = new Set(['WB', 'AP', 'WX', 'XM', 'SP']);

/** Whether exactly 18 digits start at `i`, right after a channel code that no letter precedes (`NOT_SESSION_ID`). */
function sessionIdDigitsAt(text: string, i: number): boolean {
  if (i < 2 || !CHANNEL_CODE_PAIRS.has(text.slice(i - 2, i)) || (i >= 3 && isAsciiLetter(text.charCodeAt(i - 3)))) return false;
  for (let k = i; k < i + 18; k++) if (!isDigit(text.charCodeAt(k))) return false;
  return !isDigit(text.charCodeAt(i + 18));
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
// A parenthesised area code or prefix before an encoded number (`(138)%201234-5678`, `(010)+1234+5678`):
// one token, though `(` and `)` end a TOKEN_RE token (`encodeURIComponent` leaves them as they are).
const PAREN_RUN = /\([^\s"'<>,;&=?#/{}[\]()|]{1,40}\)[^\s"'<>,;&=?#/{}[\]()|]+/g;
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

/** Peels up to 4 layers of percent-encoding and JSON escapes, then folds full-width forms (NFKC) and look-alikes (`foldForms`). */
function decodeLayers(s: string): string {
  let cur = s;
  for (let i = 0; i < 4; i++) {
    const next = percentDecode(cur).replace(JSON_U, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (next === cur) break;
    cur = next;
  }
  return foldForms(cur.normalize('NFKC'));
}

/** Replaces each encoded token that holds personal data by its decoded, masked form (see `maskPii`). */
function maskEncoded(text: string, exhaustive: boolean): string {
  const mask = (token: string) => maskEncodedToken(token, exhaustive);
  return text.replace(FULLWIDTH_RUN, mask).replace(PAREN_RUN, mask).replace(TOKEN_RE, mask);
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
      .replace(ID_RE, (m: string, _g: string, at: number, s: string) =>
        isChineseResidentId(m) && !insideOwnId(s, at, m.length) ? stars(14) + m.slice(-4) : m,
      )
      .replace(ID15_RE, (m: string, _g: string, at: number, s: string) =>
        isChineseResidentId15(m) && !insideOwnId(s, at, m.length) ? stars(11) + m.slice(-4) : m,
      )
      .replace(CARD_RE, (m: string, _g: string, at: number, s: string) => {
        const digits = m.replace(/[ -]/g, '');
        return digits.length >= 13 && luhnValid(digits) && !insideOwnId(s, at, m.length) ? stars(digits.length - 4) + digits.slice(-4) : m;
      });
  }
  if (hints & PII_HINT.email) out = out.replace(EMAIL_RE, (_m: string, _local: string, domain: string) => `***@${domain}`);
  if (hints & (PII_HINT.digitRun | PII_HINT.plusDigit)) {
    out = out.replace(CN_MOBILE_RE, (m: string, _g: string, at: number, s: string) =>
      insideOwnId(s, at, m.length) ? m : stars(m.length - 4) + m.slice(-4),
    );
  }
  if (hints & PII_HINT.plusDigit) {
    out = out.replace(INTL_PHONE_RE, (m: string) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 8 ? stars(m.length - 2) + m.slice(-2) : m;
    });
  }
  if (hints & PII_HINT.digitRun) {
    out = out.replace(CN_LANDLINE_RE, (m: string, _g: string, at: number, s: string) =>
      insideOwnId(s, at, m.length) ? m : stars(m.length - 4) + m.slice(-4),
    );
  }
  return out;
}

const isHexOrDash = (c: number) => isHex(c) || c === 45;
const isAlnum = (c: number) => isDigit(c) || isAsciiLetter(c);
// Our hex ids: a UUID (message, customer ids: UUIDv7) or 32 hex digits (attachment ids).
const OWN_HEX_ID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$/;

/**
 * Whether `s[at, at + length)` lies inside one of our hex ids: the stretch of hex digits and `-`
 * around it, cut at each `-` that no hex digit follows or precedes, is a UUID or 32 hex digits, and no
 * letter or digit touches that id. Such a digit run is part of the id, not a phone, card or ID number.
 * @param s the line the match was found in; `at` its UTF-16 offset; `length` its length
 */
function insideOwnId(s: string, at: number, length: number): boolean {
  let from = at;
  let to = at + length;
  for (let i = from; i < to; i++) if (!isHexOrDash(s.charCodeAt(i))) return false; // a space, `(`, `.`: not one id
  while (from > 0 && isHexOrDash(s.charCodeAt(from - 1))) from--;
  while (to < s.length && isHexOrDash(s.charCodeAt(to))) to++;
  // The id is one of the `-`-free or UUID-shaped pieces of the stretch: try the candidates that cover the match.
  const stretch = s.slice(from, to);
  for (const len of [36, 32]) {
    for (let start = Math.max(from, at + length - len); start <= Math.min(at, to - len); start++) {
      if (start > 0 && isAlnum(s.charCodeAt(start - 1))) continue;
      if (start + len < s.length && isAlnum(s.charCodeAt(start + len))) continue;
      if (OWN_HEX_ID.test(stretch.slice(start - from, start - from + len))) return true;
    }
  }
  return false;
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
