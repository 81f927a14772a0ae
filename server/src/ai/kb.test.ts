import { describe, expect, it } from 'vitest';
import { IntentLabelSchema, OUT_OF_SCOPE_INTENT } from '../../../common/ai/types';
import { KbImportErrorDetailsSchema, KbTooLargeDetailsSchema } from '../../../common/api/kb';
import type { HuiliuError } from '../../../common/errors/codes';
import { checkKbLimits, importRefused, inferLang, KB_LIMITS, KbRowErrors, resolveRow, toImportRow, validateImportRows } from './kb';

describe('knowledge-base rows', () => {
  it('calls questions Chinese from 30 % Han letters on, counting all questions of the row together', () => {
    expect(inferLang(['汇流abcdefg'])).toBe('en'); // 2 of 9
    expect(inferLang(['汇流吗abcdefg'])).toBe('zh'); // 3 of 10: exactly the threshold
    expect(inferLang(['汇流吗', 'abcdefghijklmnopq'])).toBe('en'); // 3 of 20
    expect(inferLang(['？！123 …'])).toBe('en');
    expect(inferLang([])).toBe('en');
    expect(inferLang(['退貨要幾天'])).toBe('zh'); // traditional characters are Han too
  });

  it('fills the defaults and exports a row that resolves to itself', () => {
    const resolved = resolveRow({ intent: 'refund', questions: ['退款'], answer: '三天。' });
    expect(resolved).toEqual({
      intent: 'refund',
      lang: 'zh',
      questions: ['退款'],
      answer: '三天。',
      tags: [],
      skillGroup: null,
      related: [],
    });
    expect(resolveRow(toImportRow(resolved))).toEqual(resolved);
    expect(Object.keys(toImportRow(resolved))).toEqual(['intent', 'questions', 'answer', 'lang', 'tags', 'skillGroup', 'related']);
  });

  it('names unknown fields only when asked to refuse them, and never repeats the rejected text', () => {
    const row = { intent: 'refund', questions: ['My card 4111 1111 1111 1111 was charged twice'], answer: 'ok', tag: ['x'] };
    expect(validateImportRows([{ row: 1, value: row }]).errors.total).toBe(0);
    const { tag: _tag, ...known } = row;
    const strict = validateImportRows(
      [
        { row: 7, value: row },
        { row: 8, value: { ...known, lang: 'fr' } },
      ],
      {
        unknownFields: 'reject',
      },
    );
    expect(strict.errors.listed.map((e) => [e.row, e.field])).toEqual([
      [7, 'tag'],
      [8, 'lang'],
    ]);
    expect(JSON.stringify(strict.errors)).not.toContain('4111');
    expect(JSON.stringify(strict.errors)).not.toContain('fr');
  });

  it('lists the first 100 errors by row number and counts them all', () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ row: 150 - i, value: { intent: 'BAD', questions: [], answer: '' } }));
    const { errors } = validateImportRows(rows);
    expect(errors.total).toBe(450);
    expect(errors.listed).toHaveLength(100);
    const error = importRefused(errors);
    expect(error.code).toBe('VALIDATION_FAILED');
    const details = KbImportErrorDetailsSchema.parse(error.details);
    expect(details.total).toBe(450);
    expect(details.rows).toHaveLength(100);
    expect(details.rows[0]!.row).toBe(1);
    expect(details.rows.at(-1)!.row).toBe(34);
    expect(error.message).toBe('The import has 450 row errors; nothing was imported.');
  });
});

describe('knowledge-base row checks', () => {
  it('keeps the first 100 of a million row errors by row number and counts them all, cheaply', () => {
    const errors = new KbRowErrors();
    const started = Date.now();
    for (let row = 1_000_000; row >= 1; row--) errors.add({ row, field: 'intent', message: 'bad' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors.total).toBe(1_000_000);
    expect(errors.listed.map((e) => e.row)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const more = new KbRowErrors();
    more.add({ row: 0, field: '(csv)', message: 'header' });
    more.addAll(errors);
    expect(more.total).toBe(1_000_001);
    expect(more.listed[0]!.row).toBe(0);
    expect(KbImportErrorDetailsSchema.parse(importRefused(more).details).total).toBe(1_000_001);
  });

  it('reserves the intent name oos for the classifier, also in related', () => {
    const oos = IntentLabelSchema.safeParse(OUT_OF_SCOPE_INTENT);
    expect(oos.success).toBe(false);
    expect(oos.error!.issues[0]!.message).toMatch(/"oos" is reserved/);
    expect(IntentLabelSchema.safeParse('oos_refund').success).toBe(true);
    const { errors } = validateImportRows([{ row: 1, value: { intent: 'refund', questions: ['q'], answer: 'a', related: ['oos'] } }]);
    expect(errors.listed.map((e) => e.field)).toEqual(['related.0']);
  });

  it('refuses control characters, lone surrogates and bidi overrides in every text field, allowing \\n and \\t', () => {
    const fine = { intent: 'refund', questions: ['Line one\nline\ttwo'], answer: 'Yes.\n\tIndented, with \u200F a mark.' };
    expect(validateImportRows([{ row: 1, value: fine }]).errors.total).toBe(0);
    const bad = {
      intent: 'refund',
      questions: ['fine', 'nul \u0000 inside', 'lone \ud800 surrogate', 'rtl \u202E override', 'isolate \u2066 x'],
      answer: 'bell \u0007',
      tags: ['ok', 'c1 \u0085 next line', 'cr \r in a tag'],
      skillGroup: 'esc \u001B',
      related: ['a\u202Eb'],
    };
    const { errors } = validateImportRows([{ row: 1, value: bad }]);
    expect(errors.listed.map((e) => e.field)).toEqual([
      'questions.1',
      'questions.2',
      'questions.3',
      'questions.4',
      'answer',
      'tags.1',
      'tags.2',
      'skillGroup',
      'related.0',
    ]);
    expect(errors.listed.find((e) => e.field === 'questions.2')!.message).toMatch(/lone surrogate/);
    expect(errors.listed.find((e) => e.field === 'questions.3')!.message).toMatch(/bidi/);
    expect(errors.listed.find((e) => e.field === 'answer')!.message).toMatch(/control character/);
  });

  it('refuses more than 100 questions in one entry', () => {
    const questions = Array.from({ length: KB_LIMITS.questionsPerEntry + 1 }, (_, i) => `Question ${i}?`);
    const { errors } = validateImportRows([{ row: 1, value: { intent: 'many', questions, answer: 'a' } }]);
    expect(errors.listed.map((e) => e.field)).toEqual(['questions']);
    expect(KB_LIMITS).toEqual({ entries: 2_000, intents: 1_000, questionsPerEntry: 100, questions: 30_000 });
  });

  it('answers KB_TOO_LARGE (413) naming the first limit broken', () => {
    expect(() => checkKbLimits({ entries: 2_000, intents: 1_000, questions: 30_000 })).not.toThrow();
    const refusal = (size: { entries: number; intents: number; questions: number }) => {
      try {
        checkKbLimits(size);
      } catch (error) {
        return error as HuiliuError;
      }
      throw new Error('not refused');
    };
    const entries = refusal({ entries: 2_001, intents: 1_001, questions: 1 });
    expect([entries.code, entries.status, KbTooLargeDetailsSchema.parse(entries.details)]).toEqual([
      'KB_TOO_LARGE',
      413,
      { limit: 'entries', max: 2_000, count: 2_001 },
    ]);
    expect(refusal({ entries: 10, intents: 1_001, questions: 1 }).details).toEqual({ limit: 'intents', max: 1_000, count: 1_001 });
    expect(refusal({ entries: 10, intents: 1, questions: 30_001 }).details).toEqual({ limit: 'questions', max: 30_000, count: 30_001 });
  });
});
