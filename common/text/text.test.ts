import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphemes, hasVisibleText, isWellFormed, normalizeName, optionalNameSchema, truncateText, visibleTextSchema } from './text';

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
    ['empty', ''],
  ])('finds nothing visible in %s', (_label, text) => {
    expect(hasVisibleText(text)).toBe(false);
  });

  it.each([['a'], ['汇流'], ['😀'], [FAMILY], [FLAG_CN], [E_ACUTE], ['مرحبا'], ['\u200B.'], ['1️⃣']])('sees %s', (text) => {
    expect(hasVisibleText(text)).toBe(true);
  });
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

describe('normalizeName', () => {
  it.each([
    ['an empty name', '', 'NO_VISIBLE_TEXT'],
    ['a blank name', '   ', 'NO_VISIBLE_TEXT'],
    ['an invisible name', '\u200B\u3164', 'NO_VISIBLE_TEXT'],
    ['null', null, 'NOT_A_STRING'],
    ['a number', 42, 'NOT_A_STRING'],
  ])('drops %s and says why', (_label, raw, issue) => {
    expect(normalizeName(raw, 64)).toEqual({ value: undefined, issue });
  });

  it('cuts an over-long name by grapheme instead of refusing it', () => {
    const name = `${'王'.repeat(63)}${FAMILY}`;
    expect(normalizeName(name, 64)).toEqual({ value: '王'.repeat(63), issue: 'TRUNCATED' });
  });

  it('keeps a good name as given (trimmed) and an absent one absent', () => {
    expect(normalizeName(' Lin Mei ', 64)).toEqual({ value: 'Lin Mei' });
    expect(normalizeName(undefined, 64)).toEqual({ value: undefined });
  });

  it('parses any input as an optional name in a zod object', () => {
    expect(optionalNameSchema(5).parse('\u200B')).toBeUndefined();
    expect(optionalNameSchema(5).parse('abcdefgh')).toBe('abcde');
    expect(optionalNameSchema(5).parse(undefined)).toBeUndefined();
  });
});
