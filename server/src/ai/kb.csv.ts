import { CsvError, parse } from 'csv-parse/sync';
import type { KbImportRow } from '../../../common/ai/types';
import type { KbRowError } from '../../../common/api/kb';
import type { NumberedRow } from './kb';

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

/**
 * Reads an import CSV into numbered rows for `validateImportRows` (row 1 = the first record after the
 * header, whatever line breaks quoted cells hold; records whose cells are all empty are skipped but
 * keep their number). Problems that stop a row from being read (wrong cell count) or the whole file
 * (not UTF-8, broken quoting, a bad header: row 0) come back as `errors`; the rows then hold only the
 * rows that could be read. Never throws on bad input.
 */
export function parseKbCsv(body: Uint8Array): { rows: NumberedRow[]; errors: KbRowError[] } {
  let text: string;
  try {
    // fatal: a file saved in GBK or Latin-1 is refused instead of imported as mojibake; the BOM is dropped.
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { rows: [], errors: [{ row: 0, field: '(body)', message: 'the CSV is not UTF-8 text (save it as "CSV UTF-8")' }] };
  }
  if (text.startsWith(BOM)) text = text.slice(1);

  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true });
  } catch (error) {
    const known = error instanceof CsvError;
    // `records` counts the records read before the broken one, header included: the broken data row's number.
    const row = known ? Number((error as { records?: unknown }).records) || 0 : 0;
    const message = (known && CSV_PROBLEMS[error.code]) || 'the CSV cannot be read';
    return { rows: [], errors: [{ row, field: '(csv)', message }] };
  }

  const [header, ...data] = records;
  if (!header) {
    return {
      rows: [],
      errors: [{ row: 0, field: '(body)', message: `the CSV is empty; its first line names the columns (${KB_CSV_COLUMNS.join(',')})` }],
    };
  }
  const errors: KbRowError[] = [];
  const columns: Column[] = [];
  header.forEach((name, i) => {
    const column = KB_CSV_COLUMNS.find((c) => c.toLowerCase() === name.trim().toLowerCase());
    if (!column) errors.push({ row: 0, field: `header.${i}`, message: `unknown column; the columns are ${KB_CSV_COLUMNS.join(', ')}` });
    else if (columns.includes(column)) errors.push({ row: 0, field: `header.${i}`, message: `column ${column} appears twice` });
    else columns[i] = column;
  });
  for (const column of REQUIRED) {
    if (!columns.includes(column)) errors.push({ row: 0, field: column, message: 'missing column' });
  }
  if (errors.length) return { rows: [], errors };

  const rows: NumberedRow[] = [];
  data.forEach((cells, i) => {
    const row = i + 1;
    if (cells.every((c) => c.trim() === '')) return;
    if (cells.length !== header.length) {
      errors.push({ row, field: '(row)', message: `has ${cells.length} cells; the header has ${header.length}` });
      return;
    }
    const value: Record<string, unknown> = {};
    cells.forEach((cell, c) => {
      const column = columns[c]!;
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
