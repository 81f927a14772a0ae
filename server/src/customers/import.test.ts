import { describe, expect, it } from 'vitest';
import { FACTS_IMPORT_MAX_ROWS } from '../../../common/api/customers';
import { checkFactsRow, ImportErrors, parseFactsCsv } from './import';

const csv = (text: string) => Buffer.from(text, 'utf8');

describe('reading a facts CSV', () => {
  it('numbers rows as a spreadsheet does: blank lines count, line breaks inside a quoted cell do not', () => {
    const errors = new ImportErrors();
    const text = '\r\n\r\nexternalId,spend,name\r\na,1,\r\n\r\n\r\nb,2,"two\r\nlines"\r\nc,3,\r\n,,\r\nd,4,\r\n\r\n';
    const { rows, received } = parseFactsCsv(csv(text), errors);
    expect(errors.total).toBe(0);
    expect(rows.map((r) => [r.row, (r.value as { externalId: string }).externalId])).toEqual([
      [1, 'a'],
      [4, 'b'],
      [5, 'c'],
      [7, 'd'],
    ]);
    expect(received).toBe(4);
    expect(rows[1]!.value).toEqual({ externalId: 'b', spend: 2, name: 'two\nlines' });
  });

  it('reads a 20 MB body of blank lines in linear time', () => {
    // A guard against quadratic scanning (20M blank lines would take hours), not a speed target: the
    // bound is loose so a loaded CI machine passes; `npm run bench` is where speed is measured.
    const t0 = performance.now();
    const { rows, received } = parseFactsCsv(csv(`externalId,spend\n${'\n'.repeat(20 * 1024 * 1024)}x,1\n`), new ImportErrors());
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(rows).toEqual([{ row: 20 * 1024 * 1024 + 1, value: { externalId: 'x', spend: 1 } }]);
    expect(received).toBe(1);
  });

  it('refuses a file that is not UTF-8, broken quoting, or a header without externalId, as one error and no rows', () => {
    const gbk = new ImportErrors();
    expect(parseFactsCsv(Buffer.from([0x65, 0x78, 0x0a, 0xd5, 0xc5]), gbk).rows).toEqual([]);
    expect(gbk.listed).toEqual([{ row: 0, field: '(body)', message: expect.stringMatching(/UTF-8/) as unknown }]);
    const quote = new ImportErrors();
    expect(parseFactsCsv(csv('externalId,spend\na,1\n"b,2\n'), quote).rows).toEqual([]);
    expect(quote.listed[0]).toMatchObject({
      row: 0,
      field: '(csv)',
      message: expect.stringMatching(/never closed \(line \d+\)/) as unknown,
    });
    const header = new ImportErrors();
    parseFactsCsv(csv('id,spend,spend\n1,2,3\n'), header);
    expect(header.listed.map((e) => e.field)).toEqual(['header.0', 'header.2', 'externalId']);
    const empty = new ImportErrors();
    parseFactsCsv(csv('\n\n'), empty);
    expect(empty.listed[0]).toMatchObject({ row: 0, field: '(body)' });
  });

  it(`stops reading past ${FACTS_IMPORT_MAX_ROWS.toLocaleString('en')} rows with PAYLOAD_TOO_LARGE`, () => {
    const rows = Array.from({ length: FACTS_IMPORT_MAX_ROWS + 1 }, (_, i) => `r${i},1`).join('\n');
    expect(() => parseFactsCsv(csv(`externalId,spend\n${rows}\n`), new ImportErrors())).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    // Exactly the limit is fine.
    const atLimit = Array.from({ length: FACTS_IMPORT_MAX_ROWS }, (_, i) => `r${i},1`).join('\n');
    expect(parseFactsCsv(csv(`externalId,spend\n${atLimit}\n`), new ImportErrors()).received).toBe(FACTS_IMPORT_MAX_ROWS);
  }, 120_000);
});

describe('checking a facts row', () => {
  const check = (value: unknown, apps: string[] = ['shop']) => {
    const errors = new ImportErrors();
    return { row: checkFactsRow({ row: 3, value }, apps, errors), errors: errors.listed };
  };

  it("scopes an app customer's id by the only app account, or by the app the row names", () => {
    expect(check({ externalId: 'u1', spend: 5 }).row?.identity).toEqual({ channel: 'AP', externalId: 'shop:u1' });
    expect(check({ externalId: 'u1', app: 'b', csat: 3 }, ['a', 'b']).row?.identity).toEqual({ channel: 'AP', externalId: 'b:u1' });
    expect(check({ externalId: 'u1', spend: 5 }, ['a', 'b']).errors).toEqual([
      { row: 3, field: 'app', message: 'name the app (one of: a, b)' },
    ]);
    expect(check({ externalId: 'u1', spend: 5 }, []).errors[0]?.message).toBe('this server has no app account');
    expect(check({ externalId: '+8613800138000', channel: 'SP', spend: 5 }).row?.identity).toEqual({
      channel: 'SP',
      externalId: '+8613800138000',
    });
  });

  it('cleans the name like the app channel does, and refuses one with nothing visible', () => {
    expect(check({ externalId: 'u1', spend: 1, name: '  \u202eLi Na  ' }).row?.identity.displayName).toBe('Li Na');
    expect(check({ externalId: 'u1', spend: 1, name: 'x'.repeat(300) }).row?.identity.displayName).toHaveLength(128);
    expect(check({ externalId: 'u1', spend: 1, name: '\u200b' }).errors.map((e) => e.field)).toEqual(['name']);
  });

  it('names every bad field of a row', () => {
    const { row, errors } = check({ externalId: 'u1', spend: Infinity, csat: '4' });
    expect(row).toBeNull();
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ['spend', expect.any(String)],
      ['csat', 'not a number (write digits, with a "." before decimals)'],
    ]);
  });
});
