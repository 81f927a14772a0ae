import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KbImportRow } from '../../../common/ai/types';
import { plainTextProblem } from '../../../common/text/text';
import { KB_LIMITS, resolveRow, toImportRow, validateImportRows } from './kb';
import { formatKbCsv, joinCell, parseKbCsv, splitCell } from './kb.csv';

const csv = (text: string) => new TextEncoder().encode(text);
const HEADER = 'intent,questions,answer,lang,tags,skillGroup,related';

describe('knowledge base CSV', () => {
  it('reads quoted cells holding commas, quotes and line breaks, and numbers rows by record', () => {
    const text = [
      HEADER,
      'order_status,"Where is my order?|Has it shipped, yet?","Open ""My orders"", then tap it.\nStill stuck? Call us.",en,orders|tracking,,shipping',
      'refund,退款多久到账？|怎么退款,"三到五个工作日,\r\n原路退回。",,,vip,',
    ].join('\r\n');
    const { rows, errors } = parseKbCsv(csv(text));
    expect(errors.total).toBe(0);
    expect(rows).toEqual([
      {
        row: 1,
        value: {
          intent: 'order_status',
          questions: ['Where is my order?', 'Has it shipped, yet?'],
          answer: 'Open "My orders", then tap it.\nStill stuck? Call us.',
          lang: 'en',
          tags: ['orders', 'tracking'],
          related: ['shipping'],
        },
      },
      {
        row: 2,
        value: { intent: 'refund', questions: ['退款多久到账？', '怎么退款'], answer: '三到五个工作日,\n原路退回。', skillGroup: 'vip' },
      },
    ]);
    expect(validateImportRows(rows).rows.map((r) => r.lang)).toEqual(['en', 'zh']);
  });

  it('takes the columns in any order and case, with a BOM, and only the required ones', () => {
    const { rows, errors } = parseKbCsv(csv('\uFEFFAnswer,INTENT,Questions\nFine.,hello,hi|hello\n,,\n'));
    expect(errors.total).toBe(0);
    expect(rows).toEqual([{ row: 1, value: { answer: 'Fine.', intent: 'hello', questions: ['hi', 'hello'] } }]);
  });

  it('splits list cells at unescaped bars only', () => {
    expect(splitCell('a | b|c')).toEqual(['a', 'b', 'c']);
    expect(splitCell('either \\| or|C:\\\\temp|C:\\path')).toEqual(['either | or', 'C:\\temp', 'C:\\path']);
    expect(splitCell('  ')).toEqual([]);
    expect(splitCell('a||')).toEqual(['a', '', '']);
    expect(joinCell(['either | or', 'C:\\temp'])).toBe('either \\| or|C:\\\\temp');
  });

  it('refuses a bad header, a wrong cell count, broken quoting and non-UTF-8 text with row numbers and no text', () => {
    expect(parseKbCsv(csv('intent,question,answer,secret text\n')).errors.listed).toEqual([
      { row: 0, field: 'header.1', message: expect.stringContaining('unknown column') },
      { row: 0, field: 'header.3', message: expect.stringContaining('unknown column') },
      { row: 0, field: 'questions', message: 'missing column' },
    ]);
    expect(parseKbCsv(csv('')).errors.listed).toEqual([{ row: 0, field: '(body)', message: expect.stringContaining('empty') }]);
    const counted = parseKbCsv(csv('intent,questions,answer\na,q,ok\nb,q,one, two\nc,q,ok\n'));
    expect(counted.errors.listed).toEqual([{ row: 2, field: '(row)', message: 'has 4 cells; the header has 3' }]);
    expect(counted.rows.map((r) => r.row)).toEqual([1, 3]);
    const broken = parseKbCsv(csv('intent,questions,answer\na,q,ok\n"b\nc",q,ok\nd,q,"private 13800138000 never closed\n'));
    expect(broken.errors.listed).toEqual([{ row: 3, field: '(csv)', message: 'a quoted cell is never closed' }]);
    const stray = parseKbCsv(csv('intent,questions,answer\na,q,"ok" 13800138000\n'));
    expect(stray.errors.listed).toMatchObject([{ row: 1, field: '(csv)' }]);
    expect(JSON.stringify([broken, stray])).not.toContain('13800138000');
    const gbk = Uint8Array.from([...csv('intent,questions,answer\nrefund,'), 0xcd, 0xcb, 0xbf, 0xee, ...csv(',ok\n')]);
    expect(parseKbCsv(gbk).errors.listed).toEqual([{ row: 0, field: '(body)', message: expect.stringContaining('UTF-8') }]);
  });

  it('counts truly blank lines and all-empty records as rows, so later row numbers match the file', () => {
    // Blank lines before the header are skipped; after it each one is a row: a=1, blank=2, ,,=3, b=4, blank=5, BAD=6.
    const text = '\n\r\nintent,questions,answer\na,q,ok\n\n,,\nb,q,one,two\n\r\nBAD,q,ok\n';
    const { rows, errors } = parseKbCsv(csv(text));
    expect(errors.listed).toEqual([{ row: 4, field: '(row)', message: 'has 4 cells; the header has 3' }]);
    expect(rows.map((r) => r.row)).toEqual([1, 6]);
    expect(validateImportRows(rows).errors.listed).toMatchObject([{ row: 6, field: 'intent' }]);
    // A quoting error after blank lines names the data row it is in.
    const broken = parseKbCsv(csv('\nintent,questions,answer\na,q,ok\n\nb,q,"never closed\n'));
    expect(broken.errors.listed).toEqual([{ row: 3, field: '(csv)', message: 'a quoted cell is never closed' }]);
  });

  it('reads a line break inside a cell as \\n, whatever line ends the file has', () => {
    const { rows } = parseKbCsv(csv('intent,questions,answer\r\na,q,"one\r\ntwo\rthree\nfour"\r\n'));
    expect(rows).toEqual([{ row: 1, value: { intent: 'a', questions: ['q'], answer: 'one\ntwo\nthree\nfour' } }]);
  });

  it('stops reading a CSV with more rows than the KB may hold: KB_TOO_LARGE, and a million rows cost little', () => {
    let refused: unknown;
    try {
      parseKbCsv(csv(`intent,questions,answer\n${'X,,\n'.repeat(1_000_000)}`));
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'KB_TOO_LARGE',
      details: { limit: 'entries', max: KB_LIMITS.entries, count: KB_LIMITS.entries + 1 },
    });
    // Blank records do not count towards the limit.
    const blanks = parseKbCsv(csv(`intent,questions,answer\n${'\n,,\n'.repeat(6_000)}a,q,ok\n`));
    expect(blanks.rows).toEqual([{ row: 12_001, value: { intent: 'a', questions: ['q'], answer: 'ok' } }]);
  });

  it('writes CSV that reads back to the very same rows', () => {
    const text = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => s.trim() === s && s !== '' && plainTextProblem(s) === null);
    const row = fc.record({
      intent: fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/),
      questions: fc.array(text, { minLength: 1, maxLength: 4 }),
      answer: text,
      lang: fc.constantFrom('zh' as const, 'en' as const),
      tags: fc.array(text, { maxLength: 3 }),
      skillGroup: fc.option(fc.constantFrom('vip', 'general', 'billing team'), { nil: null }),
      related: fc.array(fc.stringMatching(/^[a-z][a-z_]{0,10}$/), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => r.intent, maxLength: 8 }), (rows: Required<KbImportRow>[]) => {
        const read = parseKbCsv(csv(formatKbCsv(rows)));
        expect(read.errors.listed).toEqual([]);
        const checked = validateImportRows(read.rows);
        expect(checked.errors.listed).toEqual([]);
        expect(checked.rows.map(toImportRow)).toEqual(rows.map((r) => toImportRow(resolveRow(r))));
      }),
      { numRuns: 300 },
    );
  });

  it('starts the export with a BOM and the header, one CRLF-terminated record per row', () => {
    const out = formatKbCsv([
      { intent: 'a', questions: ['q1', 'q|2'], answer: 'say "hi", then go', lang: 'en', tags: [], skillGroup: null, related: ['b'] },
    ]);
    expect(out).toBe(`\uFEFF${HEADER}\r\na,q1|q\\|2,"say ""hi"", then go",en,,,b\r\n`);
  });
});
