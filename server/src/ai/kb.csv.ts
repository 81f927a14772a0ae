import { CsvError, parse } from 'csv-parse/sync';
import type { KbImportRow } from '../../../common/ai/types';
import { checkImportRowCount, KB_LIMITS, KbRowErrors, type NumberedRow } from './kb';

/**
 * The knowledge base as CSV (`POST /api/v1/kb/import` with `Content-Type: text/csv`, `GET
 * /api/v1/kb/export?format=csv`; docs/knowledge-base.md). RFC 4180 (comma, `"` quotes, quoted cells may
 * hold commas, quotes as `""` and line breaks), UTF-8 with or without a BOM. The first record names the
 * columns, in any order, case-insensitive: `intent`, `questions`, `answer` are required, `lang`, `tags`,
 * `skillGroup`, `related` optional. `questions`, `tags` and `related` hold several values separated by
 * `|`; inside them `\|` is a literal `|` and `\\` a literal `\` (any other `\` is kept as it is).
 * Empty optional cells mean "absent" (lang inferred, no tags, skillGroup null, no related).
 */
export const KB_CSV_COLUMNS = ['intent', 'questions', 'answer', 'lang', 'tags', 'skillGroup', 'related'] as const;
type Column = (typeof KB_CSV_COLUMNS)[number];

const REQUIRED: readonly Column[] = ['intent', 'questions', 'answer'];
const LISTS: readonly Column[] = ['questions', 'tags', 'related'];
const BOM = '\uFEFF';
const LINE_BREAK = /\r\n?/g;

/** Splits a list cell at unescaped `|`, unescaping `\|` and `\\`; each value is trimmed; an empty cell is no value. */
export function splitCell(cell: string): string[] {
  if (cell.trim() === '') return [];
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < cell.length; i++) {
    const ch = cell[i]!;
    const next = cell[i + 1];
    if (ch === '\\' && (next === '|' || next === '\\')) {
      current += next;
      i++;
    } else if (ch === '|') {
      values.push(current.trim());
      current = '';
    } else current += ch;
  }
  values.push(current.trim());
  return values;
}

/** The inverse of `splitCell` for values with no surrounding spaces. */
export function joinCell(values: readonly string[]): string {
  return values.map((v) => v.replaceAll('\\', '\\\\').replaceAll('|', '\\|')).join('|');
}

/** What csv-parse's error codes mean, in words that do not repeat the text (its own messages quote it). */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote (write a quote inside a quoted cell as "")',
  INVALID_OPENING_QUOTE: 'a quote opens in the middle of an unquoted cell (quote the whole cell)',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote',
};

const isBlank = (cells: readonly string[]) => cells.every((c) => c.trim() === '');
/** One error, as `parseKbCsv` answers it. */
const oneError = (row: number, field: string, message: string) => {
  const errors = new KbRowErrors();
  errors.add({ row, field, message });
  return errors;
};
/** Thrown out of csv-parse to stop reading a file with more rows than the KB may hold. */
class TooManyRows extends Error {}

/**
 * Reads an import CSV into numbered rows for `validateImportRows`. Row 1 is the first record after the
 * header, whatever line breaks quoted cells hold; every later record counts, also a blank line or a
 * record whose cells are all empty (skipped, but it keeps its number); blank lines before the header
 * are skipped. Line breaks inside a cell (CRLF, CR or LF) are read as `\n`. Problems that stop a row
 * from being read (wrong cell count) or the whole file (not UTF-8, broken quoting, a bad header: row 0)
 * come back as `errors` (counted, the first 100 kept); the rows then hold only the rows that could be
 * read. Throws only KB_TOO_LARGE, as soon as the file has more non-blank rows than KB_LIMITS.entries
 * (it stops reading there, so a huge file costs little).
 */
export function parseKbCsv(body: Uint8Array): { rows: NumberedRow[]; errors: KbRowErrors } {
  let text: string;
  try {
    // fatal: a file saved in GBK or Latin-1 is refused instead of imported as mojibake; the BOM is dropped.
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { rows: [], errors: oneError(0, '(body)', 'the CSV is not UTF-8 text (save it as "CSV UTF-8")') };
  }
  if (text.startsWith(BOM)) text = text.slice(1);

  // Blank records are kept (csv-parse's skip_empty_lines would drop them and shift every later row
  // number); the header is the first non-blank record.
  let leadingBlank = 0;
  let nonBlank = 0;
  let records: string[][];
  try {
    records = parse(text, {
      relax_column_count: true,
      on_record: (cells: string[]) => {
        if (isBlank(cells)) {
          if (nonBlank === 0) leadingBlank++;
        } else if (++nonBlank > KB_LIMITS.entries + 1) throw new TooManyRows();
        return cells;
      },
    });
  } catch (error) {
    if (error instanceof TooManyRows) checkImportRowCount(nonBlank - 1);
    const known = error instanceof CsvError;
    // `records` counts the records read before the broken one, header and blank lines included: the
    // broken data row's number once the blank lines before the header are taken off.
    const read = known ? Number((error as { records?: unknown }).records) || 0 : 0;
    const message = (known && CSV_PROBLEMS[error.code]) || 'the CSV cannot be read';
    return { rows: [], errors: oneError(Math.max(0, read - leadingBlank), '(csv)', message) };
  }

  const header = records[leadingBlank];
  const data = records.slice(leadingBlank + 1);
  if (!header) {
    return {
      rows: [],
      errors: oneError(0, '(body)', `the CSV is empty; its first line names the columns (${KB_CSV_COLUMNS.join(',')})`),
    };
  }
  const errors = new KbRowErrors();
  const columns: Column[] = [];
  header.forEach((name, i) => {
    const column = KB_CSV_COLUMNS.find((c) => c.toLowerCase() === name.trim().toLowerCase());
    if (!column) errors.add({ row: 0, field: `header.${i}`, message: `unknown column; the columns are ${KB_CSV_COLUMNS.join(', ')}` });
    else if (columns.includes(column)) errors.add({ row: 0, field: `header.${i}`, message: `column ${column} appears twice` });
    else columns[i] = column;
  });
  for (const column of REQUIRED) {
    if (!columns.includes(column)) errors.add({ row: 0, field: column, message: 'missing column' });
  }
  if (errors.total) return { rows: [], errors };

  const rows: NumberedRow[] = [];
  data.forEach((cells, i) => {
    const row = i + 1;
    if (isBlank(cells)) return;
    if (cells.length !== header.length) {
      errors.add({ row, field: '(row)', message: `has ${cells.length} cells; the header has ${header.length}` });
      return;
    }
    const value: Record<string, unknown> = {};
    cells.forEach((raw, c) => {
      const column = columns[c]!;
      // A line break inside a quoted cell is stored as \n, whichever a spreadsheet program wrote.
      const cell = raw.replace(LINE_BREAK, '\n');
      if (LISTS.includes(column)) {
        // An empty questions cell stays an empty list, so the error says "at least 1" rather than "missing".
        if (column === 'questions' || cell.trim() !== '') value[column] = splitCell(cell);
      } else if (column === 'intent' || column === 'lang') {
        if (column === 'intent' || cell.trim() !== '') value[column] = cell.trim();
      } else if (column === 'skillGroup') {
        if (cell !== '') value[column] = cell;
      } else value[column] = cell;
    });
    rows.push({ row, value });
  });
  return { rows, errors };
}

const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);

/**
 * Writes rows as the import CSV: a UTF-8 BOM (so spreadsheet programs read Chinese correctly), the
 * header `intent,questions,answer,lang,tags,skillGroup,related`, CRLF line ends, cells quoted when
 * they hold a comma, quote or line break. `parseKbCsv` reads it back to the same rows.
 */
export function formatKbCsv(rows: readonly Required<KbImportRow>[]): string {
  const lines = [KB_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [r.intent, joinCell(r.questions), r.answer, r.lang, joinCell(r.tags), r.skillGroup ?? '', joinCell(r.related)].map(quote).join(','),
    );
  }
  return `${BOM}${lines.join('\r\n')}\r\n`;
}
