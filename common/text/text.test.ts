import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BIDI_CONTROL_REFUSED,
  graphemes,
  hasVisibleText,
  isWellFormed,
  normalizeName,
  optionalNameSchema,
  staffTextSchema,
  truncateText,
  visibleTextSchema,
} from './text';
import { AddNoteSchema, WhisperSchema } from '../api/supervision';
import { CannedReplyInputSchema } from '../api/canned';
import { SendMessageSchema, CloseSessionSchema, TransferSessionSchema } from '../socket/agent-events';

const FAMILY = '👨\u200D👩\u200D👧\u200D👦'; // ZWJ sequence, 11 code units
const FLAG_CN = '🇨🇳'; // two regional indicators, 4 code units
const E_ACUTE = 'e\u0301'; // combining mark
const THUMBS_TONE = '👍🏽';

describe('truncateText', () => {
  it('never leaves half a surrogate pair when 118 a and an emoji meet a 120-unit preview', () => {
    const text = `${'a'.repeat(118)}😀b`;
    const naive = `${text.slice(0, 119)}…`;
    expect(isWellFormed(naive)).toBe(false);
    const cut = truncateText(text, 120, '…');
    expect(isWellFormed(cut)).toBe(true);
    expect(cut).toBe(`${'a'.repeat(118)}…`);
  });

  it.each([
    ['a ZWJ family emoji', FAMILY],
    ['a flag', FLAG_CN],
    ['a combining mark', E_ACUTE],
    ['a skin-tone emoji', THUMBS_TONE],
    ['a CJK character', '汇'],
  ])('keeps or drops %s whole at the cut point', (_label, grapheme) => {
    for (let prefix = 0; prefix < 12; prefix++) {
      const text = 'x'.repeat(prefix) + grapheme + 'y'.repeat(20);
      const cut = truncateText(text, 12, '…');
      expect(cut.length).toBeLessThanOrEqual(12);
      expect(isWellFormed(cut)).toBe(true);
      const body = cut.slice(0, -1);
      expect(text.startsWith(body)).toBe(true);
      // The cut lands on a grapheme boundary of the original text.
      expect(graphemes(body).every((g, i) => g === graphemes(text)[i])).toBe(true);
    }
  });

  it('returns text that fits unchanged and without an ellipsis', () => {
    expect(truncateText('你好 🇨🇳', 10, '…')).toBe('你好 🇨🇳');
  });

  it('cuts one over-long grapheme by code point instead of dropping it', () => {
    const zalgo = `a${'\u0301'.repeat(50)}`;
    const cut = truncateText(zalgo, 10);
    expect(cut).toBe(`a${'\u0301'.repeat(9)}`);
  });

  it('replaces lone surrogates in its input', () => {
    expect(truncateText('ab\uD83D', 10)).toBe('ab\uFFFD');
  });

  it('is always well-formed and within the limit for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.integer({ min: 0, max: 40 }), (a, b, max) => {
        const cut = truncateText(a + b, max, '…');
        return cut.length <= max && isWellFormed(cut);
      }),
    );
  });
});

describe('hasVisibleText', () => {
  it.each([
    ['zero-width space', '\u200B'],
    ['ZWNJ and ZWJ', '\u200C\u200D'],
    ['word joiner', '\u2060'],
    ['BOM', '\uFEFF'],
    ['Hangul filler', '\u3164'],
    ['braille blank', '\u2800'],
    ['Hangul choseong/jungseong fillers', '\u115F\u1160'],
    ['halfwidth Hangul filler', '\uFFA0'],
    ['bidi marks and isolates', '\u200E\u200F\u202A\u202E\u2066\u2069'],
    ['tag characters', '\u{E0001}\u{E0041}\u{E007F}'],
    ['variation selectors', '\uFE0F\u{E0100}'],
    ['combining marks alone', '\u0301\u0308'],
    ['whitespace of all kinds', ' \t\n\r\u00A0\u1680\u2000\u2003\u2028\u2029\u202F\u205F\u3000'],
    ['soft hyphen', '\u00AD'],
    ['Egyptian hieroglyph full and half blanks', '\u{13441}\u{13442}'],
    ['musical null notehead', '\u{1D159}'],
    ['object replacement character', '\uFFFC'],
    ['private-use code points', '\uE000\uF8FF\u{F0000}\u{10FFFD}'],
    ['lone emoji skin-tone modifiers', '\u{1F3FB}\u{1F3FF}'],
    ['unassigned code points', '\u{1CBB}\u{E0080}'],
    ['blanks of every new kind together with old ones', '\u200B\u{13441} \uFFFC\uE000\u{1F3FC}\u3164'],
    ['empty', ''],
  ])('finds nothing visible in %s', (_label, text) => {
    expect(hasVisibleText(text)).toBe(false);
  });

  it.each([['a'], ['汇流'], ['😀'], [FAMILY], [FLAG_CN], [E_ACUTE], ['مرحبا'], ['\u200B.'], ['1️⃣']])('sees %s', (text) => {
    expect(hasVisibleText(text)).toBe(true);
  });

  it.each([['a\u{13441}'], ['\u{1D159}汇'], ['\uFFFC see attachment'], ['\uE000x'], ['👍🏻'], ['\u{1F3FB}ok'], ['\u{1CBB}1']])(
    'sees %s: blanks beside a visible character do not hide it',
    (text) => {
      expect(hasVisibleText(text)).toBe(true);
    },
  );
});

describe('visibleTextSchema', () => {
  it('refuses text with no visible character, naming the reason', () => {
    const r = visibleTextSchema(100).safeParse('\u200B\u3164 ');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('has no visible character');
  });

  it('accepts visible text, trimmed', () => {
    expect(visibleTextSchema(100).parse('  hi ')).toBe('hi');
  });
});

describe('staffTextSchema and every staff-written note', () => {
  const overrides = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];
  it('refuses bidi embeddings, overrides and isolates, keeps marks and right-to-left letters', () => {
    for (const c of overrides) {
      const r = staffTextSchema(100).safeParse(`${c}evil`);
      expect(r.success, JSON.stringify(c)).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(BIDI_CONTROL_REFUSED);
    }
    expect(staffTextSchema(100).parse('مرحبا \u200F ok \u200E')).toBe('مرحبا \u200F ok \u200E');
    // Customer-facing message text is not refused for them (it is shown isolated).
    expect(visibleTextSchema(100).safeParse('\u202Eevil').success).toBe(true);
  });
  it("applies to notes, whispers, canned replies, wrap-up notes, transfer notes and agents' replies", () => {
    const sessionId = 'AP176000000000012345';
    const bad = '\u202Eevil';
    expect(AddNoteSchema.safeParse({ sessionId, clientMessageId: 'note-0001', text: bad }).success).toBe(false);
    expect(WhisperSchema.safeParse({ sessionId, clientMessageId: 'note-0001', text: bad }).success).toBe(false);
    const canned = { shortcut: 'x', title: 'ok', text: 'ok', skillGroup: null };
    expect(CannedReplyInputSchema.safeParse({ ...canned, text: bad }).success).toBe(false);
    expect(CannedReplyInputSchema.safeParse({ ...canned, title: bad }).success).toBe(false);
    expect(CannedReplyInputSchema.safeParse(canned).success).toBe(true);
    expect(CloseSessionSchema.safeParse({ sessionId, wrapUpCode: 'resolved', note: bad }).success).toBe(false);
    expect(CloseSessionSchema.safeParse({ sessionId, wrapUpCode: 'resolved', note: 'fine' }).success).toBe(true);
    const to = { kind: 'skill-group', skillGroup: 'vip' };
    expect(TransferSessionSchema.safeParse({ sessionId, to, mode: 'cold', note: bad }).success).toBe(false);
    expect(TransferSessionSchema.safeParse({ sessionId, to, mode: 'cold', note: 'fine' }).success).toBe(true);
    // An agent's reply reaches the customer: the same rule (issue 15 review).
    expect(SendMessageSchema.safeParse({ sessionId, clientMessageId: 'reply-0001', text: bad }).success).toBe(false);
    expect(SendMessageSchema.safeParse({ sessionId, clientMessageId: 'reply-0001', text: 'مرحبا ok' }).success).toBe(true);
  });
});

describe('normalizeName', () => {
  it.each([
    ['an empty name', '', 'NO_VISIBLE_TEXT'],
    ['a blank name', '   ', 'NO_VISIBLE_TEXT'],
    ['an invisible name', '\u200B\u3164', 'NO_VISIBLE_TEXT'],
    ['null', null, 'NOT_A_STRING'],
    ['a number', 42, 'NOT_A_STRING'],
    ['a name of only bidi controls', '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C', 'NO_VISIBLE_TEXT'],
  ])('drops %s and says why', (_label, raw, issue) => {
    expect(normalizeName(raw, 64)).toEqual({ value: undefined, issues: [issue] });
  });

  it.each([
    ['a right-to-left override', '\u202ELin Mei', 'Lin Mei'],
    ['an override closed by PDF', '\u202Eevil\u202C名', 'evil名'],
    ['embeddings', '\u202A\u202BLi\u202DLei\u202C', 'LiLei'],
    ['isolates', '\u2066\u2067\u2068王芳\u2069', '王芳'],
    ['marks (LRM, RLM, ALM)', '\u200EAli\u200F\u061C', 'Ali'],
    ['a control hiding leading space', '\u202E  Lin ', 'Lin'],
  ])('removes bidi controls from %s and reports NORMALISED', (_label, raw, value) => {
    expect(normalizeName(raw, 64)).toEqual({ value, issues: ['NORMALISED'] });
  });

  it('reports both NORMALISED and TRUNCATED when a name needed both', () => {
    expect(normalizeName(`\u202E${'a'.repeat(10)}`, 4)).toEqual({ value: 'aaaa', issues: ['NORMALISED', 'TRUNCATED'] });
  });

  it('keeps other invisible format characters inside a visible name (only bidi controls reorder it)', () => {
    expect(normalizeName('👨\u200D👩', 64)).toEqual({ value: '👨\u200D👩', issues: [] });
  });

  it('cuts an over-long name by grapheme instead of refusing it', () => {
    const name = `${'王'.repeat(63)}${FAMILY}`;
    expect(normalizeName(name, 64)).toEqual({ value: '王'.repeat(63), issues: ['TRUNCATED'] });
  });

  it('keeps a good name as given (trimmed) and an absent one absent', () => {
    expect(normalizeName(' Lin Mei ', 64)).toEqual({ value: 'Lin Mei', issues: [] });
    expect(normalizeName(undefined, 64)).toEqual({ value: undefined, issues: [] });
  });

  it('parses any input as an optional name in a zod object', () => {
    expect(optionalNameSchema(5).parse('\u200B')).toBeUndefined();
    expect(optionalNameSchema(5).parse('abcdefgh')).toBe('abcde');
    expect(optionalNameSchema(5).parse(undefined)).toBeUndefined();
    expect(optionalNameSchema(64).parse('\u202Eevil\u202C名')).toBe('evil名');
  });
});

describe('text that is kept, made well-formed and single-line (second review)', () => {
  it('replaces lone surrogates in message text with U+FFFD and keeps the rest', () => {
    const parsed = visibleTextSchema(100).parse('hi \uD800 there \uDFFF');
    expect(parsed).toBe('hi \uFFFD there \uFFFD');
    expect(isWellFormed(parsed)).toBe(true);
  });

  it.each([
    ['NUL and an escape sequence', 'Lin\u0000Mei\u001b[31m', 'Lin Mei [31m'],
    ['line breaks and separators', 'Lin\r\nMei\u2028Zhang', 'Lin Mei Zhang'],
    ['tag characters', 'Lin\u{E0041}\u{E0042}Mei', 'Lin Mei'],
    ['a lone surrogate', 'N\uD800x', 'N\uFFFDx'],
  ])('cleans %s from a name and says NORMALISED', (_label, raw, value) => {
    expect(normalizeName(raw, 64)).toEqual({ value, issues: ['NORMALISED'] });
  });
});
