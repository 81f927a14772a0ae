import { detectLang } from './text';
import { HuiliuError, zodDetails } from '../../../common/errors/codes';
import { KB_QUESTIONS_PER_ENTRY_MAX, KbImportRowSchema, type KbEntry, type KbImportRow, type Lang } from '../../../common/ai/types';
import {
  KB_ROW_ERRORS_LISTED,
  KbImportRowStrictSchema,
  type KbImportErrorDetails,
  type KbImportMode,
  type KbImportResult,
  type KbLimitName,
  type KbRowError,
  type KbTooLargeDetails,
  type KbVersion,
} from '../../../common/api/kb';

export type { KbImportMode, KbImportResult, KbRowError, KbVersion };

/**
 * How big the knowledge base may grow (docs/knowledge-base.md "Limits"). Every write is checked against
 * them before anything is stored: a create, update or import that would leave the KB over one is
 * refused as KB_TOO_LARGE (413, details `KbTooLargeDetails`), an entry with too many questions as a
 * VALIDATION_FAILED field error. The intent classifier trains on the whole KB in memory; these keep
 * its training time and memory bounded.
 */
export const KB_LIMITS = Object.freeze({
  /** Entries in the KB after the write (a `merge` import counts the existing entries it keeps). */
  entries: 2_000,
  /** Distinct intents over all entries (one intent in zh and en counts once). */
  intents: 1_000,
  /** Questions in one entry (KbImportRowSchema `questions` max). */
  questionsPerEntry: KB_QUESTIONS_PER_ENTRY_MAX,
  /** Questions over all entries. At the limits the intent model trains in ~3–4 minutes on one core (docs/ai.md). */
  questions: 30_000,
});

/** What a KB holds, counted for the KB_LIMITS check. */
export interface KbSize {
  entries: number;
  intents: number;
  questions: number;
}

/**
 * Throws KB_TOO_LARGE (details `{limit, max, count}`, the first limit broken in the order entries,
 * intents, questions) when a KB of `size` would break a KB_LIMITS limit. `count` is what the write
 * would leave (for `entries` it may be a lower bound: `an import of more rows than the KB may hold`).
 */
export function checkKbLimits(size: KbSize): void {
  const names: readonly (keyof KbSize & KbLimitName)[] = ['entries', 'intents', 'questions'];
  for (const limit of names) {
    if (size[limit] > KB_LIMITS[limit]) {
      const details: KbTooLargeDetails = { limit, max: KB_LIMITS[limit], count: size[limit] };
      throw new HuiliuError(
        'KB_TOO_LARGE',
        `The knowledge base may hold at most ${KB_LIMITS[limit]} ${limit}; this change would leave ${size[limit] === KB_LIMITS[limit] + 1 ? 'more' : size[limit]}. Nothing was changed.`,
        details,
      );
    }
  }
}

/**
 * Refuses, before any row is validated, an import with more rows than the KB may hold entries: such
 * an import can never succeed, and a body of a million rows should cost no more than its parse.
 */
export function checkImportRowCount(rows: number): void {
  if (rows > KB_LIMITS.entries) checkKbLimits({ entries: rows, intents: 0, questions: 0 });
}

/** `list()` filter: exact matches (both absent = every entry), then a page of the ordered result. */
export interface KbFilter {
  lang?: Lang;
  intent?: string;
  /** At most this many entries (absent = all of them; the classifier trainer reads the whole KB). */
  limit?: number;
  /** Skips this many entries of the ordered result first (default 0). */
  offset?: number;
}

/** An import row with every default applied: what an entry holds besides its bookkeeping. */
export type KbRow = Pick<KbEntry, 'intent' | 'lang' | 'questions' | 'answer' | 'tags' | 'skillGroup' | 'related'>;

/** Called after a change is committed, with the new KB version. */
export type KbChangeListener = (version: number) => void;

/**
 * The knowledge base (issue 9): bilingual FAQ entries, one per (intent, lang), that the AI answers
 * from and the intent classifier trains on. Every change is numbered: `version()` is 0 for a KB that
 * never changed and goes up by exactly 1 per write that changes something (one create, update, delete
 * or whole import; a write that changes nothing keeps the version). `onChange` listeners hear each new
 * version (the classifier retrains). Rows are `KbImportRow` (common/ai/types.ts); a row without
 * `lang` gets `inferLang(questions)`, absent tags / related become `[]`, an absent skillGroup `null`.
 *
 * Errors (HuiliuError): VALIDATION_FAILED when a row or `by` is not valid (an import's details are
 * `{rows:[{row, field, message}], total}`, see `validateImportRows`); NOT_FOUND for an unknown id on
 * update / remove; KB_CONFLICT when a create or update would give a second entry the same (intent, lang);
 * KB_TOO_LARGE when a create, update or import would leave the KB over a KB_LIMITS limit.
 * A refused write changes nothing.
 */
export interface KnowledgeBase {
  /**
   * Entries matching `filter`, ordered by intent, then lang (a stable order for exports and diffs),
   * from `filter.offset` (default 0), at most `filter.limit` of them (default: all).
   */
  list(filter?: KbFilter): Promise<KbEntry[]>;
  /** How many entries match `filter`'s lang and intent (its limit and offset are ignored). */
  count(filter?: KbFilter): Promise<number>;
  /** One entry, or null when no entry has this id. */
  get(id: string): Promise<KbEntry | null>;
  /** Adds an entry; `by` is the changing user's id. KB_CONFLICT when (intent, lang) is taken. */
  create(row: KbImportRow, by: string): Promise<KbEntry>;
  /**
   * Replaces the entry's content with `row` (absent optional fields take their defaults, so a PUT is a
   * whole entry). NOT_FOUND for an unknown id; KB_CONFLICT when the new (intent, lang) is another
   * entry's. An identical row returns the entry unchanged, at the same version.
   */
  update(id: string, row: KbImportRow, by: string): Promise<KbEntry>;
  /** Deletes the entry. NOT_FOUND for an unknown id. */
  remove(id: string, by: string): Promise<void>;
  /**
   * Imports many rows in one transaction, all or nothing, as one version. `merge`: each row creates
   * or updates the entry of its (intent, lang), the rest stay; `replace`: afterwards the KB holds
   * exactly these rows (entries whose (intent, lang) is in no row are removed; the others keep their
   * id). A repeated (intent, lang) among the rows is a row error. Answers the version after the import
   * and the counts; with nothing changed, the current version and zeros.
   */
  import(rows: readonly KbImportRow[], options: { mode: KbImportMode; by: string }): Promise<KbImportResult>;
  /** The current KB version: 0 when nothing was ever written. */
  version(): Promise<number>;
  /** The newest `limit` versions (default 50, at most 1000), newest first. */
  history(limit?: number): Promise<KbVersion[]>;
  /**
   * Calls `listener(version)` after each change this KB instance commits (not changes other
   * processes make to the same database). Returns the function that unsubscribes it. A listener that
   * throws does not undo or fail the change.
   */
  onChange(listener: KbChangeListener): () => void;
  /** Releases the database; listeners are dropped. */
  close(): Promise<void>;
}

/**
 * The language of a set of questions: `zh` when Han characters (\p{Script=Han}) are at least 30 % of
 * all their letters (\p{L}), else `en` (also with no letters at all). Mixed text such as
 * "iPhone 15 保修多久" counts as Chinese: product names are Latin in Chinese questions too. The same
 * rule as the language core's `detectLang` (text.ts), which it calls.
 */
export function inferLang(questions: readonly string[]): Lang {
  return detectLang(questions.join('\n'));
}

/** A parsed row with its defaults applied (lang inferred when absent). */
export function resolveRow(row: KbImportRow): KbRow {
  return {
    intent: row.intent,
    lang: row.lang ?? inferLang(row.questions),
    questions: [...row.questions],
    answer: row.answer,
    tags: [...(row.tags ?? [])],
    skillGroup: row.skillGroup ?? null,
    related: [...(row.related ?? [])],
  };
}

/** An entry as an import row with every field present: the export format, which imports back to the same entry. */
export function toImportRow(entry: KbRow): Required<KbImportRow> {
  return {
    intent: entry.intent,
    questions: [...entry.questions],
    answer: entry.answer,
    lang: entry.lang,
    tags: [...entry.tags],
    skillGroup: entry.skillGroup,
    related: [...entry.related],
  };
}

/** True when two rows hold the same content (order of questions, tags and related counts). */
export function sameContent(a: KbRow, b: KbRow): boolean {
  return JSON.stringify(toImportRow(a)) === JSON.stringify(toImportRow(b));
}

/** Parses one row for create / update: VALIDATION_FAILED naming the fields (`questions.2`, …) when invalid. */
export function parseKbRow(value: unknown, options: { unknownFields?: 'reject' | 'strip' } = {}): KbRow {
  const schema = options.unknownFields === 'reject' ? KbImportRowStrictSchema : KbImportRowSchema;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', 'The knowledge-base entry is not valid.', zodDetails(parsed.error));
  return resolveRow(parsed.data);
}

/** One row to validate: its value and the row number errors name (1-based). */
export interface NumberedRow {
  row: number;
  value: unknown;
}

/**
 * The row errors of an import, in bounded memory: it counts every error (`total`) but keeps only the
 * KB_ROW_ERRORS_LISTED with the lowest row numbers (ties in the order added), so a body of a million
 * bad rows costs a count, not a million error objects.
 */
export class KbRowErrors {
  private kept: KbRowError[] = [];
  /** Every error added. */
  total = 0;

  add(error: KbRowError): void {
    this.total++;
    this.kept.push(error);
    // Trim in batches: sorting at twice the size keeps adding O(log n) per error on average.
    if (this.kept.length >= 2 * KB_ROW_ERRORS_LISTED) this.kept = this.sorted();
  }

  /** Adds another collection's kept errors and counts all of its errors. */
  addAll(other: KbRowErrors): void {
    for (const error of other.kept) this.add(error);
    this.total += other.total - other.kept.length;
  }

  /** The kept errors: the first KB_ROW_ERRORS_LISTED by row number. */
  get listed(): KbRowError[] {
    return this.sorted();
  }

  private sorted(): KbRowError[] {
    return [...this.kept].sort((a, b) => a.row - b.row).slice(0, KB_ROW_ERRORS_LISTED);
  }
}

/**
 * Validates import rows with KbImportRowSchema (`unknownFields: 'reject'` also refuses fields it does
 * not know), applies the defaults, and finds repeated (intent, lang) pairs (the error is on the later
 * row, `duplicateOf` names the earlier one). Checks every row instead of stopping at the first error;
 * `errors` counts them all and keeps the first 100 (KbRowErrors). Messages name the field, never the
 * rejected value. Pure.
 */
export function validateImportRows(
  rows: Iterable<NumberedRow>,
  options: { unknownFields?: 'reject' | 'strip' } = {},
): { rows: KbRow[]; errors: KbRowErrors } {
  const schema = options.unknownFields === 'reject' ? KbImportRowStrictSchema : KbImportRowSchema;
  const valid: KbRow[] = [];
  const errors = new KbRowErrors();
  const firstRowOf = new Map<string, number>();
  for (const { row, value } of rows) {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          // The key names are the field paths here; they are cut short, being the sender's own text.
          for (const key of issue.keys) errors.add({ row, field: key.slice(0, 64), message: 'unknown field' });
        } else {
          errors.add({ row, field: issue.path.map(String).join('.') || '(row)', message: issue.message });
        }
      }
      continue;
    }
    const resolved = resolveRow(parsed.data);
    const key = `${resolved.intent}\u0000${resolved.lang}`;
    const earlier = firstRowOf.get(key);
    if (earlier !== undefined) {
      errors.add({
        row,
        field: 'intent',
        message: `repeats the intent and lang of row ${earlier}; each (intent, lang) may appear once`,
        duplicateOf: earlier,
      });
      continue;
    }
    firstRowOf.set(key, row);
    valid.push(resolved);
  }
  return { rows: valid, errors };
}

/**
 * The VALIDATION_FAILED error of a refused import: `details = {rows, total}` with the first 100 errors
 * by row number (KB_ROW_ERRORS_LISTED) and the count of all of them. Takes the collected errors, or a
 * plain list (one or a few errors found outside row validation).
 */
export function importRefused(errors: KbRowErrors | readonly KbRowError[]): HuiliuError {
  let collected = errors;
  if (!(collected instanceof KbRowErrors)) {
    const list = new KbRowErrors();
    for (const error of collected) list.add(error);
    collected = list;
  }
  const { total } = collected;
  const details: KbImportErrorDetails = { rows: collected.listed, total };
  const noun = total === 1 ? 'error' : 'errors';
  return new HuiliuError('VALIDATION_FAILED', `The import has ${total} row ${noun}; nothing was imported.`, details);
}

/** Checks `by` for a write: VALIDATION_FAILED when it is empty. */
export function requireAuthor(by: unknown): string {
  if (typeof by !== 'string' || by.trim() === '') {
    throw new HuiliuError('VALIDATION_FAILED', 'A knowledge-base change needs its author.', [{ path: 'by', message: 'required' }]);
  }
  return by;
}
