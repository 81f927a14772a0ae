import { CsvError, parse } from 'csv-parse/sync';
import {
  FACTS_IMPORT_ERRORS_LISTED,
  FACTS_IMPORT_MAX_ROWS,
  FACTS_NAME_MAX_LENGTH,
  FactsImportRowSchema,
  type FactsImportResult,
  type FactsImportRow,
  type FactsImportRowError,
  type StoredFactSource,
} from '../../../common/api/customers';
import { HuiliuError } from '../../../common/errors/codes';
import type { ChannelCode } from '../../../common/message/session-id';
import { normalizeName } from '../../../common/text/text';
import { appExternalId } from '../gateway/app/normalize';
import type { CustomerIdentity, SessionStore } from '../sessions/store';

/**
 * Customer facts import (issue 11, docs/customer-facts.md "Import"): a JSON array of rows or a CSV
 * file with a header, checked row by row; valid rows are stored, refused ones listed with their row
 * number and field. Used by `POST /api/v1/customers/facts/import` and by the `--demo` seed.
 */

/** CSV columns, in any order, case-insensitive; only `externalId` is required. */
export const FACTS_CSV_COLUMNS = ['externalId', 'channel', 'app', 'spend', 'csat', 'name'] as const;
type Column = (typeof FACTS_CSV_COLUMNS)[number];
const NUMERIC: readonly Column[] = ['spend', 'csat'];
/** Rows stored per write: big enough for few group commits, small enough to keep each write short. */
const CHUNK = 1000;
const BOM = '\uFEFF';
const LINE_BREAK = /\r\n?/g;
// A plain decimal: digits with an optional fraction. No thousands separators, exponents or currency signs.
const DECIMAL = /^\+?\d+(\.\d+)?$/;

/** A row as read, with its number (1 = the first data row). */
export interface NumberedRow {
  row: number;
  value: unknown;
}

/** A checked row: the customer it names and the facts to set. */
export interface CheckedFactsRow {
  row: number;
  identity: CustomerIdentity;
  spend?: number;
  csat?: number;
}

/** Errors counted in full, the first `FACTS_IMPORT_ERRORS_LISTED` kept (rows are read in order). */
export class ImportErrors {
  readonly listed: FactsImportRowError[] = [];
  total = 0;
  add(error: FactsImportRowError): void {
    this.total++;
    if (this.listed.length < FACTS_IMPORT_ERRORS_LISTED) this.listed.push(error);
  }
}

const tooManyRows = () =>
  new HuiliuError('PAYLOAD_TOO_LARGE', `An import holds at most ${FACTS_IMPORT_MAX_ROWS.toLocaleString('en')} rows; split the file.`);

/** Thrown out of csv-parse to stop reading a file with more rows than an import may hold. */
class TooManyRows extends Error {}

const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote (write a quote inside a quoted cell as "")',
  INVALID_OPENING_QUOTE: 'a quote opens in the middle of an unquoted cell (quote the whole cell)',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote',
};

/** One record as csv-parse answers it with `info`: its cells, and the line it ends on (1-based). */
interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/**
 * Reads an import CSV (RFC 4180, UTF-8 with or without a BOM; the first non-blank record names the
 * columns, `FACTS_CSV_COLUMNS`). Empty cells are absent values; `spend` and `csat` cells must be
 * plain decimals (`60000`, `4.5`). Row numbers are the spreadsheet's: every record after the header
 * counts, blank lines too (a cell's line breaks do not). `received` counts the non-blank rows.
 * A problem with the whole file (not UTF-8, broken quoting, a bad header) is one error and no rows.
 * Blank lines cost nothing to speak of: csv-parse skips them itself (kept as records they cost ~70 µs
 * each, minutes for a 20 MB body of line breaks), and their count comes back from the line numbers.
 * @throws HuiliuError PAYLOAD_TOO_LARGE beyond FACTS_IMPORT_MAX_ROWS rows (reading stops there)
 */
export function parseFactsCsv(body: Uint8Array, errors: ImportErrors): { rows: NumberedRow[]; received: number } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    errors.add({ row: 0, field: '(body)', message: 'the CSV is not UTF-8 text (save it as "CSV UTF-8")' });
    return { rows: [], received: 0 };
  }
  if (text.startsWith(BOM)) text = text.slice(1);
  // One kind of line break, so line numbers count rows (csv-parse counts a CRLF inside a quoted cell twice).
  text = text.replace(LINE_BREAK, '\n');
  let records: CsvRecord[];
  try {
    records = parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      // With `info`, csv-parse hands each record over as {record, info} (its types say string[]).
      on_record: (record: string[], context: { records: number }) => {
        if (context.records > FACTS_IMPORT_MAX_ROWS + 1) throw new TooManyRows();
        return record;
      },
    }) as unknown as CsvRecord[];
  } catch (error) {
    if (error instanceof TooManyRows) throw tooManyRows();
    const known = error instanceof CsvError;
    const line = known ? Number((error as { lines?: unknown }).lines) || 0 : 0;
    const problem = (known && CSV_PROBLEMS[error.code]) || 'the CSV cannot be read';
    errors.add({ row: 0, field: '(csv)', message: line ? `${problem} (line ${line})` : problem });
    return { rows: [], received: 0 };
  }
  const blank = (cells: readonly string[]) => cells.every((c) => c.trim() === '');
  // Records of only empty cells (",,") before the header are blank lines too.
  const first = records.findIndex((r) => !blank(r.record));
  const head = records[first];
  if (!head) {
    errors.add({ row: 0, field: '(body)', message: `the CSV is empty; its first line names the columns (${FACTS_CSV_COLUMNS.join(',')})` });
    return { rows: [], received: 0 };
  }
  const header = head.record;
  const columns: Column[] = [];
  const before = errors.total;
  header.forEach((name, i) => {
    const column = FACTS_CSV_COLUMNS.find((c) => c.toLowerCase() === name.trim().toLowerCase());
    if (!column) errors.add({ row: 0, field: `header.${i}`, message: `unknown column; the columns are ${FACTS_CSV_COLUMNS.join(', ')}` });
    else if (columns.includes(column)) errors.add({ row: 0, field: `header.${i}`, message: `column ${column} appears twice` });
    else columns[i] = column;
  });
  if (!columns.includes('externalId')) errors.add({ row: 0, field: 'externalId', message: 'missing column' });
  const data = records.slice(first + 1);
  const received = data.filter((r) => !blank(r.record)).length;
  if (errors.total > before) return { rows: [], received };

  const rows: NumberedRow[] = [];
  let row = 0;
  let lastLine = head.info.lines;
  for (const { record: cells, info } of data) {
    // The lines this record spans; any line before it since the last record was blank (a row too).
    const spans = 1 + cells.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0);
    row += 1 + Math.max(0, info.lines - spans - lastLine);
    lastLine = info.lines;
    if (blank(cells)) continue;
    if (cells.length !== header.length) {
      errors.add({ row, field: '(row)', message: `has ${cells.length} cells; the header has ${header.length}` });
      continue;
    }
    const value: Record<string, unknown> = {};
    cells.forEach((raw, c) => {
      const column = columns[c]!;
      const cell = raw.trim();
      if (cell === '') return;
      // A cell that is not a plain number stays text: the row check names the field.
      value[column] = NUMERIC.includes(column) && DECIMAL.test(cell) ? Number(cell) : column === 'name' ? raw : cell;
    });
    rows.push({ row, value });
  }
  return { rows, received };
}

/**
 * The rows of an import body: CSV bytes (a `text/csv` body) or a JSON array. Anything else is one
 * error of row 0.
 * @throws HuiliuError PAYLOAD_TOO_LARGE beyond FACTS_IMPORT_MAX_ROWS rows
 */
export function readFactsImport(body: unknown, errors: ImportErrors): { rows: NumberedRow[]; received: number } {
  if (Buffer.isBuffer(body)) return parseFactsCsv(body, errors);
  if (Array.isArray(body)) {
    if (body.length > FACTS_IMPORT_MAX_ROWS) throw tooManyRows();
    return { rows: body.map((value: unknown, i) => ({ row: i + 1, value })), received: body.length };
  }
  errors.add({ row: 0, field: '(body)', message: 'send a JSON array of rows, or CSV with Content-Type: text/csv' });
  return { rows: [], received: 0 };
}

/**
 * Checks one row: its fields (`FactsImportRowSchema`; a CSV cell that should be a number and is not
 * is named as such), at least one of `spend` and `csat`, a name with visible text (cut by grapheme to
 * FACTS_NAME_MAX_LENGTH), and the app that scopes an `AP` customer's id (`app`, or the server's only
 * app account). Each problem is one error naming the field; a row with any is not stored.
 */
export function checkFactsRow(input: NumberedRow, appIds: readonly string[], errors: ImportErrors): CheckedFactsRow | null {
  const { row } = input;
  const parsed = FactsImportRowSchema.safeParse(input.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.') || '(row)';
      const given = (input.value as Record<string, unknown> | null)?.[field];
      const message =
        NUMERIC.includes(field as Column) && typeof given === 'string'
          ? 'not a number (write digits, with a "." before decimals)'
          : issue.code === 'unrecognized_keys'
            ? `unknown field(s): ${issue.keys.join(', ')}`
            : issue.message;
      errors.add({ row, field: issue.code === 'unrecognized_keys' ? '(row)' : field, message });
    }
    return null;
  }
  const r: FactsImportRow = parsed.data;
  let ok = true;
  if (r.spend === undefined && r.csat === undefined) {
    errors.add({ row, field: 'spend', message: 'give spend, csat or both' });
    ok = false;
  }
  let name: string | undefined;
  if (r.name !== undefined) {
    name = normalizeName(r.name, FACTS_NAME_MAX_LENGTH).value;
    if (name === undefined) {
      errors.add({ row, field: 'name', message: 'the name has no visible character' });
      ok = false;
    }
  }
  const channel: ChannelCode = r.channel ?? 'AP';
  let externalId = r.externalId;
  if (channel === 'AP') {
    const app = r.app ?? (appIds.length === 1 ? appIds[0] : undefined);
    if (!app) {
      errors.add({
        row,
        field: 'app',
        message: appIds.length === 0 ? 'this server has no app account' : `name the app (one of: ${appIds.slice(0, 10).join(', ')})`,
      });
      ok = false;
    } else if (!appIds.includes(app)) {
      errors.add({ row, field: 'app', message: 'no app account has this id' });
      ok = false;
    } else externalId = appExternalId(app, r.externalId);
  } else if (r.app !== undefined) {
    errors.add({ row, field: 'app', message: 'only app-channel (AP) customers belong to an app' });
    ok = false;
  }
  if (!ok) return null;
  return {
    row,
    identity: { channel, externalId, ...(name ? { displayName: name } : {}) },
    ...(r.spend !== undefined ? { spend: r.spend } : {}),
    ...(r.csat !== undefined ? { csat: r.csat } : {}),
  };
}

/**
 * Stores checked rows: finds or creates each customer (`SessionStore.ensureCustomers`) and sets the
 * facts the row gives (a later row for the same customer wins), `CHUNK` rows per write.
 * @returns how many rows were stored and how many customers were created
 */
export async function storeFactsRows(
  store: Pick<SessionStore, 'ensureCustomers' | 'putCustomerFacts'>,
  rows: readonly CheckedFactsRow[],
  source: StoredFactSource,
): Promise<{ imported: number; created: number }> {
  let created = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const customers = await store.ensureCustomers(chunk.map((r) => r.identity));
    created += customers.filter((c) => c.created).length;
    await store.putCustomerFacts(
      chunk.map((r, j) => ({
        customerId: customers[j]!.customerId,
        ...(r.spend !== undefined ? { spend: r.spend } : {}),
        ...(r.csat !== undefined ? { csat: r.csat } : {}),
        source,
      })),
    );
  }
  return { imported: rows.length, created };
}

/**
 * The whole import: read, check every row, store the valid ones.
 * @param appIds the server's app accounts (`ChannelStore.accounts('AP')`), which scope `AP` ids
 * @throws HuiliuError PAYLOAD_TOO_LARGE beyond FACTS_IMPORT_MAX_ROWS rows (nothing stored)
 */
export async function importCustomerFacts(
  body: unknown,
  deps: { store: Pick<SessionStore, 'ensureCustomers' | 'putCustomerFacts'>; appIds: readonly string[] },
): Promise<FactsImportResult> {
  const errors = new ImportErrors();
  const read = readFactsImport(body, errors);
  const checked: CheckedFactsRow[] = [];
  for (const row of read.rows) {
    const ok = checkFactsRow(row, deps.appIds, errors);
    if (ok) checked.push(ok);
  }
  const { imported, created } = await storeFactsRows(deps.store, checked, 'import');
  const listed = [...errors.listed].sort((a, b) => a.row - b.row);
  return { received: read.received, imported, created, errors: listed, errorCount: errors.total };
}
