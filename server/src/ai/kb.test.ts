import { describe, expect, it } from 'vitest';
import { KbImportErrorDetailsSchema } from '../../../common/api/kb';
import { importRefused, inferLang, resolveRow, toImportRow, validateImportRows } from './kb';

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
    expect(validateImportRows([{ row: 1, value: row }]).errors).toEqual([]);
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
    expect(strict.errors.map((e) => [e.row, e.field])).toEqual([
      [7, 'tag'],
      [8, 'lang'],
    ]);
    expect(JSON.stringify(strict.errors)).not.toContain('4111');
    expect(JSON.stringify(strict.errors)).not.toContain('fr');
  });

  it('lists the first 100 errors by row number and counts them all', () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ row: 150 - i, value: { intent: 'BAD', questions: [], answer: '' } }));
    const { errors } = validateImportRows(rows);
    expect(errors).toHaveLength(450);
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
